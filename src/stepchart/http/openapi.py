"""The HTTP service's OpenAPI 3.1 document, built from the shipped JSON Schema files.

Why built and not written by hand: the request and response schemas of the document
must be the very files the engine and the HTTP layer validate with, so they cannot
drift. :mod:`stepchart.http.components` turns each file into a component (and back);
this module adds the paths, parameters and responses around them.
"""

from __future__ import annotations

from typing import Any

from .components import COMPONENTS, ROUTE_SCHEMAS, component, file_schema, original_schema, validator

__all__ = ["COMPONENTS", "ROUTE_SCHEMAS", "build_openapi", "component", "file_schema", "original_schema", "validator"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_ERRORS = {
    "400": "Error",
    "401": "TokenRequired or InvalidToken: no usable token; nothing changed",
    "413": "PayloadTooLarge: the body is over the size limit",
    "415": "UnsupportedMediaType: the body is not application/json (UTF-8)",
    "422": "IdempotencyKeyReused: the Idempotency-Key was used for another request; nothing ran",
}


def _responses(ok_name: str | None, ok_text: str, *, body: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ok_name is not None:
        out["200"] = _json(ok_name, ok_text)
    out["400"] = _json("Error", "A request error (SPEC R14): nothing changed")
    out["401"] = _json("Error", _ERRORS["401"])
    if body:
        out["413"] = _json("Error", _ERRORS["413"])
        out["415"] = _json("Error", _ERRORS["415"])
        out["422"] = _json("Error", _ERRORS["422"])
    return out


def _param(name: str, where: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


_STR = {"type": "string"}
_ORG = _param("orgId", "path", "The organization (accepted, not interpreted: one service serves one item).", _STR)
_ITEM = _param("itemId", "path", "The Workflow Manager item (accepted, not interpreted).", _STR)
_JOB = _param("jobId", "path", "The job.", _STR)
_STEP = _param("stepId", "path", "A current step of the job.", _STR)
_TOKEN = _param("token", "query", "The caller's token (or `Authorization: Bearer`).", _STR)
_IDEM = _param(
    "Idempotency-Key",
    "header",
    "A retried request with the same key (same user, same path) returns the first answer instead of acting again.",
    {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
)


def _op(
    op_id: str,
    summary: str,
    params: list[dict[str, Any]],
    ok: str | None,
    ok_text: str,
    *,
    body: str | None = None,
    body_required: bool = True,
    post: bool = False,
    tags: tuple[str, ...] = ("jobs",),
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "tags": list(tags),
        "parameters": [*params, _TOKEN] + ([_IDEM] if post else []),
        "responses": _responses(ok, ok_text, body=post),
    }
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": _ref(body)}}}
    return op


def _wm_paths(base: str, job: list[dict[str, Any]]) -> dict[str, Any]:
    """The paths of :mod:`.wm_routes` (Workflow Manager's job management, issue 9)."""
    wm = ("workflowManager",)
    diagram = _param("diagramId", "path", "The diagram: a loaded workflow's id.", _STR)
    version = _param("version", "path", "The diagram version: 1 is the workflow's oldest stored version.", _STR)
    return {
        f"{base}/jobs/manage": {
            "post": _op("manageJobs", "Closes, reopens, deletes or upgrades many jobs", [_ORG, _ITEM],
                        "ManageResult", "at least one job changed", body="ManageRequest", post=True, tags=wm),
        },
        f"{base}/jobs/{{jobId}}/{{stepId}}": {
            "post": _op("assignStep", "Reassigns a current step (R25), Workflow Manager's path", [*job, _STEP],
                        "JobActionResponse", "success (R13)", body="AssignRequest", post=True, tags=wm),
        },
        f"{base}/jobs/{{jobId}}/comments": {
            "get": _op("getComments", "Reads a job's comments, oldest first", job, "Comments", "the comments",
                       tags=wm),
            "post": _op("addComment", "Adds a comment to a job", job, "CommentAdded", "the comment's id",
                        body="CommentRequest", post=True, tags=wm),
        },
        f"{base}/jobs/{{jobId}}/diagram": {
            "get": _op("getJobDiagram", "The diagram version the job runs", job, "Diagram", "the diagram", tags=wm),
        },
        f"{base}/diagrams": {
            "get": _op("listDiagrams", "Every loaded workflow's newest version as a diagram", [_ORG, _ITEM],
                       "Diagrams", "the diagrams", tags=wm),
        },
        f"{base}/diagrams/{{diagramId}}": {
            "get": _op("getDiagram", "A workflow's newest version as a diagram", [_ORG, _ITEM, diagram],
                       "Diagram", "the diagram", tags=wm),
        },
        f"{base}/diagrams/{{diagramId}}/{{version}}": {
            "get": _op("getDiagramVersion", "One stored version of a workflow as a diagram",
                       [_ORG, _ITEM, diagram, version], "Diagram", "the diagram", tags=wm),
        },
    }  # fmt: skip


def _wm_job_paths(base: str, job: list[dict[str, Any]]) -> dict[str, Any]:
    """Job templates and the job update (:mod:`.wmjobs`); their answers are described in docs/http.md."""
    tpl = [_ORG, _ITEM, _param("templateId", "path", "The job template (a default one has the workflow's id).", _STR)]

    def op(op_id: str, summary: str, params: list[dict[str, Any]], ok: str, **kw: Any) -> dict[str, Any]:
        out = _op(op_id, summary, params, None, ok, tags=("jobTemplates",), **kw)
        out["responses"]["200"] = {"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}}
        out["responses"]["404"] = _json("Error", "NotFound: no such job template")
        return out

    return {
        f"{base}/jobTemplates": {"get": op("listJobTemplates", "Lists the job templates", [_ORG, _ITEM],
                                           "{jobTemplates: [template]}")},
        f"{base}/jobTemplates/{{templateId}}": {"get": op("getJobTemplate", "Reads a job template", tpl,
                                                          "the template")},
        f"{base}/jobTemplates/{{templateId}}/job": {"post": op(
            "createJobsFromTemplate", "Creates jobs from a job template (needs jobCreate)", tpl, "{jobIds: [...]}",
            body="TemplateJobsRequest", body_required=False, post=True)},
        f"{base}/jobs/{{jobId}}/update": {"post": op(
            "updateJob", "Changes a job's properties (needs jobUpdateProperties)", job, "{success: true}",
            body="UpdateJobRequest", post=True)},
    }  # fmt: skip


def build_openapi(*, version: str = "0.1.0", server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of :func:`stepchart.http.app.create_app`."""
    base = "/{orgId}/{itemId}"
    job = [_ORG, _ITEM, _JOB]
    step = [*job, _STEP]
    list_params = [
        _ORG,
        _ITEM,
        _param("closed", "query", "Only closed (true) or open (false) jobs.", {"type": "boolean"}),
        _param("workflow", "query", "Only jobs of this workflow.", _STR),
        _param("assignedTo", "query", "Only jobs with a current step assigned to this user or group name.", _STR),
        _param("mine", "query", "Only jobs with a current step that is the caller's (R16).", {"type": "boolean"}),
        _param("step", "query", "Only jobs where this step is current.", _STR),
        _param("after", "query", "The `next` of the previous page.", _STR),
        _param("limit", "query", "Page size (default 100).", {"type": "integer", "minimum": 1, "maximum": 1000}),
    ]
    mgmt = "done"
    paths: dict[str, Any] = {
        f"{base}/jobs/{{jobId}}/action": {
            "post": _op(
                "jobAction",
                "Performs actions on one or more steps (SPEC R10-R21)",
                job,
                "JobActionResponse",
                "success (R13)",
                body="JobActionRequest",
                post=True,
                tags=("jobAction",),
            )
        },
        f"{base}/jobs": {
            "get": _op("listJobs", "Lists jobs, in creation order, a page at a time", list_params, "JobList", "a page"),
            "post": _op(
                "createJob",
                "Creates a job of a loaded workflow (needs jobCreate)",
                [_ORG, _ITEM],
                "Job",
                "the new job (without history)",
                body="CreateJobRequest",
                post=True,
            ),
        },
        f"{base}/jobs/{{jobId}}": {
            "get": _op(
                "getJob",
                "Reads a job in Workflow Manager's job model, with the 6.2 fields (docs/http.md)",
                job,
                "WmJob",
                "the job (without history)",
            ),
            "delete": _op(
                "deleteJob", "Deletes a job; its log and events stay (needs jobDelete)", job, "ManagementResult", mgmt
            ),
        },
        f"{base}/jobs/{{jobId}}/history": {
            "get": _op(
                "getJobHistory",
                "Reads a job's history in Workflow Manager's record shape (R23 records, Created, Upgraded, Commented)",
                job,
                "WmHistory",
                "the history",
            ),
        },
        **_wm_paths(base, job),
        f"{base}/jobs/{{jobId}}/close": {
            "post": _op("closeJob", "Closes a job (needs jobClose)", job, "ManagementResult", mgmt, post=True),
        },
        f"{base}/jobs/{{jobId}}/reopen": {
            "post": _op(
                "reopenJob", "Reopens a closed job (needs jobReopenClosed)", job, "ManagementResult", mgmt, post=True
            ),
        },
        f"{base}/jobs/{{jobId}}/steps/{{stepId}}/respond": {
            "post": _op(
                "respond",
                "Answers a question step in WaitingForInfo (R3)",
                step,
                "JobActionResponse",
                "success (R13)",
                body="RespondRequest",
                post=True,
                tags=("steps",),
            ),
        },
        f"{base}/jobs/{{jobId}}/steps/{{stepId}}/complete": {
            "post": _op(
                "complete",
                "The host finished a running asynchronous step (R4; needs hostExecution)",
                step,
                "JobActionResponse",
                "success (R13)",
                body="CompleteRequest",
                body_required=False,
                post=True,
                tags=("steps",),
            ),
        },
        f"{base}/jobs/{{jobId}}/steps/{{stepId}}/fail": {
            "post": _op(
                "fail",
                "The host's execution of an asynchronous step failed (R4; needs hostExecution)",
                step,
                "JobActionResponse",
                "success (R13)",
                body="FailRequest",
                body_required=False,
                post=True,
                tags=("steps",),
            ),
        },
        f"{base}/jobs/{{jobId}}/steps/{{stepId}}/assign": {
            "post": _op(
                "assign",
                "Reassigns a current step (R25)",
                step,
                "JobActionResponse",
                "success (R13)",
                body="AssignRequest",
                post=True,
                tags=("steps",),
            ),
        },
        f"{base}/events": {
            "get": _op(
                "events",
                "The events feed (R24) after a sequence number, oldest first",
                [
                    _ORG,
                    _ITEM,
                    _param(
                        "after",
                        "query",
                        "The `last` of the previous call (default 0).",
                        {"type": "integer", "minimum": 0},
                    ),
                    _param("jobId", "query", "Only events of this job.", _STR),
                    _param(
                        "limit",
                        "query",
                        "At most this many (default 100).",
                        {"type": "integer", "minimum": 1, "maximum": 1000},
                    ),
                ],
                "EventsPage",
                "the events",
                tags=("events",),
            )
        },
        f"{base}/jobs/search": {
            "post": _op(
                "searchJobs",
                "Searches jobs with Workflow Manager's q, a page of rows (docs/http.md, Job search)",
                [_ORG, _ITEM],
                "JobSearchResult",
                "a page",
                body="JobSearchRequest",
                body_required=False,
                post=True,
            )
        },
        f"{base}/jobs/statistics": {
            "post": _op(
                "jobStatistics",
                "Counts the jobs q finds, by the values of a field",
                [_ORG, _ITEM],
                "JobStatisticsResult",
                "the counts",
                body="JobStatisticsRequest",
                body_required=False,
                post=True,
            )
        },
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Is the service up and its store reachable (no token needed)",
                "tags": ["service"],
                "security": [],
                "responses": {
                    "200": _json("Health", "up"),
                    "503": _json("Error", "StoreUnavailable: the job store cannot be reached"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document (no token needed)",
                "tags": ["service"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "the OpenAPI document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    paths.update(_wm_job_paths(base, job))
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "stepchart jobAction service",
            "version": version,
            "description": (
                "The ArcGIS Workflow Manager jobAction contract (SPEC R10-R25) and job management over HTTP. "
                "Every error body has the R14 shape {error: {message, type, details}}. Component schemas are "
                "the shipped JSON Schema files (draft-07) of stepchart."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {name: component(stem) for name, stem in COMPONENTS.items()},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer TOKEN"},
                "token": {"type": "apiKey", "in": "query", "name": "token", "description": "?token=TOKEN"},
            },
        },
        "security": [{"bearer": []}, {"token": []}],
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
