"""The operations of the service: one handler per route, each a function of the service and the call.

jobAction (R10, R13, R14), create, read, list, close, reopen and delete jobs,
respond/complete/fail (R3, R4), assign (R25) and the events feed (R24).
Every handler runs after the shared checks of :func:`~stepchart.http.service.endpoint`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from ..engine.core import ActionResult
from ..errors import RequestError
from ..stores import JobExistsError, Transaction
from ..stores.idempotency import KEY_REUSED_STATUS, key_reused, recall_request
from ..vocabulary import AssignmentType
from .errors import HttpError, bad_request, json_response
from .jobmodel import job_model
from .service import Call, Service

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "assign",
    "close_job",
    "complete",
    "create_job",
    "events",
    "fail",
    "job_action",
    "job_resource",
    "list_jobs",
    "reopen_job",
    "respond",
]

MAX_PAGE = 1000
DEFAULT_PAGE = 100


def _result(result: ActionResult) -> Response:
    return json_response(result.status_code, result.body)


def _without_history(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "history"}


def _bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad_request("InvalidRequest", f"The query parameter {name} must be true or false.", [f"{name}: {raw[:50]}"])


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not low <= int(raw) <= high:  # ASCII only
        raise bad_request(
            "InvalidRequest",
            f"The query parameter {name} must be an integer from {low} to {high}.",
            [f"{name}: {raw[:50]}"],
        )
    return int(raw)


def _require(c: Call, privilege: str, message: str) -> None:
    if privilege not in c.actor.privileges:
        raise bad_request("InsufficientPrivileges", message, [f"privilege: {privilege}"])


# -- jobAction and the job resource ------------------------------------------------------------


async def job_action(s: Service, c: Call) -> Response:
    """``POST .../jobs/{jobId}/action``: the jobAction operation; the engine checks the body (R10)."""
    job_id = c.param("jobId")
    return _result(
        await s.write(lambda now: s.engine.act(job_id, c.body, c.actor, now, idempotency_key=c.idempotency_key))
    )


async def create_job(s: Service, c: Call) -> Response:
    """``POST .../jobs``: a new job of a loaded workflow (needs ``jobCreate``)."""
    value = s.json_body(c.body, "http-create-job")
    _require(c, "jobCreate", "Creating a job needs the jobCreate privilege.")
    workflow, job_id = value["workflow"], value.get("jobId")
    if s.engine.workflow(workflow) is None:
        raise bad_request(
            "InvalidRequest",
            f"No workflow {workflow!r} is loaded.",
            [f"workflow: {workflow}", "loaded: " + ", ".join(sorted(s.engine.workflows))],
        )

    key = c.idempotency_key
    if key is not None and job_id is None:
        # a retry must find the job the first try made: derive its id from the (scoped) key
        job_id = "J-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def create(now: datetime) -> dict[str, Any]:
        for _attempt in range(20):
            try:
                return s.engine.create_job(workflow, job_id, now=now, actor=c.actor, idempotency_key=key)
            except JobExistsError:
                if job_id is not None:
                    if key is not None:
                        with s.engine.store.transaction(job_id) as tx:
                            if tx.job is not None and _created_with(tx, key, c.actor.username, workflow, now, s):
                                return tx.job.to_doc()  # the retried create: the job it made, as it is now
                    raise bad_request(
                        "InvalidRequest", f"A job {job_id!r} exists already.", [f"jobId: {job_id}"]
                    ) from None
                # another process took the next id first: take the one after
        raise bad_request("InvalidRequest", "No free job id was found; pass jobId.")

    doc = await s.write(create)
    return json_response(200, _without_history(doc))


def _created_with(tx: Transaction, key: str, username: str, workflow: str, now: datetime, s: Service) -> bool:
    """True when ``key`` made this job (a retried create); another user or workflow: 422."""
    try:
        prior = recall_request(
            tx, key, username=username, action="Create", body=None, now=now,
            retention=s.engine.store.key_retention, compare_body=False,
        )
    except RequestError as exc:
        raise HttpError(KEY_REUSED_STATUS, exc.type, exc.message, exc.details) from None
    if prior is not None and (prior.get("body") or {}).get("workflow") != workflow:
        reused = key_reused("body")
        raise HttpError(KEY_REUSED_STATUS, reused.type, reused.message, reused.details)
    return prior is not None


async def get_job(s: Service, c: Call) -> Response:
    """``GET .../jobs/{jobId}``: the job in Workflow Manager's job model, with the 6.2 fields (:mod:`.jobmodel`)."""
    job_id = c.param("jobId")
    job = await s.run(s.engine.store.get, job_id)
    if job is None:
        raise RequestError.job_not_found(job_id)
    return json_response(200, job_model(s.engine, job, s.templates))


async def job_resource(s: Service, c: Call) -> Response:
    """``GET`` or ``DELETE .../jobs/{jobId}`` (one route, so a 405 names both methods)."""
    return await (delete_job(s, c) if c.request.method == "DELETE" else get_job(s, c))


# -- the step operations ------------------------------------------------------------------------


async def respond(s: Service, c: Call) -> Response:
    """``POST .../steps/{stepId}/respond``: answer a question step (R3)."""
    value = s.json_body(c.body, "http-respond")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.respond(
                job_id, step_id, value["value"], c.actor, now, idempotency_key=c.idempotency_key
            )
        )
    )


def _require_host(c: Call, what: str) -> None:
    _require(
        c,
        "hostExecution",
        f"{what} reports the host's execution of a step: it needs the hostExecution privilege.",
    )


async def complete(s: Service, c: Call) -> Response:
    """``POST .../steps/{stepId}/complete``: the host finished an asynchronous step (R4)."""
    value = s.json_body(c.body, "http-complete", required=False)
    _require_host(c, "complete")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.complete(
                job_id, step_id, value.get("returnValue", "Success"), now=now, idempotency_key=c.idempotency_key
            )
        )
    )


async def fail(s: Service, c: Call) -> Response:
    """``POST .../steps/{stepId}/fail``: the host's execution of an asynchronous step failed (R4)."""
    value = s.json_body(c.body, "http-fail", required=False)
    _require_host(c, "fail")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.fail(
                job_id, step_id, value.get("message", ""), now=now, idempotency_key=c.idempotency_key
            )
        )
    )


async def assign(s: Service, c: Call) -> Response:
    """``POST .../steps/{stepId}/assign``: reassign a current step (R25)."""
    value = s.json_body(c.body, "http-assign")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    assigned_type = cast(AssignmentType, value["assignedType"])  # the schema's enum is ASSIGNMENT_TYPES
    return _result(
        await s.write(
            lambda now: s.engine.assign(
                job_id,
                step_id,
                assigned_type,
                value.get("assignedTo"),
                c.actor,
                now,
                idempotency_key=c.idempotency_key,
            )
        )
    )


# -- job management and the feed ------------------------------------------------------------------


async def list_jobs(s: Service, c: Call) -> Response:
    """``GET .../jobs``: job summaries in creation order, a page at a time (``after`` = last job id seen)."""
    r = c.request
    limit = _int_param(r, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    mine = _bool_param(r, "mine")
    jobs = await s.run(
        s.engine.search_jobs,
        closed=_bool_param(r, "closed"),
        workflow=r.query_params.get("workflow"),
        assigned_to=r.query_params.get("assignedTo"),
        actor=c.actor if mine else None,
        step=r.query_params.get("step"),
        after=r.query_params.get("after"),
        limit=limit + 1,
    )
    page = jobs[:limit]
    return json_response(200, {"jobs": page, "next": page[-1]["jobId"] if len(jobs) > limit else None})


async def close_job(s: Service, c: Call) -> Response:
    """``POST .../jobs/{jobId}/close`` (``jobClose``)."""
    job_id, key = c.param("jobId"), c.idempotency_key
    return _result(await s.write(lambda now: s.engine.close_job(job_id, c.actor, now, idempotency_key=key)))


async def reopen_job(s: Service, c: Call) -> Response:
    """``POST .../jobs/{jobId}/reopen`` (``jobReopenClosed``)."""
    job_id, key = c.param("jobId"), c.idempotency_key
    return _result(await s.write(lambda now: s.engine.reopen_job(job_id, c.actor, now, idempotency_key=key)))


async def delete_job(s: Service, c: Call) -> Response:
    """``DELETE .../jobs/{jobId}`` (``jobDelete``); the job's log and events stay."""
    job_id = c.param("jobId")
    return _result(await s.write(lambda now: s.engine.delete_job(job_id, c.actor, now)))


async def events(s: Service, c: Call) -> Response:
    """``GET .../events?after=N``: the events feed, oldest first; poll again with ``last``."""
    r = c.request
    after = _int_param(r, "after", 0, 0, 2**62)
    limit = _int_param(r, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    found = await s.run(s.engine.events_after, after, r.query_params.get("jobId"), limit)
    return json_response(200, {"events": found, "last": found[-1]["sequence"] if found else after})
