"""Frozen definitions: lifecycle charts (step types) and workflows with their steps and paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STEP_GUARDS", "ChartState", "ChartTransition", "PathDef", "StepDef", "StepType", "Workflow"]


@dataclass(frozen=True)
class ChartState:
    id: str
    started: bool = False
    running: bool = False
    final: bool = False
    description: str = ""
    line: int = 0
    external: bool = False


@dataclass(frozen=True)
class ChartTransition:
    event: str
    sources: tuple[str, ...]
    target: str
    guard: str | None = None
    return_value: str | None = None
    record: str | None = None
    emit: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class StepType:
    """A lifecycle chart: the states and moves of one kind of step."""

    id: str
    initial: str
    states: dict[str, ChartState]
    transitions: tuple[ChartTransition, ...]
    asynchronous: bool = False
    description: str = ""
    file: str = ""

    def is_started(self, status: str) -> bool:
        s = self.states.get(status)
        return bool(s and s.started)

    def is_running(self, status: str) -> bool:
        s = self.states.get(status)
        return bool(s and s.running)

    def is_final(self, status: str) -> bool:
        s = self.states.get(status)
        return bool(s and s.final)

    def transition_for(self, status: str, event: str, step: StepDef) -> ChartTransition | None:
        """The move ``event`` makes from ``status`` for ``step`` (its guards read), or None.

        A model-level query for lint, verify and the ``step.accepts`` fact; on the request
        path the compiled machine chooses the move itself.
        """
        for t in self.transitions:
            if t.event == event and status in t.sources and (t.guard is None or STEP_GUARDS[t.guard](step)):
                return t
        return None

    def accepts(self, status: str, event: str, step: StepDef) -> bool:
        return self.transition_for(status, event, step) is not None


@dataclass(frozen=True)
class PathDef:
    next_step: str
    return_values: tuple[str, ...] | None = None
    assigned_type: str | None = None
    assigned_to: str | None = None
    force_group_assignment: bool = False
    line: int = 0

    def matches(self, value: str | None) -> bool:
        return self.return_values is None or (value is not None and value in self.return_values)


@dataclass(frozen=True)
class StepDef:
    id: str
    type: str
    name: str = ""
    can_skip: bool = False
    proceed_next: bool = False
    automatic: bool = False
    assigned_type: str | None = None
    assigned_to: str | None = None
    answers: tuple[str, ...] | None = None
    paths: tuple[PathDef, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Workflow:
    id: str
    initial_step: str
    steps: dict[str, StepDef]
    name: str = ""
    auto_close: bool = True
    version: str = ""
    file: str = ""
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


STEP_GUARDS: dict[str, Callable[[StepDef], bool]] = {
    "canSkip": lambda d: d.can_skip,
    "notCanSkip": lambda d: not d.can_skip,
    "proceedNext": lambda d: d.proceed_next,
    "automatic": lambda d: d.automatic,
}
"""The guards a chart transition may name (``vocabulary.GUARDS``): facts of the step definition."""
