"""The dispatcher: checks, targets and handlers of one request, then the automatic steps (R6, R11, R14, R15).

A request flows: R6 pre-pass (holds released by time or dependency, automatic steps)
-> request-level rules -> targets (R11) -> for each target, step rules in order (R15),
then the action's handler (one per action, found in :data:`JOB_ACTION_HANDLERS` and
:data:`OPERATION_HANDLERS` by the action table's names) -> automatic steps again.
Any :class:`RequestError` becomes a 400 that changes nothing (the caller drops the copy).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..errors import RequestError
from ..model import SYSTEM, Actor, CurrentStep, Job, Request, Workflow
from ..model.times import format_datetime
from ..rules import STEP_STATUSES
from ..rules.context import Context, JobReader
from ..stores import JobStore
from ..stores.idempotency import KEY_REUSED_STATUS, recall_request
from ..trace import Tracer, Tracers
from .actions import STATUS_TEXT, action
from .definitions import Definitions
from .holds import apply_hold, release, release_expired
from .inputs import unstorable_request
from .moves import StepMover
from .records import actor_log, note_event, note_history, operation_body
from .results import ActionResult, StatusProvider, response

__all__ = ["JOB_ACTION_HANDLERS", "OPERATION_HANDLERS", "AutomaticBudget", "Dispatcher", "Operation"]

MAX_AUTOMATIC_MOVES = 100


class AutomaticBudget:
    """The bound on automatic moves of one request (R6)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def take(self) -> None:
        self.count += 1
        if self.count > self.limit:
            raise RequestError(
                "InvalidRequest",
                f"More than {self.limit} automatic moves in one request: the workflow loops through automatic steps.",
                [f"automatic moves: limit {self.limit}"],
            )


Operation = Callable[[Context, AutomaticBudget], dict[str, Any]]
"""What a request does once the R6 pre-pass ran: the jobAction dispatch, a step operation, nothing."""

Handler = Callable[["Dispatcher", Context, str], tuple[str, str]]
"""A jobAction handler: (status, description) of one target step whose rules passed."""


class Dispatcher:
    """Runs requests on a job in a :class:`Context`, with one engine's rules and charts.

    ``tracer`` is the engine-wide tracer: the only one that observes automatic steps
    (a request's own tracer, as ``explain`` hands, sees the request's checks and moves).
    """

    def __init__(
        self,
        definitions: Definitions,
        *,
        status_provider: StatusProvider | None = None,
        max_automatic_moves: int = MAX_AUTOMATIC_MOVES,
        tracer: Tracer | None = None,
    ) -> None:
        self.definitions = definitions
        self.rules = definitions.rules
        self.lifecycles = definitions.lifecycles
        self.mover = StepMover(definitions.lifecycles)
        self.status_provider = status_provider
        self.max_automatic_moves = max_automatic_moves
        self.tracer = tracer

    def budget(self) -> AutomaticBudget:
        return AutomaticBudget(self.max_automatic_moves)

    def context(
        self,
        job: Job,
        wf: Workflow,
        actor: Actor,
        request: Request,
        now: datetime,
        read_job: JobReader,
        *,
        tracer: Tracer | None = None,
        now_text: str | None = None,
    ) -> Context:
        """What the rules see of ``request`` on ``job``; ``tracer`` observes it beside the engine-wide tracer."""
        own = self.tracer
        both = tracer if own is None else own if tracer is None else Tracers([own, tracer])
        d = self.definitions
        return Context(
            job,
            wf,
            actor,
            request,
            now,
            step_types=d.step_types,
            charts=d.lifecycles,
            read_job=read_job,
            tracer=both,
            now_text=now_text,
        )

    def execute(
        self,
        store: JobStore,
        job_id: str,
        request: Request,
        actor: Actor,
        now: datetime,
        op: Operation,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """One request in one store transaction; a 200 is committed with its events and its log entry (R12)."""
        body = request.body if request.body is not None else operation_body(request)
        refused = unstorable_request(job_id, body)
        if refused is not None:
            return ActionResult(400, refused.body())
        with store.transaction(job_id) as tx:
            if tx.job is None:
                return ActionResult(400, RequestError.job_not_found(job_id).body())
            if idempotency_key is not None:
                try:
                    prior = recall_request(
                        tx, idempotency_key, username=actor.username, action=request.action, body=body, now=now,
                        retention=store.key_retention,
                    )
                except RequestError as exc:
                    return ActionResult(KEY_REUSED_STATUS, exc.body())
                if prior is not None:
                    return ActionResult(200, prior["response"], [])
            job = tx.job
            now_text = format_datetime(now)
            try:
                ctx = self.context(
                    job, self.definitions.workflow_for(job), actor, request, now, store.get, now_text=now_text
                )
            except RequestError as exc:
                return ActionResult(400, exc.body())
            result = self.run(ctx, op)
            if result.ok:
                log = {
                    "jobId": job_id,
                    "actor": actor_log(actor),
                    "action": request.action,
                    "body": body,
                    "now": now_text,
                    "response": result.body,
                }
                if idempotency_key is not None:
                    log["idempotencyKey"] = idempotency_key
                tx.commit(job, result.events, log)
            return result

    def run(self, ctx: Context, op: Operation) -> ActionResult:
        """The R6 pre-pass, then ``op``; a request error is a 400."""
        try:
            budget = self.budget()
            if not ctx.job.closed:
                release_expired(ctx)
                self.cascade(ctx, budget)
            body = op(ctx, budget)
        except RequestError as exc:
            return ActionResult(400, exc.body())
        return ActionResult(200, body, ctx.events)

    # -- checks ---------------------------------------------------------------------------
    def request_checks(self, ctx: Context) -> None:
        """The request-level rules of ``ctx.request.action`` (R14); the first that refuses raises."""
        rule = self.rules.first_failure(ctx, "request", ctx.request.action)
        if rule is not None:
            raise RequestError(
                rule.yields, rule.description or f"Refused by rule {rule.name}.", [f"rule: {rule.name}"], rule.name
            )

    def step_check(self, ctx: Context, step_id: str) -> tuple[str, str] | None:
        """(status, description) of the first failing step rule; request errors raise."""
        ctx.set_target(step_id)
        rule = self.rules.first_failure(ctx, "step", ctx.request.action)
        if rule is None:
            return None
        if rule.yields not in STEP_STATUSES:
            raise RequestError(
                rule.yields,
                rule.description or f"Refused by rule {rule.name}.",
                [f"rule: {rule.name}", f"stepId: {step_id}"],
                rule.name,
            )
        return rule.yields, rule.description or f"Refused by rule {rule.name}."

    # -- jobAction ------------------------------------------------------------------------
    def job_action(self, ctx: Context, budget: AutomaticBudget) -> dict[str, Any]:
        self.request_checks(ctx)
        targets = self.targets(ctx)
        if not targets:
            status = "JobClosed" if ctx.job.closed else "NoActiveStep"
            return {"success": False, "stepResponses": [response("", status, STATUS_TEXT[status])]}
        handler = JOB_ACTION_HANDLERS[ctx.request.action]
        responses = []
        for step_id in targets:
            refusal = self.step_check(ctx, step_id)
            if refusal is None:
                status, text = handler(self, ctx, step_id)
                if status == "Success":
                    self.cascade(ctx, budget)
            else:
                status, text = refusal
            responses.append(response(step_id, status, text))
        return {"success": all(r["status"] == "Success" for r in responses), "stepResponses": responses}

    def targets(self, ctx: Context) -> list[str]:
        """The steps a jobAction acts on (R11)."""
        req = ctx.request
        if req.step_ids or req.action == "SetCurrentStep":
            return list(req.step_ids)
        current = [cs.step_id for cs in ctx.job.current_steps]
        if req.action == "ReleaseHold":
            held = [s for s in current if ctx.has_active_hold(s)]
            return held or current
        return current

    # -- step operations beside jobAction ---------------------------------------------------
    def operation(self, ctx: Context, budget: AutomaticBudget) -> dict[str, Any]:
        """respond, complete, fail, assign: one step; every refusal is a request error (R4a, R25)."""
        req = ctx.request
        step_id = req.step_ids[0]
        self.request_checks(ctx)  # a designer's request-level rules for these operations (R14 order)
        refusal = self.step_check(ctx, step_id)
        if refusal is not None:  # a designer's rule may yield a step status here: still a request error
            raise RequestError("InvalidRequest", refusal[1], [f"status: {refusal[0]}", f"stepId: {step_id}"])
        record = ctx.record
        assert record is not None
        OPERATION_HANDLERS[req.action](self, ctx, record)
        self.cascade(ctx, budget)
        return {"success": True, "stepResponses": [response(step_id, "Success", action(req.action).success_text)]}

    def nothing(self, ctx: Context, budget: AutomaticBudget) -> dict[str, Any]:
        """refresh: the R6 pre-pass is the whole request."""
        return {"success": True, "stepResponses": []}

    # -- automatic steps (R6) -----------------------------------------------------------------
    def cascade(self, ctx: Context, budget: AutomaticBudget) -> None:
        """Run every automatic step in its initial state, as the engine, until none is ready."""
        refused: set[tuple[str, str]] = set()
        while not ctx.job.closed:
            candidate = next(
                (
                    cs
                    for cs in ctx.job.current_steps
                    if (cs.step_id, cs.status) not in refused and self._auto_ready(ctx, cs)
                ),
                None,
            )
            if candidate is None:
                return
            saved = ctx.actor, ctx.step_id, ctx.request, ctx.tracer
            ctx.actor, ctx.request = SYSTEM, Request("Run", [candidate.step_id], body=saved[2].body)
            ctx.tracer = self.tracer
            try:
                ctx.set_target(candidate.step_id)
                rule = self.rules.first_failure(ctx, "step", "Run")
                status = rule.yields if rule is not None else self.mover.run(ctx, candidate)[0]
            finally:
                ctx.actor, _, ctx.request, ctx.tracer = saved
                ctx.set_target(saved[1])
            if status == "Success":
                budget.take()
                refused.clear()
            else:
                refused.add((candidate.step_id, candidate.status))

    def _auto_ready(self, ctx: Context, cs: CurrentStep) -> bool:
        step = ctx.workflow.steps[cs.step_id]
        return (
            step.automatic
            and cs.status == self.lifecycles[step.type].type.initial
            and not ctx.has_active_hold(cs.step_id)
        )


# -- the handlers, by action name ---------------------------------------------------------------


def _finish(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    """Finish: the action table's event; no path matching the return value is ``NoMatchingPaths`` (R8)."""
    row = action("Finish")
    assert ctx.record is not None and row.event is not None
    if not d.mover.move(ctx, ctx.record, row.event):
        return "NoMatchingPaths", STATUS_TEXT["NoMatchingPaths"]
    return "Success", row.success_text


def _stop(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    row = action("Stop")
    assert ctx.record is not None and row.event is not None
    d.mover.move(ctx, ctx.record, row.event)
    return "Success", row.success_text


def _run(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    assert ctx.record is not None
    return d.mover.run(ctx, ctx.record)


def _hold(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    apply_hold(ctx, step_id)
    return "Success", action("Hold").success_text


def _release_hold(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    for h in ctx.releasable_holds(step_id):
        release(ctx, h, ctx.actor.username, ctx.now_text)
    return "Success", action("ReleaseHold").success_text


def _set_current(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    d.mover.set_current(ctx, step_id)
    return "Success", action("SetCurrentStep").success_text


def _refresh_status(d: Dispatcher, ctx: Context, step_id: str) -> tuple[str, str]:
    if not d.mover.refresh_execution(ctx, step_id, d.status_provider):
        return "NoMatchingPaths", STATUS_TEXT["NoMatchingPaths"]
    return "Success", action("RefreshStatus").success_text


JOB_ACTION_HANDLERS: dict[str, Handler] = {
    "Run": _run,
    "Finish": _finish,
    "Stop": _stop,
    "SetCurrentStep": _set_current,
    "Hold": _hold,
    "ReleaseHold": _release_hold,
    "RefreshStatus": _refresh_status,
}
"""One handler per jobAction type (``vocabulary.ACTION_TYPES``)."""


def _assign(d: Dispatcher, ctx: Context, record: CurrentStep) -> None:
    req = ctx.request
    record.assigned_type = req.assigned_type or "Unassigned"
    record.assigned_to = req.assigned_to if record.assigned_type != "Unassigned" else None
    note_history(ctx, record.step_id, "Reassigned")
    note_event(ctx, "StepReassigned", record.step_id, assignedType=record.assigned_type, assignedTo=record.assigned_to)


def _fail(d: Dispatcher, ctx: Context, record: CurrentStep) -> None:
    event = action("Fail").event
    assert event is not None
    d.mover.move(ctx, record, event, message=ctx.request.message)


def _answer(d: Dispatcher, ctx: Context, record: CurrentStep) -> None:
    """Respond, Complete: the action's event with its value; no matching path is a request error (R8)."""
    event = action(ctx.request.action).event
    assert event is not None
    if not d.mover.move(ctx, record, event, value=ctx.request.value):
        raise RequestError(
            "InvalidRequest", STATUS_TEXT["NoMatchingPaths"], ["status: NoMatchingPaths", f"stepId: {record.step_id}"]
        )


OPERATION_HANDLERS: dict[str, Callable[[Dispatcher, Context, CurrentStep], None]] = {
    "Respond": _answer,
    "Complete": _answer,
    "Fail": _fail,
    "Assign": _assign,
}
"""One handler per step operation beside jobAction (``vocabulary.OPERATIONS``)."""
