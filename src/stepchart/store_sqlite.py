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
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .model import Job
from .storage import (
    SCHEMA_VERSION,
    ImportReport,
    JobFilter,
    JobIndex,
    ManagedStore,
    SchemaVersionError,
    StoreError,
    StoreTransaction,
    dumps,
    export_header,
    index_job,
    job_from_doc,
    job_summary,
    run_import,
    to_micros,
)
from .store import JobExistsError, Transaction

__all__ = ["MIGRATIONS", "SQLiteStore"]

Backfill = Callable[[sqlite3.Connection], None]


def _backfill_holds(conn: sqlite3.Connection) -> None:
    """Migration 2: compute next_release and the waits of every existing job."""
    rows = conn.execute("SELECT job_id, doc FROM jobs").fetchall()
    for job_id, doc in rows:
        ix = index_job(job_from_doc(json.loads(doc)))
        conn.execute("UPDATE jobs SET next_release = ? WHERE job_id = ?", (ix.next_release, job_id))
        conn.executemany("INSERT INTO job_waits (job_id, dep_job_id, dep_step_id) VALUES (?, ?, ?)",
                         [(job_id, d, s) for d, s in ix.waits])


MIGRATIONS: list[tuple[int, str, list[str], Backfill | None]] = [
    (1, "jobs, current steps, action log, events, workflow versions", [
        """CREATE TABLE jobs (
            n INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL UNIQUE,
            workflow TEXT NOT NULL,
            workflow_version TEXT NOT NULL,
            closed INTEGER NOT NULL,
            version INTEGER NOT NULL,
            doc TEXT NOT NULL)""",
        "CREATE INDEX jobs_closed ON jobs (closed, workflow, n)",
        "CREATE INDEX jobs_workflow ON jobs (workflow, n)",
        """CREATE TABLE job_steps (
            job_id TEXT NOT NULL,
            pos INTEGER NOT NULL,
            step_id TEXT NOT NULL,
            assigned_type TEXT NOT NULL,
            assigned_to TEXT,
            PRIMARY KEY (job_id, pos)) WITHOUT ROWID""",
        "CREATE INDEX job_steps_assignee ON job_steps (assigned_to, job_id)",
        "CREATE INDEX job_steps_step ON job_steps (step_id, job_id)",
        """CREATE TABLE action_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            body TEXT,
            now TEXT,
            response TEXT,
            reads TEXT,
            idem_key TEXT)""",
        "CREATE INDEX action_log_job ON action_log (job_id, seq)",
        "CREATE INDEX action_log_idem ON action_log (job_id, idem_key) WHERE idem_key IS NOT NULL",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL,
            log_seq INTEGER,
            event TEXT NOT NULL)""",
        "CREATE INDEX events_job ON events (job_id, seq)",
        "CREATE INDEX events_log ON events (log_seq)",
        """CREATE TABLE workflows (
            workflow_id TEXT NOT NULL,
            version TEXT NOT NULL,
            source TEXT NOT NULL,
            PRIMARY KEY (workflow_id, version))""",
    ], None),
    (2, "index of scheduled releases and dependency holds (sweep)", [
        "ALTER TABLE jobs ADD COLUMN next_release INTEGER",
        "CREATE INDEX jobs_next_release ON jobs (next_release) WHERE next_release IS NOT NULL",
        """CREATE TABLE job_waits (
            job_id TEXT NOT NULL,
            dep_job_id TEXT NOT NULL,
            dep_step_id TEXT)""",
        "CREATE INDEX job_waits_dep ON job_waits (dep_job_id)",
        "CREATE INDEX job_waits_job ON job_waits (job_id)",
    ], _backfill_holds),
]
assert MIGRATIONS[-1][0] == SCHEMA_VERSION

DUE_SCHEDULED = ("SELECT job_id FROM jobs WHERE next_release IS NOT NULL AND next_release <= ? "
                 "ORDER BY next_release, n LIMIT ?")
DUE_DEPENDENCIES = (
    "SELECT DISTINCT w.job_id FROM job_waits w JOIN jobs d ON d.job_id = w.dep_job_id "
    "WHERE d.closed = 1 OR (w.dep_step_id IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM json_each(d.doc, '$.returnValues') r WHERE r.key = w.dep_step_id)) LIMIT ?"
)


class SQLiteStore(ManagedStore):
    """Jobs in one SQLite file; one connection per thread (and per process after a fork).

    ``timeout``: seconds a writer waits for the lock before failing.
    ``migrate_to``: stop schema upgrades at this version (tests of upgrades only).
    """

    def __init__(self, path: str | Path, *, timeout: float = 60.0, synchronous: str = "NORMAL",
                 migrate_to: int | None = None) -> None:
        super().__init__()
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StoreError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = str(path)
        self.timeout = timeout
        self.synchronous = synchronous.upper()
        self._conns: list[tuple[int, sqlite3.Connection]] = []
        self._generation = 0  # bumped by close(): other threads then reconnect
        self._conns_lock = threading.Lock()
        self._version = 0
        self._migrate(SCHEMA_VERSION if migrate_to is None else migrate_to)

    # -- connections ------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "key", None) == (os.getpid(), self._generation):
            return conn
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open as a SQLite database: {exc}") from exc
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
                with contextlib.suppress(sqlite3.Error):  # closing is best effort
                    c.close()
        self._local.conn = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
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

    # -- schema -----------------------------------------------------------------------------
    def _migrate(self, target: int) -> None:
        try:
            with self._write() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS stepchart_schema (version INTEGER PRIMARY KEY, "
                             "description TEXT NOT NULL, applied_at TEXT NOT NULL)")
                current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM stepchart_schema").fetchone()[0]
                if current > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"{self.path}: database schema version {current} is newer than this stepchart "
                        f"supports ({SCHEMA_VERSION}); upgrade stepchart to open it")
                for version, description, statements, backfill in MIGRATIONS:
                    if current < version <= target:
                        for sql in statements:
                            conn.execute(sql)
                        if backfill is not None:
                            backfill(conn)
                        conn.execute("INSERT INTO stepchart_schema VALUES (?, ?, ?)",
                                     (version, description, datetime.now(UTC).isoformat()))
                        current = version
                self._version = current
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a stepchart SQLite database: {exc}") from exc

    @property
    def schema_version(self) -> int:
        return self._version

    # -- JobStore ---------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        row = self._conn().execute("SELECT doc FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        job = job_from_doc(json.loads(row[0])) if row is not None else None
        self._record_read(job_id, job)
        return job

    def exists(self, job_id: str) -> bool:
        return self._conn().execute("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)).fetchone() is not None

    def job_ids(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT job_id FROM jobs ORDER BY n")]

    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        with self._write() as conn:
            try:
                self._write_job(conn, job, None)
            except sqlite3.IntegrityError:
                raise JobExistsError(job.job_id) from None
            self._append(conn, job.job_id, events or [], log, {})

    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        conn = self._conn()
        self._begin_reads(job_id)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._end_reads()
            raise
        try:
            row = conn.execute("SELECT doc, workflow, workflow_version, closed, next_release FROM jobs "
                               "WHERE job_id = ?", (job_id,)).fetchone()
            job = job_from_doc(json.loads(row[0])) if row is not None else None
            before = index_job(job) if job is not None else None
            stored = row[1:] if row is not None else None
            tx = StoreTransaction(job)
            tx.recall = lambda key: self._recall(conn, job_id, key)
            yield tx
            reads = self._end_reads()
            if tx.committed and job is not None:
                if tx.deleted:
                    for table in ("jobs", "job_steps", "job_waits"):
                        conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
                elif tx.job_to_save is not None:
                    self._write_job(conn, tx.job_to_save, before, stored)
                self._append(conn, job_id, tx.events, tx.log, reads)
            conn.execute("COMMIT")
        except BaseException:
            self._end_reads()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _recall(self, conn: sqlite3.Connection, job_id: str, key: str) -> dict[str, Any] | None:
        """The job's log entry recorded under an idempotency key (read under the write lock)."""
        row = conn.execute("SELECT seq FROM action_log WHERE job_id = ? AND idem_key = ? ORDER BY seq DESC LIMIT 1",
                           (job_id, key)).fetchone()
        if row is None:
            return None
        found = self.log_entries(job_id, after=row[0] - 1, limit=1)
        return found[0] if found else None

    def _write_job(self, conn: sqlite3.Connection, job: Job, before: JobIndex | None,
                   stored: tuple[Any, ...] | None = None) -> None:
        """Write a job's document and derived columns; ``before`` is None for a new job.

        ``stored``: the job row's (workflow, workflow_version, closed, next_release) as
        read in this transaction. When the new values equal them, only the document and
        the version are set: SQLite rewrites an index entry whenever its column is in
        the SET list, changed or not, and the common moves change none of these.
        """
        ix = index_job(job)
        doc = dumps(job.to_doc())
        if before is None:
            conn.execute("INSERT INTO jobs (job_id, workflow, workflow_version, closed, version, doc, next_release) "
                         "VALUES (?, ?, ?, ?, 1, ?, ?)",
                         (job.job_id, ix.workflow, ix.workflow_version, int(ix.closed), doc, ix.next_release))
        elif stored is not None and tuple(stored) == (ix.workflow, ix.workflow_version, int(ix.closed),
                                                      ix.next_release):
            conn.execute("UPDATE jobs SET version = version + 1, doc = ? WHERE job_id = ?", (doc, job.job_id))
        else:
            conn.execute("UPDATE jobs SET workflow = ?, workflow_version = ?, closed = ?, version = version + 1, "
                         "doc = ?, next_release = ? WHERE job_id = ?",
                         (ix.workflow, ix.workflow_version, int(ix.closed), doc, ix.next_release, job.job_id))
        if before is None or before.steps != ix.steps:
            if before is not None:
                conn.execute("DELETE FROM job_steps WHERE job_id = ?", (job.job_id,))
            conn.executemany("INSERT INTO job_steps VALUES (?, ?, ?, ?, ?)",
                             [(job.job_id, i, *s) for i, s in enumerate(ix.steps)])
        if before is None or before.waits != ix.waits:
            if before is not None:
                conn.execute("DELETE FROM job_waits WHERE job_id = ?", (job.job_id,))
            conn.executemany("INSERT INTO job_waits (job_id, dep_job_id, dep_step_id) VALUES (?, ?, ?)",
                             [(job.job_id, d, s) for d, s in ix.waits])
        found = self._workflow_to_save(job)
        if found is not None:
            self._insert_workflow(conn, *found)

    def _append(self, conn: sqlite3.Connection, job_id: str, events: list[dict[str, Any]],
                log: Mapping[str, Any] | None, reads: Mapping[str, Any]) -> int | None:
        """Append the log entry (if any) and the events of one request; returns the log sequence."""
        seq: int | None = None
        if log is not None:
            cur = conn.execute(
                "INSERT INTO action_log (job_id, actor, action, body, now, response, reads, idem_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (log.get("jobId", job_id), dumps(log.get("actor")), log["action"], dumps(log.get("body")),
                 log.get("now"), dumps(log.get("response")), dumps(dict(reads)), log.get("idempotencyKey")))
            seq = cur.lastrowid
        if len(events) == 1:  # the common case: a plain execute costs less than executemany
            e = events[0]
            conn.execute("INSERT INTO events (job_id, log_seq, event) VALUES (?, ?, ?)",
                         (e.get("jobId", job_id), seq, dumps(e)))
        elif events:
            conn.executemany("INSERT INTO events (job_id, log_seq, event) VALUES (?, ?, ?)",
                             [(e.get("jobId", job_id), seq, dumps(e)) for e in events])
        return seq

    # -- workflow versions ------------------------------------------------------------------
    def _insert_workflow(self, conn: sqlite3.Connection, workflow_id: str, version: str,
                         source: Mapping[str, Any]) -> None:
        conn.execute("INSERT OR IGNORE INTO workflows (workflow_id, version, source) VALUES (?, ?, ?)",
                     (workflow_id, version, dumps(source)))
        self._known_versions.add((workflow_id, version))

    def save_workflow(self, workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
        if self.in_transaction:
            self._insert_workflow(self._conn(), workflow_id, version, source)
            return
        with self._write() as conn:
            self._insert_workflow(conn, workflow_id, version, source)

    def stored_workflows(self) -> list[tuple[str, str, dict[str, Any]]]:
        rows = self._conn().execute("SELECT workflow_id, version, source FROM workflows ORDER BY rowid").fetchall()
        return [(w, v, json.loads(s)) for w, v, s in rows]

    # -- queries ----------------------------------------------------------------------------
    def search(self, flt: JobFilter) -> list[dict[str, Any]]:
        where: list[str] = []
        args: list[Any] = []
        if flt.closed is not None:
            where.append("j.closed = ?")
            args.append(int(flt.closed))
        if flt.workflow is not None:
            where.append("j.workflow = ?")
            args.append(flt.workflow)
        if flt.step is not None:
            where.append("EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.job_id AND s.step_id = ?)")
            args.append(flt.step)
        if flt.assignees:
            marks = ", ".join("?" for _ in flt.assignees)
            where.append(f"EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.job_id AND s.assigned_to IN ({marks}) "
                         "AND s.assigned_type != 'Unassigned')")
            args.extend(flt.assignees)
        if flt.actor is not None:
            groups = sorted(flt.actor.groups)
            marks = ", ".join("?" for _ in groups) or "NULL"
            where.append("EXISTS (SELECT 1 FROM job_steps s WHERE s.job_id = j.job_id AND ("
                         f"(s.assigned_type = 'User' AND s.assigned_to = ?) OR "
                         f"(s.assigned_type = 'Group' AND s.assigned_to IN ({marks}))))")
            args.extend([flt.actor.username, *groups])
        if flt.after is not None:
            where.append("j.n > COALESCE((SELECT n FROM jobs WHERE job_id = ?), 0)")
            args.append(flt.after)
        sql = "SELECT j.doc FROM jobs j"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY j.n LIMIT ?"
        args.append(-1 if flt.limit is None else flt.limit)
        return [job_summary(json.loads(r[0])) for r in self._conn().execute(sql, args)]

    def log_entries(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._read() as conn:
            sql = ("SELECT seq, job_id, actor, action, body, now, response, reads, idem_key "
                   "FROM action_log WHERE seq > ?")
            args: list[Any] = [after]
            if job_id is not None:
                sql += " AND job_id = ?"
                args.append(job_id)
            sql += " ORDER BY seq LIMIT ?"
            args.append(-1 if limit is None else limit)
            rows = conn.execute(sql, args).fetchall()
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
        out = []
        for seq, jid, actor, action, body, now, resp, reads, key in rows:
            entry = {"sequence": seq, "jobId": jid, "actor": json.loads(actor), "action": action,
                     "body": json.loads(body) if body is not None else None, "now": now,
                     "response": json.loads(resp) if resp is not None else None,
                     "reads": json.loads(reads) if reads else {}, "events": events.get(seq, [])}
            if key is not None:
                entry["idempotencyKey"] = key
            out.append(entry)
        return out

    def job_and_log(self, job_id: str) -> tuple[Job | None, list[dict[str, Any]]]:
        with self._read() as conn:
            row = conn.execute("SELECT doc FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            return (job_from_doc(json.loads(row[0])) if row is not None else None), self.log_entries(job_id)

    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        # Writers are serialised and take their sequence inside the write transaction:
        # sequence order is commit order, so "after N" never skips an event.
        sql = "SELECT seq, log_seq, event FROM events WHERE seq > ?"
        args: list[Any] = [after]
        if job_id is not None:
            sql += " AND job_id = ?"
            args.append(job_id)
        sql += " ORDER BY seq LIMIT ?"
        args.append(-1 if limit is None else limit)
        return [{**json.loads(ev), "sequence": seq, "logSequence": lseq}
                for seq, lseq, ev in self._conn().execute(sql, args)]

    def due_jobs(self, now: datetime, limit: int | None = None) -> list[str]:
        n = -1 if limit is None else limit
        with self._read() as conn:
            out = [r[0] for r in conn.execute(DUE_SCHEDULED, (to_micros(now), n))]
            for (jid,) in conn.execute(DUE_DEPENDENCIES, (n,)):
                if jid not in out:
                    out.append(jid)
        return out[:limit] if limit is not None else out

    # -- moving jobs ------------------------------------------------------------------------
    def export_records(self, job_ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        wanted = None if job_ids is None else set(job_ids)
        with self._read() as conn:
            yield export_header(self._version)
            for w, v, s in conn.execute("SELECT workflow_id, version, source FROM workflows ORDER BY rowid").fetchall():
                yield {"kind": "workflow", "workflow": w, "version": v, "source": json.loads(s)}
            for jid, doc in conn.execute("SELECT job_id, doc FROM jobs ORDER BY n"):
                if wanted is None or jid in wanted:
                    yield {"kind": "job", "doc": json.loads(doc)}
            after = 0
            while True:
                batch = self.log_entries(after=after, limit=1000)
                if not batch:
                    break
                for entry in batch:
                    if wanted is None or entry["jobId"] in wanted:
                        yield {"kind": "log", **entry}
                after = batch[-1]["sequence"]

    def import_records(self, records: Iterable[Mapping[str, Any]], *, skip_existing: bool = False) -> ImportReport:
        with self._write() as conn:

            def known(job_id: str) -> bool:
                return conn.execute("SELECT 1 FROM jobs WHERE job_id = ? UNION ALL "
                                    "SELECT 1 FROM action_log WHERE job_id = ? LIMIT 1",
                                    (job_id, job_id)).fetchone() is not None

            def put_workflow(workflow_id: str, version: str, source: Mapping[str, Any]) -> None:
                self._insert_workflow(conn, workflow_id, version, source)

            def put_job(job: Job) -> None:
                self._write_job(conn, job, None)

            def put_log(rec: Mapping[str, Any]) -> None:
                self._append(conn, rec["jobId"], list(rec.get("events", [])), rec, rec.get("reads") or {})

            return run_import(records, skip_existing=skip_existing, known=known, put_workflow=put_workflow,
                              put_job=put_job, put_log=put_log)
