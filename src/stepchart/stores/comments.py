"""Job comments (issue 9): their table in each SQL dialect (one migration), rows and export records.

A comment is ``{commentId, comment, createdBy, createdDate}``, kept per job in the order
it was made; ``commentId`` is its ordinal within the job ("1", "2", ...), given under
the job's transaction lock, so two comments never share one. Comments go with their job
when it is deleted, and travel in exports as ``{"kind": "comment", "jobId", ...}``
records after the job records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import StoreError
from .schema import Migration

__all__ = [
    "COMMENTS_VERSION",
    "COMMENT_FIELDS",
    "EXPORT_COMMENTS",
    "INSERT_COMMENT",
    "SELECT_COMMENTS",
    "comment_of",
    "comment_record",
    "comment_row",
    "comments_migration",
]

COMMENTS_VERSION = 5
"""Schema version of the comments table: current (3) + 3. The helpers ``wmjobs`` (job properties)
and ``wmsearch`` take 4 and 5; the coordinator renumbers at merge."""

COMMENT_FIELDS = ("commentId", "comment", "createdBy", "createdDate")

INSERT_COMMENT = (
    "INSERT INTO job_comments (job_id, comment_id, n, comment, created_by, created_date) VALUES (?, ?, ?, ?, ?, ?)"
)
SELECT_COMMENTS = "SELECT comment_id, comment, created_by, created_date FROM job_comments WHERE job_id = ? ORDER BY n"
EXPORT_COMMENTS = (
    "SELECT c.job_id, c.comment_id, c.comment, c.created_by, c.created_date FROM job_comments c "
    "JOIN jobs j ON j.job_id = c.job_id ORDER BY j.n, c.n"
)


def comments_migration(integer: str) -> Migration:
    """The migration adding ``job_comments``; ``integer`` is the dialect's type of the ordinal column."""
    return (
        COMMENTS_VERSION,
        "job comments (issue 9)",
        [
            f"""CREATE TABLE job_comments (
            job_id TEXT NOT NULL,
            comment_id TEXT NOT NULL,
            n {integer} NOT NULL,
            comment TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_date TEXT NOT NULL,
            PRIMARY KEY (job_id, comment_id))""",
        ],
        None,
    )


def comment_row(job_id: str, comment: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ``INSERT_COMMENT`` parameters of one comment."""
    cid = str(comment["commentId"])
    n = int(cid) if cid.isascii() and cid.isdigit() else 0
    return (job_id, cid, n, comment["comment"], comment["createdBy"], comment["createdDate"])


def comment_of(row: tuple[Any, ...]) -> dict[str, Any]:
    """A ``SELECT_COMMENTS`` row as a comment."""
    return dict(zip(COMMENT_FIELDS, row, strict=True))


def comment_record(rec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An export's comment record checked (every field a string), as a comment; a :class:`StoreError` otherwise."""
    bad = [k for k in ("jobId", *COMMENT_FIELDS) if not isinstance(rec.get(k), str)]
    if bad:
        raise StoreError(f"{where}: a comment record needs string fields: {', '.join(bad)}")
    return {k: rec[k] for k in COMMENT_FIELDS}
