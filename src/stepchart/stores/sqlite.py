"""The embedded store: one SQLite file (standard library ``sqlite3``), the default.

Why it is safe with many writers, in one process or several:

- WAL journal: readers never wait for a writer, a writer never waits for readers.
- A request is one write transaction, ``BEGIN IMMEDIATE`` from the read of its job to
  the commit (R12): SQLite's single writer lock serialises requests, so two requests
  on the same job never lose an update, and what a request reads of other jobs
  cannot change under it. The transaction holds nothing but the engine's work on one
  job, a few row writes and the commit, so it stays short; waiting writers queue on
  the busy timeout.
- A writer killed in the middle leaves an uncommitted WAL tail that the next opener
  discards: every job stays equal to the replay of its log.

``synchronous=NORMAL`` (the default) survives any process crash; a power loss may
lose the last commits but never corrupts the file. ``synchronous=FULL`` syncs at each
commit (``sqlite:///path?synchronous=full``).

Read-only (``read_only=True``): the file must exist and nothing beside it is created
(``mode=ro`` would still make ``-wal``/``-shm`` files). With no ``-wal`` file (no writer
has it open) it is opened ``immutable=1``: no locks, no files, but a writer starting
during the read goes unseen; with one, ``mode=ro`` follows the writer through it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..model import Job
from .base import SCHEMA_VERSION, JobExistsError, StoreError, StoreTransaction, Transaction
from .records import JobIndex, dumps, index_job, job_from_doc
from .sql import SQLStore
from .sqlite_schema import MIGRATIONS
from .sqlrows import LOG_COLUMNS, RECALL

__all__ = ["MIGRATIONS", "SQLiteStore"]

DUE_SCHEDULED = "SELECT job_id FROM jobs WHERE next_release <= ? ORDER BY next_release, n LIMIT ?"  # partial index
DUE_DEPENDENCIES = (
    "SELECT DISTINCT w.job_id FROM job_waits w JOIN jobs d ON d.job_id = w.dep_job_id "
    "WHERE d.closed = 1 OR (w.dep_step_id IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM json_each(d.doc, '$.returnValues') r WHERE r.key = w.dep_step_id)) LIMIT ?"
)


def _damage_stays(exc: sqlite3.DatabaseError) -> None:
    """A damaged database (SQLITE_CORRUPT) is no wrong path: its own error goes on, reported as damage (exit 1)."""
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_CORRUPT":
        raise exc


class SQLiteStore(SQLStore):
    """Jobs in one SQLite file; one connection per thread (and per process after a fork).

    ``timeout``: seconds a writer waits for the lock before failing.
    ``migrate_to``: stop schema upgrades at this version (tests of upgrades only).
    ``read_only``: open an existing file for reading only (see the module text).
    """

    MIGRATIONS = MIGRATIONS
    DIALECT = "sqlite"
    DUE_SCHEDULED = DUE_SCHEDULED
    DUE_DEPENDENCIES = DUE_DEPENDENCIES
    SCHEMA_TABLE = (
        "CREATE TABLE IF NOT EXISTS stepchart_schema (version INTEGER PRIMARY KEY, "
        "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    WORKFLOW_ORDER = "rowid"
    CLOSE_ERRORS = (sqlite3.Error,)

    def __init__(
        self,
        path: str | Path,
        *,
        timeout: float = 60.0,
        synchronous: str = "NORMAL",
        migrate_to: int | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StoreError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path, self.timeout, self.synchronous, self.read_only = str(path), timeout, synchronous.upper(), read_only
        self._file = os.path.abspath(self.path)  # relative to the working folder of the open, not of a later connect
        if read_only and not os.path.isfile(self._file):
            what = "is not a file" if os.path.exists(self._file) else "no such database file"
            raise StoreError(f"{self.path}: {what} (a read-only command does not create one)")
        self._open_schema(SCHEMA_VERSION if migrate_to is None else migrate_to)

    # -- dialect ----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            if self.read_only:
                return sqlite3.connect(
                    self._read_only_uri(), uri=True, timeout=self.timeout, isolation_level=None, check_same_thread=False
                )
            conn = sqlite3.connect(self._file, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
        except sqlite3.DatabaseError as exc:
            _damage_stays(exc)
            raise StoreError(f"{self.path}: cannot open as a SQLite database: {exc}") from exc
        return conn

    def _read_only_uri(self) -> str:
        """The ``file:`` URI that reads the database without creating or changing a file (module text)."""
        mode = "mode=ro" if os.path.exists(self._file + "-wal") else "immutable=1"
        return f"{Path(self._file).as_uri()}?{mode}"

    def _has_schema_table(self, conn: sqlite3.Connection) -> bool:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stepchart_schema'")
        return found.fetchone() is not None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
        self._refuse_write(self._where())
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several SELECTs."""
        conn = self._conn()
        if conn.in_transaction:  # inside a request: its snapshot already
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    @staticmethod
    def _json(value: Any) -> Any:
        return json.loads(value) if value is not None else None

    @staticmethod
    def _flag(value: bool) -> int:
        return int(value)

    @staticmethod
    def _in_list(values: list[str]) -> tuple[str, list[Any]]:
        return "IN (" + (", ".join("?" for _ in values) or "NULL") + ")", list(values)

    @staticmethod
    def _limit(limit: int | None) -> int:
        return -1 if limit is None else limit

    @staticmethod
    def _insert_ignore(into: str) -> str:
        return f"INSERT OR IGNORE INTO {into}"

    def _where(self) -> str:
        return f"{self.path}: "

    def _record_migration(self, conn: sqlite3.Connection, version: int, description: str) -> None:
        conn.execute(
            "INSERT INTO stepchart_schema VALUES (?, ?, ?)", (version, description, datetime.now(UTC).isoformat())
        )

    # -- schema -----------------------------------------------------------------------------
    def _open_schema(self, target: int) -> None:
        try:
            super()._open_schema(target)
        except sqlite3.DatabaseError as exc:
            _damage_stays(exc)
            why = "not a stepchart SQLite database"
            if self.read_only and isinstance(exc, sqlite3.OperationalError) and os.path.exists(self._file + "-wal"):
                why = "its -wal file cannot be read without its -shm file (or a folder to create one in)"
            raise StoreError(f"{self.path}: {why}: {exc}") from exc

    # -- JobStore ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        self._refuse_write(self._where())
        conn = self._conn()
        self._begin_reads(job_id)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._end_reads()
            raise
        try:
            row = conn.execute(
                "SELECT doc, workflow, workflow_version, closed, next_release FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            job = job_from_doc(json.loads(row[0])) if row is not None else None
            before = index_job(job) if job is not None else None
            stored = row[1:] if row is not None else None
            tx = StoreTransaction(job)
            tx.recall = lambda key: self._recall(conn, job_id, key)
            yield tx
            reads = self._end_reads()
            if tx.committed and job is not None:
                self._save_request(conn, job_id, tx, before, reads, stored)
            conn.execute("COMMIT")
        except BaseException:
            self._end_reads()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _recall(self, conn: sqlite3.Connection, job_id: str, key: str) -> dict[str, Any] | None:
        """The job's log entry under an idempotency key, in its current incarnation (read under the write lock)."""
        row = conn.execute(RECALL, (job_id, key, job_id)).fetchone()
        if row is None:
            return None
        found = self.log_entries(job_id, after=row[0] - 1, limit=1)
        return found[0] if found else None

    def _write_job_row(
        self, conn: sqlite3.Connection, job: Job, ix: JobIndex, before: JobIndex | None, stored: tuple[Any, ...] | None
    ) -> bool:
        """Insert or update the job's row (an insert on a taken id raises :class:`JobExistsError`).

        ``stored``: the job row's (workflow, workflow_version, closed, next_release) as
        read in this transaction. When the new values equal them, only the document and
        the version are set: SQLite rewrites an index entry whenever its column is in
        the SET list, changed or not, and the common moves change none of these.
        """
        doc = dumps(job.to_doc())
        if before is None:
            try:
                conn.execute(
                    "INSERT INTO jobs (job_id, workflow, workflow_version, closed, version, doc, "
                    "next_release) VALUES (?, ?, ?, ?, 1, ?, ?)",
                    (job.job_id, ix.workflow, ix.workflow_version, int(ix.closed), doc, ix.next_release),
                )
            except sqlite3.IntegrityError:
                raise JobExistsError(job.job_id) from None
        elif stored is not None and tuple(stored) == (
            ix.workflow,
            ix.workflow_version,
            int(ix.closed),
            ix.next_release,
        ):
            conn.execute("UPDATE jobs SET version = version + 1, doc = ? WHERE job_id = ?", (doc, job.job_id))
        else:
            conn.execute(
                "UPDATE jobs SET workflow = ?, workflow_version = ?, closed = ?, version = version + 1, "
                "doc = ?, next_release = ? WHERE job_id = ?",
                (ix.workflow, ix.workflow_version, int(ix.closed), doc, ix.next_release, job.job_id),
            )
        return True

    def _append(
        self,
        conn: sqlite3.Connection,
        job_id: str,
        events: list[dict[str, Any]],
        log: Mapping[str, Any] | None,
        reads: Mapping[str, Any],
    ) -> None:
        """Append the log entry (if any) and the events of one request; the events name it by its row id."""
        seq: int | None = None
        if log is not None:
            seq = self._insert_log(conn, job_id, log, reads).lastrowid
        if len(events) == 1:  # the common case: a plain execute costs less than executemany
            e = events[0]
            conn.execute(
                "INSERT INTO events (job_id, log_seq, event) VALUES (?, ?, ?)", (e.get("jobId", job_id), seq, dumps(e))
            )
        elif events:
            conn.executemany(
                "INSERT INTO events (job_id, log_seq, event) VALUES (?, ?, ?)",
                [(e.get("jobId", job_id), seq, dumps(e)) for e in events],
            )

    # -- queries ----------------------------------------------------------------------------
    @staticmethod
    def _after(select: str, after: int, job_id: str | None, limit: int | None) -> tuple[str, list[Any]]:
        """``select`` (``SELECT ... FROM table``) for rows after sequence ``after``, of one job or all, in order."""
        sql = f"{select} WHERE seq > ?"
        args: list[Any] = [after]
        if job_id is not None:
            sql += " AND job_id = ?"
            args.append(job_id)
        sql += " ORDER BY seq LIMIT ?"
        args.append(-1 if limit is None else limit)
        return sql, args

    def log_entries(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(*self._after(f"SELECT {LOG_COLUMNS} FROM action_log", after, job_id, limit)).fetchall()
            if not rows:
                return []
            events: dict[int, list[dict[str, Any]]] = {}
            esql = "SELECT log_seq, event FROM events WHERE log_seq BETWEEN ? AND ?"
            eargs: list[Any] = [rows[0][0], rows[-1][0]]
            if job_id is not None:
                esql += " AND job_id = ?"
                eargs.append(job_id)
            for lseq, ev in conn.execute(esql + " ORDER BY seq", eargs):
                events.setdefault(lseq, []).append(json.loads(ev))
        return self._entries_of(rows, events)

    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        # Writers are serialised and take their sequence inside the write transaction:
        # sequence order is commit order, so "after N" never skips an event.
        sql, args = self._after("SELECT seq, log_seq, event FROM events", after, job_id, limit)
        return [
            {**json.loads(ev), "sequence": seq, "logSequence": lseq}
            for seq, lseq, ev in self._conn().execute(sql, args)
        ]

    # -- moving jobs ------------------------------------------------------------------------
    def export_records(self, job_ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        wanted = None if job_ids is None else set(job_ids)
        with self._read() as conn:
            yield from self._export_jobs(conn, wanted)
            after = 0
            while True:
                batch = self.log_entries(after=after, limit=1000)
                if not batch:
                    break
                for entry in batch:
                    if wanted is None or entry["jobId"] in wanted:
                        yield {"kind": "log", **entry}
                after = batch[-1]["sequence"]
