"""Persistence: the store interface, the one memory store, and the SQL backends behind one URL opener.

Only this module names the backends, and only inside :func:`open_store`, so importing
the interface never loads a database driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import (
    ImportReport,
    JobExistsError,
    JobFilter,
    JobStore,
    ManagedStore,
    SchemaVersionError,
    StoreError,
    StoreTransaction,
    Transaction,
)
from .memory import ManagedMemoryStore, MemoryStore
from .records import job_summary

__all__ = [
    "DEFAULT_STORE",
    "ImportReport",
    "JobExistsError",
    "JobFilter",
    "JobStore",
    "ManagedMemoryStore",
    "ManagedStore",
    "MemoryStore",
    "SchemaVersionError",
    "StoreError",
    "StoreTransaction",
    "Transaction",
    "job_summary",
    "open_store",
]

from ..io.files import DEFAULT_STORE

# -- opening ----------------------------------------------------------------------------------


def open_store(target: str | Path | None = None, **options: Any) -> ManagedStore:
    """Open a store by URL or path.

    - ``memory:``: :class:`MemoryStore`;
    - ``postgresql://...`` (or ``postgres://``): :class:`~stepchart.stores.postgres.PostgresStore`;
    - ``sqlite:///path``, ``sqlite:path`` or a plain file path (default ``./stepchart.db``):
      :class:`~stepchart.stores.sqlite.SQLiteStore`. ``?synchronous=full`` after a SQLite
      URL asks for an fsync at every commit.

    The schema is created or upgraded on open; a database written by a newer stepchart
    raises :class:`SchemaVersionError`.
    """
    text = str(target) if target is not None else DEFAULT_STORE
    if text == "memory:":
        return MemoryStore()
    if text.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(text, **options)
    path = text
    if text.startswith("sqlite:"):
        path = text[len("sqlite:") :]
        if path.startswith("//"):
            path = path[2:]
        if "?" in path:
            path, _, query = path.partition("?")
            for part in query.split("&"):
                key, _, value = part.partition("=")
                if key == "synchronous":
                    options.setdefault("synchronous", value.upper())
                elif key:
                    raise StoreError(f"unknown SQLite URL option {key!r}; known: synchronous")
        if not path:
            raise StoreError(f"{text!r}: a SQLite URL names a file (sqlite:///path/to/jobs.db)")
    from .sqlite import SQLiteStore

    return SQLiteStore(path, **options)
