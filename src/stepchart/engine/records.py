"""The records a request leaves: R23 history entries, R24 events, and action-log entries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..model import SYSTEM, Actor, Job, Request, Workflow
from ..model.times import format_datetime

if TYPE_CHECKING:
    from ..rules.context import Context

__all__ = [
    "actor_log",
    "creation_log",
    "event_record",
    "history_record",
    "note_event",
    "note_history",
    "operation_body",
]

_BODY_FIELDS = (
    ("value", "value"),
    ("message", "message"),
    ("assigned_type", "assignedType"),
    ("assigned_to", "assignedTo"),
)
"""The fields of a step operation beside jobAction, as the action log spells them (camelCase)."""


def history_record(job: Job, step_id: str | None, action: str, username: str, date: str) -> dict[str, Any]:
    """One R23 history record."""
    return {"date": date, "jobId": job.job_id, "stepId": step_id, "username": username, "action": action}


def event_record(job: Job, name: str, step_id: str | None, username: str, date: str, **extra: Any) -> dict[str, Any]:
    """One R24 event; a job-wide event (``step_id`` None) has no ``stepId``."""
    event: dict[str, Any] = {"type": name, "jobId": job.job_id}
    if step_id is not None:
        event["stepId"] = step_id
    event.update({"date": date, "username": username, **extra})
    return event


def note_history(
    ctx: Context, step_id: str | None, action: str, *, date: str | None = None, username: str | None = None
) -> None:
    """Append a history record to the job of ``ctx``: by its actor, now, unless told otherwise."""
    record = history_record(ctx.job, step_id, action, username or ctx.actor.username, date or ctx.now_text)
    ctx.job.history.append(record)


def note_event(ctx: Context, name: str, step_id: str | None, *, username: str | None = None, **extra: Any) -> None:
    """Add an event to the request of ``ctx``: by its actor, now, unless told otherwise."""
    ctx.events.append(event_record(ctx.job, name, step_id, username or ctx.actor.username, ctx.now_text, **extra))


def actor_log(actor: Actor) -> dict[str, Any]:
    """The actor as the action log keeps it: enough to replay the request.

    The engine itself carries ``"engine": true``; a user who is merely named "system"
    carries ``"engine": false``, so replay never mistakes one for the other.
    """
    out: dict[str, Any] = {
        "username": actor.username, "groups": sorted(actor.groups), "privileges": sorted(actor.privileges)
    }
    if actor.is_system or actor.username == SYSTEM.username:
        out["engine"] = actor.is_system
    return out


def operation_body(req: Request) -> dict[str, Any]:
    """The action-log body of a step operation beside jobAction (respond, complete, fail, assign)."""
    body: dict[str, Any] = {"operation": req.action, "stepIds": req.step_ids}
    for attribute, key in _BODY_FIELDS:
        v = getattr(req, attribute)
        if v is not None:
            body[key] = v
    return body


def creation_log(
    job: Job, wf: Workflow, now: datetime | None, document: dict[str, Any] | None, actor: Actor = SYSTEM
) -> dict[str, Any]:
    """The action-log entry that starts a job's log: enough to create the job again on replay
    (a job made without a document keeps its properties in ``properties``)."""
    body: dict[str, Any] = {"workflow": wf.id, "workflowVersion": wf.version, "document": document}
    if document is None and not job.properties.is_empty():
        body["properties"] = job.properties.to_doc()
    return {
        "jobId": job.job_id,
        "actor": actor_log(actor),
        "action": "Create",
        "body": body,
        "now": format_datetime(now) if now is not None else None,
        "response": None,
    }
