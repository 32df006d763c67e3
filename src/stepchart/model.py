"""The engine's data: frozen definitions (charts, workflows) and the mutable job state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SYSTEM",
    "Actor",
    "ChartState",
    "ChartTransition",
    "CurrentStep",
    "Hold",
    "Job",
    "PathDef",
    "StepDef",
    "StepType",
    "Workflow",
]


@dataclass(frozen=True)
class Actor:
    """Who acts: a username, their groups and privileges (SPEC section 1)."""

    username: str
    groups: frozenset[str] = frozenset()
    privileges: frozenset[str] = frozenset()

    @classmethod
    def of(cls, username: str, groups: Any = (), privileges: Any = ()) -> Actor:
        return cls(username, frozenset(groups), frozenset(privileges))

    @property
    def is_system(self) -> bool:
        return self is SYSTEM or self.username == "system"


SYSTEM = Actor("system")


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

    def events_from(self, status: str) -> set[str]:
        return {t.event for t in self.transitions if status in t.sources}


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


@dataclass
class CurrentStep:
    """A current step of a job; ``status`` is the state of its lifecycle machine."""

    step_id: str
    status: str
    assigned_type: str = "Unassigned"
    assigned_to: str | None = None

    def copy(self) -> CurrentStep:
        return CurrentStep(self.step_id, self.status, self.assigned_type, self.assigned_to)

    def to_doc(self) -> dict[str, Any]:
        d: dict[str, Any] = {"stepId": self.step_id, "status": self.status, "assignedType": self.assigned_type}
        if self.assigned_to is not None:
            d["assignedTo"] = self.assigned_to
        return d


@dataclass
class Hold:
    hold_id: str
    step_id: str
    set_by: str | None = None
    set_date: str | None = None
    scheduled_release: str | None = None
    dependent_job_id: str | None = None
    dependent_step_id: str | None = None
    released_by: str | None = None
    released_date: str | None = None

    @property
    def released(self) -> bool:
        return self.released_by is not None or self.released_date is not None

    @property
    def is_dependency(self) -> bool:
        return self.dependent_job_id is not None

    def copy(self) -> Hold:
        return Hold(**self.__dict__)

    def to_doc(self) -> dict[str, Any]:
        return {
            "holdId": self.hold_id,
            "stepId": self.step_id,
            "setBy": self.set_by,
            "setDate": self.set_date,
            "scheduledRelease": self.scheduled_release,
            "dependentJobId": self.dependent_job_id,
            "dependentStepId": self.dependent_step_id,
            "releasedBy": self.released_by,
            "releasedDate": self.released_date,
        }


@dataclass
class Job:
    """One run of a workflow (SPEC 6.2)."""

    job_id: str
    workflow: str
    workflow_version: str = ""
    closed: bool = False
    current_steps: list[CurrentStep] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    return_values: dict[str, str] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def copy(self) -> Job:
        return Job(
            self.job_id,
            self.workflow,
            self.workflow_version,
            self.closed,
            [c.copy() for c in self.current_steps],
            [h.copy() for h in self.holds],
            dict(self.return_values),
            [dict(h) for h in self.history],
        )

    def current(self, step_id: str) -> CurrentStep | None:
        for c in self.current_steps:
            if c.step_id == step_id:
                return c
        return None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"jobId": self.job_id, "workflow": self.workflow}
        if self.workflow_version:
            doc["workflowVersion"] = self.workflow_version
        doc.update(
            {
                "closed": self.closed,
                "currentSteps": [c.to_doc() for c in self.current_steps],
                "holds": [h.to_doc() for h in self.holds],
                "returnValues": dict(self.return_values),
                "history": [dict(h) for h in self.history],
            }
        )
        return doc
