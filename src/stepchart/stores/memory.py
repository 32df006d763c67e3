"""The one memory store: the full store interface in a process (``memory:``, the engine's default).

It keeps what the SQL stores keep, with the same meaning: jobs in creation order, the
action log with each request's reads of other jobs, the events feed, workflow versions.
An idempotency key is recalled only within the job it was recorded for, as in SQLite
and PostgreSQL. Queries scan; that is fine at the sizes a process keeps in memory.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..model import Job
from .base import (
    SCHEMA_VERSION,
    ImportReport,
    JobExistsError,
    JobFilter,
    JobSearch,
    ManagedStore,
    SearchPage,
    StoreTransaction,
)
from .jobsearch import memory_count_by, memory_find
from .records import dumps, export_header, index_job, job_summary, run_import, to_micros

__all__ = ["ManagedMemoryStore", "MemoryStore"]


class MemoryStore(ManagedStore):
    """Jobs, log, events and workflow versions in dicts and lists, guarded by one lock.

    For tests, scenarios, embedding and short-lived hosts. ``log`` and ``events`` are
    the raw action log and events feed, in commit order. ``read_only``: every write
    raises :class:`~.base.StoreError` (what ``open_store("memory:", read_only=True)`` gives).
    """

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []
        self._lock = threading.RLock()
        self.events: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self._event_log_seq: list[int | None] = []
        self._workflows: dict[tuple[str, str], dict[str, Any]] = {}
        self._log_seq = 0
        self._ranks: dict[str, int] = {}
        """Each job's creation rank (kept after deletion), for paging with ``after``."""
        self._next_rank = 0

    # -- JobStore ---------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            found = job.copy() if job is not None else None
        self._record_read(job_id, found)
        return found

    def exists(self, job_id: str) -> bool:
        return job_id in self._jobs

    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        self._refuse_write()
        with self._lock:
            if job.job_id in self._jobs:
                raise JobExistsError(job.job_id)
            self._save_workflow_of(job)
            self._jobs[job.job_id] = job.copy()
            self._order.append(job.job_id)
            self._ranks[job.job_id] = self._next_rank = self._next_rank + 1
            self._append(events or [], log, {})

    def job_ids(self) -> list[str]:
        with self._lock:
            return list(self._order)

    def _recall(self, job_id: str, key: str) -> dict[str, Any] | None:
        """The job's log entry recorded under an idempotency key in its current incarnation.

        Keys are scoped per job, and to the entries after the job's last ``Delete``, as in
        the SQL stores.
        """
        for e in reversed(self.log):
            if e.get("jobId") != job_id:
                continue
            if e.get("action") == "Delete":
                return None
            if e.get("idempotencyKey") == key:
                found: dict[str, Any] = copy.deepcopy(e)
                return found
        return None

    @contextmanager
    def transaction(self, job_id: str) -> Iterator[StoreTransaction]:
        self._refuse_write()
        with self._lock:
            self._begin_reads(job_id)
            try:
                stored = self._jobs.get(job_id)
                tx = StoreTransaction(stored.copy() if stored is not None else None)
                tx.recall = lambda key: self._recall(job_id, key)
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
            self._append(tx.events, tx.log, reads)

    def _append(self, events: list[dict[str, Any]], log: dict[str, Any] | None, reads: dict[str, Any]) -> None:
        """Record a request's log entry (numbered) and its events (each tied to the entry)."""
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

    # -- workflow versions ------------------------------------------------------------------
    def save_workflow(self, workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
        self._refuse_write()
        with self._lock:
            self._workflows.setdefault((workflow_id, version), json.loads(dumps(source)))
            self._known_versions.add((workflow_id, version))

    def stored_workflows(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self._lock:
            return [(w, v, dict(s)) for (w, v), s in self._workflows.items()]

    # -- queries ----------------------------------------------------------------------------
    def job_and_log(self, job_id: str) -> tuple[Job | None, list[dict[str, Any]]]:
        with self._lock:
            job = self._jobs.get(job_id)
            return (job.copy() if job is not None else None), self.log_entries(job_id)

    def search(self, flt: JobFilter) -> list[dict[str, Any]]:
        with self._lock:
            ids = self._order
            rank = self._ranks.get(flt.after) if flt.after is not None else None
            if rank is not None:  # a deleted job keeps its rank: the page goes on after where it was
                ids = [i for i in ids if self._ranks[i] > rank]
            out = [job_summary(self._jobs[i].to_doc()) for i in ids if flt.matches(self._jobs[i])]
        return out[: flt.limit] if flt.limit is not None else out

    def find_jobs(self, search: JobSearch) -> SearchPage:
        with self._lock:
            return memory_find([self._jobs[i] for i in self._order], search)

    def count_jobs_by(self, search: JobSearch, field: str) -> tuple[int, list[tuple[Any, int]]]:
        with self._lock:
            return memory_count_by([self._jobs[i] for i in self._order], search, field)

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

    # -- moving jobs ------------------------------------------------------------------------
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
        self._refuse_write()
        with self._lock:
            saved = copy.deepcopy(
                (self._jobs, self._order, self.log, self.events, self._event_log_seq, self._log_seq, self._workflows)
            )
            logged = {e["jobId"] for e in self.log}

            def put_job(job: Job) -> None:
                self._jobs[job.job_id] = job
                self._order.append(job.job_id)
                self._ranks[job.job_id] = self._next_rank = self._next_rank + 1

            def put_log(rec: Mapping[str, Any]) -> None:
                entry = {k: v for k, v in rec.items() if k not in ("kind", "sequence", "events", "reads")}
                self._append(list(rec.get("events", [])), entry, dict(rec.get("reads") or {}))

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


ManagedMemoryStore = MemoryStore
"""The memory store's former name (``memory:`` used to open a separate class)."""
