"""The mutable state of one job: current steps, holds, return values, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..vocabulary import AssignmentType
from .properties import JobProperties

__all__ = ["CurrentStep", "Hold", "Job"]


@dataclass
class CurrentStep:
    """A current step of a job; ``status`` is the state of its lifecycle machine."""

    step_id: str
    status: str
    assigned_type: AssignmentType = "Unassigned"
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
    properties: JobProperties = field(default_factory=JobProperties)
    """Name, people, dates, notes, extended properties (:mod:`.properties`): beside the lifecycle, never steering it."""

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
            self.properties,
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
        doc.update(self.properties.to_doc())
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
