"""Job management beside jobAction, as Workflow Manager offers it: a mixin of :class:`Engine`.

- find jobs: :meth:`~JobManagement.search_jobs` / :meth:`~JobManagement.list_jobs`
  (open or closed, by workflow, by assignee, by current step), answered by the
  store's indexes;
- close (``jobClose``), reopen (``jobReopenClosed``), delete (``jobDelete``) a job,
  and move it to another version of its workflow (:meth:`~JobManagement.upgrade_job`,
  ``adminAdvanced``);
- :meth:`~JobManagement.sweep`: release the scheduled holds whose time has come (and
  dependencies that are met) and run the automatic steps they were blocking;
- the events feed and the action log, and replay of a job's log (:mod:`.replay`).

Each operation is a request like ``jobAction``: one store transaction, a 400 body
(R14) that changes nothing, or a 200 committed together with its history record,
its events and its action-log entry. Checks come in the R14 order: job exists,
privilege (the engine itself, user ``system``, holds every privilege), then state.

Decisions (D): closing or deleting a job while one of its steps runs (R1) is refused
(``InvalidRequest``, detail ``status: AlreadyExecuting``), so is closing a closed job
and reopening an open one. Reopening keeps the job as it was when it closed (its
current steps, if it still had some). Close writes a ``Closed`` history record and a
``JobClosed`` event (as an automatic close does, R9); reopen writes ``Reopened`` and
``JobReopened``; delete removes the job but keeps its log and events, adding
``JobDeleted``. An upgrade writes a ``JobUpgraded`` event and no history record (R23
has no action for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ..engine.inputs import as_actor, as_now
from ..engine.records import event_record, history_record
from ..errors import DefinitionError, RequestError
from ..model import Actor, Job, Request, Workflow
from ..model.times import format_datetime
from ..stores import JobFilter, ManagedStore, StoreError, StoreTransaction

if TYPE_CHECKING:
    from ..engine.core import ActionResult, Engine
    from .replay import ActorSource, ReplayMismatch

__all__ = ["JobManagement"]

Change = Callable[[Job, Actor, datetime], dict[str, Any]]


def _event(job: Job, name: str, actor: Actor, now: datetime, **extra: Any) -> dict[str, Any]:
    """An R24-shaped event of the whole job (no step)."""
    return event_record(job, name, None, actor.username, format_datetime(now), **extra)


def _history(job: Job, action: str, actor: Actor, now: datetime) -> None:
    job.history.append(history_record(job, None, action, actor.username, format_datetime(now)))


class JobManagement:
    """Operations on whole jobs, the events feed, the sweep and replay (see the module text)."""

    def _engine(self) -> Engine:
        """This object as the engine it is mixed into."""
        return cast("Engine", self)

    def _managed_store(self) -> ManagedStore:
        store = self._engine().store
        if not isinstance(store, ManagedStore):
            raise StoreError(
                f"{type(store).__name__} does not keep a log, an events feed or indexes; "
                "open a store with stepchart.storage.open_store (memory:, a SQLite path, postgresql://)"
            )
        return store

    # -- workflow versions ------------------------------------------------------------------
    def sync_workflows(self) -> list[str]:
        """Keep the engine's workflow versions and the store's in step; returns problems.

        Every version the engine has loaded is saved in the store. Every stored version
        the engine lacks (jobs created from an earlier YAML) is loaded beside the others,
        so those jobs keep running on the workflow they were created with; a workflow
        known only from the store gets its most recently stored version as its newest.
        Afterwards the store saves the version of any job written with a workflow the
        engine loads later. A stored version that no longer loads (a step type was
        removed, say) is reported, not loaded.
        """
        eng = self._engine()
        store = eng.store
        if not isinstance(store, ManagedStore):
            return []
        for wf in eng.known_versions():
            store.save_workflow(wf.id, wf.version, wf.source)
        from ..load.workflows import load_workflow

        problems: list[str] = []
        newest_stored: dict[str, Workflow] = {}
        for wid, version, source in store.stored_workflows():
            if eng.workflow(wid, version) is not None:
                continue
            try:
                wf = load_workflow(source, eng.step_types, file=f"<stored workflow {wid} version {version}>")
            except DefinitionError as exc:
                problems.append(f"stored workflow {wid} version {version} does not load: {exc.first}")
                continue
            if wf.version != version:
                problems.append(f"stored workflow {wid} version {version} hashes to {wf.version}; not loaded")
                continue
            eng.register_version(wf)
            newest_stored[wid] = wf
        for wf in newest_stored.values():
            if eng.workflow(wf.id) is None:
                eng.register_version(wf, newest=True)

        def lookup(workflow_id: str, version: str) -> Mapping[str, Any] | None:
            found = eng.workflow(workflow_id, version)
            return found.source if found is not None else None

        store.bind_workflows(lookup)
        return problems

    def workflow_versions(self, workflow_id: str) -> list[str]:
        """Every loaded version of a workflow, oldest first; the newest is the one new jobs get."""
        eng = self._engine()
        return [wf.version for wf in eng.known_versions() if wf.id == workflow_id]

    # -- finding jobs -------------------------------------------------------------------------
    def search_jobs(
        self,
        *,
        closed: bool | None = None,
        workflow: str | None = None,
        assigned_to: str | Iterable[str] | None = None,
        actor: Actor | None = None,
        step: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Summaries of the jobs that match every filter given, in creation order.

        ``assigned_to``: a user or group name (or several) a current step is assigned
        to. ``actor``: jobs with a current step that is the actor's (R16). ``after`` and
        ``limit`` page through the result (``after`` is the last job id seen). A store
        without indexes (the plain :class:`~stepchart.store.MemoryStore`) is scanned.
        """
        names = (assigned_to,) if isinstance(assigned_to, str) else tuple(assigned_to or ())
        flt = JobFilter(closed, workflow, names, actor, step, after, limit)
        store = self._engine().store
        if isinstance(store, ManagedStore):
            return store.search(flt)
        from ..stores import job_summary

        out: list[dict[str, Any]] = []
        ids = store.job_ids()
        if after is not None and after in ids:
            ids = ids[ids.index(after) + 1 :]
        for jid in ids:
            job = store.get(jid)
            if job is not None and flt.matches(job):
                out.append(job_summary(job.to_doc()))
                if limit is not None and len(out) >= limit:
                    break
        return out

    def list_jobs(self, closed: bool | None = None, workflow: str | None = None) -> list[dict[str, Any]]:
        """Summaries of all jobs, or only the open (``closed=False``) or closed ones, of a workflow."""
        return self.search_jobs(closed=closed, workflow=workflow)

    # -- close, reopen, delete, upgrade -------------------------------------------------------
    def close_job(
        self, job_id: str, actor: Actor | str | None, now: datetime | str, *, idempotency_key: str | None = None
    ) -> ActionResult:
        """Close a job (``jobClose``); refused while a step runs or when it is closed already."""

        def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
            job.closed = True
            _history(job, "Closed", who, at)
            return {"success": True, "jobId": job.job_id, "closed": True}

        return self._manage("Close", job_id, actor, now, {"operation": "Close"}, change, "JobClosed", idempotency_key)

    def reopen_job(
        self, job_id: str, actor: Actor | str | None, now: datetime | str, *, idempotency_key: str | None = None
    ) -> ActionResult:
        """Reopen a closed job (``jobReopenClosed``), as it was when it closed."""

        def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
            job.closed = False
            _history(job, "Reopened", who, at)
            return {"success": True, "jobId": job.job_id, "closed": False}

        return self._manage(
            "Reopen", job_id, actor, now, {"operation": "Reopen"}, change, "JobReopened", idempotency_key
        )

    def delete_job(
        self, job_id: str, actor: Actor | str | None, now: datetime | str, *, idempotency_key: str | None = None
    ) -> ActionResult:
        """Delete a job (``jobDelete``); refused while a step runs. Its log and events stay."""

        def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
            return {"success": True, "jobId": job.job_id, "deleted": True}

        return self._manage(
            "Delete", job_id, actor, now, {"operation": "Delete"}, change, "JobDeleted", idempotency_key
        )

    def upgrade_job(
        self,
        job_id: str,
        actor: Actor | str | None,
        now: datetime | str,
        version: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Move a job to another version of its workflow: the newest loaded one, or ``version``.

        Refused (``InvalidRequest``) when a step runs, when the job is on that version
        already, when the version is not loaded, or when a current step is missing from
        it (or its status is not a state of the new step's lifecycle). Holds, return
        values and history stay as they are.
        """
        eng = self._engine()

        def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
            target = eng.workflow(job.workflow, version) if version else eng.workflow(job.workflow)
            if target is None:
                raise RequestError(
                    "InvalidRequest",
                    f"Workflow {job.workflow!r} version {version!r} is not loaded.",
                    [f"version: {version}"],
                )
            if target.version == job.workflow_version:
                raise RequestError(
                    "InvalidRequest", f"The job is on version {target.version} already.", [f"version: {target.version}"]
                )
            missing = []
            for cs in job.current_steps:
                step = target.steps.get(cs.step_id)
                st = eng.step_types.get(step.type) if step is not None else None
                if st is None or cs.status not in st.states or st.states[cs.status].final:
                    missing.append(cs.step_id)
            if missing:
                raise RequestError(
                    "InvalidRequest",
                    f"Version {target.version} of {job.workflow!r} cannot take the "
                    "job's current steps: " + ", ".join(missing) + ".",
                    [f"stepId: {s}" for s in missing],
                )
            previous = job.workflow_version
            job.workflow_version = target.version
            return {
                "success": True,
                "jobId": job.job_id,
                "workflowVersion": target.version,
                "previousVersion": previous,
            }

        body: dict[str, Any] = {"operation": "Upgrade"}
        if version:
            body["version"] = version
        return self._manage("Upgrade", job_id, actor, now, body, change, "JobUpgraded", idempotency_key)

    def _manage(
        self,
        action: str,
        job_id: str,
        actor: Actor | str | None,
        now: datetime | str,
        body: dict[str, Any],
        change: Change,
        event: str,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Run one management operation as a request: one transaction, logged on success.

        With ``idempotency_key``, an operation whose key the job's log already holds
        answers as it did the first time and changes nothing.
        """
        from ..engine.core import ActionResult

        eng = self._engine()
        who, at = as_actor(actor), as_now(now)
        with eng.store.transaction(job_id) as tx:
            job = tx.job
            if job is None:
                return ActionResult(
                    400, RequestError("JobNotFound", f"The job {job_id!r} does not exist.", [f"jobId: {job_id}"]).body()
                )
            if idempotency_key is not None:
                prior = tx.recall(idempotency_key)
                if prior is not None:
                    return ActionResult(200, prior["response"], [])
            try:
                eng.check_request(eng.context(job, who, Request(action), at))
                response = change(job, who, at)
            except RequestError as exc:
                return ActionResult(400, exc.body())
            extra = (
                {"fromVersion": response["previousVersion"], "toVersion": response["workflowVersion"]}
                if action == "Upgrade"
                else {}
            )
            events = [_event(job, event, who, at, **extra)]
            log: dict[str, Any] = {
                "jobId": job_id,
                "actor": {"username": who.username, "groups": sorted(who.groups), "privileges": sorted(who.privileges)},
                "action": action,
                "body": body,
                "now": format_datetime(at),
                "response": response,
            }
            if idempotency_key is not None:
                log["idempotencyKey"] = idempotency_key
            if action == "Delete":
                if not isinstance(tx, StoreTransaction):
                    raise StoreError(
                        f"{type(eng.store).__name__} cannot delete jobs; open a store with stepchart.storage.open_store"
                    )
                tx.delete(events, log)
            else:
                tx.commit(job, events, log)
            return ActionResult(200, response, events)

    # -- holds that released themselves ------------------------------------------------------
    def sweep(self, now: datetime | str, *, limit: int | None = None) -> list[tuple[str, ActionResult]]:
        """Record the holds that released themselves by ``now`` and run what they blocked (R6, R19).

        The store finds the jobs by index (scheduled releases due, dependencies met);
        each is refreshed as one request of its own, logged like any other.
        """
        eng = self._engine()
        at = as_now(now)
        return [(jid, eng.refresh(jid, at)) for jid in self._managed_store().due_jobs(at, limit)]

    # -- the events feed and the log -----------------------------------------------------------
    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The R24 events of all jobs (or one) after the event numbered ``after``, in feed order.

        Each event carries its ``sequence``; poll again with the last one received.
        """
        return self._managed_store().events_after(after, job_id, limit)

    def action_log(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Log entries of every request that answered 200, of all jobs or one, after ``after``."""
        return self._managed_store().log_entries(job_id, after, limit)

    # -- replay ---------------------------------------------------------------------------------
    def replay_job(self, job_id: str, actors: ActorSource = None) -> dict[str, Any] | None:
        """The job rebuilt from its action log alone by a fresh engine (None if it was deleted).

        ``actors`` gives the groups and privileges of the users in the log (a mapping or
        a function of the user name); the log itself keeps only the name.
        """
        from .replay import replay_job

        return replay_job(self._engine(), self.action_log(job_id), job_id, actors=actors)

    def verify_replay(self, job_ids: Iterable[str] | None = None, actors: ActorSource = None) -> list[ReplayMismatch]:
        """Replay each job's log (all jobs in the log by default); the jobs whose replay differs."""
        from .replay import verify_store

        return verify_store(self._engine(), self._managed_store(), job_ids, actors=actors)
