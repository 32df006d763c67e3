"""The HTTP service's OpenAPI 3.1 document, built from the shipped JSON Schema files.

Why built and not written by hand: the request and response schemas of the document
must be the very files the engine and the HTTP layer validate with
(``src/stepchart/schemas/*.schema.json``), so they cannot drift. Each file becomes one
entry of ``components.schemas`` with two mechanical changes, undone by
:func:`original_schema` (a test checks the round trip):

- ``$schema`` and ``$id`` are dropped: inside an OpenAPI document a schema's base URI
  is the document, and a ``$id`` would make conforming tools resolve the component's
  ``$ref`` against ``https://stepchart.dev/...`` instead;
- every ``$ref`` is rewritten to point into ``components``: ``#/definitions/x`` of
  ``job.schema.json`` becomes ``#/components/schemas/Job/definitions/x``, and
  ``job.schema.json#/definitions/x`` from another file the same.

The files are draft-07 and use nothing whose meaning differs in the 2020-12 dialect of
OpenAPI 3.1 (``definitions`` is reached only by JSON pointer).

The same module gives the HTTP layer its validators (:func:`validator`): draft-07, with
the files cross-referenced through a ``referencing`` registry, and the engine's own
``date-time`` format (SPEC R10).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from ..io.schemas import read_schema_file, validator_class

__all__ = ["COMPONENTS", "ROUTE_SCHEMAS", "build_openapi", "file_schema", "original_schema", "validator"]

BASE_URI = "https://stepchart.dev/schemas/"

COMPONENTS: dict[str, str] = {
    "JobActionRequest": "payload",
    "JobActionResponse": "response",
    "Error": "error",
    "Job": "job",
    "CreateJobRequest": "http-create-job",
    "RespondRequest": "http-respond",
    "CompleteRequest": "http-complete",
    "FailRequest": "http-fail",
    "AssignRequest": "http-assign",
    "JobList": "http-job-list",
    "History": "http-history",
    "EventsPage": "http-events",
    "Health": "http-health",
    "ManagementResult": "http-managed",
}
"""OpenAPI component name -> schema file stem (``<stem>.schema.json``)."""

_BY_STEM = {stem: name for name, stem in COMPONENTS.items()}

ROUTE_SCHEMAS: dict[str, str] = {
    "create": "http-create-job",
    "respond": "http-respond",
    "complete": "http-complete",
    "fail": "http-fail",
    "assign": "http-assign",
}
"""Request-body schema (file stem) of each HTTP operation that takes a body besides jobAction."""


@cache
def file_schema(stem: str) -> dict[str, Any]:
    """The shipped schema file ``<stem>.schema.json``, exactly as on disk."""
    if stem not in _BY_STEM:
        raise KeyError(f"no HTTP schema {stem!r}")
    return read_schema_file(stem)


@cache
def _registry() -> Registry[Any]:
    resources_ = [
        (BASE_URI + f"{stem}.schema.json", DRAFT7.create_resource(file_schema(stem))) for stem in COMPONENTS.values()
    ]
    registry: Registry[Any] = Registry().with_resources(resources_)
    return registry


@cache
def validator(stem: str) -> Validator:
    """A draft-07 validator of one shipped schema file, cross-file ``$ref`` resolved locally."""
    cls = validator_class()
    return cls(file_schema(stem), registry=_registry(), format_checker=cls.FORMAT_CHECKER)


def _rewrite_refs(node: Any, stem: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = _to_component_ref(value, stem)
            else:
                out[key] = _rewrite_refs(value, stem)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, stem) for v in node]
    return node


def _to_component_ref(ref: str, stem: str) -> str:
    target, _, pointer = ref.partition("#")
    target_stem = target.removesuffix(".schema.json") if target else stem
    if target and not target.endswith(".schema.json"):
        raise ValueError(f"{stem}.schema.json: $ref {ref!r} points outside the shipped schemas")
    return f"#/components/schemas/{_BY_STEM[target_stem]}{pointer}"


def _from_component_ref(ref: str, stem: str) -> str:
    prefix = "#/components/schemas/"
    name, _, pointer = ref[len(prefix) :].partition("/")
    target = COMPONENTS[name]
    pointer = "/" + pointer if pointer else ""
    return f"#{pointer}" if target == stem else f"{target}.schema.json#{pointer}"


def component(stem: str) -> dict[str, Any]:
    """One schema file as an OpenAPI component (see the module docstring for the two changes)."""
    schema = {k: v for k, v in copy.deepcopy(file_schema(stem)).items() if k not in ("$schema", "$id")}
    rewritten: dict[str, Any] = _rewrite_refs(schema, stem)
    return rewritten


def original_schema(name: str, comp: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`component`: the schema file the component ``name`` was built from."""
    stem = COMPONENTS[name]

    def back(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (_from_component_ref(v, stem) if k == "$ref" and isinstance(v, str) else back(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [back(v) for v in node]
        return node

    restored: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"{BASE_URI}{stem}.schema.json",
        **back(comp),
    }
    return restored


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_ERRORS = {
    "400": "Error",
    "401": "TokenRequired or InvalidToken: no usable token; nothing changed",
    "413": "PayloadTooLarge: the body is over the size limit",
    "415": "UnsupportedMediaType: the body is not application/json (UTF-8)",
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


def build_openapi(*, version: str = "0.1.0", server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of :func:`stepchart.http.create_app`."""
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
                "Reads a job: current steps, holds, return values, workflow version",
                job,
                "Job",
                "the job (without history)",
            ),
            "delete": _op(
                "deleteJob", "Deletes a job; its log and events stay (needs jobDelete)", job, "ManagementResult", mgmt
            ),
        },
        f"{base}/jobs/{{jobId}}/history": {
            "get": _op("getJobHistory", "Reads a job's history (R23)", job, "History", "the history"),
        },
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
