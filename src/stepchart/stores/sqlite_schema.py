"""The SQLite store's schema, as its migrations: each a version, what it adds, its statements, a backfill."""

from __future__ import annotations

from .base import SCHEMA_VERSION
from .migrations import later_migrations
from .sql import Migration

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[Migration] = [
    (
        1,
        "jobs, current steps, action log, events, workflow versions",
        [
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
        ],
        None,
    ),
    *later_migrations("INTEGER", "REAL"),
]
assert MIGRATIONS[-1][0] == SCHEMA_VERSION
