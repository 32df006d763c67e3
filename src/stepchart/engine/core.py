"""The public :class:`Engine`: definitions plus a store, and the operations on jobs.

A request flows: body -> :class:`Request` -> transaction on the job -> the dispatcher
(:mod:`.dispatch`: R6 pre-pass, rules, targets, handlers, automatic steps) -> lifecycle
moves made by the compiled charts (:mod:`.moves`) -> commit with its log entry (R12).
Any request error drops the working copy: a 400 changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from ..errors import DefinitionError, Problem, RequestError
from ..io.yamldoc import Document, as_document
from ..load.jobs import initial_assignment, parse_job
from ..load.workflows import as_text
from ..model import SYSTEM, Actor, Job, JobProperties, Request, StepType, Workflow
from ..rules import ACTION_TYPES, RuleSet
from ..rules.context import Context
from ..stores import JobStore, MemoryStore
from ..trace import Tracer
from ..vocabulary import ASSIGNMENT_TYPES
from .definitions import Definitions
from .dispatch import MAX_AUTOMATIC_MOVES, Dispatcher
from .explaining import ExplainTracer
from .inputs import as_actor, as_now, unstorable_request
from .lifecycle import Lifecycle
from .payload import parse_payload
from .records import creation_log
from .results import ActionResult, Execution, RuleCheck, StatusProvider, verdict

__all__ = ["ActionResult", "Engine", "Execution", "RuleCheck", "StatusProvider"]


class Engine:
    """Charts, rules and workflows loaded once; jobs in a store; requests dispatched.

    ``charts`` and ``rules`` are folders (or files); by default the shipped ones.
    ``definitions`` (instead of ``charts`` and ``rules``) shares already compiled ones;
    ``tracer`` observes every request of this engine (see :mod:`stepchart.trace`).
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
        definitions: Definitions | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.definitions = definitions if definitions is not None else Definitions.load(charts, rules)
        self.store: JobStore = store if store is not None else MemoryStore()
        self._dispatcher = Dispatcher(
            self.definitions,
            status_provider=status_provider,
            max_automatic_moves=max_automatic_moves,
            tracer=tracer,
        )
        self._job_counter: int | None = None
        for w in workflows:
            self.add_workflow(w)

    def spawn(self, store: JobStore | None = None, *, tracer: Tracer | None = None) -> Self:
        """A new engine sharing this one's compiled charts and rules, with no workflows and its own store.

        Charts and rules compile once per process; a scenario run spawns one engine each.
        """
        return type(self)(
            store=store,
            status_provider=self.status_provider,
            max_automatic_moves=self.max_automatic_moves,
            definitions=self.definitions.fresh(),
            tracer=tracer,
        )

    # -- what the engine is made of -------------------------------------------------------
    @property
    def step_types(self) -> dict[str, StepType]:
        return self.definitions.step_types

    @property
    def lifecycles(self) -> dict[str, Lifecycle]:
        return self.definitions.lifecycles

    @property
    def rules(self) -> RuleSet:
        return self.definitions.rules

    @property
    def workflows(self) -> dict[str, Workflow]:
        """The newest loaded version of each workflow, by id."""
        return self.definitions.workflows

    @property
    def status_provider(self) -> StatusProvider | None:
        """The host's news of asynchronous steps (R21); may be swapped (replay does)."""
        return self._dispatcher.status_provider

    @status_provider.setter
    def status_provider(self, provider: StatusProvider | None) -> None:
        self._dispatcher.status_provider = provider

    @property
    def max_automatic_moves(self) -> int:
        return self._dispatcher.max_automatic_moves

    @property
    def tracer(self) -> Tracer | None:
        """The engine-wide tracer: it observes every request, automatic steps included."""
        return self._dispatcher.tracer

    @tracer.setter
    def tracer(self, tracer: Tracer | None) -> None:
        self._dispatcher.tracer = tracer

    # -- definitions ------------------------------------------------------------------
    def add_workflow(self, source: str | Path | Mapping[str, Any] | Document) -> Workflow:
        """Load a workflow (path, YAML text, mapping or parsed document); the newest version wins by id."""
        return self.definitions.add_workflow(source)

    def workflow(self, workflow_id: str, version: str | None = None) -> Workflow | None:
        return self.definitions.workflow(workflow_id, version)

    def known_versions(self) -> list[Workflow]:
        """Every workflow version this engine has loaded, oldest first."""
        return self.definitions.known_versions()

    def register_version(self, wf: Workflow, *, newest: bool = False) -> None:
        """Make a workflow version known (one read back from a store); ``newest`` also makes it the default."""
        self.definitions.register_version(wf, newest=newest)

    def workflow_for(self, job: Job) -> Workflow:
        """The workflow version the job was created with: never silently another one."""
        return self.definitions.workflow_for(job)

    def context(
        self,
        job: Job,
        actor: Actor,
        request: Request,
        now: datetime,
        *,
        tracer: Tracer | None = None,
        now_text: str | None = None,
    ) -> Context:
        """What the rules see of ``request`` on ``job``: built from the step types, the charts and the store.

        ``tracer`` observes this request beside the engine-wide tracer.
        """
        return self._dispatcher.context(
            job, self.workflow_for(job), actor, request, now, self.store.get, tracer=tracer, now_text=now_text
        )

    def check_request(self, ctx: Context) -> None:
        """The request-level rules of ``ctx.request.action`` (R14); the first that refuses raises."""
        self._dispatcher.request_checks(ctx)

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
        """Store a new job: stamped as created (by, when), its initial step current, automatic steps run (R6)."""
        job.properties = job.properties.created(actor.username, now)
        ctx = self._dispatcher.context(job, wf, actor, Request("Create"), now, self.store.get)
        kind, to = initial_assignment(wf.steps[wf.initial_step])
        self._dispatcher.mover.activate(ctx, wf.initial_step, kind, to, force_group=True)
        self._dispatcher.cascade(ctx, self._dispatcher.budget())
        log = creation_log(job, wf, now, document, actor)
        if idempotency_key is not None:
            log["idempotencyKey"] = idempotency_key
        self.store.add(job, ctx.events, log)
        return job.to_doc()

    # -- jobs -------------------------------------------------------------------------
    def create_job(
        self,
        workflow_id: str,
        job_id: str | None = None,
        *,
        now: datetime | str | None = None,
        actor: Actor | str = SYSTEM,
        idempotency_key: str | None = None,
        properties: JobProperties | None = None,
    ) -> dict[str, Any]:
        """A new job (``properties``: name, dates, ...), its initial step current; automatic steps run (R6).
        ``idempotency_key`` is recorded in its creation log entry, so a retried create can find the job it
        made (``store.transaction(job_id)`` then ``recall``)."""
        wf = self.workflow(workflow_id)
        if wf is None:
            raise KeyError(f"no workflow {workflow_id!r}; loaded: {', '.join(sorted(self.workflows)) or 'none'}")
        if unstorable_request(job_id, None) is not None:
            raise ValueError(f"the job id {job_id!r} holds a character no store can keep")
        jid = job_id or self._next_job_id()
        job = Job(jid, wf.id, wf.version, properties=properties or JobProperties())
        return self.start_job(job, wf, as_now(now), as_actor(actor), idempotency_key=idempotency_key)

    def load_job(
        self,
        document: str | Path | Mapping[str, Any] | Document,
        *,
        now: datetime | str | None = None,
        workflow: str | Workflow | None = None,
        upgrade: bool = False,
    ) -> dict[str, Any]:
        """Store a job given as a 6.2 document (path, JSON/YAML text, mapping or parsed document).

        A document without ``currentSteps`` is a new job: its initial step becomes current
        and automatic steps run. Otherwise automatic steps run on the job's next request.
        A ``workflowVersion`` that is not loaded is refused (both hashes named) unless ``upgrade``.
        """
        doc = as_document(document, "<job>", kind="job document")
        wf = self.workflow(workflow) if isinstance(workflow, str) else workflow
        if isinstance(workflow, str) and wf is None:
            raise KeyError(f"no workflow {workflow!r}")
        find = self.workflow
        job, is_new = parse_job(doc, find, self.step_types, workflow=wf, find_version=find, upgrade=upgrade)
        wf = self.workflow_for(job)
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
            return self.start_job(job, wf, as_now(now), SYSTEM, document=doc.value)
        self.store.add(job, [], creation_log(job, wf, None, doc.value))
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
        job = self.store.get(job_id) if unstorable_request(job_id, None) is None else None
        if job is None:
            raise KeyError(job_id)
        return job.to_doc()

    # -- operations -------------------------------------------------------------------
    def act(
        self,
        job_id: str,
        body: str | bytes | Mapping[str, Any],
        actor: Actor | str,
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
        d = self._dispatcher
        return self._dispatcher.execute(
            self.store, job_id, request, as_actor(actor), as_now(now), d.job_action, idempotency_key
        )

    def respond(
        self,
        job_id: str,
        step_id: str,
        value: Any,
        actor: Actor | str,
        now: datetime | str,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Answer a question step in WaitingForInfo (R3)."""
        req = Request("Respond", [step_id], value=as_text(value))
        return self._dispatcher.execute(
            self.store, job_id, req, as_actor(actor), as_now(now), self._dispatcher.operation, idempotency_key
        )

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
        return self._dispatcher.execute(
            self.store, job_id, req, SYSTEM, as_now(now), self._dispatcher.operation, idempotency_key
        )

    def fail(
        self, job_id: str, step_id: str, message: str = "", *, now: datetime | str, idempotency_key: str | None = None
    ) -> ActionResult:
        """The host's execution of a running asynchronous step failed (R4); acts as ``system``."""
        req = Request("Fail", [step_id], message=message)
        return self._dispatcher.execute(
            self.store, job_id, req, SYSTEM, as_now(now), self._dispatcher.operation, idempotency_key
        )

    def assign(
        self,
        job_id: str,
        step_id: str,
        assigned_type: str,
        assigned_to: str | None,
        actor: Actor | str,
        now: datetime | str,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Reassign a current step (R25)."""
        kind = next((k for k in ASSIGNMENT_TYPES if k == assigned_type), None)
        if kind is None or (kind != "Unassigned" and not assigned_to):
            return ActionResult(
                400,
                RequestError(
                    "InvalidRequest", "assign needs assignedType User or Group with assignedTo, or Unassigned."
                ).body(),
            )
        req = Request("Assign", [step_id], assigned_type=kind, assigned_to=assigned_to)
        return self._dispatcher.execute(
            self.store, job_id, req, as_actor(actor), as_now(now), self._dispatcher.operation, idempotency_key
        )

    def refresh(self, job_id: str, now: datetime | str) -> ActionResult:
        """Re-evaluate holds and run automatic steps, as any request does first (R6)."""
        d = self._dispatcher
        return d.execute(self.store, job_id, Request("Refresh"), SYSTEM, as_now(now), d.nothing)

    # -- queries ----------------------------------------------------------------------
    def enabled_actions(self, job_id: str, actor: Actor | str, now: datetime | str) -> dict[str, dict[str, Any]]:
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
                per[action] = verdict(res, checks)
            out[cs.step_id] = per
        return out

    def explain(
        self, job_id: str, body: str | bytes | Mapping[str, Any], actor: Actor | str, now: datetime | str
    ) -> tuple[ActionResult, dict[str, list[RuleCheck]]]:
        """What the request would answer, and every rule checked for each target, in order; nothing changes.

        A dry run on a copy of the job with an :class:`ExplainTracer` for this request.
        """
        tracer = ExplainTracer()
        try:
            request = parse_payload(body)
        except RequestError as exc:
            return ActionResult(400, exc.body()), tracer.checks
        refused = unstorable_request(job_id, None)
        if refused is not None:
            return ActionResult(400, refused.body()), tracer.checks
        job = self.store.get(job_id)
        if job is None:
            return ActionResult(400, RequestError.job_not_found(job_id).body()), tracer.checks
        d = self._dispatcher
        try:
            ctx = self.context(job, as_actor(actor), request, as_now(now), tracer=tracer)
        except RequestError as exc:
            return ActionResult(400, exc.body()), tracer.checks
        return d.run(ctx, d.job_action), tracer.checks
