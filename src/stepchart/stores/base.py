"""Where jobs live. The engine reaches every job through a :class:`JobStore`.

A request works inside :meth:`JobStore.transaction`: it reads a private copy of its
job, changes it, and either commits (job, events and the request's log entry
together) or leaves the store as it was (SPEC R12). Other jobs (dependencies,
R18/R19) are read through :meth:`JobStore.get`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..model import Job

__all__ = ["JobExistsError", "JobStore", "MemoryStore", "Transaction"]


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
    """The action-log entry already recorded under an idempotency key, if any (set by the store)."""

    def commit(self, job: Job, events: list[dict[str, Any]], log: dict[str, Any] | None = None) -> None:
        """Mark the job (and what the request caused) to be saved when the transaction ends."""
        self.job_to_save, self.events, self.log, self.committed = job, list(events), log, True


class JobStore(ABC):
    """The store interface: memory here; SQLite and PostgreSQL implement the same."""

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


class MemoryStore(JobStore):
    """Jobs in a dict, guarded by one lock: for tests, scenarios and embedding."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.RLock()
        self.events: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.copy() if job is not None else None

    def exists(self, job_id: str) -> bool:
        return job_id in self._jobs

    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        with self._lock:
            if job.job_id in self._jobs:
                raise JobExistsError(job.job_id)
            self._add_new(job, events or [], log)

    def _add_new(self, job: Job, events: list[dict[str, Any]], log: dict[str, Any] | None) -> None:
        """Store a job whose id is free (under the lock)."""
        self._jobs[job.job_id] = job.copy()
        self.events.extend(events)
        if log is not None:
            self.log.append({"sequence": len(self.log) + 1, **log})

    def job_ids(self) -> list[str]:
        with self._lock:
            return list(self._jobs)

    def _recall(self, key: str) -> dict[str, Any] | None:
        return next((e for e in reversed(self.log) if e.get("idempotencyKey") == key), None)

    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        with self._lock:
            stored = self._jobs.get(job_id)
            tx = Transaction(stored.copy() if stored is not None else None)
            tx.recall = self._recall
            yield tx
            if tx.committed and tx.job_to_save is not None:
                self._jobs[job_id] = tx.job_to_save
                self.events.extend(tx.events)
                if tx.log is not None:
                    self.log.append({"sequence": len(self.log) + 1, **tx.log})
