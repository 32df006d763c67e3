"""The store interface: what the engine needs of a store, and what a durable store adds.

A request works inside :meth:`JobStore.transaction`: it reads a private copy of its
job, changes it, and either commits (job, events and the request's log entry
together) or leaves the store as it was (SPEC R12). Other jobs (dependencies,
R18/R19) are read through :meth:`JobStore.get`.

Hosts that keep jobs across restarts need more: find jobs without loading them all,
read the action log and the events feed, find expired holds by an index, remember
every workflow version a job was created with, delete jobs, and move everything to
another store. :class:`ManagedStore` adds exactly that; the memory store
(:mod:`.memory`) and the SQL stores (:mod:`.sql`: SQLite, PostgreSQL) implement it.

Every managed store records, for each request, the other jobs the request read
(``reads`` in its log entry: closed flag and return values, R19). Replaying a job's
log then needs nothing but that log, whatever other writers did meanwhile
(:mod:`stepchart.management.replay`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..model import Actor, Job
from .query import Node

__all__ = [
    "DEFAULT_KEY_RETENTION",
    "SCHEMA_VERSION",
    "EventWakeups",
    "ImportReport",
    "JobExistsError",
    "JobFilter",
    "JobSearch",
    "JobStore",
    "ManagedStore",
    "SchemaVersionError",
    "SearchPage",
    "StoreError",
    "StoreTransaction",
    "Transaction",
    "WorkflowLookup",
    "read_of",
]

SCHEMA_VERSION = 5  # 4: job properties as columns; 5: job comments (stores/comments.py)
"""The newest database schema this code knows (see the migrations of each SQL store)."""

DEFAULT_KEY_RETENTION = timedelta(hours=24)
"""How long an idempotency key answers for its request, in request time (see :mod:`.idempotency`)."""

WorkflowLookup = Callable[[str, str], Mapping[str, Any] | None]
"""``lookup(workflow_id, version)``: the workflow's source mapping, to store beside jobs."""


class StoreError(Exception):
    """A store cannot be opened or used as asked."""


class SchemaVersionError(StoreError):
    """The database was written by a newer stepchart (its schema version is unknown here)."""


class JobExistsError(KeyError):
    """A job with this id is already stored."""


@dataclass
class Transaction:
    """One request's view of its job: a private copy, committed or dropped as a whole."""

    job: Job | None
    committed: bool = False
    job_to_save: Job | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    log: dict[str, Any] | None = None
    recall: Callable[[str], dict[str, Any] | None] = field(default=lambda _key: None, repr=False)
    """The action-log entry recorded under an idempotency key in this incarnation of the job (after
    its last ``Delete``), if any, with its ``actor``, ``action``, ``body``, ``now`` and ``response``
    (set by the store; :func:`~stepchart.stores.idempotency.recall_request` checks it)."""

    def commit(self, job: Job, events: list[dict[str, Any]], log: dict[str, Any] | None = None) -> None:
        """Mark the job (and what the request caused) to be saved when the transaction ends."""
        self.job_to_save, self.events, self.log, self.committed = job, list(events), log, True


@dataclass
class StoreTransaction(Transaction):
    """A :class:`Transaction` that can also delete its job (jobDelete)."""

    deleted: bool = False
    comments: list[dict[str, Any]] = field(default_factory=list)
    """Comments the request adds to the job (:mod:`.comments`), written when it commits."""

    def delete(self, events: list[dict[str, Any]], log: dict[str, Any] | None = None) -> None:
        """Mark the job to be deleted on exit, with the events and log entry of the deletion."""
        self.deleted, self.job_to_save, self.events, self.log, self.committed = True, None, list(events), log, True


class JobStore(ABC):
    """What the engine needs of a store: one job's transaction, reads of other jobs, creation."""

    key_retention: timedelta = DEFAULT_KEY_RETENTION
    """How long an idempotency key answers (request time); set it on a store to change it."""

    @abstractmethod
    def get(self, job_id: str) -> Job | None:
        """A private copy of the job, or None."""

    def exists(self, job_id: str) -> bool:
        return self.get(job_id) is not None

    @abstractmethod
    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        """Store a new job (with the events and the log entry of its creation).

        Raises :class:`JobExistsError` if the id is taken.
        """

    @abstractmethod
    def job_ids(self) -> list[str]:
        """Every stored job id, in creation order."""

    @abstractmethod
    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        """Lock one job for a request; what the caller commits is saved on exit, else nothing."""

    def close(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release resources (connections); the memory store has none."""

    def event_wakeups(self) -> EventWakeups | None:
        """Something that says when new events were written, or None: readers then only poll."""
        return None


class EventWakeups(Protocol):
    """A hint that the events feed has grown (PostgreSQL's LISTEN); the feed stays the source."""

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; whether new events were written meanwhile."""

    def close(self) -> None:
        """Release the listening connection."""


@dataclass(frozen=True)
class JobFilter:
    """What :meth:`ManagedStore.search` looks for; every field given must hold.

    ``assignees``: names a current step is assigned to (a user or a group name, any
    type). ``actor``: jobs with a current step that is the actor's (R16: their user
    name, or one of their groups). ``after``: the last job id of the previous page;
    jobs come in creation order.
    """

    closed: bool | None = None
    workflow: str | None = None
    assignees: tuple[str, ...] = ()
    actor: Actor | None = None
    step: str | None = None
    after: str | None = None
    limit: int | None = None
    template: str | None = None
    """Jobs created from this job template."""

    def matches(self, job: Job) -> bool:
        """The same test in Python, for stores that scan."""
        if self.closed is not None and job.closed != self.closed:
            return False
        if self.workflow is not None and job.workflow != self.workflow:
            return False
        if self.step is not None and job.current(self.step) is None:
            return False
        if self.template is not None and job.properties.template != self.template:
            return False
        if self.assignees and not any(
            c.assigned_to in self.assignees and c.assigned_type != "Unassigned" for c in job.current_steps
        ):
            return False
        a = self.actor
        return a is None or any(
            (c.assigned_type == "User" and c.assigned_to == a.username)
            or (c.assigned_type == "Group" and c.assigned_to in a.groups)
            for c in job.current_steps
        )


@dataclass(frozen=True)
class JobSearch:
    """What :meth:`ManagedStore.find_jobs` looks for (``POST /jobs/search``, :mod:`.jobsearch`).

    ``where``: a parsed ``q`` with step names already resolved
    (:func:`~.jobsearch.prepare`); ``sort``: (field, descending) pairs over sortable
    fields, then creation order; ``actor``: only jobs with a current step that is theirs
    (the ``--reads own`` policy); ``start``/``num``: the page (``num`` None: all).
    """

    where: Node | None = None
    sort: tuple[tuple[str, bool], ...] = ()
    actor: Actor | None = None
    start: int = 0
    num: int | None = None
    step_names: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    """(workflow id, version) to {step id: step name} of the loaded versions: a page's ``currentStepName``."""


@dataclass
class SearchPage:
    """A page of :meth:`ManagedStore.find_jobs`: the jobs in order and how many match in all."""

    jobs: list[Job]
    total: int


@dataclass
class ImportReport:
    """What :meth:`ManagedStore.import_records` did."""

    workflows: int = 0
    jobs: int = 0
    log_entries: int = 0
    events: int = 0
    comments: int = 0
    skipped_jobs: list[str] = field(default_factory=list)


class ManagedStore(JobStore):
    """A store that keeps jobs, the action log, the events feed and workflow versions.

    Log entries read back as ``{"sequence", "jobId", "actor", "action", "body", "now",
    "response", "reads", "events"}`` (and ``"idempotencyKey"`` when the request had
    one); events as the R24 event plus ``"sequence"`` and ``"logSequence"`` (its log
    entry). Sequence numbers are unique and never reused; along one job they follow
    its requests' commit order.
    """

    read_only: bool = False
    """Opened for reading only (``open_store(url, read_only=True)``): every write raises :class:`StoreError`."""

    def __init__(self) -> None:
        self._workflow_lookup: WorkflowLookup | None = None
        self._known_versions: set[tuple[str, str]] = set()
        self._local = threading.local()

    def _refuse_write(self, where: str = "") -> None:
        """Raise :class:`StoreError` if the store was opened read-only; called before every write."""
        if self.read_only:
            raise StoreError(f"{where}the store is open read-only; nothing was written")

    # -- workflow versions ----------------------------------------------------------------
    def bind_workflows(self, lookup: WorkflowLookup) -> None:
        """Save the source of each job's workflow version the first time a job of it is written.

        The engine calls no store hook when a workflow is loaded; binding its lookup
        makes every version that reaches the store (with a job) survive restarts.
        """
        self._known_versions = {(w, v) for w, v, _ in self.stored_workflows()}
        self._workflow_lookup = lookup

    def _workflow_to_save(self, job: Job) -> tuple[str, str, Mapping[str, Any]] | None:
        key = (job.workflow, job.workflow_version)
        if not job.workflow_version or key in self._known_versions or self._workflow_lookup is None:
            return None
        source = self._workflow_lookup(*key)
        return None if source is None else (job.workflow, job.workflow_version, source)

    @abstractmethod
    def save_workflow(self, workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
        """Remember one workflow version's source (a no-op if it is already stored)."""

    @abstractmethod
    def stored_workflows(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every stored (workflow id, version, source), oldest first."""

    # -- reads of other jobs (recorded for replay) ----------------------------------------
    def _begin_reads(self, job_id: str) -> None:
        if getattr(self._local, "tx_job", None) is not None:
            raise StoreError("a transaction is already open in this thread; requests do not nest")
        self._local.tx_job = job_id
        self._local.reads = {}

    def _end_reads(self) -> dict[str, Any]:
        reads: dict[str, Any] = getattr(self._local, "reads", None) or {}
        self._local.tx_job = None
        self._local.reads = None
        return reads

    def _record_read(self, job_id: str, job: Job | None) -> None:
        tx_job = getattr(self._local, "tx_job", None)
        if tx_job is not None and job_id != tx_job:
            self._local.reads.setdefault(job_id, read_of(job))

    @property
    def in_transaction(self) -> bool:
        """Whether this thread is inside :meth:`transaction`."""
        return getattr(self._local, "tx_job", None) is not None

    # -- queries --------------------------------------------------------------------------
    @abstractmethod
    def search(self, flt: JobFilter) -> list[dict[str, Any]]:
        """Summaries (:func:`job_summary`) of the jobs that match, in creation order."""

    @abstractmethod
    def find_jobs(self, search: JobSearch) -> SearchPage:
        """The page of jobs that ``search`` finds, sorted, and their total (``POST /jobs/search``)."""

    @abstractmethod
    def count_jobs_by(self, search: JobSearch, field: str) -> tuple[int, list[tuple[Any, int]]]:
        """How many jobs ``search`` finds, and how many per value of ``field`` (``POST /jobs/statistics``).

        A field of the current steps counts a job once under each distinct value of its steps.
        """

    @abstractmethod
    def comments(self, job_id: str) -> list[dict[str, Any]]:
        """The job's comments (``{commentId, comment, createdBy, createdDate}``), oldest first."""

    @abstractmethod
    def log_entries(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Action-log entries (with their events) after sequence ``after``, in commit order."""

    def job_and_log(self, job_id: str) -> tuple[Job | None, list[dict[str, Any]]]:
        """The job and its log entries as of one moment (what replay's ``verify_store`` compares)."""
        return self.get(job_id), self.log_entries(job_id)

    @abstractmethod
    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The events feed: events after the one numbered ``after``, in an order that never changes.

        A poller passes the ``sequence`` of the last event it received. An event
        appears only once every earlier one is visible, so nothing is skipped.
        """

    @abstractmethod
    def due_jobs(self, now: datetime, limit: int | None = None) -> list[str]:
        """Open jobs with a hold that has released itself but is not yet recorded (R19).

        A scheduled release at or before ``now`` (found by an index), or a dependency
        on a job that is closed or has finished the awaited step.
        """

    @property
    @abstractmethod
    def schema_version(self) -> int:
        """The schema version of the open database."""

    # -- moving jobs ------------------------------------------------------------------------
    @abstractmethod
    def export_records(self, job_ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        """Everything needed to rebuild the store (or some jobs): JSON-ready records.

        A header, then workflows, jobs (creation order) and log entries with their
        events (sequence order).
        """

    @abstractmethod
    def import_records(self, records: Iterable[Mapping[str, Any]], *, skip_existing: bool = False) -> ImportReport:
        """Add what :meth:`export_records` wrote, in one transaction.

        Log and event sequence numbers are given anew, in the exported order. A job
        id that exists already is an error, or with ``skip_existing`` is left alone
        (with its log).
        """


def read_of(job: Job | None) -> dict[str, Any] | None:
    """What a request may learn of another job (R18, R19): that it exists, closed, return values."""
    if job is None:
        return None
    return {"closed": job.closed, "returnValues": dict(job.return_values)}
