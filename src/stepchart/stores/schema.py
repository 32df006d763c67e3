"""The schema of a SQL store on open: upgraded by a writable open, only read by a read-only one.

A database carries its schema version in ``stepchart_schema`` (one row per migration
applied). A writable open applies the missing migrations of the dialect in one
transaction, under the dialect's migration lock. A read-only open changes nothing, so
it cannot upgrade: a database without that table, or at an older version, is refused
with what to do. Either way a version newer than this stepchart's is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import SCHEMA_VERSION, SchemaVersionError, StoreError

if TYPE_CHECKING:
    from .sql import SQLStore

__all__ = ["migrate_schema", "read_schema"]

CURRENT_VERSION = "SELECT COALESCE(MAX(version), 0) FROM stepchart_schema"


def _refuse_newer(store: SQLStore, current: int) -> None:
    if current > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{store._where()}database schema version {current} is newer than this stepchart "
            f"supports ({SCHEMA_VERSION}); upgrade stepchart to open it"
        )


def migrate_schema(store: SQLStore, target: int) -> int:
    """Create the schema table and apply the migrations up to ``target``; returns the version reached."""
    with store._write() as conn:
        store._lock_schema(conn)
        conn.execute(store.SCHEMA_TABLE)
        row = conn.execute(CURRENT_VERSION).fetchone()
        current = int(row[0]) if row is not None else 0
        _refuse_newer(store, current)
        for version, description, statements, backfill in store.MIGRATIONS:
            if current < version <= target:
                for sql in statements:
                    conn.execute(sql)
                if backfill is not None:
                    backfill(store, conn)
                store._record_migration(conn, version, description)
                current = version
    return current


def read_schema(store: SQLStore) -> int:
    """The schema version as found, for a read-only open: this stepchart's, or a :class:`StoreError`."""
    with store._read() as conn:
        if not store._has_schema_table(conn):
            raise StoreError(f"{store._where()}not a stepchart database (it has no stepchart_schema table)")
        row = conn.execute(CURRENT_VERSION).fetchone()
    current = int(row[0]) if row is not None else 0
    _refuse_newer(store, current)
    if current < SCHEMA_VERSION:
        raise StoreError(
            f"{store._where()}database schema version {current} is older than this stepchart's "
            f"({SCHEMA_VERSION}) and a read-only command does not upgrade it: run a command that "
            "writes (stepchart sweep, say) on it or on a copy first"
        )
    return current
