"""Read-only commands (issue 12): ``jobs list``, ``jobs events``, ``replay`` and ``export`` only read.

They refuse a database that does not exist (exit 2, naming it) instead of creating an
empty one, and open it read-only: a backup on a read-only mount can be inspected, and
no byte of the database changes and no ``-wal``/``-shm`` file appears beside it. On
SQLite that is ``immutable=1`` when no ``-wal`` file exists and ``mode=ro`` when one
does (then the reader sees a live writer's commits); on PostgreSQL the session is
``default_transaction_read_only`` and nothing is migrated. Any write on a read-only
store raises ``StoreError``.

Tests may run as root, which ``chmod`` does not stop: then the folder is also made
read-only for real by a read-only bind mount (``unshare -m``) where the system allows
it, and in every case the test checks that no file is created and no byte changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli

from stepchart import Actor, Engine
from stepchart.stores import JobFilter, StoreError, open_store

pytest_plugins = ["pg_fixture"]

PARCEL = ROOT / "examples" / "parcel-edit.yaml"
PERMIT = ROOT / "examples" / "permit-review.yaml"
ALICE = Actor.of("alice", ["editors"], ["jobUpdateHolds"])

READ_ONLY_COMMANDS = [["jobs", "list"], ["jobs", "events"], ["replay"], ["export"]]


def _fill(url: str, base_engine: Engine) -> None:
    """Jobs J1 (edit running) and J2 (fresh) of parcel-edit in the store at ``url``."""
    store = open_store(url)
    try:
        eng = base_engine.spawn(store)
        eng.add_workflow(PARCEL)
        eng.sync_workflows()
        for jid in ("J1", "J2"):
            eng.create_job("parcel-edit", jid, now="2026-03-01T09:00:00Z")
        eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z")
    finally:
        store.close()


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file of ``folder`` (mtime in ns, SHA-256 of its bytes), and the folder's own mtime.

    The folder's mtime changes when a file is created or removed in it: a ``-wal`` file
    made and removed again while the command ran shows there.
    """
    files = {
        p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
        if p.is_file()
    }
    return {**files, ".": (folder.stat().st_mtime_ns, "")}


def _answers_as_expected(command: list[str], code: int, out: str, err: str) -> None:
    """What each read-only command prints for the two jobs of :func:`_fill`."""
    assert code == 0, err
    if command[:2] == ["jobs", "list"]:
        assert [line.split("\t")[0] for line in out.splitlines()] == ["J1", "J2"] and err.strip() == "2 jobs"
    elif command[:2] == ["jobs", "events"]:
        wanted = {"J1"} if "--job" in command else {"J1", "J2"}
        assert {json.loads(line)["jobId"] for line in out.splitlines()} == wanted
    elif command[0] == "replay":
        assert out.splitlines()[-1] == "2 jobs replay exactly, 0 differ"
    else:
        kinds = [json.loads(line)["kind"] for line in out.splitlines()]
        assert kinds.count("job") == 2 and kinds[0] == "stepchart-export"


@pytest.fixture
def backup(tmp_path: Path, base_engine: Engine) -> Iterator[Path]:
    """A stepchart database in a folder where, as far as permissions go, nothing can be written."""
    folder = tmp_path / "backup"
    folder.mkdir()
    db = folder / "jobs.db"
    _fill(str(db), base_engine)
    assert sorted(p.name for p in folder.iterdir()) == ["jobs.db"]  # the writer's close removed -wal/-shm
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield db
    finally:
        folder.chmod(0o755)
        db.chmod(0o644)


# -- a database that does not exist ----------------------------------------------------------


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
@pytest.mark.parametrize("form", ["plain", "url"])
def test_a_missing_database_is_refused_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], form: str
) -> None:
    monkeypatch.chdir(tmp_path)
    target = "gone.db" if form == "plain" else "sqlite:///gone.db"
    r = cli(*command, "--store", target)
    assert r.code == 2 and r.out == ""
    prefix = "stepchart " + " ".join(w for w in command if not w.startswith("-"))
    assert r.err.strip() == f"{prefix}: error: gone.db: no such database file (a read-only command does not create one)"
    assert list(tmp_path.iterdir()) == []  # before: an empty gone.db and "0 jobs"


def test_the_default_store_is_not_created_by_a_read_only_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STEPCHART_STORE", raising=False)
    r = cli("jobs", "list")
    assert r.code == 2 and "stepchart.db: no such database file" in r.err
    assert list(tmp_path.iterdir()) == []


def test_a_folder_or_a_foreign_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    r = cli("jobs", "list", "--store", str(tmp_path / "dir.db"))
    assert r.code == 2 and "dir.db: is not a file" in r.err
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    r = cli("jobs", "list", "--store", str(text))
    assert r.code == 2 and "notes.db: not a stepchart SQLite database" in r.err, r.err
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.close()
    before = _snapshot(tmp_path)
    r = cli("export", "--store", str(empty))
    assert r.code == 2 and "empty.db: not a stepchart database (it has no stepchart_schema table)" in r.err, r.err
    assert _snapshot(tmp_path) == before  # no stepchart tables were added


def test_an_older_schema_is_not_upgraded_by_a_read_only_open(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    from stepchart.stores.sqlite import SQLiteStore

    SQLiteStore(db, migrate_to=1).close()
    before = _snapshot(tmp_path)
    r = cli("jobs", "list", "--store", str(db))
    assert r.code == 2 and "schema version 1 is older" in r.err and "does not upgrade" in r.err, r.err
    assert _snapshot(tmp_path) == before


# -- a database on a read-only place ---------------------------------------------------------


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_read_only_commands_read_a_read_only_backup_and_change_no_byte(backup: Path, command: list[str]) -> None:
    before = _snapshot(backup.parent)
    r = cli(*command, "--store", str(backup))
    _answers_as_expected(command, r.code, r.out, r.err)
    # no -wal/-shm created (as root chmod stops nothing, so this is the check that counts), no byte changed
    assert _snapshot(backup.parent) == before


def test_replay_with_a_new_workflow_file_saves_nothing(backup: Path) -> None:
    before = _snapshot(backup.parent)
    r = cli("replay", "--store", str(backup), "--workflows", str(PERMIT))
    assert r.code == 0 and "2 jobs replay exactly" in r.out, r.err
    assert _snapshot(backup.parent) == before  # sync_workflows did not save permit-review


def _read_only_mount_works() -> bool:
    """Whether ``unshare -m`` can bind-mount a folder read-only here (root in most containers)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp && "
         "! touch /tmp/.stepchart-ro-probe"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    return probe.returncode == 0


def _run_where_nothing_can_be_written(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``stepchart ARGS`` in a child for which ``folder`` cannot be written: its permissions (not root), or a
    read-only bind mount of it (root)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    cmd = [sys.executable, "-m", "stepchart", *args]
    if os.geteuid() != 0:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(folder), *cmd],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_read_only_commands_work_where_nothing_can_be_written(backup: Path, command: list[str]) -> None:
    if os.geteuid() == 0 and not _read_only_mount_works():
        pytest.skip(
            "running as root without unshare -m: nothing makes a folder unwritable (the no-byte-changes "
            "test above still runs)"
        )
    before = _snapshot(backup.parent)
    r = _run_where_nothing_can_be_written(backup.parent, *command, "--store", str(backup))
    _answers_as_expected(command, r.returncode, r.stdout, r.stderr)
    assert _snapshot(backup.parent) == before
    # and a write command there fails plainly (it is the place that is read-only, not the code)
    w = _run_where_nothing_can_be_written(backup.parent, "sweep", "--store", str(backup))
    assert w.returncode == 2 and "jobs.db" in w.stderr and "Traceback" not in w.stderr, w.stderr


# -- a live writer -----------------------------------------------------------------------------


def test_a_reader_sees_the_commits_of_a_writer_that_is_still_open(tmp_path: Path, base_engine: Engine) -> None:
    db = tmp_path / "live.db"
    _fill(str(db), base_engine)
    writer = open_store(db)
    try:
        eng = base_engine.spawn(writer)
        eng.sync_workflows()
        eng.create_job("parcel-edit", "J3", now="2026-03-01T10:00:00Z")  # in the -wal file, not yet checkpointed
        assert (tmp_path / "live.db-wal").stat().st_size > 0
        r = cli("jobs", "list", "--store", str(db))
        assert r.code == 0 and [line.split("\t")[0] for line in r.out.splitlines()] == ["J1", "J2", "J3"], r.err
    finally:
        writer.close()


# -- writes on a read-only store ---------------------------------------------------------------


def _attempt_writes(url: str) -> None:
    """Every kind of write on a store opened read-only raises StoreError."""
    store = open_store(url, read_only=True)
    try:
        assert store.read_only
        eng = Engine(store=store, workflows=[PARCEL])
        assert eng.sync_workflows() == []  # loads what is stored, saves nothing
        with pytest.raises(StoreError, match="read-only"):
            eng.create_job("parcel-edit", "J9", now="2026-03-01T10:00:00Z")
        with pytest.raises(StoreError, match="read-only"):
            eng.act("J1", {"type": "Hold"}, ALICE, "2026-03-01T10:00:00Z")
        with pytest.raises(StoreError, match="read-only"):
            store.save_workflow("other", "v1", {"workflow": "other"})
        with pytest.raises(StoreError, match="read-only"):
            store.import_records([])
        assert [j["jobId"] for j in store.search(JobFilter())] == ["J1", "J2"]  # reads still work
    finally:
        store.close()


def test_writes_on_a_read_only_sqlite_store_raise(tmp_path: Path, base_engine: Engine) -> None:
    db = tmp_path / "jobs.db"
    _fill(str(db), base_engine)
    before = _snapshot(tmp_path)
    _attempt_writes(str(db))
    assert _snapshot(tmp_path) == before


def test_writes_on_a_read_only_memory_store_raise() -> None:
    store = open_store("memory:", read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        store.save_workflow("w", "v", {})


# -- PostgreSQL --------------------------------------------------------------------------------


def _pg_state(url: str) -> tuple[list[str], int, int, int]:
    """The tables of the test's schema and the rows of the schema, workflows and events tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
        )]  # fmt: skip
        if "stepchart_schema" not in tables:
            return tables, 0, 0, 0
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in ("stepchart_schema", "workflows",
                                                                                 "events")]  # fmt: skip
        return tables, *(int(c[0]) if c else -1 for c in counts)  # type: ignore[return-value]


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_read_only_commands_do_not_create_postgresql_tables(pg_url: str, command: list[str]) -> None:
    r = cli(*command, "--store", pg_url)
    assert r.code == 2 and "not a stepchart database (it has no stepchart_schema table)" in r.err, r.err
    assert _pg_state(pg_url) == ([], 0, 0, 0)  # before: the tables were created and "0 jobs" printed


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS)
def test_read_only_commands_read_postgresql_and_change_nothing(
    pg_url: str, base_engine: Engine, command: list[str]
) -> None:
    _fill(pg_url, base_engine)
    before = _pg_state(pg_url)
    # the feed of all jobs shows a transaction once every older one in the cluster has ended, and
    # other tests may share this server: one job's feed is in commit order at once
    more = {
        "replay": ["--workflows", str(PERMIT), "--job", "J1", "--job", "J2"],
        "events": ["--job", "J1"],
    }.get(command[-1], [])
    r = cli(*command, "--store", pg_url, *more)
    _answers_as_expected([*command, *more], r.code, r.out, r.err)
    assert _pg_state(pg_url) == before  # replay did not save permit-review either


def test_writes_on_a_read_only_postgresql_store_raise(pg_url: str, base_engine: Engine) -> None:
    _fill(pg_url, base_engine)
    before = _pg_state(pg_url)
    _attempt_writes(pg_url)
    assert _pg_state(pg_url) == before


def test_the_postgresql_session_itself_refuses_writes(pg_url: str, base_engine: Engine) -> None:
    import psycopg

    _fill(pg_url, base_engine)
    store = open_store(pg_url, read_only=True)
    try:
        conn = store._conn()  # the store's own session: the server, not only our code, must refuse
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM jobs")
    finally:
        store.close()
    assert _pg_state(pg_url)[0]  # still there


def test_a_read_only_file_mode_is_enough(tmp_path: Path, base_engine: Engine) -> None:
    db = tmp_path / "jobs.db"
    _fill(str(db), base_engine)
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    try:
        before = _snapshot(tmp_path)
        r = cli("jobs", "list", "--store", f"sqlite:///{db}")  # an absolute path: four slashes
        _answers_as_expected(["jobs", "list"], r.code, r.out, r.err)
        assert _snapshot(tmp_path) == before
    finally:
        db.chmod(0o644)


def test_a_wal_file_without_its_shm_file_on_a_read_only_place_is_explained(tmp_path: Path, base_engine: Engine) -> None:
    if os.geteuid() == 0 and not _read_only_mount_works():
        pytest.skip("running as root without unshare -m: nothing makes a folder unwritable")
    live = tmp_path / "live.db"
    _fill(str(live), base_engine)
    writer = sqlite3.connect(live, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE jobs SET version = version + 1")  # committed into live.db-wal
        folder = tmp_path / "copy"
        folder.mkdir()
        for name in ("live.db", "live.db-wal"):  # a copy taken while a writer was at work, without -shm
            shutil.copy(tmp_path / name, folder / name)
    finally:
        writer.close()
    folder.chmod(0o555)
    try:
        r = _run_where_nothing_can_be_written(folder, "jobs", "list", "--store", str(folder / "live.db"))
    finally:
        folder.chmod(0o755)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "live.db: its -wal file cannot be read without its -shm file" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["live.db", "live.db-wal"]
