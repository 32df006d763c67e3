"""The schema of a SQL store on open: upgraded by a writable open, only read by a read-only one.

A database carries its schema version in ``stepchart_schema`` (one row per migration
applied). A writable open applies the missing migrations of the dialect in one
transaction, under the dialect's migration lock. A read-only open changes nothing, so
it cannot upgrade: a database without that table, or at an older version, is refused
with what to do. Either way a version newer than this stepchart's is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from .base import SCHEMA_VERSION, SchemaVersionError, StoreError

__all__ = ["Migration", "SchemaOwner", "migrate_schema", "read_schema"]

Migration = tuple[int, str, list[str], Callable[[Any, Any], None] | None]
"""(version, description, statements, backfill(store, connection) run after the statements or None)."""


class SchemaOwner(Protocol):
    """What opening a schema needs of a SQL store (:class:`~.sql.SQLStore` and its dialects)."""

    MIGRATIONS: ClassVar[list[Migration]]
    SCHEMA_TABLE: ClassVar[str]

    def _where(self) -> str: ...
    def _write(self) -> AbstractContextManager[Any]: ...
    def _read(self) -> AbstractContextManager[Any]: ...
    def _lock_schema(self, conn: Any) -> None: ...
    def _record_migration(self, conn: Any, version: int, description: str) -> None: ...
    def _has_schema_table(self, conn: Any) -> bool: ...


CURRENT_VERSION = "SELECT COALESCE(MAX(version), 0) FROM stepchart_schema"


def _refuse_newer(store: SchemaOwner, current: int) -> None:
    if current > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{store._where()}database schema version {current} is newer than this stepchart "
            f"supports ({SCHEMA_VERSION}); upgrade stepchart to open it"
        )


def migrate_schema(store: SchemaOwner, target: int) -> int:
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


def read_schema(store: SchemaOwner) -> int:
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
