"""A job's properties as Workflow Manager keeps them: name, people, dates, notes, progress, extended properties.

They ride beside the lifecycle state of :class:`~stepchart.model.job.Job` and never
steer it: no rule or move reads them. A SPEC 6.2 document without them loads with every
property empty; a document only carries the ones that are set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Final

from .times import format_datetime, parse_datetime

__all__ = ["DATE_KEYS", "EDITABLE_KEYS", "PROPERTY_KEYS", "JobProperties", "Scalar"]

Scalar = str | int | float | bool | None
"""The value of one extended property (``table.property``)."""

PROPERTY_KEYS: Final[dict[str, str]] = {
    "jobName": "job_name",
    "jobTemplateId": "template",
    "description": "description",
    "priority": "priority",
    "ownedBy": "owned_by",
    "createdBy": "created_by",
    "createdDate": "created_date",
    "startDate": "start_date",
    "dueDate": "due_date",
    "endDate": "end_date",
    "notes": "notes",
    "parentJob": "parent_job",
    "percentComplete": "percent_complete",
}
"""Document key -> attribute, for the scalar properties (``extendedProperties`` apart)."""

DATE_KEYS: Final = ("createdDate", "startDate", "dueDate", "endDate")

EDITABLE_KEYS: Final = (
    "jobName",
    "description",
    "priority",
    "ownedBy",
    "startDate",
    "dueDate",
    "notes",
    "parentJob",
    "percentComplete",
    "extendedProperties",
)
"""What an update may change; the rest is set by the engine (creation, closing) or by the template."""


def _date(value: Any) -> str | None:
    return None if value is None else format_datetime(parse_datetime(str(value)))


@dataclass(frozen=True)
class JobProperties:
    """The properties of one job; dates are normalised RFC 3339 UTC texts (or None)."""

    job_name: str | None = None
    template: str | None = None
    description: str | None = None
    priority: str | None = None
    owned_by: str | None = None
    created_by: str | None = None
    created_date: str | None = None
    start_date: str | None = None
    due_date: str | None = None
    end_date: str | None = None
    notes: str | None = None
    parent_job: str | None = None
    percent_complete: float | None = None
    extended_properties: Mapping[str, Scalar] = field(default_factory=dict)
    """A flat map ``"table.property"`` -> value; never changed in place (``replace`` makes a new one)."""

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> JobProperties:
        """The properties a job document (or update body) carries; dates normalised (``ValueError`` if bad)."""
        values: dict[str, Any] = {}
        for key, attr in PROPERTY_KEYS.items():
            v = doc.get(key)
            if v is None:
                continue
            values[attr] = _date(v) if key in DATE_KEYS else float(v) if key == "percentComplete" else str(v)
        values["extended_properties"] = dict(doc.get("extendedProperties") or {})
        return cls(**values)

    def to_doc(self) -> dict[str, Any]:
        """The properties that are set, under their document keys."""
        out: dict[str, Any] = {}
        for key, attr in PROPERTY_KEYS.items():
            v = getattr(self, attr)
            if v is not None:
                out[key] = v
        if self.extended_properties:
            out["extendedProperties"] = dict(self.extended_properties)
        return out

    def changed(self, changes: Mapping[str, Any]) -> JobProperties:
        """These properties with the editable ``changes`` (document keys) applied; a None value clears one.

        ``extendedProperties`` merges: each ``table.property`` given is set (None removes it).
        """
        values: dict[str, Any] = {}
        for key, v in changes.items():
            if key == "extendedProperties":
                merged = {**self.extended_properties, **v}
                values["extended_properties"] = {k: x for k, x in merged.items() if x is not None}
            elif key in EDITABLE_KEYS:
                attr = PROPERTY_KEYS[key]
                values[attr] = (
                    None if v is None else _date(v) if key in DATE_KEYS else float(v) if key == "percentComplete" else v
                )
            else:
                raise ValueError(f"{key} is not a property an update may change")
        return replace(self, **values)

    def created(self, by: str, at: datetime) -> JobProperties:
        """Stamped as created by ``by`` at ``at`` (kept if set); the start date defaults to the creation."""
        created = self.created_date or format_datetime(at)
        return replace(
            self, created_by=self.created_by or by, created_date=created, start_date=self.start_date or created
        )

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, {}) for f in fields(self))
