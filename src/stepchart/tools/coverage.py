"""Scenario coverage: which lifecycle transitions, rules (pass and fail) and workflow paths a run exercised.

A :class:`CoverageRecorder` is handed to :func:`stepchart.tools.scenarios.run_scenario` as its
``observe`` hook: it attaches itself, a :class:`~stepchart.trace.Tracer`, to each engine
spawned for a scenario, and hears every move the compiled charts make, every rule
checked and every path followed. Nothing of the engine is copied or replaced.

A transition counts once per source state (a chart's ``from: [Ready, Paused]`` is two
transitions, as a diagram draws them); a rule counts twice, once for passing and once
for failing.

Only what the scenarios could reach is counted: the charts of the step types their
workflows use, and the rules of the actions a scenario can send to those step types (a
jobAction or step operation, not a job-management call; an action that sends a
lifecycle event only when one of those charts takes that event: ``Respond`` needs a
question-like type, ``Complete`` and ``Fail`` an asynchronous one). Shipped files are
named as ``statecharts/manual.yaml`` and ``rules/20-steps.yaml``, wherever they are
installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine.actions import ACTION_TABLE
from ..io.files import data_dir
from ..model import ChartTransition, PathDef, StepDef, StepType, Workflow
from ..rules import RuleSet
from ..trace import CheckedRule, Tracer
from .reporting import shown_path

if TYPE_CHECKING:
    from ..engine.core import Engine

__all__ = ["CoverageRecorder", "CoverageReport", "Item"]


@dataclass(frozen=True)
class Item:
    """One thing to cover, with where it is written."""

    kind: str  # transition | rule-pass | rule-fail | path
    key: tuple[Any, ...]
    label: str
    file: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "file": self.file, "line": self.line}


class CoverageRecorder(Tracer):
    """Notes what the scenarios of a run exercised; pass :meth:`observe` to ``run_scenario``."""

    def __init__(self, base: Engine) -> None:
        self.step_types: dict[str, StepType] = dict(base.step_types)
        self.ruleset: RuleSet = base.rules
        self.transitions: set[tuple[str, int, str]] = set()
        self.rules: set[tuple[str, bool]] = set()
        self.paths: set[tuple[str, str, str, int]] = set()
        self.workflows: dict[tuple[str, str, str], Workflow] = {}
        self._engines: list[Engine] = []
        self._index: dict[int, tuple[StepType, dict[int, int]]] = {}

    def observe(self, engine: Engine) -> None:
        """Attach this recorder as the tracer of a freshly spawned engine."""
        engine.tracer = self
        self._engines.append(engine)
        self._collect_workflows()

    # -- the tracer ----------------------------------------------------------------------
    def moved(self, step_type: StepType, transition: ChartTransition, source: str, step_id: str) -> None:
        known = self._index.get(id(step_type))
        if known is None or known[0] is not step_type:
            known = (step_type, {id(t): i for i, t in enumerate(step_type.transitions)})
            self._index[id(step_type)] = known
        index = known[1].get(id(transition))
        if index is not None:
            self.transitions.add((step_type.id, index, source))

    def rule_checked(self, rule: CheckedRule, action: str, step_id: str | None, passed: bool) -> None:
        self.rules.add((rule.name, passed))

    def path_taken(self, workflow: Workflow, step: StepDef, path: PathDef) -> None:
        index = next((i for i, p in enumerate(step.paths) if p is path), None)
        if index is not None:
            self.paths.add((_norm(workflow.file), workflow.version, step.id, index))

    # -- the report ----------------------------------------------------------------------
    def _collect_workflows(self) -> None:
        """Workflows loaded by the engines observed so far (they load theirs after being observed)."""
        for e in self._engines:
            for wf in e.known_versions() or list(e.workflows.values()):
                self.workflows.setdefault((_norm(wf.file), wf.id, wf.version), wf)
        self._engines = self._engines[-1:]

    def report(self) -> CoverageReport:
        self._collect_workflows()
        used = {step.type for wf in self.workflows.values() for step in wf.steps.values()}
        charts = [st for type_id, st in self.step_types.items() if type_id in used]
        events = {t.event for st in charts for t in st.transitions}
        items: list[Item] = []
        for st in charts:
            for i, t in enumerate(st.transitions):
                for src in t.sources:
                    guard = f" [{t.guard}]" if t.guard else ""
                    label = f"{st.id}: {src} --{t.event}{guard}--> {t.target}"
                    items.append(Item("transition", (st.id, i, src), label, _show(st.file), t.line))
        for r in self.ruleset.rules:
            if not any(_reachable(action, events) for action in r.actions):
                continue
            items.append(Item("rule-pass", (r.name, True), f"{r.name} (pass)", _show(r.file), r.line))
            items.append(Item("rule-fail", (r.name, False), f"{r.name} (fail -> {r.yields})", _show(r.file), r.line))
        for (file, _id, version), wf in sorted(self.workflows.items()):
            for step in wf.steps.values():
                for j, p in enumerate(step.paths):
                    cond = f" [{' or '.join(p.return_values)}]" if p.return_values is not None else ""
                    label = f"{wf.id}: {step.id} -> {p.next_step}{cond}"
                    items.append(Item("path", (file, version, step.id, j), label, _show(file), p.line))
        hit: set[tuple[str, tuple[Any, ...]]] = set()
        hit.update(("transition", k) for k in self.transitions)
        hit.update(("rule-pass" if k[1] else "rule-fail", k) for k in self.rules)
        hit.update(("path", k) for k in self.paths)
        covered = [it for it in items if (it.kind, it.key) in hit]
        missed = [it for it in items if (it.kind, it.key) not in hit]
        return CoverageReport(covered, missed)


def _norm(path: str) -> str:
    """One key per file, however a scenario reached it (``a/../b.yaml`` is ``b.yaml``)."""
    return os.path.normpath(path) if path and not path.startswith("<") else path


def _reachable(action: str, events: set[str]) -> bool:
    """Whether a scenario can send ``action`` to a step whose chart takes one of ``events``."""
    row = ACTION_TABLE.get(action)
    if row is None or row.kind == "management":
        return False
    return row.event is None or row.event in events


def _shipped(path: str) -> str | None:
    """``statecharts/manual.yaml`` for a shipped chart (``rules/...`` for a rule), wherever installed."""
    for name in ("statecharts", "rules"):
        try:
            folder = data_dir(name).resolve()
        except FileNotFoundError:
            continue
        try:
            rel = os.path.relpath(os.path.realpath(path), folder)
        except ValueError:
            continue
        if not rel.startswith(".."):
            return f"{name}/{rel.replace(os.sep, '/')}"
    return None


def _show(path: str) -> str:
    """A path as a designer reads it: a shipped file by its short name, else relative to the working folder."""
    if not path or path.startswith("<"):
        return path
    shipped = _shipped(path)
    return shipped if shipped is not None else shown_path(path)


@dataclass
class CoverageReport:
    """Covered and missed items of a run, by kind."""

    covered: list[Item] = field(default_factory=list)
    missed: list[Item] = field(default_factory=list)

    def counts(self, *kinds: str) -> tuple[int, int]:
        """(covered, total) over the given kinds."""
        c = sum(1 for it in self.covered if it.kind in kinds)
        m = sum(1 for it in self.missed if it.kind in kinds)
        return c, c + m

    def percent(self, *kinds: str) -> float:
        c, total = self.counts(*kinds)
        return 100.0 if total == 0 else 100.0 * c / total

    def missed_of(self, *kinds: str) -> list[Item]:
        return [it for it in self.missed if it.kind in kinds]

    SECTIONS = (
        ("transitions", ("transition",)),
        ("rules", ("rule-pass", "rule-fail")),
        ("paths", ("path",)),
    )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, kinds in self.SECTIONS:
            c, total = self.counts(*kinds)
            out[name] = {
                "covered": c,
                "total": total,
                "percent": round(self.percent(*kinds), 1),
                "missed": [it.to_dict() for it in self.missed_of(*kinds)],
            }
        return out

    def text(self) -> str:
        """A short table, then every item never exercised."""
        lines = ["coverage:"]
        for name, kinds in self.SECTIONS:
            c, total = self.counts(*kinds)
            lines.append(f"  {name:<12} {c:>4}/{total:<4} {self.percent(*kinds):5.1f}%")
        for name, kinds in self.SECTIONS:
            missed = self.missed_of(*kinds)
            if missed:
                lines.append(f"never exercised ({name}):")
                lines.extend(f"  {it.file}:{it.line}: {it.label}" for it in missed)
        return "\n".join(lines) + "\n"
