"""Workflow Manager's job model and job template model, built from our jobs, workflows and templates.

``GET .../jobs/{jobId}`` answers :func:`job_model`: every field of Workflow Manager's job
(``jobName``, ``diagramId``, ``diagramVersion``, ``currentSteps[].stepName``, ...) plus
the SPEC 6.2 fields that model lacks (``workflow``, ``workflowVersion``,
``returnValues``, each current step's ``status``). Extended properties are kept as a flat
``table.property`` map and shown in the client's shape, one entry per table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ..bootstrap import Engine
from ..model import Job, JobTemplate, Workflow
from ..model.properties import PROPERTY_KEYS, Scalar

__all__ = ["READ_ONLY_KEYS", "ext_from_client", "ext_to_client", "job_model", "template_model"]

READ_ONLY_KEYS: Final = (
    "jobId",
    "jobTemplateId",
    "jobTemplateName",
    "diagramId",
    "diagramName",
    "diagramVersion",
    "createdBy",
    "createdDate",
    "endDate",
    "closed",
    "jobStatus",
    "currentSteps",
    "holds",
    "workflow",
    "workflowVersion",
    "returnValues",
)
"""Fields of the job model an update may carry but not change (the client posts the whole job back)."""


def ext_to_client(flat: Mapping[str, Scalar]) -> list[dict[str, Any]]:
    """``{"table.prop": v}`` as the client's list ``[{tableName, relationshipType, properties: [...]}]``."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(flat):
        table, _, prop = key.partition(".")
        tables.setdefault(table, []).append({"propertyName": prop, "value": flat[key]})
    return [{"tableName": t, "relationshipType": "OneToOne", "properties": p} for t, p in tables.items()]


def ext_from_client(value: Any) -> dict[str, Scalar]:
    """The client's extended properties (its list of tables, or one table, or our flat map) as a flat map.

    ``ValueError`` names what is wrong (not a table list, a name with a dot, a value that is not a scalar).
    """
    if isinstance(value, dict) and "tableName" not in value:
        items = list(value.items())
        for k, v in items:
            table, dot, prop = str(k).partition(".")
            if not dot or not table or not prop or "." in prop:
                raise ValueError(f"extended property {k!r} is not table.property")
            _scalar(k, v)
        return dict(items)
    tables = [value] if isinstance(value, dict) else value
    if not isinstance(tables, list):
        raise ValueError("extendedProperties is a list of {tableName, properties: [{propertyName, value}]}")
    out: dict[str, Scalar] = {}
    for t in tables:
        if not (isinstance(t, dict) and isinstance(t.get("tableName"), str) and isinstance(t.get("properties"), list)):
            raise ValueError("each extended property table is {tableName, properties: [{propertyName, value}]}")
        for p in t["properties"]:
            name = p.get("propertyName") if isinstance(p, dict) else None
            if not isinstance(name, str) or not name or "." in name or "." in t["tableName"] or not t["tableName"]:
                raise ValueError(f"table {t['tableName']!r}: each property needs a propertyName without a dot")
            out[f"{t['tableName']}.{name}"] = _scalar(name, p.get("value"))
    return out


def _scalar(name: Any, value: Any) -> Scalar:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError(f"extended property {name!r}: the value must be a string, number, boolean or null")
    return value


def diagram_version(engine: Engine, workflow: str, version: str) -> int | None:
    """The version's number: its place (from 1) among the workflow's loaded versions, oldest first."""
    versions = engine.workflow_versions(workflow)
    return versions.index(version) + 1 if version in versions else None


def job_status(engine: Engine, job: Job, wf: Workflow) -> str:
    """``Closed``; ``Working`` while a step runs; ``OnHold`` when every current step is held; else ``Ready``."""
    if job.closed:
        return "Closed"
    types = engine.step_types
    if any(types[wf.steps[c.step_id].type].is_running(c.status) for c in job.current_steps if c.step_id in wf.steps):
        return "Working"
    held = {h.step_id for h in job.holds if not h.released}
    if job.current_steps and all(c.step_id in held for c in job.current_steps):
        return "OnHold"
    return "Ready"


def job_model(engine: Engine, job: Job, templates: Mapping[str, JobTemplate]) -> dict[str, Any]:
    """The job as Workflow Manager's job model plus its SPEC 6.2 fields (see the module text)."""
    wf = engine.workflow_for(job)
    p = job.properties
    template = templates.get(p.template or wf.id)
    doc: dict[str, Any] = {
        "jobId": job.job_id,
        "jobName": p.job_name,
        "jobTemplateId": p.template or (template.id if template is not None else wf.id),
        "jobTemplateName": template.name if template is not None else None,
        "diagramId": wf.id,
        "diagramName": wf.name or wf.id,
        "diagramVersion": diagram_version(engine, wf.id, job.workflow_version),
        "workflow": job.workflow,
        "workflowVersion": job.workflow_version,
    }
    for key, attr in PROPERTY_KEYS.items():
        if key not in doc:
            doc[key] = getattr(p, attr)
    active = [h for h in job.holds if not h.released]
    doc.update(
        {
            "closed": job.closed,
            "jobStatus": job_status(engine, job, wf),
            "currentSteps": [_current(wf, c.to_doc(), active) for c in job.current_steps],
            "holds": [h.to_doc() for h in job.holds],
            "returnValues": dict(job.return_values),
            "extendedProperties": ext_to_client(p.extended_properties),
        }
    )
    return doc


def _current(wf: Workflow, step: dict[str, Any], active: Sequence[Any]) -> dict[str, Any]:
    sid = step["stepId"]
    sdef = wf.steps.get(sid)
    mine = [h for h in active if h.step_id == sid]
    releases = sorted(h.scheduled_release for h in mine if h.scheduled_release is not None)
    return {
        **step,
        "stepName": (sdef.name or sid) if sdef is not None else sid,
        "assignedTo": step.get("assignedTo"),
        "canSkip": bool(sdef.can_skip) if sdef is not None else False,
        "manualHold": any(h.dependent_job_id is None and h.scheduled_release is None for h in mine),
        "holdScheduledRelease": releases[0] if releases else None,
        "dependencies": [
            {"jobId": h.dependent_job_id, "stepId": h.dependent_step_id} for h in mine if h.dependent_job_id
        ],
    }


def template_model(t: JobTemplate, workflows: Mapping[str, Workflow]) -> dict[str, Any]:
    """A template in the client's shape: every field it may read (None where we have nothing), plus ``dueIn``."""
    wf = workflows.get(t.workflow)
    due_days = t.due_in.total_seconds() / 86400 if t.due_in is not None else None
    return {
        "jobTemplateId": t.id,
        "jobTemplateName": t.name or t.id,
        "category": None,
        "defaultJobDuration": due_days,
        "defaultAssignedTo": t.assigned_to,
        "defaultDueDate": None,
        "defaultStartDate": None,
        "jobStartDateType": "CreationDate",
        "diagramId": t.workflow,
        "diagramName": (wf.name or wf.id) if wf is not None else t.workflow,
        "defaultPriorityName": t.priority,
        "defaultAssignedType": t.assigned_type or "Unassigned",
        "description": t.description,
        "defaultDescription": t.description,
        "state": t.state,
        "extendedPropertyTableDefinitions": [],
        "lastUpdatedBy": None,
        "lastUpdatedDate": None,
        "defaultJobName": t.job_name,
        "defaultStatus": None,
        "defaultFinalStatus": None,
        "default": t.default,
    }
