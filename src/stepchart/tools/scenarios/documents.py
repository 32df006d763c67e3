"""Scenario files: which files hold scenarios, and the scenarios one file holds.

A scenario file's top level has ``do:`` (one scenario) or ``scenarios:`` (a list). In a
folder, files without either (workflows, charts) are passed over; a file named directly
is always taken, so a wrong one fails with the reason instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DefinitionError
from ...io.files import YAML_SUFFIXES, walk_files
from ...io.yamldoc import Document, read_yaml_file
from ...load.kinds import document_kind

__all__ = [
    "Scenario",
    "ScenarioFailure",
    "ScenarioResult",
    "discover",
    "is_scenario_value",
    "load_file",
    "scenarios_of",
    "workflow_refusal",
]


class ScenarioFailure(Exception):
    """A scenario stops here; the message says why, ``at`` where (a path in the scenario) and ``code`` what.

    ``code`` is the stable code ``stepchart check`` reports for the same refusal (None for
    an unmet expectation, which only running can find).
    """

    def __init__(self, message: str, at: tuple[str | int, ...] | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.at = at
        self.code = code


@dataclass
class Scenario:
    """One scenario as found in a file: its document (positions kept) and where it came from."""

    name: str
    file: Path
    doc: Document
    index: int | None = None  # position under ``scenarios:``


@dataclass
class ScenarioResult:
    """How one scenario ended: passed, or the first unmet expectation (``message``) and its line."""

    name: str
    file: str
    passed: bool
    message: str = ""
    operations: int = 0
    line: int = 1
    observations: list[dict[str, Any]] = field(default_factory=list)


def is_scenario_value(value: Any) -> bool:
    """Whether a parsed document is a scenario file: a mapping with ``do:`` or ``scenarios:``."""
    return isinstance(value, dict) and ("do" in value or "scenarios" in value)


def _quick_looks_like_scenario(path: Path) -> bool:
    """For a file that does not parse: does a top-level line start with do: or scenarios:?"""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith(("do:", "scenarios:")) for line in text.splitlines())


def _is_scenario_file(path: Path) -> bool:
    try:
        return is_scenario_value(read_yaml_file(path).value)
    except DefinitionError:
        return _quick_looks_like_scenario(path)


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Scenario files under the given paths, and the paths that do not exist.

    A file named directly is always taken; in a folder (read by
    :func:`stepchart.io.files.walk_files`: path order, hidden files and folders skipped),
    only ``.yaml``/``.yml`` files whose top level has ``do:`` or ``scenarios:`` (the
    rest, workflows and charts, are passed over). Each path is read on its own, in order.
    """
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:  # one path at a time: a file named again (or named and in a folder) runs again
        found, gone = walk_files([raw], YAML_SUFFIXES)
        files.extend(f.path for f in found if f.named or _is_scenario_file(f.path))
        missing.extend(gone)
    return files, missing


def load_file(path: Path) -> list[Scenario] | ScenarioResult:
    """The scenarios of one file, or a failed result saying why the file cannot run."""
    try:
        doc = read_yaml_file(path)
    except DefinitionError as exc:
        return ScenarioResult(path.name, str(path), False, f"cannot read the file: {exc.first}", line=exc.line)
    found = scenarios_of(doc, path)
    if isinstance(found, str):
        return ScenarioResult(path.name, str(path), False, found)
    return found


def scenarios_of(doc: Document, path: Path) -> list[Scenario] | str:
    """The scenarios of a parsed scenario file, or why it holds none that can run."""
    value = doc.value
    if not is_scenario_value(value):
        return "not a scenario: the top level needs do: or scenarios:"
    if "scenarios" in value:
        extra = set(value) - {"scenarios"}
        items = value["scenarios"]
        if extra or not isinstance(items, list):
            return f"unknown key {sorted(extra)[0]!r} beside scenarios:" if extra else "scenarios: takes a list"
        out = []
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            out.append(Scenario(str(name) if name else f"{path.name}[{i}]", path, doc.sub(("scenarios", i)), i))
        return out
    name = value.get("name")
    return [Scenario(str(name) if name else path.name, path, doc)]


def unknown_key(where: str, given: Any, allowed: Any, inside: str) -> str | None:
    """The message for the first key of ``given`` not in ``allowed`` (keys of the mapping at ``inside``), or None."""
    extra = sorted(set(given) - set(allowed))
    if not extra:
        return None
    return f"{where}: unknown key {extra[0]!r} in {inside}; allowed: {', '.join(sorted(allowed))}"


def workflow_refusal(exc: DefinitionError, path: Path) -> tuple[str, str]:
    """The code and words for a scenario's ``workflow:`` file that does not load.

    Designers may name any file there; one that parses but is no workflow (a compose
    file, a job, a chart) is said to be so, by its kind alone: its keys and values are
    never echoed (they may hold secrets). A broken workflow keeps its own first problem.
    """
    try:
        kind = document_kind(read_yaml_file(path).value)
    except DefinitionError:
        kind = "workflow"  # unreadable as YAML: the reader's own (located, content-free) problem says why
    if kind == "workflow":
        return exc.first.code, f"the workflow does not load: {exc.first}"
    what = "no stepchart document" if kind == "unknown" else f"a {kind} document"
    words = f"{path.name} is not a workflow: it is {what} (a workflow has workflow:, initialStep:, steps:)"
    return "unknown-document", words
