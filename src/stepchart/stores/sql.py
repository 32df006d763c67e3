"""What the SQL stores share: :class:`SQLStore`, the base of the SQLite and PostgreSQL stores.

Both keep the same tables (see the migrations of :mod:`.sqlite` and
:mod:`.postgres`) and answer most calls with the same statements. This class
holds that common part; a dialect supplies the small pieces that differ:

- :meth:`SQLStore._q`: statements are written here with ``?`` placeholders; the
  dialect rewrites them to its own style;
- :meth:`SQLStore._connect` / :meth:`SQLStore._alive`: opening a connection and telling
  a dead one;
- :meth:`SQLStore._write` / :meth:`SQLStore._read`: what a write or read transaction
  is (``BEGIN IMMEDIATE`` on SQLite, a transaction block on PostgreSQL);
- :meth:`SQLStore._json` / :meth:`SQLStore._flag` / :meth:`SQLStore._in_list` /
  :meth:`SQLStore._limit`: how values go into and come out of the database;
- :meth:`SQLStore._insert_ignore`: the "insert unless present" syntax;
- the job row itself (:meth:`SQLStore._write_job_row`), the log and events feeds and
  the request transaction, whose locking and ordering differ in substance.
"""

from __future__ import annotations

import contextlib
import os
import threading
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar

from ..model import Job
from .base import (
    ImportReport,
    JobExistsError,
    JobFilter,
    JobSearch,
    ManagedStore,
    SearchPage,
    StoreTransaction,
)
from .comments import EXPORT_COMMENTS, INSERT_COMMENT, SELECT_COMMENTS, comment_of, comment_row
from .compact import compact_response
from .jobsearch import SqlDialect, sql_count_by, sql_find
from .propcolumns import UPDATE_PROPERTIES, property_migration
from .query.sqlgen import Dialect
from .records import JobIndex, dumps, export_header, index_job, job_from_doc, job_summary, run_import, to_micros
from .schema import Migration, migrate_schema, read_schema
from .sqlrows import KEEP_RANK, filter_where, log_entries_of

__all__ = ["Migration", "SQLStore", "property_migration"]


class SQLStore(ManagedStore):
    """A store in a SQL database; one connection per thread (and per process after a fork)."""

    MIGRATIONS: ClassVar[list[Migration]]
    DUE_SCHEDULED: ClassVar[str]  # params: (now in micros, limit)
    DUE_DEPENDENCIES: ClassVar[str]  # params: (limit,)
    SCHEMA_TABLE: ClassVar[str]  # CREATE TABLE IF NOT EXISTS stepchart_schema ...
    WORKFLOW_ORDER: ClassVar[str]  # the column that orders workflows by insertion
    CLOSE_ERRORS: ClassVar[tuple[type[BaseException], ...]] = (Exception,)
    DIALECT: ClassVar[Dialect]  # what stores.query.to_sql writes for this database

    def __init__(self) -> None:
        super().__init__()
        self._conns: list[tuple[int, Any]] = []
        self._generation = 0  # bumped by close(): other threads then reconnect
        self._conns_lock = threading.Lock()
        self._version = 0

    # -- dialect ----------------------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new connection (StoreError if the database cannot be reached or opened)."""

    def _alive(self, conn: Any) -> bool:
        """Whether this thread's connection can still be used."""
        return True

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """One write transaction: committed on exit, rolled back on any error."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """One consistent snapshot for several SELECTs (or the request's own transaction)."""

    @staticmethod
    def _q(sql: str) -> str:
        """``sql`` (written with ``?`` placeholders) in the dialect's placeholder style."""
        return sql

    @staticmethod
    def _json(value: Any) -> Any:
        """A JSON column's value as read (the dialect may have decoded it already)."""
        return value

    @staticmethod
    def _flag(value: bool) -> Any:
        """A boolean as the database stores it."""
        return value

    @staticmethod
    @abstractmethod
    def _in_list(values: list[str]) -> tuple[str, list[Any]]:
        """A ``column <fragment>`` membership test (``values`` may be empty) and its parameters."""

    @staticmethod
    def _limit(limit: int | None) -> Any:
        """A LIMIT parameter: None means no limit."""
        return limit

    @staticmethod
    def _insert_ignore(into: str) -> str:
        """``INSERT INTO <into>`` that does nothing when the row's key is present."""
        return f"INSERT INTO {into} ON CONFLICT DO NOTHING"

    def _where(self) -> str:
        """What an error message names the database by (a prefix, may be empty)."""
        return ""

    def _lock_schema(self, conn: Any) -> None:
        """Keep other migrators out until the migration transaction ends."""

    def _record_migration(self, conn: Any, version: int, description: str) -> None:
        conn.execute(
            self._q("INSERT INTO stepchart_schema (version, description) VALUES (?, ?)"), (version, description)
        )

    # -- connections ------------------------------------------------------------------------
    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if (
            conn is not None
            and getattr(self._local, "key", None) == (os.getpid(), self._generation)
            and self._alive(conn)
        ):
            return conn
        conn = self._connect()
        self._local.conn, self._local.key = conn, (os.getpid(), self._generation)
        with self._conns_lock:
            self._conns.append((os.getpid(), conn))
        return conn

    def close(self) -> None:
        """Close every connection this store opened in this process (a forked child leaves its parent's alone).

        The store stays usable: a later call opens a new connection.
        """
        with self._conns_lock:
            conns, self._conns = self._conns, []
            self._generation += 1
        for pid, c in conns:
            if pid == os.getpid():
                with contextlib.suppress(*self.CLOSE_ERRORS):  # closing is best effort
                    c.close()
        self._local.conn = None

    # -- schema -----------------------------------------------------------------------------
    def _open_schema(self, target: int) -> None:
        """Writable: create or upgrade the schema up to ``target``; read-only: take it as found (:mod:`.schema`)."""
        self._version = read_schema(self) if self.read_only else migrate_schema(self, target)

    @abstractmethod
    def _has_schema_table(self, conn: Any) -> bool:
        """Whether the database holds the ``stepchart_schema`` table."""

    def _backfill_holds(self, conn: Any) -> None:
        """Migration 2: compute next_release and the waits of every existing job."""
        rows = conn.execute("SELECT job_id, doc FROM jobs").fetchall()
        for job_id, doc in rows:
            ix = index_job(job_from_doc(self._json(doc)))
            conn.execute(self._q("UPDATE jobs SET next_release = ? WHERE job_id = ?"), (ix.next_release, job_id))
            self._executemany(
                conn,
                "INSERT INTO job_waits (job_id, dep_job_id, dep_step_id) VALUES (?, ?, ?)",
                [(job_id, d, s) for d, s in ix.waits],
            )

    @property
    def schema_version(self) -> int:
        return self._version

    # -- JobStore ---------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        row = self._conn().execute(self._q("SELECT doc FROM jobs WHERE job_id = ?"), (job_id,)).fetchone()
        job = job_from_doc(self._json(row[0])) if row is not None else None
        self._record_read(job_id, job)
        return job

    def exists(self, job_id: str) -> bool:
        return self._conn().execute(self._q("SELECT 1 FROM jobs WHERE job_id = ?"), (job_id,)).fetchone() is not None

    def job_ids(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT job_id FROM jobs ORDER BY n")]

    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        with self._write() as conn:
            if not self._write_job(conn, job, None):
                raise JobExistsError(job.job_id)
            self._append(conn, job.job_id, events or [], log, {})

    def _save_request(
        self,
        conn: Any,
        job_id: str,
        tx: StoreTransaction,
        before: JobIndex | None,
        reads: Mapping[str, Any],
        stored: tuple[Any, ...] | None = None,
    ) -> None:
        """Write what a committed request on an existing job left: the job (or its deletion), log and events."""
        if tx.deleted:
            # the job's creation rank stays, so that paging with after=<this id> goes on from here
            conn.execute(self._q(KEEP_RANK), (job_id,))
            for table in ("jobs", "job_steps", "job_waits", "job_comments"):
                conn.execute(self._q(f"DELETE FROM {table} WHERE job_id = ?"), (job_id,))
        elif tx.job_to_save is not None:
            self._write_job(conn, tx.job_to_save, before, stored)
        if not tx.deleted:
            self._executemany(conn, INSERT_COMMENT, [comment_row(job_id, c) for c in tx.comments])
        self._append(conn, job_id, tx.events, tx.log, reads)

    @abstractmethod
    def _write_job_row(
        self, conn: Any, job: Job, ix: JobIndex, before: JobIndex | None, stored: tuple[Any, ...] | None
    ) -> bool:
        """Insert (``before`` None) or update the job's row; an insert on a taken id returns False or
        raises :class:`JobExistsError`."""

    def _write_job(self, conn: Any, job: Job, before: JobIndex | None, stored: tuple[Any, ...] | None = None) -> bool:
        """Write a job's document and derived rows; ``before`` None inserts (False if the id is taken).

        Current steps, holds and the property columns are rewritten only when they changed.
        """
        ix = index_job(job)
        if not self._write_job_row(conn, job, ix, before, stored):
            return False
        if before.props != ix.props if before is not None else any(v is not None for v in ix.props):
            conn.execute(self._q(UPDATE_PROPERTIES), (*ix.props, job.job_id))
        if before is None or before.steps != ix.steps:
            if before is not None:
                conn.execute(self._q("DELETE FROM job_steps WHERE job_id = ?"), (job.job_id,))
            self._executemany(
                conn,
                "INSERT INTO job_steps VALUES (?, ?, ?, ?, ?)",
                [(job.job_id, i, *s) for i, s in enumerate(ix.steps)],
            )
        if before is None or before.waits != ix.waits:
            if before is not None:
                conn.execute(self._q("DELETE FROM job_waits WHERE job_id = ?"), (job.job_id,))
            self._executemany(
                conn,
                "INSERT INTO job_waits (job_id, dep_job_id, dep_step_id) VALUES (?, ?, ?)",
                [(job.job_id, d, s) for d, s in ix.waits],
            )
        found = self._workflow_to_save(job)
        if found is not None:
            self._insert_workflow(conn, *found)
        return True

    def _executemany(self, conn: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement over several rows (none: nothing runs)."""
        if rows:
            conn.executemany(self._q(sql), rows)

    @abstractmethod
    def _append(
        self,
        conn: Any,
        job_id: str,
        events: list[dict[str, Any]],
        log: Mapping[str, Any] | None,
        reads: Mapping[str, Any],
    ) -> None:
        """Append the log entry (if any) and the events of one request."""

    def _insert_log(self, conn: Any, job_id: str, log: Mapping[str, Any], reads: Mapping[str, Any]) -> Any:
        """Insert one action-log row; returns the cursor."""
        return conn.execute(
            self._q(
                "INSERT INTO action_log (job_id, actor, action, body, now, response, reads, idem_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                log.get("jobId", job_id),
                dumps(log.get("actor")),
                log["action"],
                dumps(log.get("body")),
                log.get("now"),
                dumps(compact_response(log.get("body"), log.get("response"))),
                dumps(dict(reads)),
                log.get("idempotencyKey"),
            ),
        )

    # -- workflow versions ------------------------------------------------------------------
    def _insert_workflow(self, conn: Any, workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
        conn.execute(
            self._q(self._insert_ignore("workflows (workflow_id, version, source) VALUES (?, ?, ?)")),
            (workflow_id, version, dumps(source)),
        )
        self._known_versions.add((workflow_id, version))

    def save_workflow(self, workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
        if self.in_transaction:
            self._insert_workflow(self._conn(), workflow_id, version, source)
            return
        with self._write() as conn:
            self._insert_workflow(conn, workflow_id, version, source)

    def stored_workflows(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = (
            self._conn()
            .execute(f"SELECT workflow_id, version, source FROM workflows ORDER BY {self.WORKFLOW_ORDER}")
            .fetchall()
        )
        return [(w, v, self._json(s)) for w, v, s in rows]

    # -- queries ----------------------------------------------------------------------------
    def search(self, flt: JobFilter) -> list[dict[str, Any]]:
        where, args = filter_where(flt, self._flag, self._in_list)
        sql = "SELECT j.doc FROM jobs j"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY j.n LIMIT ?"
        args.append(self._limit(flt.limit))
        return [job_summary(self._json(r[0])) for r in self._conn().execute(self._q(sql), args)]

    def _search_dialect(self) -> SqlDialect:
        return SqlDialect(self.DIALECT, self._q, self._flag, self._in_list, self._json, self._limit)

    def find_jobs(self, search: JobSearch) -> SearchPage:
        with self._read() as conn:
            return sql_find(conn, search, self._search_dialect())

    def count_jobs_by(self, search: JobSearch, field: str) -> tuple[int, list[tuple[Any, int]]]:
        with self._read() as conn:
            return sql_count_by(conn, search, field, self._search_dialect())

    def comments(self, job_id: str) -> list[dict[str, Any]]:
        return [comment_of(tuple(r)) for r in self._conn().execute(self._q(SELECT_COMMENTS), (job_id,))]

    def _entries_of(self, rows: list[Any], events: Mapping[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Log rows (``LOG_COLUMNS``) as entries, each with its events (by log sequence)."""
        return log_entries_of(rows, events, self._json)

    def job_and_log(self, job_id: str) -> tuple[Job | None, list[dict[str, Any]]]:
        with self._read() as conn:
            row = conn.execute(self._q("SELECT doc FROM jobs WHERE job_id = ?"), (job_id,)).fetchone()
            return (job_from_doc(self._json(row[0])) if row is not None else None), self.log_entries(job_id)

    def due_jobs(self, now: datetime, limit: int | None = None) -> list[str]:
        n = self._limit(limit)
        with self._read() as conn:
            out = [r[0] for r in conn.execute(self.DUE_SCHEDULED, (to_micros(now), n))]
            for (jid,) in conn.execute(self.DUE_DEPENDENCIES, (n,)):
                if jid not in out:
                    out.append(jid)
        return out[:limit] if limit is not None else out

    # -- moving jobs ------------------------------------------------------------------------
    def _export_jobs(self, conn: Any, wanted: set[str] | None) -> Iterator[dict[str, Any]]:
        """The export header, the workflow records and the job records, read on ``conn``."""
        yield export_header(self._version)
        for w, v, s in conn.execute(
            f"SELECT workflow_id, version, source FROM workflows ORDER BY {self.WORKFLOW_ORDER}"
        ).fetchall():
            yield {"kind": "workflow", "workflow": w, "version": v, "source": self._json(s)}
        for jid, doc in conn.execute("SELECT job_id, doc FROM jobs ORDER BY n"):
            if wanted is None or jid in wanted:
                yield {"kind": "job", "doc": self._json(doc)}
        for jid, *fields in conn.execute(EXPORT_COMMENTS).fetchall():
            if wanted is None or jid in wanted:
                yield {"kind": "comment", "jobId": jid, **comment_of(tuple(fields))}

    def import_records(self, records: Iterable[Mapping[str, Any]], *, skip_existing: bool = False) -> ImportReport:
        with self._write() as conn:

            def known(job_id: str) -> bool:
                sql = "SELECT 1 FROM jobs WHERE job_id = ? UNION ALL SELECT 1 FROM action_log WHERE job_id = ? LIMIT 1"
                return conn.execute(self._q(sql), (job_id, job_id)).fetchone() is not None

            def put_workflow(workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
                self._insert_workflow(conn, workflow_id, version, source)

            def put_job(job: Job) -> None:
                self._write_job(conn, job, None)

            def put_log(rec: Mapping[str, Any]) -> None:
                self._append(conn, rec["jobId"], list(rec.get("events", [])), rec, rec.get("reads") or {})

            def put_comment(job_id: str, comment: dict[str, Any]) -> None:
                conn.execute(self._q(INSERT_COMMENT), comment_row(job_id, comment))

            return run_import(records, skip_existing=skip_existing, known=known, put_workflow=put_workflow,
                              put_job=put_job, put_log=put_log, put_comment=put_comment)  # fmt: skip
