"""Operations on whole jobs beside jobAction: close, reopen, delete, upgrade, update (``rules/40-management.yaml``).

Each operation is a request like ``jobAction``: one store transaction, a 400 body
(R14) that changes nothing, or a 200 committed together with its history record,
its events and its action-log entry. Checks come in the R14 order: job exists,
privilege (the engine itself, user ``system``, holds every privilege), then state.

Decisions (D): closing or deleting a job while one of its steps runs (R1) is refused
(``InvalidRequest``, detail ``status: AlreadyExecuting``), so is closing a closed job
and reopening an open one. Reopening keeps the job as it was when it closed (its
current steps, if it still had some). Close writes a ``Closed`` history record and a
``JobClosed`` event (as an automatic close does, R9); reopen writes ``Reopened`` and
``JobReopened``; delete removes the job but keeps its log and events, adding
``JobDeleted``. An upgrade writes a ``JobUpgraded`` event and no history record (R23
has no action for it). Close sets the job's ``endDate``, reopen clears it. An update
changes the job's properties only (never its lifecycle) and writes ``Updated`` and
``JobUpdated``.

They are functions of an engine (its public API only); :data:`JOB_OPERATIONS` names
them by action, for replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from ..engine.core import ActionResult, Engine
from ..engine.inputs import as_actor, as_now, unstorable_request
from ..engine.records import actor_log, event_record, history_record
from ..errors import RequestError
from ..load.jobs import upgrade_blockers
from ..model import Actor, Job, Request
from ..model.times import format_datetime
from ..stores import StoreError, StoreTransaction
from ..stores.idempotency import KEY_REUSED_STATUS, recall_request
from ..vocabulary import MANAGEMENT_ACTIONS

__all__ = ["JOB_OPERATIONS", "close_job", "delete_job", "reopen_job", "run_operation", "update_job", "upgrade_job"]

Change = Callable[[Job, Actor, datetime], dict[str, Any]]
"""What an operation does to the job (under its transaction): returns the 200 body."""


def _event(job: Job, name: str, actor: Actor, now: datetime, **extra: Any) -> dict[str, Any]:
    """An R24-shaped event of the whole job (no step)."""
    return event_record(job, name, None, actor.username, format_datetime(now), **extra)


def _history(job: Job, action: str, actor: Actor, now: datetime) -> None:
    job.history.append(history_record(job, None, action, actor.username, format_datetime(now)))


def close_job(
    engine: Engine, job_id: str, actor: Actor | str, now: datetime | str, *, idempotency_key: str | None = None
) -> ActionResult:
    """Close a job (``jobClose``); refused while a step runs or when it is closed already."""

    def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
        job.closed = True
        job.properties = replace(job.properties, end_date=format_datetime(at))
        _history(job, "Closed", who, at)
        return {"success": True, "jobId": job.job_id, "closed": True}

    return run_operation(
        engine, "Close", job_id, actor, now, {"operation": "Close"}, change, "JobClosed", idempotency_key
    )


def reopen_job(
    engine: Engine, job_id: str, actor: Actor | str, now: datetime | str, *, idempotency_key: str | None = None
) -> ActionResult:
    """Reopen a closed job (``jobReopenClosed``), as it was when it closed."""

    def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
        job.closed = False
        job.properties = replace(job.properties, end_date=None)
        _history(job, "Reopened", who, at)
        return {"success": True, "jobId": job.job_id, "closed": False}

    return run_operation(
        engine, "Reopen", job_id, actor, now, {"operation": "Reopen"}, change, "JobReopened", idempotency_key
    )


def delete_job(
    engine: Engine, job_id: str, actor: Actor | str, now: datetime | str, *, idempotency_key: str | None = None
) -> ActionResult:
    """Delete a job (``jobDelete``); refused while a step runs. Its log and events stay."""

    def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
        return {"success": True, "jobId": job.job_id, "deleted": True}

    return run_operation(
        engine, "Delete", job_id, actor, now, {"operation": "Delete"}, change, "JobDeleted", idempotency_key
    )


def upgrade_job(
    engine: Engine,
    job_id: str,
    actor: Actor | str,
    now: datetime | str,
    version: str | None = None,
    *,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Move a job to another version of its workflow: the newest loaded one, or ``version``.

    Refused (``InvalidRequest``) when a step runs, when the job is on that version
    already, when the version is not loaded, or when a current step is missing from
    it (or its status is not a state of the new step's lifecycle). Holds, return
    values and history stay as they are.
    """

    def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
        target = engine.workflow(job.workflow, version) if version else engine.workflow(job.workflow)
        if target is None:
            raise RequestError(
                "InvalidRequest",
                f"Workflow {job.workflow!r} version {version!r} is not loaded.",
                [f"version: {version}"],
            )
        if target.version == job.workflow_version:
            raise RequestError(
                "InvalidRequest", f"The job is on version {target.version} already.", [f"version: {target.version}"]
            )
        missing = upgrade_blockers(job, target, engine.step_types)
        if missing:
            raise RequestError(
                "InvalidRequest",
                f"Version {target.version} of {job.workflow!r} cannot take the "
                "job's current steps: " + ", ".join(missing) + ".",
                [f"stepId: {s}" for s in missing],
            )
        previous = job.workflow_version
        job.workflow_version = target.version
        return {
            "success": True,
            "jobId": job.job_id,
            "workflowVersion": target.version,
            "previousVersion": previous,
        }

    body: dict[str, Any] = {"operation": "Upgrade"}
    if version:
        body["version"] = version
    return run_operation(engine, "Upgrade", job_id, actor, now, body, change, "JobUpgraded", idempotency_key)


def update_job(
    engine: Engine,
    job_id: str,
    actor: Actor | str,
    now: datetime | str,
    changes: Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Change a job's properties (``jobUpdateProperties``): ``changes`` maps document keys of
    :data:`~stepchart.model.properties.EDITABLE_KEYS` to new values (None clears one).

    A key that is not editable, or a value of the wrong kind, is ``InvalidRequest``; the
    job's lifecycle is left alone. History ``Updated``, event ``JobUpdated`` (with the keys
    changed).
    """

    def change(job: Job, who: Actor, at: datetime) -> dict[str, Any]:
        try:
            job.properties = job.properties.changed(changes)
        except (ValueError, TypeError) as exc:
            raise RequestError("InvalidRequest", f"The update cannot be applied: {exc}.", [str(exc)]) from None
        _history(job, "Updated", who, at)
        return {"success": True, "jobId": job.job_id, "updated": sorted(changes)}

    body: dict[str, Any] = {"operation": "Update", "changes": dict(changes)}
    return run_operation(engine, "Update", job_id, actor, now, body, change, "JobUpdated", idempotency_key)


def run_operation(
    engine: Engine,
    action: str,
    job_id: str,
    actor: Actor | str,
    now: datetime | str,
    body: dict[str, Any],
    change: Change,
    event: str,
    idempotency_key: str | None = None,
) -> ActionResult:
    """Run one management operation as a request: one transaction, logged on success.

    With ``idempotency_key``, an operation whose key the job's log already holds
    answers as it did the first time and changes nothing.
    """
    who, at = as_actor(actor), as_now(now)
    refused = unstorable_request(job_id, body)
    if refused is not None:
        return ActionResult(400, refused.body())
    with engine.store.transaction(job_id) as tx:
        job = tx.job
        if job is None:
            return ActionResult(400, RequestError.job_not_found(job_id).body())
        if idempotency_key is not None:
            try:
                prior = recall_request(
                    tx, idempotency_key, username=who.username, action=action, body=body, now=at,
                    retention=engine.store.key_retention,
                )
            except RequestError as exc:
                return ActionResult(KEY_REUSED_STATUS, exc.body())
            if prior is not None:
                return ActionResult(200, prior["response"], [])
        try:
            engine.check_request(engine.context(job, who, Request(action), at))
            response = change(job, who, at)
        except RequestError as exc:
            return ActionResult(400, exc.body())
        extra = (
            {"fromVersion": response["previousVersion"], "toVersion": response["workflowVersion"]}
            if action == "Upgrade"
            else {}
        )
        events = [_event(job, event, who, at, **extra)]
        log: dict[str, Any] = {
            "jobId": job_id,
            "actor": actor_log(who),
            "action": action,
            "body": body,
            "now": format_datetime(at),
            "response": response,
        }
        if idempotency_key is not None:
            log["idempotencyKey"] = idempotency_key
        if action == "Delete":
            if not isinstance(tx, StoreTransaction):
                raise StoreError(
                    f"{type(engine.store).__name__} cannot delete jobs; open a store with stepchart.stores.open_store"
                )
            tx.delete(events, log)
        else:
            tx.commit(job, events, log)
        return ActionResult(200, response, events)


JOB_OPERATIONS: Final[dict[str, Callable[..., ActionResult]]] = {
    "Close": close_job,
    "Reopen": reopen_job,
    "Delete": delete_job,
    "Upgrade": upgrade_job,
    "Update": update_job,
}
"""The operation of each management action (the ``management`` rows of the action table)."""
assert tuple(JOB_OPERATIONS) == MANAGEMENT_ACTIONS, "one operation per management action, in vocabulary order"
