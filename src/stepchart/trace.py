"""One observer interface for the engine: the rules it checks, the moves it makes, the paths it takes.

``explain`` (why a request gets its answer), ``coverage`` (what scenarios exercised) and
``verify`` (what states a workflow reaches) are all :class:`Tracer` subclasses. The
engine calls a tracer only when one is attached, so tracing costs nothing otherwise;
nothing observes the engine by flags on a shared context, shadow copies or patching.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .model import ChartTransition, PathDef, StepDef, StepType, Workflow

__all__ = ["CheckedRule", "FactReading", "Tracer", "Tracers"]

FactReading = tuple[str, Any, bool]
"""One fact a rule read: its name, its argument (None for a plain fact), and its value."""


class CheckedRule(Protocol):
    """What a tracer sees of a rule (``stepchart.rules.Rule`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def yields(self) -> str: ...
    @property
    def description(self) -> str: ...


class Tracer:
    """Does nothing by default: subclasses override what they observe."""

    def fact_read(self, name: str, argument: Any, value: bool) -> None:
        """A rule's condition read a fact (called before :meth:`rule_checked` of that rule)."""

    def rule_checked(self, rule: CheckedRule, action: str, step_id: str | None, passed: bool) -> None:
        """A rule was checked for ``action`` on ``step_id`` (None for a request-level rule)."""

    def moved(self, step_type: StepType, transition: ChartTransition, source: str, step_id: str) -> None:
        """The compiled machine of ``step_type`` made ``transition`` from ``source`` for a step of a job."""

    def path_taken(self, workflow: Workflow, step: StepDef, path: PathDef) -> None:
        """A finished step's path was followed (R7)."""


class Tracers(Tracer):
    """Several tracers as one, called in order."""

    def __init__(self, tracers: Sequence[Tracer]) -> None:
        self.tracers = tuple(tracers)

    def fact_read(self, name: str, argument: Any, value: bool) -> None:
        for t in self.tracers:
            t.fact_read(name, argument, value)

    def rule_checked(self, rule: CheckedRule, action: str, step_id: str | None, passed: bool) -> None:
        for t in self.tracers:
            t.rule_checked(rule, action, step_id, passed)

    def moved(self, step_type: StepType, transition: ChartTransition, source: str, step_id: str) -> None:
        for t in self.tracers:
            t.moved(step_type, transition, source, step_id)

    def path_taken(self, workflow: Workflow, step: StepDef, path: PathDef) -> None:
        for t in self.tracers:
            t.path_taken(workflow, step, path)
