"""Errors that carry data: where a problem is (file, line, column, path) and a stable code."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DefinitionError", "Problem", "RequestError", "format_path"]


def format_path(path: Sequence[str | int]) -> str:
    """Render a document path as ``$.steps[2].paths[0]``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


@dataclass(frozen=True)
class Problem:
    """One located finding in a document."""

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


@dataclass
class RequestError(Exception):
    """A request-level refusal (SPEC R14): answered with a 400 body, changes nothing."""

    type: str
    message: str
    details: list[str] = field(default_factory=list)
    rule: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "details": list(self.details)}}

    @classmethod
    def job_not_found(cls, job_id: str) -> RequestError:
        """The one ``JobNotFound`` error (R14), for every operation that names a job."""
        return cls("JobNotFound", f"The job {job_id!r} does not exist.", [f"jobId: {job_id}"])
