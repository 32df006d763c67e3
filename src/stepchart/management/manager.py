"""Job management beside jobAction, as Workflow Manager offers it: :class:`JobManager`, over an engine.

The manager is composed over an :class:`~stepchart.engine.core.Engine` and uses only
its public API (store, workflows, rules, context, start and act); the public
:class:`stepchart.Engine` (:mod:`stepchart.bootstrap`) owns one and delegates to it.

- find jobs: :meth:`~JobManager.search_jobs` / :meth:`~JobManager.list_jobs`
  (open or closed, by workflow, by assignee, by current step), answered by the
  store's indexes;
- close (``jobClose``), reopen (``jobReopenClosed``), delete (``jobDelete``) a job,
  and move it to another version of its workflow (``upgrade_job``, ``adminAdvanced``):
  functions of :mod:`.operations`, each one request over the engine;
- :meth:`~JobManager.sweep`: release the scheduled holds whose time has come (and
  dependencies that are met) and run the automatic steps they were blocking;
- the events feed and the action log, and replay of a job's log (:mod:`.replay`).

"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..engine.core import ActionResult, Engine
from ..engine.inputs import as_now
from ..errors import DefinitionError
from ..load.workflows import load_workflow
from ..model import Actor, Workflow
from ..stores import JobFilter, ManagedStore, StoreError, job_summary
from .replay import ActorSource, ReplayMismatch, replay_job, verify_store

__all__ = ["JobManager"]


class JobManager:
    """Operations on whole jobs, the events feed, the sweep and replay of one engine (see the module text)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _managed_store(self) -> ManagedStore:
        store = self.engine.store
        if not isinstance(store, ManagedStore):
            raise StoreError(
                f"{type(store).__name__} does not keep a log, an events feed or indexes; "
                "open a store with stepchart.stores.open_store (memory:, a SQLite path, postgresql://)"
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
        removed, say) is reported, not loaded. A read-only store is only read from.
        """
        eng = self.engine
        store = eng.store
        if not isinstance(store, ManagedStore):
            return []
        if not store.read_only:
            for wf in eng.known_versions():
                store.save_workflow(wf.id, wf.version, wf.source)
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
        return [wf.version for wf in self.engine.known_versions() if wf.id == workflow_id]

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
        without indexes (a bare :class:`~stepchart.stores.JobStore`) is scanned.
        """
        names = (assigned_to,) if isinstance(assigned_to, str) else tuple(assigned_to or ())
        flt = JobFilter(closed, workflow, names, actor, step, after, limit)
        store = self.engine.store
        if isinstance(store, ManagedStore):
            return store.search(flt)
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

    # -- close, reopen, delete, upgrade (see :mod:`.operations`) -----------------------------
    # -- holds that released themselves ------------------------------------------------------
    def sweep(self, now: datetime | str, *, limit: int | None = None) -> list[tuple[str, ActionResult]]:
        """Record the holds that released themselves by ``now`` and run what they blocked (R6, R19).

        The store finds the jobs by index (scheduled releases due, dependencies met);
        each is refreshed as one request of its own, logged like any other.
        """
        eng = self.engine
        at = as_now(now)
        return [(jid, eng.refresh(jid, at)) for jid in self.due_jobs(at, limit=limit)]

    def due_jobs(self, now: datetime | str, *, limit: int | None = None) -> list[str]:
        """The jobs a sweep at ``now`` refreshes: a scheduled release due, or a dependency met (by index)."""
        return list(self._managed_store().due_jobs(as_now(now), limit))

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
        return replay_job(self.engine, self.action_log(job_id), job_id, actors=actors)

    def verify_replay(self, job_ids: Iterable[str] | None = None, actors: ActorSource = None) -> list[ReplayMismatch]:
        """Replay each job's log (all jobs in the log by default); the jobs whose replay differs."""
        return verify_store(self.engine, self._managed_store(), job_ids, actors=actors)
