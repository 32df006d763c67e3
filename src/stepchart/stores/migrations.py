"""The migrations after the first, written once for both SQL stores: only the SQL type names differ."""

from __future__ import annotations

from .comments import comments_migration
from .sql import Migration, SQLStore, property_migration

__all__ = ["later_migrations"]


def later_migrations(integer: str, number: str) -> list[Migration]:
    """Versions 2 onward in a dialect: ``integer`` is its 64-bit integer type, ``number`` its float type."""
    return [
        (
            2,
            "index of scheduled releases and dependency holds (sweep)",
            [
                f"ALTER TABLE jobs ADD COLUMN next_release {integer}",
                "CREATE INDEX jobs_next_release ON jobs (next_release) WHERE next_release IS NOT NULL",
                """CREATE TABLE job_waits (
                job_id TEXT NOT NULL,
                dep_job_id TEXT NOT NULL,
                dep_step_id TEXT)""",
                "CREATE INDEX job_waits_dep ON job_waits (dep_job_id)",
                "CREATE INDEX job_waits_job ON job_waits (job_id)",
            ],
            SQLStore._backfill_holds,
        ),
        (3, "creation rank of deleted jobs (a paging cursor that survives deletion)",
         [f"CREATE TABLE deleted_jobs (job_id TEXT PRIMARY KEY, n {integer} NOT NULL)"], None),
        (4, "job properties as columns", property_migration({"text": "TEXT", "time": integer, "number": number}), None),
        comments_migration(integer),
    ]  # fmt: skip
