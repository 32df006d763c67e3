"""The records a request leaves: R23 history entries, R24 events, and action-log entries."""

from __future__ import annotations

from typing import Any

from ..model import Actor, Job

__all__ = ["actor_log", "event_record", "history_record"]


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


def actor_log(actor: Actor) -> dict[str, Any]:
    """The actor as the action log keeps it: enough to replay the request."""
    return {"username": actor.username, "groups": sorted(actor.groups), "privileges": sorted(actor.privileges)}
