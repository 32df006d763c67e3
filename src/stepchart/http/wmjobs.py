"""Workflow Manager's job templates and job update over HTTP (issue 9).

``GET .../jobTemplates`` (``{"jobTemplates": [...]}``), ``GET .../jobTemplates/{id}``,
``POST .../jobTemplates/{id}/job`` (``{"jobIds": [...]}``, needs ``jobCreate``) and
``POST .../jobs/{jobId}/update`` (needs ``jobUpdateProperties``). Jobs are created by the
engine's ``create_job``, one request each, so every creation rule holds; an update is the
management operation ``Update`` (history ``Updated``, event ``JobUpdated``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import RequestError
from ..model import SYSTEM, JobProperties, JobTemplate
from ..model.properties import EDITABLE_KEYS
from ..model.times import format_datetime
from ..stores import JobExistsError, JobFilter, ManagedStore
from ..vocabulary import AssignmentType
from .errors import HttpError, bad_request, json_response
from .jobmodel import READ_ONLY_KEYS, ext_from_client, ext_to_client, job_model, template_model
from .service import Call, Handler, Service

__all__ = ["MAX_JOBS_PER_CREATE", "wm_job_routes"]

MAX_JOBS_PER_CREATE: Final = 100
"""Most jobs one ``POST .../jobTemplates/{id}/job`` creates (its schema says so too)."""

Endpoint = Callable[..., Callable[[Request], Awaitable[Response]]]


def _template(s: Service, c: Call) -> JobTemplate:
    tid = c.param("templateId")
    t = s.templates.get(tid)
    if t is None:
        raise HttpError(404, "NotFound", f"No job template {tid!r}.", [f"jobTemplateId: {tid}"])
    return t


async def list_templates(s: Service, c: Call) -> Response:
    """``GET .../jobTemplates``: every template, loaded or default, in id order."""
    wfs = s.engine.workflows
    return json_response(200, {"jobTemplates": [template_model(t, wfs) for _, t in sorted(s.templates.items())]})


async def get_template(s: Service, c: Call) -> Response:
    """``GET .../jobTemplates/{templateId}``."""
    return json_response(200, template_model(_template(s, c), s.engine.workflows))


def _properties(t: JobTemplate, v: dict[str, Any], name: str, now: datetime) -> JobProperties:
    """A new job's properties: the body's values over the template's defaults."""
    due = v.get("dueDate") or (format_datetime(now + t.due_in) if t.due_in is not None else None)
    try:
        ext = ext_from_client(v["extendedProperties"]) if v.get("extendedProperties") else {}
    except ValueError as exc:
        raise bad_request("InvalidRequest", f"extendedProperties: {exc}.", [str(exc)]) from None
    doc = {
        "jobName": v.get("jobName") or name,
        "jobTemplateId": t.id,
        "description": v.get("description") or t.description or None,
        "priority": v.get("priority") or t.priority,
        "ownedBy": v.get("ownedBy") or t.owned_by,
        "startDate": v.get("startDate"),
        "dueDate": due,
        "notes": v.get("notes"),
        "parentJob": v.get("parentJob"),
        "percentComplete": v.get("percentComplete"),
        "extendedProperties": ext,
    }
    return JobProperties.from_doc(doc)


async def create_jobs(s: Service, c: Call) -> Response:
    """``POST .../jobTemplates/{templateId}/job``: ``numberOfJobs`` jobs of the template's workflow."""
    v = s.json_body(c.body, "http-template-jobs", required=False)
    t = _template(s, c)
    if "jobCreate" not in c.actor.privileges:
        raise bad_request(
            "InsufficientPrivileges", "Creating a job needs the jobCreate privilege.", ["privilege: jobCreate"]
        )
    if not t.creates_jobs:
        message = f"Job template {t.id!r} is {t.state}: it creates no jobs."
        raise bad_request("InvalidRequest", message, [f"state: {t.state}"])
    for field in ("location", "relatedProperties"):
        if v.get(field) is not None:
            message = f"{field} is not supported by this server."
            raise bad_request("InvalidRequest", message, [f"{field}: not supported"])
    count, job_id = v.get("numberOfJobs") or 1, v.get("jobId")
    if job_id is not None and count != 1:
        raise bad_request("InvalidRequest", "jobId can only be given for one job.", [f"numberOfJobs: {count}"])
    if s.engine.workflow(t.workflow) is None:
        raise bad_request("InvalidRequest", f"No workflow {t.workflow!r} is loaded.", [f"workflow: {t.workflow}"])
    kind: AssignmentType | None = v.get("assignedType") or t.assigned_type
    to: str | None = v.get("assignedTo") if v.get("assignedType") else t.assigned_to
    key = c.idempotency_key
    store = s.engine.store

    def create(now: datetime) -> list[str]:
        made = len(store.search(JobFilter(template=t.id))) if isinstance(store, ManagedStore) else 0
        ids: list[str] = []
        for i in range(count):
            wanted: str | None = job_id
            if wanted is None and key is not None:  # a retry finds the jobs the first try made
                wanted = "J-" + hashlib.sha256(f"{key}#{i}".encode()).hexdigest()[:16]
            props = _properties(t, v, t.job_name_for(made + i + 1), now)
            try:
                doc = s.engine.create_job(
                    t.workflow, wanted, now=now, actor=c.actor, idempotency_key=key, properties=props
                )
            except JobExistsError:
                if wanted is not None and key is not None and job_id is None:
                    ids.append(wanted)
                    continue
                message = f"A job {wanted!r} exists already."
                raise bad_request("InvalidRequest", message, [f"jobId: {wanted}"]) from None
            ids.append(doc["jobId"])
            first = doc["currentSteps"][0] if doc["currentSteps"] else None
            if kind and first and (kind, to) != (first["assignedType"], first.get("assignedTo")):
                s.engine.assign(doc["jobId"], first["stepId"], kind, to, SYSTEM, now)
        return ids

    return json_response(200, {"jobIds": await s.write(create)})


def _changes(current: dict[str, Any], v: dict[str, Any]) -> dict[str, Any]:
    """The editable fields of ``v`` that differ from ``current``; a read-only field changed, or a field
    outside the job model, is a 400."""
    changes: dict[str, Any] = {}
    for k, value in v.items():
        if k == "allowRunningStepId":
            continue
        if k in READ_ONLY_KEYS:
            if value != current.get(k):
                raise bad_request("InvalidRequest", f"{k} cannot be changed by an update.", [f"{k}: read-only"])
        elif k == "extendedProperties":
            try:
                flat = ext_from_client(value) if value is not None else {}
            except ValueError as exc:
                raise bad_request("InvalidRequest", f"extendedProperties: {exc}.", [str(exc)]) from None
            if ext_to_client(flat) != current["extendedProperties"]:
                changes[k] = flat
        elif k in EDITABLE_KEYS:
            if value != current.get(k):
                changes[k] = value
        else:
            raise bad_request("InvalidRequest", f"{k} is not a job field this server updates.", [f"{k}: unknown"])
    return changes


async def update_job(s: Service, c: Call) -> Response:
    """``POST .../jobs/{jobId}/update``: change the job's properties (see :func:`_changes`)."""
    v = s.json_body(c.body, "http-update-job")
    job_id = c.param("jobId")
    job = await s.run(s.engine.store.get, job_id)
    if job is None:
        raise RequestError.job_not_found(job_id)
    changes = _changes(job_model(s.engine, job, s.templates), v)
    key = c.idempotency_key
    result = await s.write(lambda now: s.engine.update_job(job_id, changes, c.actor, now, idempotency_key=key))
    if result.status_code != 200:
        return json_response(result.status_code, result.body)
    return json_response(200, {"success": True})


def wm_job_routes(ep: Endpoint, base: str) -> list[Route]:
    """The routes of this module under ``base`` (``/{orgId}/{itemId}``); ``ep`` wraps a handler as the app does."""
    handlers: list[tuple[str, Handler, bool, str, str]] = [
        ("/jobTemplates", list_templates, False, "", "GET"),
        ("/jobTemplates/{templateId}", get_template, False, "", "GET"),
        ("/jobTemplates/{templateId}/job", create_jobs, True, "", "POST"),
        ("/jobs/{jobId}/update", update_job, True, "", "POST"),
    ]
    return [Route(base + path, ep(h, body=body, read=read), methods=[m]) for path, h, body, read, m in handlers]
