"""What a rule can see while one request is checked: the job, the actor, the request, now.

A :class:`Context` is built from the step types, the lifecycle charts' answers (which
events a step's status accepts) and a job reader, never from the engine: the rules
depend on nothing above them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from ..model import Actor, CurrentStep, Hold, Job, Request, StepDef, StepType, Workflow
from ..model.times import format_datetime, parse_datetime
from ..trace import Tracer

__all__ = ["ChartQuery", "Context", "JobReader"]

JobReader = Callable[[str], Job | None]
"""``read(job_id)``: another job as stored, or None (dependency holds, ``job.exists``)."""


class ChartQuery(Protocol):
    """What the ``step.accepts`` fact asks of a lifecycle: a compiled lifecycle, or the step type itself."""

    def accepts(self, status: str, event: str, step: StepDef) -> bool: ...


class Context:
    """The facts of one request; rules read it, the dispatcher moves the job in it.

    ``charts`` answers ``step.accepts`` per step type (by default the step types
    themselves, a model-level answer); ``tracer``, when set, hears every fact read
    and rule checked.
    """

    def __init__(
        self,
        job: Job,
        workflow: Workflow,
        actor: Actor,
        request: Request,
        now: datetime,
        *,
        step_types: Mapping[str, StepType],
        read_job: JobReader,
        charts: Mapping[str, ChartQuery] | None = None,
        tracer: Tracer | None = None,
        now_text: str | None = None,
    ) -> None:
        self.job = job
        self.workflow = workflow
        self.actor = actor
        self.request = request
        self.now = now
        self.now_text = now_text if now_text is not None else format_datetime(now)
        self.tracer = tracer
        self.events: list[dict[str, Any]] = []
        self.step_id = ""
        self.record: CurrentStep | None = None
        self.step_def: StepDef | None = None
        self._step_types = step_types
        self._charts: Mapping[str, ChartQuery] = charts if charts is not None else step_types
        self._read_job = read_job
        self._other_jobs: dict[str, Job | None] = {}

    # -- targets --------------------------------------------------------------------
    def set_target(self, step_id: str) -> None:
        self.step_id = step_id
        self.record = self.job.current(step_id)
        self.step_def = self.workflow.steps.get(step_id)

    def step_type_of(self, step_id: str) -> StepType | None:
        d = self.workflow.steps.get(step_id)
        return self._step_types.get(d.type) if d is not None else None

    # -- assignment and lifecycle facts ----------------------------------------------
    def is_assignee(self, cs: CurrentStep, actor: Actor | None = None) -> bool:
        a = actor or self.actor
        if cs.assigned_type == "User":
            return cs.assigned_to == a.username
        if cs.assigned_type == "Group":
            return cs.assigned_to in a.groups
        return False

    def is_running(self, cs: CurrentStep) -> bool:
        st = self.step_type_of(cs.step_id)
        return st is not None and st.is_running(cs.status)

    def chart_accepts(self, cs: CurrentStep, event: str) -> bool:
        d = self.workflow.steps.get(cs.step_id)
        return d is not None and self._charts[d.type].accepts(cs.status, event, d)

    # -- other jobs, through the store -----------------------------------------------
    def other_job(self, job_id: str) -> Job | None:
        if job_id == self.job.job_id:
            return self.job
        if job_id not in self._other_jobs:
            self._other_jobs[job_id] = self._read_job(job_id)
        return self._other_jobs[job_id]

    def job_exists(self, job_id: str) -> bool:
        return self.other_job(job_id) is not None

    # -- holds (R19) -----------------------------------------------------------------
    def dependency_met(self, hold: Hold) -> bool:
        if hold.dependent_job_id is None:
            return False
        other = self.other_job(hold.dependent_job_id)
        if other is None:
            return False
        if other.closed:
            return True
        return hold.dependent_step_id is not None and hold.dependent_step_id in other.return_values

    def expiry(self, hold: Hold) -> datetime | None:
        """When a scheduled hold has released itself as of now, else None."""
        if hold.scheduled_release is None:
            return None
        at = parse_datetime(hold.scheduled_release)
        return at if at <= self.now else None

    def hold_active(self, hold: Hold) -> bool:
        return not hold.released and self.expiry(hold) is None and not self.dependency_met(hold)

    def has_active_hold(self, step_id: str) -> bool:
        return any(h.step_id == step_id and self.hold_active(h) for h in self.job.holds)

    def releasable_holds(self, step_id: str) -> list[Hold]:
        """The active holds of a step that this ReleaseHold request releases (R20)."""
        req = self.request
        out = []
        for h in self.job.holds:
            if h.step_id != step_id or not self.hold_active(h):
                continue
            if req.dependent_job_id is None:
                if not h.is_dependency:
                    out.append(h)
            elif h.dependent_job_id == req.dependent_job_id and (
                req.dependent_step_id is None or h.dependent_step_id == req.dependent_step_id
            ):
                out.append(h)
        return out
