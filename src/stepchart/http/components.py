"""The shipped JSON Schema files as the HTTP layer uses them: validators and OpenAPI components.

The request and response schemas of the OpenAPI document must be the very files the
engine and the HTTP layer validate with (``src/stepchart/schemas/*.schema.json``), so
they cannot drift. Each file becomes one entry of ``components.schemas`` with two
mechanical changes, undone by :func:`original_schema` (a test checks the round trip):

- ``$schema`` and ``$id`` are dropped: inside an OpenAPI document a schema's base URI
  is the document, and a ``$id`` would make conforming tools resolve the component's
  ``$ref`` against ``https://stepchart.dev/...`` instead;
- every ``$ref`` is rewritten to point into ``components``: ``#/definitions/x`` of
  ``job.schema.json`` becomes ``#/components/schemas/Job/definitions/x``, and
  ``job.schema.json#/definitions/x`` from another file the same.

The files are draft-07 and use nothing whose meaning differs in the 2020-12 dialect of
OpenAPI 3.1 (``definitions`` is reached only by JSON pointer).

:func:`validator` gives the HTTP layer its validators: draft-07, with the files
cross-referenced through a ``referencing`` registry, and the engine's own ``date-time``
format (SPEC R10).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from ..io.schemas import read_schema_file, validator_class

__all__ = ["BASE_URI", "COMPONENTS", "ROUTE_SCHEMAS", "component", "file_schema", "original_schema", "validator"]

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
    "TemplateJobsRequest": "http-template-jobs",
    "UpdateJobRequest": "http-update-job",
    "WmJob": "http-wm-job",
    "JobSearchRequest": "http-job-search",
    "JobSearchResult": "http-job-search-result",
    "JobStatisticsRequest": "http-job-statistics",
    "JobStatisticsResult": "http-job-statistics-result",
    "ManageRequest": "http-manage",
    "ManageResult": "http-manage-result",
    "CommentRequest": "http-comment",
    "CommentAdded": "http-comment-added",
    "Comments": "http-comments",
    "WmHistory": "http-wm-history",
    "Diagram": "http-diagram",
    "Diagrams": "http-diagrams",
}
"""OpenAPI component name -> schema file stem (``<stem>.schema.json``)."""

_BY_STEM = {stem: name for name, stem in COMPONENTS.items()}

ROUTE_SCHEMAS: dict[str, str] = {
    "create": "http-create-job",
    "respond": "http-respond",
    "complete": "http-complete",
    "fail": "http-fail",
    "assign": "http-assign",
    "manage": "http-manage",
    "comment": "http-comment",
    "templateJobs": "http-template-jobs",
    "update": "http-update-job",
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
