"""Persistence: the store interface, the one memory store, and the SQL backends behind one URL opener.

Only this module names the backends, and only inside :func:`open_store`, so importing
the interface never loads a database driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import (
    EventWakeups,
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
from .urls import KNOWN_FORMS, StoreURL, parse_store_url

__all__ = [
    "DEFAULT_STORE",
    "KNOWN_FORMS",
    "EventWakeups",
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
    "StoreURL",
    "Transaction",
    "job_summary",
    "open_store",
    "parse_store_url",
]

from ..io.files import DEFAULT_STORE

# -- opening ----------------------------------------------------------------------------------


def open_store(target: str | Path | None = None, *, read_only: bool = False, **options: Any) -> ManagedStore:
    """Open a store by URL or path (the forms: :mod:`.urls`; default ``./stepchart.db``).

    - ``memory:``: :class:`MemoryStore`;
    - ``postgresql://...`` (or ``postgres://``): :class:`~stepchart.stores.postgres.PostgresStore`;
    - ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or a plain file path:
      :class:`~stepchart.stores.sqlite.SQLiteStore`. ``?synchronous=full`` after a SQLite
      URL asks for an fsync at every commit.

    An unknown scheme, or ``memory`` without its colon, raises :class:`StoreError` naming
    the known forms. The schema is created or upgraded on open; a database written by a
    newer stepchart raises :class:`SchemaVersionError`. ``read_only``: the database must
    exist and is never changed (no file created, no migration); every write raises
    :class:`StoreError`.
    """
    url = parse_store_url(target if target is not None else DEFAULT_STORE)
    if url.kind == "memory":
        return MemoryStore(read_only=read_only)
    if url.kind == "postgresql":
        from .postgres import PostgresStore

        return PostgresStore(url.target, read_only=read_only, **options)
    if "synchronous" in url.options:
        options.setdefault("synchronous", url.options["synchronous"].upper())
    from .sqlite import SQLiteStore

    return SQLiteStore(url.target, read_only=read_only, **options)
