"""The shared store: PostgreSQL through psycopg 3, for several engine processes at once.

Why requests never lose an update yet rarely wait:

- A request is one transaction (R12) that starts with ``SELECT ... FOR UPDATE`` on its
  job's row: two requests on the same job queue on that row lock (under READ
  COMMITTED the second one reads the row as the first one left it); requests on
  different jobs take different locks and do not wait for each other.
- Log and event sequence numbers come from sequences: unique, never reused, and
  increasing along each job's requests (they are taken under its row lock).
- The events feed and the log, read across jobs, are ordered by (transaction id,
  sequence) and only show rows of transactions older than every transaction still
  running (``pg_snapshot_xmin``). A transaction that took its sequence early but
  commits late therefore cannot slip in behind a poller's position.

Read-only (``read_only=True``): each connection sets ``default_transaction_read_only``,
so the server itself refuses any write, and the schema is read, never migrated.

psycopg is an optional dependency (``pip install 'stepchart[postgres]'``); it is
imported when a PostgreSQL store is opened.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..model import Job
from .base import SCHEMA_VERSION, StoreError, StoreTransaction, Transaction
from .migrations import later_migrations
from .records import JobIndex, dumps, index_job, job_from_doc
from .sql import Migration, SQLStore
from .sqlrows import LOG_COLUMNS, RECALL, log_entries_of
from .wakeups import NOTIFY, PostgresWakeups

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIGRATIONS", "PostgresStore"]

_MIGRATION_LOCK = 7_150_342_201  # pg_advisory_xact_lock key: one migrator at a time


def _psycopg() -> Any:
    """Import psycopg, or explain how to install it."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise StoreError(
            "the PostgreSQL store needs psycopg 3: pip install 'stepchart[postgres]' "
            "(or pip install 'psycopg[binary]>=3.1,<4')"
        ) from exc
    return psycopg


MIGRATIONS: list[Migration] = [
    (
        1,
        "jobs, current steps, action log, events, workflow versions",
        [
            """CREATE TABLE jobs (
            n BIGSERIAL PRIMARY KEY,
            job_id TEXT NOT NULL UNIQUE,
            workflow TEXT NOT NULL,
            workflow_version TEXT NOT NULL,
            closed BOOLEAN NOT NULL,
            version INTEGER NOT NULL,
            doc JSONB NOT NULL)""",
            "CREATE INDEX jobs_closed ON jobs (closed, workflow, n)",
            "CREATE INDEX jobs_workflow ON jobs (workflow, n)",
            """CREATE TABLE job_steps (
            job_id TEXT NOT NULL,
            pos INTEGER NOT NULL,
            step_id TEXT NOT NULL,
            assigned_type TEXT NOT NULL,
            assigned_to TEXT,
            PRIMARY KEY (job_id, pos))""",
            "CREATE INDEX job_steps_assignee ON job_steps (assigned_to, job_id)",
            "CREATE INDEX job_steps_step ON job_steps (step_id, job_id)",
            """CREATE TABLE action_log (
            seq BIGSERIAL PRIMARY KEY,
            txid XID8 NOT NULL DEFAULT pg_current_xact_id(),
            job_id TEXT NOT NULL,
            actor JSON NOT NULL,
            action TEXT NOT NULL,
            body JSON,
            now TEXT,
            response JSON,
            reads JSON,
            idem_key TEXT)""",
            "CREATE INDEX action_log_job ON action_log (job_id, seq)",
            "CREATE INDEX action_log_idem ON action_log (job_id, idem_key) WHERE idem_key IS NOT NULL",
            "CREATE INDEX action_log_feed ON action_log (txid, seq)",
            """CREATE TABLE events (
            seq BIGSERIAL PRIMARY KEY,
            txid XID8 NOT NULL DEFAULT pg_current_xact_id(),
            job_id TEXT NOT NULL,
            log_seq BIGINT,
            event JSON NOT NULL)""",
            "CREATE INDEX events_job ON events (job_id, seq)",
            "CREATE INDEX events_feed ON events (txid, seq)",
            "CREATE INDEX events_log ON events (log_seq)",
            """CREATE TABLE workflows (
            workflow_id TEXT NOT NULL,
            version TEXT NOT NULL,
            source JSON NOT NULL,
            added BIGSERIAL,
            PRIMARY KEY (workflow_id, version))""",
        ],
        None,
    ),
    *later_migrations("BIGINT", "DOUBLE PRECISION"),
]
assert MIGRATIONS[-1][0] == SCHEMA_VERSION

DUE_SCHEDULED = (
    "SELECT job_id FROM jobs WHERE next_release IS NOT NULL AND next_release <= %s ORDER BY next_release, n LIMIT %s"
)
DUE_DEPENDENCIES = (
    "SELECT DISTINCT w.job_id FROM job_waits w JOIN jobs d ON d.job_id = w.dep_job_id "
    "WHERE d.closed OR (w.dep_step_id IS NOT NULL AND (d.doc -> 'returnValues') ? w.dep_step_id) LIMIT %s"
)
# Rows of transactions older than every running one: final, and in a fixed order.
_SETTLED = "txid < pg_snapshot_xmin(pg_current_snapshot())"


class PostgresStore(SQLStore):
    """Jobs in PostgreSQL; one autocommit connection per thread (and per process after a fork).

    ``url``: a libpq connection URL (``postgresql://user@127.0.0.1:5432/db``).
    ``migrate_to``: stop schema upgrades at this version (tests of upgrades only).
    ``read_only``: sessions that cannot write, and no migration (see the module text).
    """

    MIGRATIONS = MIGRATIONS
    DIALECT = "postgresql"
    DUE_SCHEDULED = DUE_SCHEDULED
    DUE_DEPENDENCIES = DUE_DEPENDENCIES
    SCHEMA_TABLE = (
        "CREATE TABLE IF NOT EXISTS stepchart_schema (version INTEGER PRIMARY KEY, "
        "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    WORKFLOW_ORDER = "added"

    def __init__(
        self, url: str, *, connect_timeout: int = 10, migrate_to: int | None = None, read_only: bool = False
    ) -> None:
        super().__init__()
        self._pg = _psycopg()
        self.url = url
        self.connect_timeout = connect_timeout
        self.read_only = read_only
        self._open_schema(SCHEMA_VERSION if migrate_to is None else migrate_to)

    # -- dialect ----------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn: psycopg.Connection[Any] = self._pg.connect(
                self.url, autocommit=True, connect_timeout=self.connect_timeout
            )
        except self._pg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
        if self.read_only:  # autocommit: in force at once, for every later transaction of the session
            conn.execute("SET default_transaction_read_only = on")
        return conn

    def event_wakeups(self) -> PostgresWakeups:
        try:
            return PostgresWakeups(self._pg, self.url, self.connect_timeout)
        except self._pg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc

    def _has_schema_table(self, conn: psycopg.Connection[Any]) -> bool:
        row = conn.execute("SELECT to_regclass('stepchart_schema') IS NOT NULL").fetchone()
        return bool(row[0]) if row is not None else False

    def _alive(self, conn: psycopg.Connection[Any]) -> bool:
        return not conn.closed and not conn.broken

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        self._refuse_write()
        conn = self._conn()
        with conn.transaction():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[psycopg.Connection[Any]]:
        """One REPEATABLE READ snapshot for several SELECTs (or the request's own transaction)."""
        conn = self._conn()
        if self.in_transaction or conn.info.transaction_status != self._pg.pq.TransactionStatus.IDLE:
            yield conn  # inside a request or another read: its snapshot already
            return
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn

    @staticmethod
    @functools.cache
    def _q(sql: str) -> str:
        return sql.replace("?", "%s")

    @staticmethod
    def _in_list(values: list[str]) -> tuple[str, list[Any]]:
        return "= ANY(?)", [values]

    def _lock_schema(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))

    def _executemany(self, conn: psycopg.Connection[Any], sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with conn.cursor() as cur:
                cur.executemany(self._q(sql), rows)

    # -- JobStore ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        self._refuse_write()
        conn = self._conn()
        self._begin_reads(job_id)
        try:
            with conn.transaction():
                row = conn.execute("SELECT doc FROM jobs WHERE job_id = %s FOR UPDATE", (job_id,)).fetchone()
                job = job_from_doc(row[0]) if row is not None else None
                before = index_job(job) if job is not None else None
                tx = StoreTransaction(job)
                tx.recall = lambda key: self._recall(conn, job_id, key)
                yield tx
                reads = self._end_reads()
                if tx.committed and job is not None:
                    # every write of the request in one pipeline: one round trip, not one per statement
                    with conn.pipeline():
                        self._save_request(conn, job_id, tx, before, reads)
        finally:
            self._end_reads()

    def _recall(self, conn: psycopg.Connection[Any], job_id: str, key: str) -> dict[str, Any] | None:
        """The job's log entry under an idempotency key, in its current incarnation (under the row lock)."""
        row = conn.execute(
            self._q(RECALL.replace("SELECT seq FROM", f"SELECT {LOG_COLUMNS} FROM")), (job_id, key, job_id)
        ).fetchone()
        if row is None:
            return None
        return log_entries_of([row], {}, self._json)[0]

    def _write_job_row(
        self,
        conn: psycopg.Connection[Any],
        job: Job,
        ix: JobIndex,
        before: JobIndex | None,
        stored: tuple[Any, ...] | None,
    ) -> bool:
        """Insert (False if the id is taken) or update the job's row."""
        doc = self._pg.types.json.Jsonb(job.to_doc(), dumps)
        if before is None:
            cur = conn.execute(
                "INSERT INTO jobs (job_id, workflow, workflow_version, closed, version, doc, next_release) "
                "VALUES (%s, %s, %s, %s, 1, %s, %s) ON CONFLICT (job_id) DO NOTHING",
                (job.job_id, ix.workflow, ix.workflow_version, ix.closed, doc, ix.next_release),
            )
            return cur.rowcount != 0
        conn.execute(
            "UPDATE jobs SET workflow = %s, workflow_version = %s, closed = %s, version = version + 1, "
            "doc = %s, next_release = %s WHERE job_id = %s",
            (ix.workflow, ix.workflow_version, ix.closed, doc, ix.next_release, job.job_id),
        )
        return True

    def _append(
        self,
        conn: psycopg.Connection[Any],
        job_id: str,
        events: list[dict[str, Any]],
        log: Mapping[str, Any] | None,
        reads: Mapping[str, Any],
    ) -> None:
        """Append the log entry (if any) and the events of one request.

        The events name their log entry by ``currval`` of the log's sequence, so nothing
        waits for a result: the statements can go in one pipeline.
        """
        if log is not None:
            self._insert_log(conn, job_id, log, reads)
        if events:
            seq = "currval(pg_get_serial_sequence('action_log', 'seq'))" if log is not None else "NULL"
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO events (job_id, log_seq, event) VALUES (%s, {seq}, %s)",
                    [(e.get("jobId", job_id), dumps(e)) for e in events],
                )
            conn.execute(NOTIFY)  # delivered at commit: wakes the feed's readers (stores/wakeups.py)

    # -- queries ----------------------------------------------------------------------------
    def _cursor_of(self, conn: psycopg.Connection[Any], table: str, after: int) -> str:
        """The transaction id that places sequence ``after`` in ``table``'s settled order.

        A number that is not in the table (a rolled-back request's, or one from another
        store) is placed after the nearest settled row before it.
        """
        if after <= 0:
            return "0"
        row = conn.execute(f"SELECT txid::text FROM {table} WHERE seq = %s", (after,)).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT txid::text FROM {table} WHERE seq < %s AND {_SETTLED} ORDER BY seq DESC LIMIT 1", (after,)
            ).fetchone()
        return str(row[0]) if row is not None else "0"

    def _entries(self, conn: psycopg.Connection[Any], rows: list[Any]) -> list[dict[str, Any]]:
        """Log rows (``LOG_COLUMNS``) as entries, each with the events it caused."""
        if not rows:
            return []
        events: dict[int, list[dict[str, Any]]] = {}
        for lseq, ev in conn.execute(
            "SELECT log_seq, event FROM events WHERE log_seq = ANY(%s) ORDER BY seq", ([r[0] for r in rows],)
        ):
            events.setdefault(lseq, []).append(ev)
        return self._entries_of(rows, events)

    def log_entries(self, job_id: str | None = None, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        # One job's requests take their numbers under its row lock: number order is their
        # commit order. Across jobs, the settled order (see the module text).
        with self._read() as conn:
            if job_id is not None:
                rows = conn.execute(
                    f"SELECT {LOG_COLUMNS} FROM action_log WHERE job_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                    (job_id, after, limit),
                ).fetchall()
                return self._entries(conn, rows)
            txid = self._cursor_of(conn, "action_log", after)
            rows = conn.execute(
                f"SELECT {LOG_COLUMNS} FROM action_log WHERE {_SETTLED} "
                "AND (txid, seq) > (%s::xid8, %s) ORDER BY txid, seq LIMIT %s",
                (txid, after, limit),
            ).fetchall()
            return self._entries(conn, rows)

    def events_after(self, after: int = 0, job_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        conn = self._conn()
        if job_id is not None:  # one job: number order is commit order (its row lock)
            rows = conn.execute(
                "SELECT seq, log_seq, event FROM events WHERE job_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                (job_id, after, limit),
            )
        else:
            txid = self._cursor_of(conn, "events", after)
            rows = conn.execute(
                f"SELECT seq, log_seq, event FROM events WHERE {_SETTLED} "
                "AND (txid, seq) > (%s::xid8, %s) ORDER BY txid, seq LIMIT %s",
                (txid, after, limit),
            )
        return [{**ev, "sequence": seq, "logSequence": lseq} for seq, lseq, ev in rows]

    # -- moving jobs ------------------------------------------------------------------------
    def export_records(self, job_ids: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
        wanted = None if job_ids is None else set(job_ids)
        conn = self._conn()
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield from self._export_jobs(conn, wanted)
            position: tuple[str, int] = ("0", 0)
            while True:
                rows = conn.execute(
                    f"SELECT {LOG_COLUMNS}, txid::text FROM action_log "
                    "WHERE (txid, seq) > (%s::xid8, %s) ORDER BY txid, seq LIMIT 1000",
                    position,
                ).fetchall()
                if not rows:
                    break
                position = (rows[-1][-1], rows[-1][0])
                for entry in self._entries(conn, [r[:-1] for r in rows]):
                    if wanted is None or entry["jobId"] in wanted:
                        yield {"kind": "log", **entry}
