"""``stepchart verify`` as data: load each workflow, explore it, read off the findings, summarise.

One base engine compiles the charts and rules once; each workflow is explored on an
engine spawned from it (:func:`~.explore.explore`), so two files that define the same
workflow id are still verified apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...bootstrap import Engine
from ...io.yamldoc import Document, read_yaml_file
from .explore import DEFAULT_MAX_STATES, Exploration, explore
from .findings import Finding, find
from .scenario_writer import write_scenarios

__all__ = ["VerifyResult", "WorkflowReport", "verify_files", "verify_workflow"]


@dataclass
class WorkflowReport:
    """The result for one workflow file: its findings and the size and time of the search."""

    file: str
    workflow: str
    findings: list[Finding]
    exploration: Exploration
    scenarios: list[str] = field(default_factory=list)

    @property
    def incomplete(self) -> bool:
        return not self.exploration.complete

    def to_dict(self) -> dict[str, Any]:
        ex = self.exploration
        return {
            "file": self.file,
            "workflow": self.workflow,
            "complete": ex.complete,
            "states": len(ex.states),
            "moves": ex.moves,
            "seconds": round(ex.seconds, 4),
            "maxStates": ex.max_states,
            "findings": [f.to_dict() for f in self.findings],
            "scenarios": self.scenarios,
        }


@dataclass
class VerifyResult:
    """Every workflow's report; :attr:`ok` when nothing was found and every search was complete."""

    reports: list[WorkflowReport]

    @property
    def ok(self) -> bool:
        return all(not r.findings and not r.incomplete for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "workflows": [r.to_dict() for r in self.reports],
            "summary": {
                "workflows": len(self.reports),
                "findings": sum(len(r.findings) for r in self.reports),
                "incomplete": sum(1 for r in self.reports if r.incomplete),
                "states": sum(len(r.exploration.states) for r in self.reports),
                "moves": sum(r.exploration.moves for r in self.reports),
            },
        }


def verify_workflow(
    base: Engine,
    doc: Document,
    *,
    admin: bool = False,
    holds: bool = False,
    max_states: int = DEFAULT_MAX_STATES,
    scenarios: Path | None = None,
) -> WorkflowReport:
    """Explore one workflow document (loaded with ``base``'s charts); raises ``DefinitionError`` if it does not load."""
    wf = base.spawn().add_workflow(doc)
    ex = explore(base, wf, admin=admin, holds=holds, max_states=max_states)
    findings = sorted(find(ex, doc), key=lambda f: (f.problem.line, f.problem.column, f.code))
    report = WorkflowReport(doc.file, wf.id, findings, ex)
    if scenarios is not None:
        report.scenarios = [str(p) for p in write_scenarios(scenarios, doc.file, wf.id, findings, ex.cast)]
    return report


def verify_files(
    files: Sequence[str | Path],
    *,
    charts: Sequence[str | Path] | None = None,
    rules: Sequence[str | Path] | None = None,
    admin: bool = False,
    holds: bool = False,
    max_states: int = DEFAULT_MAX_STATES,
    scenarios: Path | None = None,
) -> VerifyResult:
    """Verify each workflow file; a chart, rules or workflow file that does not load raises ``DefinitionError``."""
    base = Engine(charts, rules)
    docs = [read_yaml_file(f) for f in files]
    reports = [
        verify_workflow(base, d, admin=admin, holds=holds, max_states=max_states, scenarios=scenarios) for d in docs
    ]
    return VerifyResult(reports)
