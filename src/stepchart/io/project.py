"""The project file ``stepchart.yaml``: finding it upward from a folder, and reading it into folders to load.

A project names the designer's own charts, rules, workflows, scenarios and job templates (paths
relative to the file) and which shipped folders join them. Every command that loads
definitions reads it through :func:`stepchart.cli.options.apply_project`, so the
project means the same to ``check``, ``test``, ``run`` and ``serve``. A bad project
file is a located :class:`~stepchart.errors.DefinitionError` and nothing is loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, Problem
from .schemas import check_document
from .yamldoc import Document, read_yaml_file

__all__ = ["PROJECT_FILE", "SHIPPED_KINDS", "Project", "find_project", "project_problems", "read_project"]

PROJECT_FILE = "stepchart.yaml"
"""The name commands look for, in the working folder and each folder above it."""

SHIPPED_KINDS = ("charts", "rules")
"""The shipped folders a project (or ``--no-shipped``) can leave out."""

_FOLDERS = ("charts", "rules", "workflows", "scenarios", "templates")


@dataclass(frozen=True)
class Project:
    """A read project file: its folders as paths (relative to the working folder when under it)."""

    file: Path
    name: str
    charts: tuple[Path, ...] = ()
    rules: tuple[Path, ...] = ()
    workflows: tuple[Path, ...] = ()
    scenarios: tuple[Path, ...] = ()
    templates: tuple[Path, ...] = ()
    shipped: frozenset[str] = frozenset(SHIPPED_KINDS)

    @property
    def root(self) -> Path:
        """The folder the project's paths are relative to: the one holding the file."""
        return self.file.parent

    def folders(self) -> list[Path]:
        """Every folder or file the project names, in the order charts, rules, workflows, scenarios, templates."""
        return [*self.charts, *self.rules, *self.workflows, *self.scenarios, *self.templates]


def find_project(start: str | Path | None = None) -> Path | None:
    """The nearest ``stepchart.yaml`` in ``start`` (default: the working folder) or a folder above it; None if none.

    The search goes up to the filesystem root and stops there.
    """
    here = Path(start if start is not None else os.getcwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def read_project(path: str | Path) -> Project:
    """The project file at ``path``, checked against the shipped ``project`` schema.

    Raises :class:`~stepchart.errors.DefinitionError` with every problem located in the
    file: schema violations, and named folders or files that do not exist
    (``project-path-missing``). A missing file is a located ``unreadable`` problem.
    """
    doc = read_yaml_file(path)
    problems = project_problems(doc)
    if problems:
        raise DefinitionError(problems)
    value = doc.value
    found = {key: tuple(_shown(Path(doc.file).parent / item) for _at, item in _named(value, key)) for key in _FOLDERS}
    shipped = frozenset(value["shipped"]) if "shipped" in value else frozenset(SHIPPED_KINDS)
    return Project(Path(path), str(value["project"]), shipped=shipped, **found)


def project_problems(doc: Document) -> list[Problem]:
    """What is wrong with a parsed project file: schema violations, else the paths it names that do not exist."""
    problems = check_document(doc, "project")
    if problems:
        return problems
    root = Path(doc.file).parent
    for key in _FOLDERS:
        for at, item in _named(doc.value, key):
            if not (root / item).exists():
                problems.append(doc.problem(at, "project-path-missing", f"{key}: {item!r}: no such file or folder"))
    return problems


def _named(value: dict[str, Any], key: str) -> list[tuple[tuple[str | int, ...], str]]:
    """(where, path) of each path under ``key`` (a string or a list of them)."""
    raw = value.get(key, [])
    if isinstance(raw, str):
        return [((key,), raw)]
    return [((key, i), item) for i, item in enumerate(raw)]


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it lies under it (messages stay short), else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd())
    except ValueError:
        return absolute
