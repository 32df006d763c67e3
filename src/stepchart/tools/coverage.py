"""Scenario coverage: which lifecycle transitions, rules (pass and fail) and workflow paths a run exercised.

A :class:`CoverageRecorder` is handed to :func:`stepchart.scenarios.run_scenario` as its
``observe`` hook. For each spawned engine it swaps in recording stand-ins, so the shared
compiled charts and rules are never touched:

* ``engine.lifecycles``: each :class:`~stepchart.charts.Lifecycle` is shadowed by a copy
  whose ``fire`` notes (chart, transition, source state) of every move made;
* ``engine.rules``: a :class:`~stepchart.rules.RuleSet` whose checking methods note each
  rule evaluated and whether it passed;
* the engine's finish step: notes the paths followed when a step finishes.

A transition counts once per source state (a chart's ``from: [Ready, Paused]`` is two
transitions, as a diagram draws them); a rule counts twice, once for passing and once
for failing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine.lifecycle import Lifecycle
from ..model import ChartTransition, CurrentStep, StepDef, StepType, Workflow
from ..rules import Rule, RuleSet

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..rules.context import Context

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


class _RecordingLifecycle(Lifecycle):
    """A lifecycle sharing the compiled class of another, noting every move it makes."""

    recorder: CoverageRecorder
    _index: dict[int, int]

    @classmethod
    def shadow(cls, original: Lifecycle, recorder: CoverageRecorder) -> _RecordingLifecycle:
        twin = object.__new__(cls)
        twin.__dict__.update(original.__dict__)
        twin.recorder = recorder
        twin._index = {id(t): i for i, t in enumerate(original.type.transitions)}
        return twin

    def fire(self, record: CurrentStep, event: str, step: StepDef) -> ChartTransition:
        source = record.status
        move = super().fire(record, event, step)
        index = self._index.get(id(move))
        if index is not None:
            self.recorder.transitions.add((self.type.id, index, source))
        return move


class _RecordingRules(RuleSet):
    """The same rules in the same order, noting each verdict."""

    recorder: CoverageRecorder

    @classmethod
    def shadow(cls, original: RuleSet, recorder: CoverageRecorder) -> _RecordingRules:
        twin = object.__new__(cls)
        twin.__dict__.update(original.__dict__)
        twin.recorder = recorder
        return twin

    def _note(self, rule: Rule, passed: bool) -> None:
        self.recorder.rules.add((rule.name, passed))

    def iter_failures(self, ctx: Context, level: str, action: str) -> Iterator[Rule]:
        for rule in self.for_action(level, action):
            passed = rule.predicate(ctx)
            self._note(rule, passed)
            if not passed:
                yield rule

    def first_failure(self, ctx: Context, level: str, action: str) -> Rule | None:
        for rule in self.for_action(level, action):
            passed = rule.predicate(ctx)
            self._note(rule, passed)
            if not passed:
                return rule
        return None


class CoverageRecorder:
    """Notes what the scenarios of a run exercised; pass :meth:`observe` to ``run_scenario``."""

    def __init__(self, base: Engine) -> None:
        self.step_types: dict[str, StepType] = dict(base.step_types)
        self.ruleset: RuleSet = base.rules
        self.transitions: set[tuple[str, int, str]] = set()
        self.rules: set[tuple[str, bool]] = set()
        self.paths: set[tuple[str, str, str, int]] = set()
        self.workflows: dict[tuple[str, str, str], Workflow] = {}
        self._engines: list[Engine] = []

    def observe(self, engine: Engine) -> None:
        """Install the recording stand-ins on a freshly spawned engine."""
        engine.lifecycles = {k: _RecordingLifecycle.shadow(v, self) for k, v in engine.lifecycles.items()}
        engine.rules = _RecordingRules.shadow(engine.rules, self)
        finished = getattr(engine, "_finished", None)
        if finished is not None:
            recorder = self

            def record_finish(ctx: Context, record: CurrentStep, step: StepDef, return_value: str,
                              nexts: Sequence[Any]) -> None:  # fmt: skip
                wf = ctx.workflow
                for path in nexts:
                    index = next((i for i, p in enumerate(step.paths) if p is path), None)
                    if index is not None:
                        recorder.paths.add((_norm(wf.file), wf.version, step.id, index))
                finished(ctx, record, step, return_value, nexts)

            engine._finished = record_finish  # type: ignore[method-assign]
        self._engines.append(engine)
        self._collect_workflows()

    def _collect_workflows(self) -> None:
        """Workflows loaded by the engines observed so far (they load theirs after being observed)."""
        for e in self._engines:
            for wf in list(getattr(e, "_versions", {}).values()) or list(e.workflows.values()):
                self.workflows.setdefault((_norm(wf.file), wf.id, wf.version), wf)
        self._engines = self._engines[-1:]

    def report(self) -> CoverageReport:
        self._collect_workflows()
        items: list[Item] = []
        for st in self.step_types.values():
            for i, t in enumerate(st.transitions):
                for src in t.sources:
                    guard = f" [{t.guard}]" if t.guard else ""
                    label = f"{st.id}: {src} --{t.event}{guard}--> {t.target}"
                    items.append(Item("transition", (st.id, i, src), label, _show(st.file), t.line))
        for r in self.ruleset.rules:
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


def _show(path: str) -> str:
    """A path as a designer reads it: relative to the working folder when under it."""
    if not path or path.startswith("<"):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if rel.startswith("..") else rel


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
