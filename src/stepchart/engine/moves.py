"""Lifecycle moves of a job's steps, made by the compiled machines, and where they lead (R2, R7-R9a, R21).

The machine chooses each move (its transition selection and guards) and makes it; the
engine only reads the chosen chart transition back and writes what the chart says of
it (history ``record``, ``emit`` events). A move into a final state finishes the step:
before the machine changes anything, the engine's admission test asks whether a path
matches the move's return value (R8); when none does, the machine is told no and the
record stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from statemachine.exceptions import InvalidStateValue, TransitionNotAllowed

from ..errors import RequestError
from ..load.jobs import initial_assignment
from ..load.workflows import as_text
from ..model import SYSTEM, ChartTransition, CurrentStep, PathDef, StepDef
from ..rules.context import Context
from ..vocabulary import AssignmentType
from .actions import RUN_AND_FINISH_TEXT, STATUS_TEXT, action
from .lifecycle import Lifecycle, Observe
from .records import note_event, note_history
from .results import StatusProvider

__all__ = ["StepMover"]


class StepMover:
    """Moves step records of one engine's charts; ``status_provider`` gives asynchronous news (R21)."""

    def __init__(self, lifecycles: Mapping[str, Lifecycle]) -> None:
        self.lifecycles = lifecycles

    def move(
        self, ctx: Context, record: CurrentStep, event: str, *, value: str | None = None, message: str | None = None
    ) -> bool:
        """Send ``event`` to the step's machine; a move into a final state finishes the step.

        Returns False, changing nothing, when the step would finish and no path matches (R8).
        """
        step = ctx.workflow.steps[record.step_id]
        lc = self.lifecycles[step.type]
        finishing: list[tuple[str, list[PathDef]]] = []

        def admit(t: ChartTransition) -> bool:
            if t.target not in lc.final_states:
                return True
            rv = t.return_value if t.return_value is not None else (value if value is not None else "Success")
            nexts = [p for p in step.paths if p.matches(rv)]
            if step.paths and not nexts:
                return False
            finishing.append((rv, nexts))
            return True

        tracer = ctx.tracer
        observe: Observe | None = None
        if tracer is not None:

            def observe(t: ChartTransition, source: str) -> None:
                tracer.moved(lc.type, t, source, record.step_id)

        status = record.status
        try:
            made = lc.fire(record, event, step, admit=admit, observe=observe)
        except (TransitionNotAllowed, InvalidStateValue):
            raise RequestError(
                "InvalidRequest",
                f"The {step.type} lifecycle has no {event} move from {status}.",
                [f"stepId: {record.step_id}"],
            ) from None
        if made is None:
            return False
        if finishing:
            self._finished(ctx, record, step, *finishing[0])
            return True
        if made.record:
            note_history(ctx, record.step_id, made.record)
        for name in made.emit:
            extra = {"message": message} if name == "StepError" and message else {}
            note_event(ctx, name, record.step_id, **extra)
        return True

    def run(self, ctx: Context, record: CurrentStep) -> tuple[str, str]:
        """Run, then R2: a proceedNext step whose Run leads to a state that finishes finishes at once.

        Whether the state after Run finishes is the machine's answer (:meth:`Lifecycle.accepts`);
        when the finish matches no path, the Run is undone too (status, history, events).
        """
        step = ctx.workflow.steps[record.step_id]
        lc = self.lifecycles[step.type]
        before = (record.status, len(ctx.job.history), len(ctx.events))
        self.move(ctx, record, "run")
        if step.proceed_next and not lc.type.asynchronous and lc.accepts(record.status, "finish", step):
            if not self.move(ctx, record, "finish"):
                record.status = before[0]
                del ctx.job.history[before[1] :]
                del ctx.events[before[2] :]
                return "NoMatchingPaths", STATUS_TEXT["NoMatchingPaths"]
            return "Success", RUN_AND_FINISH_TEXT
        return "Success", action("Run").success_text

    def _finished(
        self, ctx: Context, record: CurrentStep, step: StepDef, return_value: str, nexts: Sequence[PathDef]
    ) -> None:
        """The step left the job: its return value kept, its paths followed (R7, R9a), the job maybe closed (R9)."""
        job = ctx.job
        job.current_steps = [c for c in job.current_steps if c is not record]
        job.return_values[step.id] = return_value
        note_history(ctx, step.id, "Finished")
        tracer = ctx.tracer
        for path in nexts:
            if tracer is not None:
                tracer.path_taken(ctx.workflow, step, path)
            if job.current(path.next_step) is not None:
                continue
            target = ctx.workflow.steps[path.next_step]
            kind: AssignmentType | None
            if path.assigned_type is not None:
                kind, to = path.assigned_type, path.assigned_to
            elif target.assigned_type is not None:
                kind, to = target.assigned_type, target.assigned_to
            else:
                kind, to = record.assigned_type, record.assigned_to
            self.activate(ctx, path.next_step, kind, to, force_group=path.force_group_assignment)
        note_event(
            ctx, "StepFinished", step.id, returnValue=return_value, currentSteps=[c.step_id for c in job.current_steps]
        )
        if not job.current_steps and ctx.workflow.auto_close and not job.closed:
            job.closed = True
            job.properties = replace(job.properties, end_date=ctx.now_text)
            note_history(ctx, None, "Closed")
            note_event(ctx, "JobClosed", None)

    def activate(
        self, ctx: Context, step_id: str, kind: AssignmentType | None, to: str | None, *, force_group: bool
    ) -> None:
        """Make a step current in its chart's initial state with the R9a assignment."""
        assigned: AssignmentType = "User" if kind == "User" else "Group" if kind == "Group" else "Unassigned"
        if assigned == "Unassigned":
            to = None
        if assigned == "Group" and not force_group and to in ctx.actor.groups and not ctx.actor.is_system:
            assigned, to = "User", ctx.actor.username  # R9a: the actor of the group takes it
        initial = self.lifecycles[ctx.workflow.steps[step_id].type].type.initial
        ctx.job.current_steps.append(CurrentStep(step_id, initial, assigned, to))
        note_history(ctx, step_id, "Activated")

    def set_current(self, ctx: Context, step_id: str) -> None:
        """SetCurrentStep: every current step deactivated, ``step_id`` activated with its own assignment."""
        for cs in ctx.job.current_steps:
            note_history(ctx, cs.step_id, "Deactivated")
        ctx.job.current_steps = []
        kind, to = initial_assignment(ctx.workflow.steps[step_id])
        self.activate(ctx, step_id, kind, to, force_group=False)

    def refresh_execution(self, ctx: Context, step_id: str, provider: StatusProvider | None) -> bool:
        """Apply the host's news of an asynchronous step (R21), acting as ``system``.

        Returns False, changing nothing, when a completed execution's return value matches
        no path (R15 step 7: ``NoMatchingPaths``); True otherwise, news or not.
        """
        record = ctx.record
        if provider is None or record is None:
            return True
        news = provider(ctx.job.job_id, step_id)
        if news is None:
            return True
        step = ctx.workflow.steps[step_id]
        lc = self.lifecycles[step.type]
        previous = ctx.actor
        ctx.actor = SYSTEM
        try:
            if news.state == "Completed" and lc.accepts(record.status, "complete", step):
                return self.move(ctx, record, "complete", value=as_text(news.return_value))
            if news.state == "Failed" and lc.accepts(record.status, "fail", step):
                self.move(ctx, record, "fail", message=news.message)
            return True
        finally:
            ctx.actor = previous
