"""What a job state is to verify: its canonical key, and the one-job store moves are made on.

Two jobs with the same key have the same future: the key holds what decides which
requests succeed and where they lead (closed or not; each current step, in order, with
its status and assignment; the steps with an active hold). The order of the current
steps is kept because the engine reads it (R6's cascade runs the first ready automatic
step first, R11's default targets). Return values and history are left out: no rule
reads the job's own return values, and a path reads only the value the finishing step
gives at that moment (R7).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...model import Job
from ...stores import JobStore
from ...stores.base import Transaction

__all__ = ["JOB_ID", "OneJobStore", "StateKey", "current_text", "is_complete", "snapshot", "state_key"]

JOB_ID = "J1"
"""The id of the explored job (the id a scenario's new job gets)."""

StepKey = tuple[str, str, str, str | None]
StateKey = tuple[bool, tuple[StepKey, ...], frozenset[str]]
"""(closed, current steps as (stepId, status, assignedType, assignedTo), steps with an active hold)."""


def held_steps(job: Job) -> frozenset[str]:
    """The steps with an active hold: verify makes manual holds only, active until released."""
    return frozenset(h.step_id for h in job.holds if not h.released)


def state_key(job: Job) -> StateKey:
    """The canonical key of a job state (see the module docstring)."""
    steps = tuple((c.step_id, c.status, c.assigned_type, c.assigned_to) for c in job.current_steps)
    return job.closed, steps, held_steps(job) if job.holds else frozenset()


def is_complete(job: Job) -> bool:
    """A finished job: closed, or with no current step left (R9, ``autoClose: false``)."""
    return job.closed or not job.current_steps


def snapshot(job: Job, activated: set[str] | None = None) -> Job:
    """The job as verify keeps a state: without its history (nothing reads it), so copies stay cheap.

    The steps the history says became current are added to ``activated`` first: an
    automatic step is current only inside the request that runs it (R6), yet reached.
    """
    if activated is not None:
        activated.update(h["stepId"] for h in job.history if h.get("action") == "Activated" and h.get("stepId"))
    job.history = []
    return job


def current_text(key: StateKey) -> str:
    """The current steps of a state as a designer reads them: ``edit (Ready, Group editors)``."""
    closed, steps, held = key
    if not steps:
        return "no current step" + (" (closed)" if closed else "")
    parts = []
    for step_id, status, kind, to in steps:
        who = kind if to is None else f"{kind} {to}"
        parts.append(f"{step_id} ({status}, {who}{', held' if step_id in held else ''})")
    return ", ".join(parts)


class OneJobStore(JobStore):
    """A store holding the one job being explored: each request works on a copy of :attr:`job`.

    :attr:`job` is set to a state before a move; a committed request leaves the new job
    in :attr:`result` (and :attr:`job` unchanged), so every state verify keeps stays as
    the engine left it. :attr:`activated` gathers every step a committed request made
    current. Other jobs (dependency holds) do not exist here.
    """

    def __init__(self) -> None:
        self.job: Job | None = None
        self.result: Job | None = None
        self.activated: set[str] = set()

    def get(self, job_id: str) -> Job | None:
        return self.job.copy() if self.job is not None and job_id == self.job.job_id else None

    def exists(self, job_id: str) -> bool:
        return self.job is not None and self.job.job_id == job_id

    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        """A new job (the engine's ``create_job``) replaces whatever the store held."""
        self.job = self.result = snapshot(job.copy(), self.activated)

    def job_ids(self) -> list[str]:
        return [self.job.job_id] if self.job is not None else []

    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        self.result = None
        job = self.job if self.job is not None and self.job.job_id == job_id else None
        tx = Transaction(job.copy() if job is not None else None)
        yield tx
        if tx.committed and tx.job_to_save is not None:
            self.result = snapshot(tx.job_to_save, self.activated)
