"""The job fields a search may name, with their types: the whitelist every query is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["FIELDS", "Field", "FieldType", "field_named"]


class FieldType(Enum):
    """What values a field holds, and so which literals it may be compared with."""

    TEXT = "text"
    NUMBER = "number"
    FLAG = "flag"  # 0 or 1, as Workflow Manager writes ``closed=0``
    DATE = "date"


@dataclass(frozen=True)
class Field:
    """One searchable field: its spelling, its type, and whether it ranges over the current steps."""

    name: str
    type: FieldType
    per_step: bool = False
    """A field of the job's current steps: a condition on it holds when it holds for one of them."""


FIELDS: tuple[Field, ...] = (
    Field("jobId", FieldType.TEXT),
    Field("jobName", FieldType.TEXT),
    Field("jobTemplateId", FieldType.TEXT),
    Field("jobTemplateName", FieldType.TEXT),
    Field("diagramId", FieldType.TEXT),
    Field("diagramName", FieldType.TEXT),
    Field("diagramVersion", FieldType.TEXT),
    Field("description", FieldType.TEXT),
    Field("priority", FieldType.TEXT),
    Field("ownedBy", FieldType.TEXT),
    Field("createdBy", FieldType.TEXT),
    Field("createdDate", FieldType.DATE),
    Field("startDate", FieldType.DATE),
    Field("dueDate", FieldType.DATE),
    Field("endDate", FieldType.DATE),
    Field("closed", FieldType.FLAG),
    Field("jobStatus", FieldType.TEXT),
    Field("percentComplete", FieldType.NUMBER),
    Field("notes", FieldType.TEXT),
    Field("parentJob", FieldType.TEXT),
    Field("currentStepId", FieldType.TEXT, per_step=True),
    Field("currentStepName", FieldType.TEXT, per_step=True),
    Field("assignedType", FieldType.TEXT, per_step=True),
    Field("assignedTo", FieldType.TEXT, per_step=True),
)

_BY_KEY = {f.name.lower(): f for f in FIELDS}
_ALIASES = {
    "stepid": "currentstepid",
    "stepname": "currentstepname",
    "workflow": "diagramid",
    "workflowversion": "diagramversion",  # the SPEC 6.2 job document's name of it
}


def field_named(name: str) -> Field | None:
    """The field ``name`` spells (case-insensitively, as SQL identifiers are), or None."""
    key = name.lower()
    return _BY_KEY.get(_ALIASES.get(key, key))
