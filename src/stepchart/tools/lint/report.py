"""What ``check`` reads and what it gives back: document kinds, the files to check, per-file findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import Problem
from ...io.files import walk_files
from ...load.kinds import document_kind

__all__ = ["CheckResult", "CheckedFile", "FileFindings", "document_kind", "expand_paths"]


def expand_paths(paths: Sequence[str | Path]) -> tuple[list[tuple[Path, bool]], list[str]]:
    """(file, named directly) for every file to check, and the paths that do not exist.

    Folders are searched recursively for ``*.yaml``/``*.yml``, skipping hidden files and folders.
    """
    found, missing = walk_files(paths)
    return [(f.path, f.named) for f in found], missing


@dataclass
class CheckedFile:
    """One file and what was found in it."""

    path: str
    kind: str
    problems: list[Problem] = field(default_factory=list)
    skipped: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


@dataclass
class CheckResult:
    """Everything ``check_paths`` found, in file order then position."""

    files: list[CheckedFile]

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

    @property
    def errors(self) -> int:
        return sum(f.errors for f in self.files)

    @property
    def warnings(self) -> int:
        return sum(f.warnings for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        checked = [f for f in self.files if not f.skipped]
        return {
            "files": [{"file": f.path, "kind": f.kind, "errors": f.errors, "warnings": f.warnings} for f in checked],
            "problems": [p.to_dict() for p in self.problems],
            "summary": {
                "files": len(checked),
                "skipped": len(self.files) - len(checked),
                "errors": self.errors,
                "warnings": self.warnings,
            },
        }


class FileFindings:
    """Problems gathered per file, in the order files were first seen."""

    def __init__(self) -> None:
        self.by_path: dict[str, CheckedFile] = {}

    def get(self, path: str, kind: str = "unknown") -> CheckedFile:
        f = self.by_path.get(path)
        if f is None:
            f = self.by_path[path] = CheckedFile(path, kind)
        return f

    def add(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            f = self.get(p.file)
            if p not in f.problems:
                f.problems.append(p)

    def result(self) -> CheckResult:
        files = list(self.by_path.values())
        for f in files:
            f.problems.sort(key=lambda p: (p.line, p.column, p.code, p.message))
        return CheckResult(files)
