"""Comments on a job (issue 9, Workflow Manager's ``jobs/{jobId}/comments``): add one, read them.

Adding a comment is a request of its own: under the job's transaction it takes the next
``commentId`` (the job's comments are numbered "1", "2", ... in order), stores the
comment (:mod:`stepchart.stores.comments`) and adds a ``JobCommentUpdated`` event to the
feed, all or nothing. It changes neither the job document nor its R23 history, so it
writes no action-log entry (replay rebuilds jobs from the log, and a comment is no part
of a job's state); the comment itself is what export and import carry.

Decision (D): any caller with a valid token may comment on a job; no privilege is named
for it in Workflow Manager's list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..engine.core import ActionResult, Engine
from ..engine.inputs import as_actor, as_now
from ..engine.records import event_record
from ..errors import RequestError
from ..model import Actor
from ..model.times import format_datetime
from ..stores import ManagedStore, StoreError, StoreTransaction

__all__ = ["add_comment", "job_comments"]


def _managed(engine: Engine) -> ManagedStore:
    store = engine.store
    if not isinstance(store, ManagedStore):
        raise StoreError(f"{type(store).__name__} keeps no comments; open a store with stepchart.stores.open_store")
    return store


def add_comment(engine: Engine, job_id: str, actor: Actor | str, now: datetime | str, text: str) -> ActionResult:
    """Add ``text`` as a comment of the job by ``actor``; 200 ``{"commentId", "jobId"}`` or a 400 (R14)."""
    who, at = as_actor(actor), as_now(now)
    store = _managed(engine)
    with store.transaction(job_id) as tx:
        job = tx.job
        if job is None:
            return ActionResult(400, RequestError.job_not_found(job_id).body())
        if not isinstance(tx, StoreTransaction):
            raise StoreError(f"{type(store).__name__} cannot store comments")
        taken = [int(c["commentId"]) for c in store.comments(job_id) if str(c["commentId"]).isdigit()]
        comment: dict[str, Any] = {
            "commentId": str(max(taken, default=0) + 1),
            "comment": text,
            "createdBy": who.username,
            "createdDate": format_datetime(at),
        }
        tx.comments.append(comment)
        events = [
            event_record(
                job, "JobCommentUpdated", None, who.username, comment["createdDate"], commentId=comment["commentId"]
            )
        ]
        tx.commit(job, events, None)
        return ActionResult(200, {"jobId": job_id, "commentId": comment["commentId"]}, events)


def job_comments(engine: Engine, job_id: str) -> list[dict[str, Any]] | None:
    """The job's comments, oldest first; None when there is no such job."""
    store = _managed(engine)
    if not store.exists(job_id):
        return None
    return store.comments(job_id)
