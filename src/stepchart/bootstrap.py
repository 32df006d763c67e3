"""The composition root: the public :class:`Engine` (the engine with its job management), and
:func:`open_engine`, an engine on a store opened by URL with its workflow versions in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .engine import core
from .engine.core import ActionResult
from .management import operations
from .management.manager import JobManager
from .management.replay import ActorSource, ReplayMismatch
from .model import Actor
from .stores import ManagedStore, open_store

__all__ = ["Engine", "open_engine"]


class Engine(core.Engine):
    """The engine (:class:`stepchart.engine.core.Engine`: definitions, a store, requests) with
    the job management of Workflow Manager beside jobAction.

    Management is composed, not inherited: each method here hands over to the engine's
    :class:`~stepchart.management.manager.JobManager` (:attr:`manager`), which sees
    the engine through its public API only.
    """

    @property
    def manager(self) -> JobManager:
        """This engine's job manager (made on first use, also for engines made by ``spawn`` or a copy)."""
        found: JobManager | None = self.__dict__.get("_manager")
        if found is None or found.engine is not self:
            found = self.__dict__["_manager"] = JobManager(self)
        return found

    # -- workflow versions ----------------------------------------------------------------
    def sync_workflows(self) -> list[str]:
        """Keep the engine's workflow versions and the store's in step; returns problems."""
        return self.manager.sync_workflows()

    def workflow_versions(self, workflow_id: str) -> list[str]:
        """Every loaded version of a workflow, oldest first; the newest is the one new jobs get."""
        return self.manager.workflow_versions(workflow_id)

    # -- finding jobs -----------------------------------------------------------------------
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
        """Summaries of the jobs that match every filter given, in creation order."""
        return self.manager.search_jobs(
            closed=closed, workflow=workflow, assigned_to=assigned_to, actor=actor, step=step, after=after, limit=limit
        )

    def list_jobs(self, closed: bool | None = None, workflow: str | None = None) -> list[dict[str, Any]]:
        """Summaries of all jobs, or only the open (``closed=False``) or closed ones, of a workflow."""
        return self.manager.list_jobs(closed, workflow)

    # -- close, reopen, delete, upgrade -----------------------------------------------------
    def close_job(
        self, job_id: str, actor: Actor | str, now: datetime | str, *, idempotency_key: str | None = None
    ) -> ActionResult:
        """Close a job (``jobClose``); refused while a step runs or when it is closed already."""
        return operations.close_job(self, job_id, actor, now, idempotency_key=idempotency_key)

    def reopen_job(
        self, job_id: str, actor: Actor | str, now: datetime | str, *, idempotency_key: str | None = None
    ) -> ActionResult:
        """Reopen a closed job (``jobReopenClosed``), as it was when it closed."""
        return operations.reopen_job(self, job_id, actor, now, idempotency_key=idempotency_key)

    def delete_job(
        self, job_id: str, actor: Actor | str, now: datetime | str, *, idempotency_key: str | None = None
    ) -> ActionResult:
        """Delete a job (``jobDelete``); refused while a step runs. Its log and events stay."""
        return operations.delete_job(self, job_id, actor, now, idempotency_key=idempotency_key)

    def upgrade_job(
        self,
        job_id: str,
        actor: Actor | str,
        now: datetime | str,
        version: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Move a job to another version of its workflow: the newest loaded one, or ``version``."""
        return operations.upgrade_job(self, job_id, actor, now, version, idempotency_key=idempotency_key)

    def update_job(
        self,
        job_id: str,
        changes: Mapping[str, Any],
        actor: Actor | str,
        now: datetime | str,
        *,
        idempotency_key: str | None = None,
    ) -> ActionResult:
        """Change a job's properties (``jobUpdateProperties``): name, dates, notes, ... (history ``Updated``)."""
        return operations.update_job(self, job_id, actor, now, changes, idempotency_key=idempotency_key)

    # -- holds, the events feed, the log, replay --------------------------------------------
    def sweep(self, now: datetime | str, *, limit: int | None = None) -> list[tuple[str, ActionResult]]:
        """Record the holds that released themselves by ``now`` and run what they blocked (R6, R19)."""
        return self.manager.sweep(now, limit=limit)

    def due_jobs(self, now: datetime | str, *, limit: int | None = None) -> list[str]:
        """The jobs a sweep at ``now`` refreshes (the HTTP service's timed sweep refreshes them one by one)."""
        return self.manager.due_jobs(now, limit=limit)

    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The R24 events of all jobs (or one) after the event numbered ``after``, in feed order."""
        return self.manager.events_after(after, job_id, limit)

    def action_log(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Log entries of every request that answered 200, of all jobs or one, after ``after``."""
        return self.manager.action_log(job_id, after, limit)

    def replay_job(self, job_id: str, actors: ActorSource = None) -> dict[str, Any] | None:
        """The job rebuilt from its action log alone by a fresh engine (None if it was deleted)."""
        return self.manager.replay_job(job_id, actors)

    def verify_replay(self, job_ids: Iterable[str] | None = None, actors: ActorSource = None) -> list[ReplayMismatch]:
        """Replay each job's log (all jobs in the log by default); the jobs whose replay differs."""
        return self.manager.verify_replay(job_ids, actors)


def open_engine(store: str | Path | ManagedStore | None = None, **engine_options: Any) -> Engine:
    """An :class:`Engine` on a durable store, its workflow versions in step.

    Opens the store (see :func:`~stepchart.stores.open_store`), builds the engine with
    ``engine_options`` (charts, rules, workflows, ...), then :meth:`Engine.sync_workflows`:
    versions the engine loaded are saved, and versions only the store knows (jobs
    created from an older YAML) are loaded back.
    """
    st = store if isinstance(store, ManagedStore) else open_store(store)
    engine = Engine(store=st, **engine_options)
    engine.sync_workflows()
    return engine
