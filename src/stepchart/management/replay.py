"""Replay: rebuild jobs from the action log alone, and check that they match the store.

The log holds every request that answered 200 (R12: a 400 changes nothing), with its
actor, body, ``now`` and response; each store also records what the request read of
other jobs (``reads``: closed flag and return values, R18/R19) and keeps the events
it caused. A fresh engine fed a job's entries in sequence order therefore takes the
same decisions, whatever other jobs did since, and must rebuild the job exactly:
same document, and at each step the same response and the same events. Any
difference is a bug or a damaged store, reported with the entry's sequence number.

What the log does not hold is given to :func:`replay_job` by the host:

- the workflow versions (the engine passed in knows them, see
  :meth:`~stepchart.management.manager.JobManager.sync_workflows`);
- the groups and privileges of the users (``actors``), unless an entry's ``actor``
  is already a mapping ``{username, groups, privileges}``;
- for ``RefreshStatus``, the host's status provider: replay answers it from the
  entry's events and response (``StepFinished`` is a completion, ``StepError`` a
  failure, ``NoMatchingPaths`` a completion no path takes).

Which engine call an entry becomes is read from the action table
(:data:`stepchart.engine.actions.ACTION_TABLE`); only ``Create`` and ``Refresh`` (log
entries of job creation and of the sweep) are not actions a rule names. Operation
bodies are read in both spellings of their fields: ``assignedType`` as logged now,
``assigned_type`` as earlier logs have it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..engine.actions import ACTION_TABLE, Action
from ..engine.core import ActionResult, Engine, Execution
from ..model import SYSTEM, Actor, Job, JobProperties
from ..model.times import parse_datetime
from ..stores import ManagedStore, MemoryStore
from .operations import JOB_OPERATIONS

__all__ = [
    "ActorSource",
    "ReplayError",
    "ReplayMismatch",
    "replay_entries",
    "replay_job",
    "resolve_actor",
    "verify_store",
]

ActorSource = Mapping[str, Actor] | Callable[[str], Actor] | None
"""Who the users of the log are: a mapping or a function from user name to :class:`Actor`."""

_NO_PATH = "\u0000replay: a value no path matches"
_TRUSTED = frozenset({"jobClose", "jobReopenClosed", "jobDelete", "adminAdvanced"})


class ReplayError(Exception):
    """Replay diverged from the log (or could not run an entry)."""

    def __init__(self, job_id: str, sequence: int | None, message: str) -> None:
        super().__init__(f"job {job_id}, log entry {sequence}: {message}")
        self.job_id, self.sequence, self.message = job_id, sequence, message


@dataclass
class ReplayMismatch:
    """A job whose replay differs from the store: both documents, or why replay stopped."""

    job_id: str
    stored: dict[str, Any] | None
    replayed: dict[str, Any] | None
    error: str | None = None

    def describe(self) -> str:
        """One line for people: what differs."""
        if self.error:
            return f"{self.job_id}: {self.error}"
        if self.stored is None or self.replayed is None:
            return (
                f"{self.job_id}: stored {'nothing' if self.stored is None else 'a job'}, "
                f"replay gives {'nothing' if self.replayed is None else 'a job'}"
            )
        keys = [k for k in sorted(set(self.stored) | set(self.replayed)) if self.stored.get(k) != self.replayed.get(k)]
        return f"{self.job_id}: differs in {', '.join(keys)}"


def resolve_actor(value: Any, actors: ActorSource = None) -> Actor:
    """The :class:`Actor` of a log entry: a mapping as is, ``system``, else looked up by name.

    The engine itself is logged with ``"engine": true`` (older logs: as user ``system``
    with no groups and no privileges); it comes back as the :data:`~stepchart.model.SYSTEM`
    sentinel. A user named "system" is logged with ``"engine": false`` and stays a user.
    """
    if isinstance(value, Mapping):
        found = Actor.of(value["username"], value.get("groups", ()), value.get("privileges", ()))
        engine = value.get("engine")
        if engine is None:  # written before the log marked the engine: its exact form was the engine
            engine = found.username == SYSTEM.username and not found.groups and not found.privileges
        return SYSTEM if engine is True else found
    name = str(value)
    if name == "system":
        return SYSTEM
    if actors is None:
        return Actor(name)
    if isinstance(actors, Mapping):
        return actors.get(name, Actor(name))
    return actors(name)


class _ReplayStore(MemoryStore):
    """A memory store that answers reads of other jobs from the entry being replayed."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.reads: Mapping[str, Any] | None = None

    def get(self, job_id: str) -> Job | None:
        if self.reads is not None and job_id != self.current and job_id in self.reads:
            seen = self.reads[job_id]
            if seen is None:
                return None
            return Job(job_id, "", closed=bool(seen.get("closed")), return_values=dict(seen.get("returnValues", {})))
        return super().get(job_id)

    def exists(self, job_id: str) -> bool:
        if self.reads is not None and job_id != self.current and job_id in self.reads:
            return self.reads[job_id] is not None
        return super().exists(job_id)


def _provider(entry: Mapping[str, Any]) -> Callable[[str, str], Execution | None]:
    """The host's status news as the entry shows it (RefreshStatus, R21).

    ``StepFinished`` of the step is a completion with its return value, ``StepError``
    a failure with its message; a ``NoMatchingPaths`` answer for the step is a
    completion whose value matched no path (any such value leaves the job as it was).
    """
    unmatched = {
        r.get("stepId")
        for r in (entry.get("response") or {}).get("stepResponses", [])
        if r.get("status") == "NoMatchingPaths"
    }

    def provider(job_id: str, step_id: str) -> Execution | None:
        for e in entry.get("events", []):
            if e.get("stepId") != step_id:
                continue
            if e.get("type") == "StepFinished":
                return Execution("Completed", str(e.get("returnValue", "Success")))
            if e.get("type") == "StepError":
                return Execution("Failed", message=str(e.get("message", "")))
        if step_id in unmatched:
            return Execution("Completed", _NO_PATH)
        return None

    return provider


def _field(body: Mapping[str, Any], row: Action, name: str) -> Any:
    """A field of a logged operation body, or None: ``assignedType`` is also read as
    ``assigned_type`` (earlier logs), and the value field also as ``value`` (the request's)."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    names = (name, snake, "value") if name == row.value_field else (name, snake)
    return next((body[n] for n in names if n in body), None)


def _operation(clone: Engine, row: Action, jid: str, body: Mapping[str, Any], actor: Actor, now: Any) -> ActionResult:
    """A step operation beside jobAction, called as its row says.

    The row's ``operation`` is the engine's method; its ``fields`` after ``stepId`` are
    the method's arguments after the step, in order; the actor is passed unless the
    operation acts as the engine itself (``as_engine``).
    """
    step = (body.get("stepIds") or [""])[0]
    values = [_field(body, row, name) for name in row.fields[1:]]
    method = getattr(clone, str(row.operation))
    result: ActionResult = (
        method(jid, step, *values, now=now) if row.as_engine else method(jid, step, *values, actor, now)
    )
    return result


def _run_entry(clone: Engine, entry: Mapping[str, Any], actors: ActorSource) -> ActionResult | None:
    """Send one logged request to the replaying engine; None for creations (no response)."""
    jid, action = entry["jobId"], entry["action"]
    now: Any = entry.get("now")
    body: Any = entry.get("body") or {}
    actor = resolve_actor(entry.get("actor"), actors)
    if action == "Create":
        wf = clone.workflow(body["workflow"], body.get("workflowVersion"))
        if wf is None:
            raise ReplayError(
                jid,
                entry.get("sequence"),
                f"workflow {body['workflow']!r} version {body.get('workflowVersion')!r} is neither loaded nor stored",
            )
        if body.get("document") is not None:
            clone.load_job(body["document"], now=now, workflow=wf, upgrade=True)  # as it was stored: on wf
        else:
            props = JobProperties.from_doc(body.get("properties") or {})
            clone.start_job(Job(jid, wf.id, wf.version, properties=props), wf, parse_datetime(now), actor)
        return None
    if action == "Refresh":
        return clone.refresh(jid, now)
    row = ACTION_TABLE.get(action)
    if row is None:
        raise ReplayError(jid, entry.get("sequence"), f"unknown action {action!r}")
    if row.kind == "jobAction":
        return clone.act(jid, body, actor, now)
    if row.kind == "operation":
        return _operation(clone, row, jid, body, actor, now)
    # job management: a logged operation answered 200, so its actor held the privilege (one logged
    # by name only would lack it here)
    trusted = actor if actor.is_system else Actor(actor.username, actor.groups, actor.privileges | _TRUSTED)
    fields = {k: v for k, v in body.items() if k != "operation"}
    return JOB_OPERATIONS[action](clone, jid, trusted, now, **fields)


def _replaying_engine(engine: Engine, store: _ReplayStore) -> Engine:
    """A fresh engine on ``store`` with ``engine``'s charts, rules and every workflow version it knows."""
    clone = engine.spawn(store)
    for wf in engine.known_versions():
        clone.register_version(wf, newest=engine.workflow(wf.id) is wf)
    clone.status_provider = None
    return clone


def replay_entries(
    engine: Engine, entries: Iterable[Mapping[str, Any]], *, actors: ActorSource = None, strict: bool = True
) -> dict[str, dict[str, Any] | None]:
    """Replay log entries (of one job or several) through a fresh engine; the jobs they rebuild.

    ``engine`` lends its charts, rules and workflow versions; its store is not touched.
    Entries run in sequence order. With ``strict`` (the default) a response or events
    that differ from the logged ones raise :class:`ReplayError`. Deleted jobs map to None.
    """
    store = _ReplayStore()
    clone = _replaying_engine(engine, store)
    seen: list[str] = []
    for entry in sorted(entries, key=lambda e: int(e.get("sequence") or 0)):
        jid = entry["jobId"]
        if jid not in seen:
            seen.append(jid)
        store.current, store.reads = jid, entry.get("reads")
        clone.status_provider = _provider(entry) if entry["action"] == "RefreshStatus" else None
        events_before = len(store.events)
        try:
            result = _run_entry(clone, entry, actors)
        except ReplayError:
            raise
        except Exception as exc:
            raise ReplayError(jid, entry.get("sequence"), f"{type(exc).__name__}: {exc}") from exc
        finally:
            store.current, store.reads = None, None
        if not strict:
            continue
        if result is not None and (result.status_code != 200 or result.body != entry.get("response")):
            raise ReplayError(
                jid,
                entry.get("sequence"),
                f"{entry['action']} answered {result.status_code} "
                f"{result.body}, the log says 200 {entry.get('response')}",
            )
        if "events" in entry and store.events[events_before:] != list(entry["events"]):
            raise ReplayError(
                jid,
                entry.get("sequence"),
                f"{entry['action']} caused events {store.events[events_before:]}, the log says {entry['events']}",
            )
    out: dict[str, dict[str, Any] | None] = {}
    for jid in seen:
        job = MemoryStore.get(store, jid)
        out[jid] = job.to_doc() if job is not None else None
    return out


def replay_job(
    engine: Engine,
    entries: Iterable[Mapping[str, Any]],
    job_id: str,
    *,
    actors: ActorSource = None,
    strict: bool = True,
) -> dict[str, Any] | None:
    """The job ``job_id`` rebuilt from its log entries (None if the log ends with its deletion)."""
    mine = [e for e in entries if e["jobId"] == job_id]
    if not mine:
        raise ReplayError(job_id, None, "no log entry for this job")
    return replay_entries(engine, mine, actors=actors, strict=strict).get(job_id)


def verify_store(
    engine: Engine, store: ManagedStore, job_ids: Iterable[str] | None = None, *, actors: ActorSource = None
) -> list[ReplayMismatch]:
    """Replay each job's log and compare with the stored job; the jobs that differ.

    By default every job that has a log entry (deleted ones included) and every stored
    job (a stored job without a log is a mismatch).
    """
    if job_ids is None:
        ids: list[str] = list(dict.fromkeys([e["jobId"] for e in store.log_entries()] + store.job_ids()))
    else:
        ids = list(job_ids)
    bad: list[ReplayMismatch] = []
    for jid in ids:
        stored_job, entries = store.job_and_log(jid)
        stored = stored_job.to_doc() if stored_job is not None else None
        if not entries:
            bad.append(ReplayMismatch(jid, stored, None, "no log entry for this job"))
            continue
        try:
            replayed = replay_job(engine, entries, jid, actors=actors)
        except ReplayError as exc:
            bad.append(ReplayMismatch(jid, stored, None, str(exc)))
            continue
        if replayed != stored:
            bad.append(ReplayMismatch(jid, stored, replayed))
    return bad
