"""The job properties as real columns of the SQL stores' ``jobs`` table (schema version 4), for searches.

The job document stays the truth (:mod:`.records`); these columns repeat its scalar
properties so that a filter on them is a plain, indexable SQL condition. Dates are
integers (microseconds since 1970 UTC, as ``next_release``), so they sort as
the times do. Extended properties stay in the document only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["PROPERTY_COLUMNS", "UPDATE_PROPERTIES", "property_migration"]

PROPERTY_COLUMNS: Final = (
    ("job_name", "text"),
    ("template_id", "text"),
    ("description", "text"),
    ("priority", "text"),
    ("owned_by", "text"),
    ("created_by", "text"),
    ("created_date", "time"),
    ("start_date", "time"),
    ("due_date", "time"),
    ("end_date", "time"),
    ("notes", "text"),
    ("parent_job", "text"),
    ("percent_complete", "number"),
)
"""(column, kind); the column is the :class:`~stepchart.model.JobProperties` attribute (``template_id``:
``template``). :func:`~.records.property_row` gives the values in this order."""

_INDEXED: Final = ("owned_by", "created_date", "due_date", "parent_job", "template_id")

UPDATE_PROPERTIES: Final = (
    "UPDATE jobs SET " + ", ".join(f"{c} = ?" for c, _ in PROPERTY_COLUMNS) + " WHERE job_id = ?"
)
"""Set every property column of one job (``?`` placeholders: the row of :func:`property_row`, then the id)."""


def property_migration(types: dict[str, str]) -> list[str]:
    """The statements of migration 4 in a dialect: ``types`` maps each kind (text, time, number) to its SQL type."""
    out = [f"ALTER TABLE jobs ADD COLUMN {c} {types[kind]}" for c, kind in PROPERTY_COLUMNS]
    out.extend(f"CREATE INDEX jobs_{c} ON jobs ({c}, n)" for c in _INDEXED)
    return out
