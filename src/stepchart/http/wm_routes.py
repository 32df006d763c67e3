"""Workflow Manager's job management routes (issue 9): manage many jobs, assign, history, comments, diagrams.

Every path is under ``/{orgId}/{itemId}``; each handler runs through
:func:`~stepchart.http.service.endpoint` (token, body limits, reads policy, R14 errors)
and reuses the operation that exists already:

- ``POST jobs/manage`` ``{type, jobIds}``: ``Close``/``Reopen``/``Delete``/``Upgrade``
  through :mod:`stepchart.management.operations` (same privileges and preconditions as
  ``jobs/{id}/close``, ``reopen``, ``DELETE jobs/{id}`` and ``stepchart jobs upgrade``),
  one request per job, in the order given (at most :data:`MAX_MANAGE` ids). When no job
  changed the answer is the R14 error of the refusal (so the client raises); when every
  job changed it is ``{"success": true, "results": [...]}``; when only some did,
  ``{"success": false, "results": [...]}`` with each refused job's error.
- ``POST jobs/{jobId}/{stepId}``: assign (R25), the handler of ``steps/{stepId}/assign``.
- ``GET jobs/{jobId}/history``: WM's record shape (:mod:`.wm_history`).
- ``GET``/``POST jobs/{jobId}/comments``: :mod:`stepchart.management.comments`.
- ``GET jobs/{jobId}/diagram``, ``GET diagrams``, ``GET diagrams/{id}[/{version}]``: the
  loaded workflows as WM diagram JSON (:func:`~stepchart.tools.wmdiagram.to_diagram`);
  diagram version N is the Nth stored version of the workflow, oldest first.

The assign route's ``{stepId}`` matches any segment, so these routes go after the
service's own (``jobs/{id}/action``, ``close``, ...) in the app's route list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine.core import ActionResult
from ..errors import RequestError
from ..management.comments import add_comment, job_comments
from ..management.operations import JOB_OPERATIONS
from ..model.definitions import Workflow
from ..stores import ManagedStore
from ..tools.wmdiagram import to_diagram
from . import handlers as h
from .errors import bad_request, json_response
from .service import Call, Handler, Service
from .wm_history import wm_history

__all__ = ["MAX_MANAGE", "wm_routes"]

MAX_MANAGE: Final = 100
"""Most job ids one ``jobs/manage`` request takes (checked here, not by the schema: a schema limit
past the body limit would be answered 413, which Esri's client retries)."""

Endpoint = Callable[..., Callable[[Request], Awaitable[Response]]]
"""``ep(handler, body=..., read=...)`` of :func:`stepchart.http.app.create_app`."""


async def manage_jobs(s: Service, c: Call) -> Response:
    """``POST .../jobs/manage``: one management operation on each job, each its own request."""
    value = s.json_body(c.body, "http-manage")
    if len(value["jobIds"]) > MAX_MANAGE:
        raise bad_request(
            "InvalidRequest",
            f"jobs/manage takes at most {MAX_MANAGE} job ids; send them in several requests.",
            [f"jobIds: {len(value['jobIds'])} ids"],
        )
    operation = JOB_OPERATIONS[value["type"]]
    key = c.idempotency_key
    results: list[dict[str, Any]] = []
    refused: list[ActionResult] = []
    for job_id in value["jobIds"]:
        result = await s.write(
            lambda now, jid=job_id: operation(s.engine, jid, c.actor, now, idempotency_key=key)  # type: ignore[misc]
        )
        if result.status_code == 200:
            results.append({"jobId": job_id, "success": True, **result.body})
        else:
            refused.append(result)
            results.append({"jobId": job_id, "success": False, "error": result.body.get("error")})
    if len(refused) == len(results):
        first = refused[0].body["error"]
        details = [f"{r['jobId']}: {r['error'].get('type')}: {r['error'].get('message')}" for r in results]
        message = first["message"] if len(results) == 1 else f"No job changed: {first['message']}"
        raise bad_request(first["type"], message, details)
    return json_response(200, {"success": not refused, "results": results})


async def job_history(s: Service, c: Call) -> Response:
    """``GET .../jobs/{jobId}/history``: the job's records in Workflow Manager's shape."""
    job_id = c.param("jobId")
    store = s.engine.store
    job = await s.run(store.get, job_id)
    if job is None:
        raise RequestError.job_not_found(job_id)
    log = await s.run(store.log_entries, job_id) if isinstance(store, ManagedStore) else []
    comments = await s.run(store.comments, job_id) if isinstance(store, ManagedStore) else []
    return json_response(200, {"jobId": job_id, "history": wm_history(job, log, comments)})


async def comments(s: Service, c: Call) -> Response:
    """``GET``/``POST .../jobs/{jobId}/comments``: the job's comments, or add one."""
    job_id = c.param("jobId")
    if c.request.method == "POST":
        value = s.json_body(c.body, "http-comment")
        result = await s.write(lambda now: add_comment(s.engine, job_id, c.actor, now, value["comment"]))
        return json_response(result.status_code, result.body)
    found = await s.run(job_comments, s.engine, job_id)
    if found is None:
        raise RequestError.job_not_found(job_id)
    return json_response(200, {"jobId": job_id, "jobComments": found})


def _versions(s: Service, diagram_id: str) -> list[Workflow]:
    versions = [wf for wf in s.engine.known_versions() if wf.id == diagram_id]
    if not versions:
        raise bad_request(
            "InvalidRequest",
            f"No diagram {diagram_id!r}: no workflow of that id is loaded.",
            [f"diagramId: {diagram_id}", "loaded: " + ", ".join(sorted(s.engine.workflows))],
        )
    return versions


def _diagram(versions: list[Workflow], wf: Workflow) -> dict[str, Any]:
    number = next(i for i, v in enumerate(versions, 1) if v is wf or v.version == wf.version)
    return {**to_diagram(wf.source, version=number), "workflowVersion": wf.version}


async def list_diagrams(s: Service, c: Call) -> Response:
    """``GET .../diagrams``: each loaded workflow's newest version, by id."""
    out = []
    for wid in sorted(s.engine.workflows):
        versions, newest = _versions(s, wid), s.engine.workflow(wid)
        out.append(_diagram(versions, newest or versions[-1]))
    return json_response(200, {"diagrams": out})


async def get_diagram(s: Service, c: Call) -> Response:
    """``GET .../diagrams/{diagramId}[/{version}]``: the newest version, or version N (1 = the oldest)."""
    versions = _versions(s, c.param("diagramId"))
    raw = c.request.path_params.get("version")
    if raw is None:
        wf = s.engine.workflow(c.param("diagramId")) or versions[-1]
        return json_response(200, _diagram(versions, wf))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and 1 <= int(raw) <= len(versions)):
        raise bad_request(
            "InvalidRequest",
            f"Diagram {c.param('diagramId')!r} has versions 1 to {len(versions)}.",
            [f"version: {raw[:50]}"],
        )
    return json_response(200, _diagram(versions, versions[int(raw) - 1]))


async def job_diagram(s: Service, c: Call) -> Response:
    """``GET .../jobs/{jobId}/diagram``: the diagram version the job runs."""
    job_id = c.param("jobId")
    job = await s.run(s.engine.store.get, job_id)
    if job is None:
        raise RequestError.job_not_found(job_id)
    return json_response(200, _diagram(_versions(s, job.workflow), s.engine.workflow_for(job)))


def wm_routes(base: str, ep: Endpoint) -> list[Route]:
    """The routes of this module under ``base`` (``/{orgId}/{itemId}``), each wrapped by ``ep``."""
    job = f"{base}/jobs/{{jobId}}"
    handler: Handler = h.assign
    return [
        Route(f"{base}/jobs/manage", ep(manage_jobs, body=True), methods=["POST"]),
        Route(f"{job}/history", ep(job_history, read="job"), methods=["GET"]),
        Route(f"{job}/comments", ep(comments, body=True, read="job"), methods=["GET", "POST"]),
        Route(f"{job}/diagram", ep(job_diagram, read="job"), methods=["GET"]),
        Route(f"{base}/diagrams", ep(list_diagrams), methods=["GET"]),
        Route(f"{base}/diagrams/{{diagramId}}", ep(get_diagram), methods=["GET"]),
        Route(f"{base}/diagrams/{{diagramId}}/{{version}}", ep(get_diagram), methods=["GET"]),
        Route(f"{job}/{{stepId}}", ep(handler, body=True), methods=["POST"]),  # assign (R25): last, it matches any
    ]
