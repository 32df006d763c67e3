"""The public :class:`Engine`: loads charts, rules and workflows, and dispatches requests.

A request flows: body -> :class:`Request` -> transaction on the job -> R6 pre-pass ->
request-level rules -> targets (R11) -> step rules, in order (R15) -> a lifecycle move
on the compiled chart -> paths (R7) -> automatic steps (R6) -> commit (R12).
Any request error drops the working copy: a 400 changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, Problem, RequestError
from ..io.files import data_dir
from ..io.yamldoc import Document, as_document
from ..load.charts import load_chart_dir
from ..load.jobs import initial_assignment, parse_job
from ..load.workflows import as_text, load_workflow
from ..model import SYSTEM, Actor, CurrentStep, Hold, Job, Request, StepDef, StepType, Workflow
from ..model.times import format_datetime
from ..rules import ACTION_TYPES, STEP_STATUSES, Rule, RuleSet, load_rules
from ..rules.context import Context
from ..stores import JobStore, MemoryStore
from .inputs import as_actor, as_now
from .lifecycle import Lifecycle
from .payload import parse_payload
from .records import actor_log, event_record, history_record

__all__ = ["ActionResult", "Engine", "Execution", "RuleCheck", "StatusProvider"]

MAX_AUTOMATIC_MOVES = 100

SUCCESS_TEXT = {
    "Run": "The step was started running.",
    "Finish": "The step was finished.",
    "Stop": "The step was stopped.",
    "SetCurrentStep": "The step was set as the current step.",
    "Hold": "The hold was applied to the step.",
    "ReleaseHold": "The hold was released.",
    "RefreshStatus": "The step status was refreshed.",
    "Respond": "The answer was recorded and the step finished.",
    "Complete": "The step was completed.",
    "Fail": "The step failed.",
    "Assign": "The step was reassigned.",
}
STATUS_TEXT = {
    "NoActiveStep": "The job has no active step.",
    "JobClosed": "The job is closed.",
    "NoMatchingPaths": "No path from the step matches its return value.",
}


@dataclass(frozen=True)
class Execution:
    """What a host's status provider reports of an asynchronous step (R21)."""

    state: str  # "Running", "Completed" or "Failed"
    return_value: str = "Success"
    message: str = ""


StatusProvider = Callable[[str, str], Execution | None]
"""``provider(job_id, step_id)``: the host's news of a running asynchronous step, or None."""


@dataclass
class ActionResult:
    """The answer to one request: an HTTP-like status, the R13/R14 body, and the R24 events."""

    status_code: int
    body: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status_code == 200

    @property
    def success(self) -> bool:
        return self.ok and bool(self.body.get("success"))

    @property
    def error_type(self) -> str | None:
        return self.body["error"]["type"] if "error" in self.body else None


@dataclass(frozen=True)
class RuleCheck:
    """One rule checked for one target: its verdict and the facts it read (``explain``)."""

    rule: str
    passed: bool
    yields: str
    description: str
    facts: tuple[tuple[str, Any, bool], ...]


class _Moves:
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


class Engine:
    """Charts, rules and workflows loaded once; jobs in a store; requests dispatched.

    ``charts`` and ``rules`` are folders (or files); by default the shipped ones.
    """

    def __init__(
        self,
        charts: Sequence[str | Path] | None = None,
        rules: Sequence[str | Path] | None = None,
        *,
        workflows: Iterable[str | Path | Mapping[str, Any]] = (),
        store: JobStore | None = None,
        status_provider: StatusProvider | None = None,
        max_automatic_moves: int = MAX_AUTOMATIC_MOVES,
    ) -> None:
        self.step_types: dict[str, StepType] = load_chart_dir(*(charts or [data_dir("statecharts")]))
        self.lifecycles: dict[str, Lifecycle] = {k: Lifecycle(v) for k, v in self.step_types.items()}
        self.rules: RuleSet = load_rules(*(rules or [data_dir("rules")]))
        self.store: JobStore = store if store is not None else MemoryStore()
        self.status_provider = status_provider
        self.max_automatic_moves = max_automatic_moves
        self.workflows: dict[str, Workflow] = {}
        self._versions: dict[tuple[str, str], Workflow] = {}
        self._job_counter: int | None = None
        for w in workflows:
            self.add_workflow(w)

    def spawn(self, store: JobStore | None = None) -> Engine:
        """A new engine sharing this one's compiled charts and rules, with no workflows and its own store.

        Charts and rules compile once per process; a scenario run spawns one engine each.
        """
        twin = object.__new__(type(self))
        twin.step_types, twin.lifecycles, twin.rules = self.step_types, self.lifecycles, self.rules
        twin.store = store if store is not None else MemoryStore()
        twin.status_provider, twin.max_automatic_moves = self.status_provider, self.max_automatic_moves
        twin.workflows, twin._versions, twin._job_counter = {}, {}, None
        return twin

    # -- definitions ------------------------------------------------------------------
    def add_workflow(self, source: str | Path | Mapping[str, Any] | Document) -> Workflow:
        """Load a workflow (path, YAML text, mapping or parsed document); the newest version wins by id."""
        wf = load_workflow(source, self.step_types)
        self.workflows[wf.id] = wf
        self._versions[(wf.id, wf.version)] = wf
        return wf

    def workflow(self, workflow_id: str, version: str | None = None) -> Workflow | None:
        if version:
            return self._versions.get((workflow_id, version))
        return self.workflows.get(workflow_id)

    def known_versions(self) -> list[Workflow]:
        """Every workflow version this engine has loaded, oldest first."""
        return list(self._versions.values())

    def register_version(self, wf: Workflow, *, newest: bool = False) -> None:
        """Make a workflow version known (one read back from a store); ``newest`` also makes it the default."""
        self._versions[(wf.id, wf.version)] = wf
        if newest:
            self.workflows[wf.id] = wf

    def workflow_for(self, job: Job) -> Workflow:
        """The workflow version the job was created with: never silently another one."""
        return self._workflow_for(job)

    def context(self, job: Job, actor: Actor, request: Request, now: datetime) -> Context:
        """What the rules see of ``request`` on ``job`` (for operations beside jobAction)."""
        return Context(self, job, self._workflow_for(job), actor, request, now)

    def check_request(self, ctx: Context) -> None:
        """The request-level rules of ``ctx.request.action`` (R14); the first that refuses raises."""
        self._request_checks(ctx)

    def start_job(
        self,
        job: Job,
        wf: Workflow,
        now: datetime,
        actor: Actor,
        *,
        document: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Store a new job: its initial step current, automatic steps run (R6), its creation logged."""
        return self._start(job, wf, now, actor, new=True, document=document, idempotency_key=idempotency_key)

    def _workflow_for(self, job: Job) -> Workflow:
        """The workflow version the job was created with: never silently another one."""
        wf = self.workflow(job.workflow, job.workflow_version) if job.workflow_version else self.workflow(job.workflow)
        if wf is None:
            raise RequestError(
                "InvalidRequest",
                f"The job's workflow {job.workflow!r} version {job.workflow_version or '(any)'} is not loaded.",
                [f"workflow: {job.workflow}", f"workflowVersion: {job.workflow_version}"],
            )
        return wf

    # -- jobs -------------------------------------------------------------------------
    def create_job(
        self,
        workflow_id: str,
        job_id: str | None = None,
        *,
        now: datetime | str | None = None,
        actor: Actor | str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """A new job with the workflow's initial step current; automatic steps run at once (R6).

        ``idempotency_key`` is recorded in the job's creation log entry, so a retried
        create can find the job it made (``store.transaction(job_id)`` then ``recall``).
        """
        wf = self.workflow(workflow_id)
        if wf is None:
            raise KeyError(f"no workflow {workflow_id!r}; loaded: {', '.join(sorted(self.workflows)) or 'none'}")
        jid = job_id or self._next_job_id()
        job = Job(jid, wf.id, wf.version)
        return self._start(job, wf, as_now(now), as_actor(actor), new=True, idempotency_key=idempotency_key)

    def load_job(
        self,
        document: str | Path | Mapping[str, Any] | Document,
        *,
        now: datetime | str | None = None,
        workflow: str | Workflow | None = None,
    ) -> dict[str, Any]:
        """Store a job given as a 6.2 document (path, JSON/YAML text, mapping or parsed document).

        A document without ``currentSteps`` is a new job: its initial step becomes current
        and automatic steps run. Otherwise automatic steps run on the job's next request.
        """
        doc = as_document(document, "<job>", kind="job document")
        wf = self.workflow(workflow) if isinstance(workflow, str) else workflow
        if isinstance(workflow, str) and wf is None:
            raise KeyError(f"no workflow {workflow!r}")
        job, is_new = parse_job(doc, self.workflow, self.step_types, workflow=wf)
        wf = self._workflow_for(job)
        if self.store.exists(job.job_id):
            raise DefinitionError(
                [
                    Problem(
                        doc.file,
                        *doc.mark(("jobId",)),
                        "duplicate-job",
                        f"job {job.job_id!r} already exists",
                        ("jobId",),
                    )
                ]
            )
        if is_new:
            return self._start(job, wf, as_now(now), SYSTEM, new=True, document=doc.value)
        self.store.add(job, [], _creation_log(job, wf, None, doc.value))
        return job.to_doc()

    def _start(
        self,
        job: Job,
        wf: Workflow,
        now: datetime,
        actor: Actor,
        *,
        new: bool,
        document: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        ctx = Context(self, job, wf, actor, Request("Create"), now)
        if new:
            kind, to = initial_assignment(wf.steps[wf.initial_step])
            self._activate(ctx, wf.initial_step, kind, to, force_group=True)
        self._cascade(ctx, _Moves(self.max_automatic_moves))
        log = _creation_log(job, wf, now, document, actor)
        if idempotency_key is not None:
            log["idempotencyKey"] = idempotency_key
        self.store.add(job, ctx.events, log)
        return job.to_doc()

    def _next_job_id(self) -> str:
        """``J<n>``: the first free id after the ones this engine has seen (one listing, then lookups)."""
        if self._job_counter is None:
            self._job_counter = len(self.store.job_ids())
        while True:
            self._job_counter += 1
            candidate = f"J{self._job_counter}"
            if not self.store.exists(candidate):
                return candidate

    def job(self, job_id: str) -> dict[str, Any]:
        """The job as a 6.2 document; ``KeyError`` if there is none."""
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job.to_doc()

    # -- operations -------------------------------------------------------------------
    def act(
        self,
        job_id: str,
        body: str | bytes | Mapping[str, Any],
        actor: Actor | str | None,
        now: datetime | str,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """The jobAction operation (SPEC section 4).

        With ``idempotency_key``, a request whose key the job's action log already holds
        returns the first answer instead of acting again.
        """
        try:
            request = parse_payload(body)
        except RequestError as exc:
            return ActionResult(400, exc.body())
        return self._execute(
            job_id, request, as_actor(actor), as_now(now), self._job_action, idempotency_key=idempotency_key
        )

    def respond(
        self,
        job_id: str,
        step_id: str,
        value: Any,
        actor: Actor | str | None,
        now: datetime | str,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Answer a question step in WaitingForInfo (R3)."""
        req = Request("Respond", [step_id], value=as_text(value))
        return self._execute(job_id, req, as_actor(actor), as_now(now), self._operation, idempotency_key)

    def complete(
        self,
        job_id: str,
        step_id: str,
        return_value: Any = "Success",
        *,
        now: datetime | str,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """The host finished a running asynchronous step (R4); acts as ``system``."""
        req = Request("Complete", [step_id], value=as_text(return_value))
        return self._execute(job_id, req, SYSTEM, as_now(now), self._operation, idempotency_key)

    def fail(
        self, job_id: str, step_id: str, message: str = "", *, now: datetime | str, idempotency_key: str | None = None
    ) -> ActionResult:
        """The host's execution of a running asynchronous step failed (R4); acts as ``system``."""
        req = Request("Fail", [step_id], message=message)
        return self._execute(job_id, req, SYSTEM, as_now(now), self._operation, idempotency_key)

    def assign(
        self,
        job_id: str,
        step_id: str,
        assigned_type: str,
        assigned_to: str | None,
        actor: Actor | str | None,
        now: datetime | str,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Reassign a current step (R25)."""
        req = Request("Assign", [step_id], assigned_type=assigned_type, assigned_to=assigned_to)
        if assigned_type not in ("User", "Group", "Unassigned") or (assigned_type != "Unassigned" and not assigned_to):
            return ActionResult(
                400,
                RequestError(
                    "InvalidRequest", "assign needs assignedType User or Group with assignedTo, or Unassigned."
                ).body(),
            )
        return self._execute(job_id, req, as_actor(actor), as_now(now), self._operation, idempotency_key)

    def refresh(self, job_id: str, now: datetime | str) -> ActionResult:
        """Re-evaluate holds and run automatic steps, as any request does first (R6)."""
        return self._execute(
            job_id, Request("Refresh"), SYSTEM, as_now(now), lambda ctx, moves: {"success": True, "stepResponses": []}
        )

    # -- queries ----------------------------------------------------------------------
    def enabled_actions(self, job_id: str, actor: Actor | str | None, now: datetime | str) -> dict[str, dict[str, Any]]:
        """For each current step, which jobAction types the actor may perform now, and which rule refuses the others.

        Each answer comes from a dry run of the request on a copy of the job: nothing changes.
        """
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(job_id)
        out: dict[str, dict[str, Any]] = {}
        for cs in job.current_steps:
            per: dict[str, Any] = {}
            for action in ACTION_TYPES:
                res, checks = self.explain(job_id, {"type": action, "stepIds": [cs.step_id]}, actor, now)
                per[action] = _verdict(res, checks)
            out[cs.step_id] = per
        return out

    def explain(
        self, job_id: str, body: str | bytes | Mapping[str, Any], actor: Actor | str | None, now: datetime | str
    ) -> tuple[ActionResult, dict[str, list[RuleCheck]]]:
        """What the request would answer, and every rule checked for each target, in order; nothing changes."""
        checks: dict[str, list[RuleCheck]] = {}
        try:
            request = parse_payload(body)
        except RequestError as exc:
            return ActionResult(400, exc.body()), checks
        job = self.store.get(job_id)
        if job is None:
            return ActionResult(400, RequestError.job_not_found(job_id).body()), checks
        result = self._dispatch(job, request, as_actor(actor), as_now(now), self._job_action, explain=checks)
        return result, checks

    # -- the dispatcher ---------------------------------------------------------------
    def _execute(
        self,
        job_id: str,
        request: Request,
        actor: Actor,
        now: datetime,
        op: Callable[[Context, _Moves], dict[str, Any]],
        idempotency_key: str | None = None,
    ) -> ActionResult:
        with self.store.transaction(job_id) as tx:
            if tx.job is None:
                return ActionResult(400, RequestError.job_not_found(job_id).body())
            if idempotency_key is not None:
                prior = tx.recall(idempotency_key)
                if prior is not None:
                    return ActionResult(200, prior["response"], [])
            job = tx.job
            now_text = format_datetime(now)
            result = self._dispatch(job, request, actor, now, op, now_text=now_text)
            if result.ok:
                log = {
                    "jobId": job_id,
                    "actor": actor_log(actor),
                    "action": request.action,
                    "body": request.body if request.body is not None else _op_body(request),
                    "now": now_text,
                    "response": result.body,
                }
                if idempotency_key is not None:
                    log["idempotencyKey"] = idempotency_key
                tx.commit(job, result.events, log)
            return result

    def _dispatch(
        self,
        job: Job,
        request: Request,
        actor: Actor,
        now: datetime,
        op: Callable[[Context, _Moves], dict[str, Any]],
        explain: dict[str, list[RuleCheck]] | None = None,
        now_text: str | None = None,
    ) -> ActionResult:
        try:
            wf = self._workflow_for(job)
            ctx = Context(self, job, wf, actor, request, now, now_text=now_text)
            ctx.explain = explain
            moves = _Moves(self.max_automatic_moves)
            if not job.closed:
                self._release_expired(ctx)
                self._cascade(ctx, moves)
            body = op(ctx, moves)
        except RequestError as exc:
            return ActionResult(400, exc.body())
        return ActionResult(200, body, ctx.events)

    def _check(self, ctx: Context, level: str, action: str, key: str = "") -> Rule | None:
        """The first rule that refuses, recording every check when explaining."""
        explain = ctx.explain
        if explain is None:
            return self.rules.first_failure(ctx, level, action)
        log = explain.setdefault(key or "(request)", [])
        for rule in self.rules.for_action(level, action):
            ctx.trace = []
            passed = rule.predicate(ctx)
            log.append(RuleCheck(rule.name, passed, rule.yields, rule.description, tuple(ctx.trace)))
            ctx.trace = None
            if not passed:
                return rule
        return None

    def _request_checks(self, ctx: Context) -> None:
        rule = self._check(ctx, "request", ctx.request.action)
        if rule is not None:
            raise RequestError(
                rule.yields, rule.description or f"Refused by rule {rule.name}.", [f"rule: {rule.name}"], rule.name
            )

    def _step_check(self, ctx: Context, step_id: str) -> tuple[str, str] | None:
        """(status, description) of the first failing step rule; request errors raise."""
        ctx.set_target(step_id)
        rule = self._check(ctx, "step", ctx.request.action, step_id)
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

    def _job_action(self, ctx: Context, moves: _Moves) -> dict[str, Any]:
        self._request_checks(ctx)
        targets = self._targets(ctx)
        if not targets:
            status = "JobClosed" if ctx.job.closed else "NoActiveStep"
            return {"success": False, "stepResponses": [_response("", status, STATUS_TEXT[status])]}
        responses = []
        for step_id in targets:
            refusal = self._step_check(ctx, step_id)
            if refusal is None:
                status, text = self._perform(ctx, step_id, moves)
                if status == "Success":
                    self._cascade(ctx, moves)
            else:
                status, text = refusal
            responses.append(_response(step_id, status, text))
        return {"success": all(r["status"] == "Success" for r in responses), "stepResponses": responses}

    def _targets(self, ctx: Context) -> list[str]:
        req = ctx.request
        if req.step_ids or req.action == "SetCurrentStep":
            return list(req.step_ids)
        current = [cs.step_id for cs in ctx.job.current_steps]
        if req.action == "ReleaseHold":
            held = [s for s in current if ctx.has_active_hold(s)]
            return held or current
        return current

    def _perform(self, ctx: Context, step_id: str, moves: _Moves) -> tuple[str, str]:
        action = ctx.request.action
        ok_text = SUCCESS_TEXT[action]
        if action == "Run":
            status, text = self._run(ctx, ctx.record)  # type: ignore[arg-type]
            return status, text
        if action == "Finish":
            record = ctx.record
            assert record is not None
            if not self._move(ctx, record, "finish"):
                return "NoMatchingPaths", STATUS_TEXT["NoMatchingPaths"]
            return "Success", ok_text
        if action == "Stop":
            assert ctx.record is not None
            self._move(ctx, ctx.record, "stop")
            return "Success", ok_text
        if action == "Hold":
            self._hold(ctx, step_id)
            return "Success", ok_text
        if action == "ReleaseHold":
            for h in ctx.releasable_holds(step_id):
                self._release(ctx, h, ctx.actor.username, ctx.now_text)
            return "Success", ok_text
        if action == "SetCurrentStep":
            self._set_current(ctx, step_id)
            return "Success", ok_text
        if action == "RefreshStatus":
            if not self._refresh_execution(ctx, step_id):
                return "NoMatchingPaths", STATUS_TEXT["NoMatchingPaths"]
            return "Success", ok_text
        raise AssertionError(action)  # pragma: no cover - the schema admits no other type

    def _operation(self, ctx: Context, moves: _Moves) -> dict[str, Any]:
        """respond, complete, fail, assign: one step; every refusal is a request error (R4a, R25)."""
        req = ctx.request
        step_id = req.step_ids[0]
        self._request_checks(ctx)  # a designer's request-level rules for these operations (R14 order)
        refusal = self._step_check(ctx, step_id)
        if refusal is not None:  # a designer's rule may yield a step status here: still a request error
            raise RequestError("InvalidRequest", refusal[1], [f"status: {refusal[0]}", f"stepId: {step_id}"])
        record = ctx.record
        assert record is not None
        if req.action == "Assign":
            record.assigned_type = req.assigned_type or "Unassigned"
            record.assigned_to = req.assigned_to if record.assigned_type != "Unassigned" else None
            self._history(ctx, step_id, "Reassigned")
            self._event(
                ctx, "StepReassigned", step_id, assignedType=record.assigned_type, assignedTo=record.assigned_to
            )
        elif req.action == "Fail":
            self._move(ctx, record, "fail", message=req.message)
        else:
            event = "respond" if req.action == "Respond" else "complete"
            if not self._move(ctx, record, event, value=req.value):
                raise RequestError(
                    "InvalidRequest", STATUS_TEXT["NoMatchingPaths"], ["status: NoMatchingPaths", f"stepId: {step_id}"]
                )
        self._cascade(ctx, moves)
        return {"success": True, "stepResponses": [_response(step_id, "Success", SUCCESS_TEXT[req.action])]}

    # -- lifecycle moves ----------------------------------------------------------------
    def _run(self, ctx: Context, record: CurrentStep) -> tuple[str, str]:
        """Run, then R2: a proceedNext step whose Run leads to a state that finishes finishes at once."""
        step = ctx.workflow.steps[record.step_id]
        lc = self.lifecycles[step.type]
        before = (record.status, len(ctx.job.history), len(ctx.events))
        self._move(ctx, record, "run")
        if step.proceed_next and not lc.type.asynchronous and lc.accepts(record.status, "finish", step):
            if not self._move(ctx, record, "finish"):
                record.status = before[0]
                del ctx.job.history[before[1] :]
                del ctx.events[before[2] :]
                return "NoMatchingPaths", STATUS_TEXT["NoMatchingPaths"]
            return "Success", "The step was run and finished (proceed to next)."
        return "Success", SUCCESS_TEXT["Run"]

    def _move(
        self, ctx: Context, record: CurrentStep, event: str, *, value: str | None = None, message: str | None = None
    ) -> bool:
        """Send ``event`` to the step's machine; a move into a final state finishes the step.

        Returns False, changing nothing, when the step would finish and no path matches (R8).
        """
        step = ctx.workflow.steps[record.step_id]
        lc = self.lifecycles[step.type]
        move = lc.transition_for(record.status, event, step)
        if move is None:
            raise RequestError(
                "InvalidRequest",
                f"The {step.type} lifecycle has no {event} move from {record.status}.",
                [f"stepId: {record.step_id}"],
            )
        if lc.is_final(move.target):
            rv = move.return_value if move.return_value is not None else (value if value is not None else "Success")
            nexts = [p for p in step.paths if p.matches(rv)]
            if step.paths and not nexts:
                return False
            lc.fire(record, event, step)
            self._finished(ctx, record, step, rv, nexts)
            return True
        lc.fire(record, event, step)
        if move.record:
            self._history(ctx, record.step_id, move.record)
        for name in move.emit:
            extra = {"message": message} if name == "StepError" and message else {}
            self._event(ctx, name, record.step_id, **extra)
        return True

    def _finished(
        self, ctx: Context, record: CurrentStep, step: StepDef, return_value: str, nexts: Sequence[Any]
    ) -> None:
        job = ctx.job
        job.current_steps = [c for c in job.current_steps if c is not record]
        job.return_values[step.id] = return_value
        self._history(ctx, step.id, "Finished")
        activated: list[str] = []
        for path in nexts:
            if job.current(path.next_step) is not None:
                continue
            target = ctx.workflow.steps[path.next_step]
            if path.assigned_type is not None:
                kind, to = path.assigned_type, path.assigned_to
            elif target.assigned_type is not None:
                kind, to = target.assigned_type, target.assigned_to
            else:
                kind, to = record.assigned_type, record.assigned_to
            self._activate(ctx, path.next_step, kind, to, force_group=path.force_group_assignment)
            activated.append(path.next_step)
        self._event(
            ctx, "StepFinished", step.id, returnValue=return_value, currentSteps=[c.step_id for c in job.current_steps]
        )
        if not job.current_steps and ctx.workflow.auto_close and not job.closed:
            job.closed = True
            self._history(ctx, None, "Closed")
            self._event(ctx, "JobClosed", None)

    def _activate(self, ctx: Context, step_id: str, kind: str | None, to: str | None, *, force_group: bool) -> None:
        """Make a step current in its chart's initial state with the R9a assignment."""
        kind = kind if kind in ("User", "Group") else "Unassigned"
        if kind == "Unassigned":
            to = None
        if kind == "Group" and not force_group and to in ctx.actor.groups and not ctx.actor.is_system:
            kind, to = "User", ctx.actor.username
        initial = self.step_types[ctx.workflow.steps[step_id].type].initial
        ctx.job.current_steps.append(CurrentStep(step_id, initial, kind, to))
        self._history(ctx, step_id, "Activated")

    def _set_current(self, ctx: Context, step_id: str) -> None:
        for cs in ctx.job.current_steps:
            self._history(ctx, cs.step_id, "Deactivated")
        ctx.job.current_steps = []
        kind, to = initial_assignment(ctx.workflow.steps[step_id])
        self._activate(ctx, step_id, kind, to, force_group=False)

    def _refresh_execution(self, ctx: Context, step_id: str) -> bool:
        """Apply the host's news of an asynchronous step (R21), acting as ``system``.

        Returns False, changing nothing, when a completed execution's return value matches
        no path (R15 step 7: ``NoMatchingPaths``); True otherwise, news or not.
        """
        record = ctx.record
        if self.status_provider is None or record is None:
            return True
        news = self.status_provider(ctx.job.job_id, step_id)
        if news is None:
            return True
        lc = self.lifecycles[ctx.workflow.steps[step_id].type]
        step = ctx.workflow.steps[step_id]
        previous = ctx.actor
        ctx.actor = SYSTEM
        try:
            if news.state == "Completed" and lc.accepts(record.status, "complete", step):
                return self._move(ctx, record, "complete", value=as_text(news.return_value))
            if news.state == "Failed" and lc.accepts(record.status, "fail", step):
                self._move(ctx, record, "fail", message=news.message)
            return True
        finally:
            ctx.actor = previous

    # -- holds --------------------------------------------------------------------------
    def _hold(self, ctx: Context, step_id: str) -> None:
        req = ctx.request
        hold = Hold(
            _next_hold_id(ctx.job),
            step_id,
            ctx.actor.username,
            ctx.now_text,
            format_datetime(req.hold_release) if req.hold_release is not None else None,
            req.dependent_job_id,
            req.dependent_step_id if req.dependent_job_id else None,
        )
        ctx.job.holds.append(hold)
        self._history(ctx, step_id, "Held")
        self._event(ctx, "StepHeld", step_id, holdId=hold.hold_id)

    def _release(self, ctx: Context, hold: Hold, by: str, date: str) -> None:
        hold.released_by, hold.released_date = by, date
        self._history(ctx, hold.step_id, "HoldReleased", date=date, username=by)
        self._event(ctx, "StepHoldReleased", hold.step_id, username=by, holdId=hold.hold_id)

    def _release_expired(self, ctx: Context) -> None:
        """Record the holds that released themselves: a time that has come, a dependency met (R19)."""
        for h in ctx.job.holds:
            if h.released:
                continue
            expired = ctx.expiry(h)
            if expired is not None:
                self._release(ctx, h, "system", format_datetime(expired))
            elif ctx.dependency_met(h):
                self._release(ctx, h, "system", ctx.now_text)

    # -- automatic steps (R6) ---------------------------------------------------------------
    def _cascade(self, ctx: Context, moves: _Moves) -> None:
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
            saved_actor, saved_target = ctx.actor, ctx.step_id
            saved_request = ctx.request
            ctx.actor, ctx.request = SYSTEM, Request("Run", [candidate.step_id], body=saved_request.body)
            try:
                ctx.set_target(candidate.step_id)
                rule = self.rules.first_failure(ctx, "step", "Run")
                status = rule.yields if rule is not None else self._run(ctx, candidate)[0]
            finally:
                ctx.actor, ctx.request = saved_actor, saved_request
                ctx.set_target(saved_target)
            if status == "Success":
                moves.take()
                refused.clear()
            else:
                refused.add((candidate.step_id, candidate.status))

    def _auto_ready(self, ctx: Context, cs: CurrentStep) -> bool:
        step = ctx.workflow.steps[cs.step_id]
        return (
            step.automatic and cs.status == self.step_types[step.type].initial and not ctx.has_active_hold(cs.step_id)
        )

    # -- history and events ---------------------------------------------------------------
    def _history(
        self, ctx: Context, step_id: str | None, action: str, *, date: str | None = None, username: str | None = None
    ) -> None:
        ctx.job.history.append(
            history_record(ctx.job, step_id, action, username or ctx.actor.username, date or ctx.now_text)
        )

    def _event(
        self, ctx: Context, name: str, step_id: str | None, *, username: str | None = None, **extra: Any
    ) -> None:
        ctx.events.append(event_record(ctx.job, name, step_id, username or ctx.actor.username, ctx.now_text, **extra))


def _response(step_id: str, status: str, text: str) -> dict[str, Any]:
    return {"stepId": step_id, "status": status, "statusDescription": text}


def _next_hold_id(job: Job) -> str:
    """``H<n>`` for the n-th hold of the job (R18), skipping ids a loaded job document already uses."""
    taken = {h.hold_id for h in job.holds}
    n = len(job.holds) + 1
    while f"H{n}" in taken:
        n += 1
    return f"H{n}"


def _creation_log(
    job: Job, wf: Workflow, now: datetime | None, document: dict[str, Any] | None, actor: Actor = SYSTEM
) -> dict[str, Any]:
    """The action-log entry that starts a job's log: enough to create the job again on replay."""
    return {
        "jobId": job.job_id,
        "actor": actor_log(actor),
        "action": "Create",
        "body": {"workflow": wf.id, "workflowVersion": wf.version, "document": document},
        "now": format_datetime(now) if now is not None else None,
        "response": None,
    }


def _op_body(req: Request) -> dict[str, Any]:
    body: dict[str, Any] = {"operation": req.action, "stepIds": req.step_ids}
    for key in ("value", "message", "assigned_type", "assigned_to"):
        v = getattr(req, key)
        if v is not None:
            body[key] = v
    return body


def _verdict(result: ActionResult, checks: dict[str, list[RuleCheck]]) -> dict[str, Any]:
    if not result.ok:
        err = result.body["error"]
        failing = next((c for cs in checks.values() for c in cs if not c.passed), None)
        return {
            "allowed": False,
            "status": err["type"],
            "rule": failing.rule if failing else None,
            "message": err["message"],
        }
    resp = result.body["stepResponses"][0]
    if resp["status"] == "Success":
        return {"allowed": True}
    failing = next((c for cs in checks.values() for c in cs if not c.passed), None)
    return {
        "allowed": False,
        "status": resp["status"],
        "rule": failing.rule if failing else None,
        "message": resp["statusDescription"],
    }
