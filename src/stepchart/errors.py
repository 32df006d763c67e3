"""Errors that carry data: where a problem is (file, line, column, path) and a stable code."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

__all__ = ["DefinitionError", "Problem", "RequestError", "format_path"]


def format_path(path: Sequence[str | int]) -> str:
    """Render a document path as ``$.steps[2].paths[0]``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class Problem(NamedTuple):
    """One located finding in a document: an immutable record, compared and hashed by value.

    A named tuple rather than a dataclass: ``dataclasses`` (with ``inspect``) costs a
    command such as ``validate`` more to import than the rest of its start-up.
    """

    file: str
    line: int
    column: int
    code: str
    message: str
    path: tuple[str | int, ...] = ()
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}[{self.code}]: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "code": self.code,
            "path": format_path(self.path),
            "message": self.message,
        }


class DefinitionError(Exception):
    """A document (chart, rules, workflow, job, scenario) that cannot be loaded.

    ``problems`` lists every located finding; the first one is the headline.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("DefinitionError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def first(self) -> Problem:
        return self.problems[0]

    @property
    def file(self) -> str:
        return self.first.file

    @property
    def line(self) -> int:
        return self.first.line

    @property
    def column(self) -> int:
        return self.first.column

    @property
    def code(self) -> str:
        return self.first.code

    @property
    def path(self) -> tuple[str | int, ...]:
        return self.first.path


class RequestError(Exception):
    """A request-level refusal (SPEC R14): answered with a 400 body, changes nothing.

    ``type`` is the R14 error type, ``details`` the body's details, ``rule`` the rule that refused (if one did).
    """

    def __init__(self, type: str, message: str, details: list[str] | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.type = type
        self.message = message
        self.details: list[str] = [] if details is None else details
        self.rule = rule

    def __repr__(self) -> str:
        fields = f"type={self.type!r}, message={self.message!r}, details={self.details!r}, rule={self.rule!r}"
        return f"{type(self).__name__}({fields})"

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "details": list(self.details)}}

    @classmethod
    def job_not_found(cls, job_id: str) -> RequestError:
        """The one ``JobNotFound`` error (R14), for every operation that names a job."""
        return cls("JobNotFound", f"The job {job_id!r} does not exist.", [f"jobId: {job_id}"])
