"""Durable stores: the interface beyond :class:`~stepchart.store.JobStore`, and :func:`open_store`.

:class:`JobStore` is what the engine needs for one request: a transaction on a job and
reads of other jobs. Hosts that keep jobs across restarts need more: find jobs without
loading them all, read the action log and the events feed, find expired holds by an
index, remember every workflow version a job was created with, delete jobs, and move
everything to another store. :class:`ManagedStore` adds exactly that; the SQLite
(:mod:`.store_sqlite`), PostgreSQL (:mod:`.store_postgres`) and in-memory
(:class:`ManagedMemoryStore`) stores implement it.

Jobs are kept as their 6.2 JSON documents (:meth:`Job.to_doc`) plus a few columns
derived from them by :func:`index_job` (closed, workflow, current steps and their
assignees, the next scheduled release, the jobs waited on). The document is the
truth; the columns only serve queries and are rewritten with it in one transaction.

Every store records, for each request, the other jobs the request read (``reads`` in
its log entry: closed flag and return values, R19). Replaying a job's log then needs
nothing but that log, whatever other writers did meanwhile (:mod:`.replay`).
"""

from __future__ import annotations

import copy
import json
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..model import Actor, CurrentStep, Hold, Job
from ..model.times import parse_datetime
from .base import JobExistsError, JobStore, MemoryStore, Transaction

__all__ = [
    "EXPORT_FORMAT",
    "SCHEMA_VERSION",
    "ImportReport",
    "JobFilter",
    "JobIndex",
    "ManagedMemoryStore",
    "ManagedStore",
    "SchemaVersionError",
    "StoreError",
    "StoreTransaction",
    "WorkflowLookup",
    "dumps",
    "index_job",
    "job_from_doc",
    "job_summary",
    "to_micros",
]

SCHEMA_VERSION = 2
"""The newest database schema this code knows (see the migrations of each SQL store)."""

EXPORT_FORMAT = 1
"""Version of the ``stepchart export`` JSON-lines format."""


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

WorkflowLookup = Callable[[str, str], Mapping[str, Any] | None]
"""``lookup(workflow_id, version)``: the workflow's source mapping, to store beside jobs."""


class StoreError(Exception):
    """A store cannot be opened or used as asked."""


class SchemaVersionError(StoreError):
    """The database was written by a newer stepchart (its schema version is unknown here)."""


# -- documents and derived columns -----------------------------------------------------------

_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Made once: ``json.dumps`` with options builds an encoder per call (a request dumps six values)."""


def dumps(value: Any) -> str:
    """Compact JSON as every store writes it (UTF-8 kept, no spaces)."""
    return _ENCODE(value)


def to_micros(value: str | datetime) -> int:
    """An RFC 3339 date-time (text or aware datetime) as whole microseconds since 1970 UTC.

    Integers sort as the times do, in SQL too; the texts do not (``...00.5Z`` sorts
    before ``...00Z``).
    """
    delta = (parse_datetime(value) if isinstance(value, str) else value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def job_from_doc(doc: Mapping[str, Any]) -> Job:
    """The exact inverse of :meth:`Job.to_doc` for documents this code wrote.

    Stored documents were checked when they entered (:func:`~stepchart.jobs.parse_job`
    for imports, the engine for everything else), so reading them back is a plain
    rebuild: no schema check, no workflow needed.
    """
    job = Job(doc["jobId"], doc["workflow"], doc.get("workflowVersion", ""), bool(doc.get("closed", False)))
    job.current_steps = [
        CurrentStep(c["stepId"], c["status"], c.get("assignedType", "Unassigned"), c.get("assignedTo"))
        for c in doc.get("currentSteps", [])
    ]
    job.holds = [
        Hold(
            h["holdId"],
            h["stepId"],
            h.get("setBy"),
            h.get("setDate"),
            h.get("scheduledRelease"),
            h.get("dependentJobId"),
            h.get("dependentStepId"),
            h.get("releasedBy"),
            h.get("releasedDate"),
        )
        for h in doc.get("holds", [])
    ]
    job.return_values = dict(doc.get("returnValues", {}))
    job.history = [dict(h) for h in doc.get("history", [])]
    return job


@dataclass(frozen=True)
class JobIndex:
    """The queryable columns of a job, derived from its document only.

    ``next_release``: the earliest scheduled release (microseconds, :func:`to_micros`)
    among holds not yet recorded as released, for an open job; the sweep finds due
    jobs by an index on it. ``waits``: (dependent job, dependent step) of every
    unreleased dependency hold of an open job. ``steps``: (step, assigned type,
    assignee) of each current step; the status is left out, so the common moves
    (Run, Stop, Finish within a step) rewrite only the document.
    """

    closed: bool
    workflow: str
    workflow_version: str
    next_release: int | None
    steps: tuple[tuple[str, str, str | None], ...]
    waits: tuple[tuple[str, str | None], ...]


def index_job(job: Job) -> JobIndex:
    """Compute the derived columns of ``job`` (see :class:`JobIndex`)."""
    releases: list[int] = []
    waits: list[tuple[str, str | None]] = []
    if not job.closed:
        for h in job.holds:
            if h.released:
                continue
            if h.scheduled_release is not None:
                releases.append(to_micros(h.scheduled_release))
            if h.dependent_job_id is not None and (h.dependent_job_id, h.dependent_step_id) not in waits:
                waits.append((h.dependent_job_id, h.dependent_step_id))
    steps = tuple((c.step_id, c.assigned_type, c.assigned_to) for c in job.current_steps)
    return JobIndex(
        job.closed, job.workflow, job.workflow_version, min(releases) if releases else None, steps, tuple(waits)
    )


def job_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a job list shows of a job: id, workflow and version, closed, current steps."""
    return {
        "jobId": doc["jobId"],
        "workflow": doc["workflow"],
        "workflowVersion": doc.get("workflowVersion", ""),
        "closed": bool(doc.get("closed", False)),
        "currentSteps": [
            {k: c[k] for k in ("stepId", "status", "assignedType", "assignedTo") if k in c}
            for c in doc.get("currentSteps", [])
        ],
    }


def read_of(job: Job | None) -> dict[str, Any] | None:
    """What a request may learn of another job (R18, R19): that it exists, closed, return values."""
    if job is None:
        return None
    return {"closed": job.closed, "returnValues": dict(job.return_values)}


# -- the interface ------------------------------------------------------------------------


@dataclass
class StoreTransaction(Transaction):
    """A :class:`Transaction` that can also delete its job (jobDelete)."""

    deleted: bool = False

    def delete(self, events: list[dict[str, Any]], log: dict[str, Any] | None = None) -> None:
        """Mark the job to be deleted on exit, with the events and log entry of the deletion."""
        self.deleted, self.job_to_save, self.events, self.log, self.committed = True, None, list(events), log, True


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

    def matches(self, job: Job) -> bool:
        """The same test in Python, for stores that scan."""
        if self.closed is not None and job.closed != self.closed:
            return False
        if self.workflow is not None and job.workflow != self.workflow:
            return False
        if self.step is not None and job.current(self.step) is None:
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


@dataclass
class ImportReport:
    """What :meth:`ManagedStore.import_records` did."""

    workflows: int = 0
    jobs: int = 0
    log_entries: int = 0
    events: int = 0
    skipped_jobs: list[str] = field(default_factory=list)


class ManagedStore(JobStore):
    """A store that keeps jobs, the action log, the events feed and workflow versions.

    Log entries read back as ``{"sequence", "jobId", "actor", "action", "body", "now",
    "response", "reads", "events"}`` (and ``"idempotencyKey"`` when the request had
    one); events as the R24 event plus ``"sequence"`` and ``"logSequence"`` (its log
    entry). Sequence numbers are unique and never reused; along one job they follow
    its requests' commit order.
    """

    def __init__(self) -> None:
        self._workflow_lookup: WorkflowLookup | None = None
        self._known_versions: set[tuple[str, str]] = set()
        self._local = threading.local()

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
    def log_entries(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Action-log entries (with their events) after sequence ``after``, in commit order."""

    def job_and_log(self, job_id: str) -> tuple[Job | None, list[dict[str, Any]]]:
        """The job and its log entries as of one moment (what :func:`~stepchart.replay.verify_store` compares)."""
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


def check_header(record: Mapping[str, Any]) -> None:
    """Refuse an export file this code cannot read."""
    if record.get("kind") != "stepchart-export":
        raise StoreError("not a stepchart export: the first record must be the export header")
    if int(record.get("format", 0)) > EXPORT_FORMAT:
        raise StoreError(
            f"export format {record.get('format')} is newer than this stepchart "
            f"(reads up to {EXPORT_FORMAT}): upgrade stepchart"
        )


def export_header(schema_version: int) -> dict[str, Any]:
    """The first record of an export."""
    return {"kind": "stepchart-export", "format": EXPORT_FORMAT, "schemaVersion": schema_version}


def run_import(
    records: Iterable[Mapping[str, Any]],
    *,
    skip_existing: bool,
    known: Callable[[str], bool],
    put_workflow: Callable[[str, str, Mapping[str, Any]], None],
    put_job: Callable[[Job], None],
    put_log: Callable[[Mapping[str, Any]], None],
) -> ImportReport:
    """Feed export records to a store's writers (inside the store's one transaction).

    A job id the target knows already (a stored job, or log entries of a deleted
    one) is decided once, at its first record: :class:`JobExistsError`, or with
    ``skip_existing`` its job and log records are passed over.
    """
    report = ImportReport()
    decided: dict[str, bool] = {}

    def take(job_id: str) -> bool:
        if job_id not in decided:
            if known(job_id):
                if not skip_existing:
                    raise JobExistsError(job_id)
                report.skipped_jobs.append(job_id)
            decided[job_id] = job_id not in report.skipped_jobs
        return decided[job_id]

    header = False
    for i, rec in enumerate(records):
        if not header:
            check_header(rec)
            header = True
            continue
        kind = rec.get("kind")
        if kind == "workflow":
            put_workflow(rec["workflow"], rec["version"], rec["source"])
            report.workflows += 1
        elif kind == "job":
            job = job_from_doc(rec["doc"])
            if take(job.job_id):
                put_job(job)
                report.jobs += 1
        elif kind == "log":
            if take(rec["jobId"]):
                put_log(rec)
                report.log_entries += 1
                report.events += len(rec.get("events", []))
        else:
            raise StoreError(f"record {i + 1}: unknown kind {kind!r}")
    if not header:
        raise StoreError("not a stepchart export: it is empty")
    return report


# -- in memory --------------------------------------------------------------------------------


class ManagedMemoryStore(MemoryStore, ManagedStore):
    """The full store interface in memory (``memory:``): for tests and short-lived hosts.

    Queries scan; that is fine at the sizes a process keeps in memory.
    """

    def __init__(self) -> None:
        MemoryStore.__init__(self)
        ManagedStore.__init__(self)
        self._event_log_seq: list[int | None] = []
        self._order: list[str] = []
        self._workflows: dict[tuple[str, str], dict[str, Any]] = {}
        self._log_seq = 0

    # -- JobStore ---------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        job = MemoryStore.get(self, job_id)
        self._record_read(job_id, job)
        return job

    def _add_new(self, job: Job, events: list[dict[str, Any]], log: dict[str, Any] | None) -> None:
        self._save_workflow_of(job)
        self._jobs[job.job_id] = job.copy()
        self._order.append(job.job_id)
        self._append(job.job_id, events, log, {})

    def job_ids(self) -> list[str]:
        with self._lock:
            return list(self._order)

    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        with self._lock:
            self._begin_reads(job_id)
            try:
                stored = self._jobs.get(job_id)
                tx = StoreTransaction(stored.copy() if stored is not None else None)
                tx.recall = lambda key: next(
                    (e for e in reversed(self.log) if e.get("jobId") == job_id and e.get("idempotencyKey") == key), None
                )
                yield tx
            finally:
                reads = self._end_reads()
            if not tx.committed or stored is None:
                return
            if tx.deleted:
                del self._jobs[job_id]
                self._order.remove(job_id)
            elif tx.job_to_save is not None:
                self._save_workflow_of(tx.job_to_save)
                self._jobs[job_id] = tx.job_to_save.copy()
            self._append(job_id, tx.events, tx.log, reads)

    def _append(
        self, job_id: str, events: list[dict[str, Any]], log: dict[str, Any] | None, reads: dict[str, Any]
    ) -> None:
        seq: int | None = None
        if log is not None:
            self._log_seq += 1
            seq = self._log_seq
            self.log.append({"sequence": seq, **log, "reads": reads})
        for e in events:
            self.events.append(dict(e))
            self._event_log_seq.append(seq)

    def _save_workflow_of(self, job: Job) -> None:
        found = self._workflow_to_save(job)
        if found is not None:
            self.save_workflow(*found)

    # -- ManagedStore -----------------------------------------------------------------------
    def save_workflow(self, workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
        with self._lock:
            self._workflows.setdefault((workflow_id, version), json.loads(dumps(source)))
            self._known_versions.add((workflow_id, version))

    def stored_workflows(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self._lock:
            return [(w, v, dict(s)) for (w, v), s in self._workflows.items()]

    def job_and_log(self, job_id: str) -> tuple[Job | None, list[dict[str, Any]]]:
        with self._lock:
            return MemoryStore.get(self, job_id), self.log_entries(job_id)

    def search(self, flt: JobFilter) -> list[dict[str, Any]]:
        with self._lock:
            ids = self._order
            if flt.after is not None and flt.after in ids:
                ids = ids[ids.index(flt.after) + 1 :]
            out = [job_summary(self._jobs[i].to_doc()) for i in ids if flt.matches(self._jobs[i])]
        return out[: flt.limit] if flt.limit is not None else out

    def log_entries(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            by_seq: dict[int, list[dict[str, Any]]] = {}
            for e, s in zip(self.events, self._event_log_seq, strict=True):
                if s is not None:
                    by_seq.setdefault(s, []).append(dict(e))
            out = [
                {**json.loads(dumps(x)), "events": by_seq.get(x["sequence"], [])}
                for x in self.log
                if x["sequence"] > after and (job_id is None or x["jobId"] == job_id)
            ]
        return out[:limit] if limit is not None else out

    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            out = [
                {**e, "sequence": i + 1, "logSequence": s}
                for i, (e, s) in enumerate(zip(self.events, self._event_log_seq, strict=True))
                if i + 1 > after and (job_id is None or e.get("jobId") == job_id)
            ]
        return out[:limit] if limit is not None else out

    def due_jobs(self, now: datetime, limit: int | None = None) -> list[str]:
        at = to_micros(now)
        with self._lock:
            due: list[tuple[int, str]] = []
            waiting: list[str] = []
            for jid in self._order:
                ix = index_job(self._jobs[jid])
                if ix.next_release is not None and ix.next_release <= at:
                    due.append((ix.next_release, jid))
                elif any(self._dependency_met(dep, step) for dep, step in ix.waits):
                    waiting.append(jid)
        out = [j for _, j in sorted(due)] + waiting
        return out[:limit] if limit is not None else out

    def _dependency_met(self, dep: str, step: str | None) -> bool:
        other = self._jobs.get(dep)
        return other is not None and (other.closed or (step is not None and step in other.return_values))

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    def export_records(self, job_ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        wanted = None if job_ids is None else set(job_ids)
        yield export_header(SCHEMA_VERSION)
        for w, v, s in self.stored_workflows():
            yield {"kind": "workflow", "workflow": w, "version": v, "source": s}
        for jid in self.job_ids():
            if wanted is None or jid in wanted:
                job = self._jobs.get(jid)
                if job is not None:
                    yield {"kind": "job", "doc": job.to_doc()}
        for entry in self.log_entries():
            if wanted is None or entry["jobId"] in wanted:
                yield {"kind": "log", **entry}

    def import_records(self, records: Iterable[Mapping[str, Any]], *, skip_existing: bool = False) -> ImportReport:
        with self._lock:
            saved = copy.deepcopy(
                (self._jobs, self._order, self.log, self.events, self._event_log_seq, self._log_seq, self._workflows)
            )
            logged = {e["jobId"] for e in self.log}

            def put_job(job: Job) -> None:
                self._jobs[job.job_id] = job
                self._order.append(job.job_id)

            def put_log(rec: Mapping[str, Any]) -> None:
                entry = {k: v for k, v in rec.items() if k not in ("kind", "sequence", "events", "reads")}
                self._append(rec["jobId"], list(rec.get("events", [])), entry, dict(rec.get("reads") or {}))

            try:
                return run_import(
                    records,
                    skip_existing=skip_existing,
                    known=lambda jid: jid in self._jobs or jid in logged,
                    put_workflow=self.save_workflow,
                    put_job=put_job,
                    put_log=put_log,
                )
            except BaseException:  # one transaction: all or nothing
                (
                    self._jobs,
                    self._order,
                    self.log,
                    self.events,
                    self._event_log_seq,
                    self._log_seq,
                    self._workflows,
                ) = saved
                raise
