"""Store URLs that do what they say (issue 12): ``--store`` forms through the real CLI and ``stepchart serve``.

SQLAlchemy's convention: ``sqlite:///rel.db`` is relative to the working folder and
``sqlite:////abs/x.db`` absolute; a bare path is a SQLite file; ``memory:`` is memory;
``memory`` without its colon and unknown schemes are usage errors (exit 2, one line
naming the known forms) that create nothing. ``serve`` binds its port before it opens
(and so creates) its store.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cli_helpers import cli

from stepchart.stores import KNOWN_FORMS, StoreError, open_store, parse_store_url

pytest_plugins = ["pg_fixture"]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, no ``$STEPCHART_STORE``."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STEPCHART_STORE", raising=False)
    return tmp_path


def _made_store(path: Path) -> bool:
    """Whether ``path`` is a stepchart SQLite database with the shipped schema (opened read-only)."""
    store = open_store(path, read_only=True)
    try:
        return store.schema_version >= 1
    finally:
        store.close()


# -- SQLite forms ---------------------------------------------------------------------------


def test_three_slashes_are_relative_to_the_working_folder(cwd: Path) -> None:
    name = f"stepchart-url-test-{uuid.uuid4().hex[:8]}.db"
    at_root = Path("/") / name
    try:
        r = cli("sweep", "--store", f"sqlite:///{name}")
        assert r.code == 0, r.err
        assert _made_store(cwd / name)
        assert not at_root.exists()  # before: sqlite:///x.db wrote /x.db
    finally:
        at_root.unlink(missing_ok=True)


def test_four_slashes_are_absolute(cwd: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    r = cli("sweep", "--store", f"sqlite:///{elsewhere}/abs.db")  # "/" + "/tmp/...": four slashes
    assert r.code == 0, r.err
    assert _made_store(elsewhere / "abs.db")
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(
    ("given", "made"),
    [
        ("plain.db", "plain.db"),
        ("sub/inner.db", "sub/inner.db"),
        ("sqlite:colon.db", "colon.db"),
        ("sqlite:///opts.db?synchronous=full", "opts.db"),
        ("c:drive.db", "c:drive.db"),  # one letter is a (Windows) drive, not a scheme: a path here
        ("./backup:2026.db", "backup:2026.db"),  # the way to name a file whose name has a colon
    ],
)
def test_paths_and_sqlite_urls_name_a_file(cwd: Path, given: str, made: str) -> None:
    (cwd / "sub").mkdir()
    r = cli("sweep", "--store", given)
    assert r.code == 0, r.err
    assert _made_store(cwd / made)


def test_the_sqlite_url_option_is_applied() -> None:
    assert parse_store_url("sqlite:///x.db?synchronous=full").options == {"synchronous": "full"}
    assert parse_store_url("sqlite:////srv/x.db").target == "/srv/x.db"
    assert parse_store_url("sqlite:///x.db").target == "x.db"
    assert parse_store_url(Path("memory:")).kind == "sqlite"  # a Path is always a file


# -- memory ---------------------------------------------------------------------------------


def test_memory_with_its_colon_is_memory(cwd: Path) -> None:
    r = cli("sweep", "--store", "memory:")
    assert r.code == 0 and "0 jobs swept" in r.out, r.err
    assert list(cwd.iterdir()) == []


# -- refused forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("memory", "did you mean memory:"),
        ("MEMORY", "did you mean memory:"),
        ("memory:extra", "memory: alone"),
        ("mysql://u@db.example/jobs", "unknown scheme 'mysql:'"),
        ("foo:", "unknown scheme 'foo:'"),
        ("foo:bar.db", "write ./foo:bar.db"),
        ("sqlite://host/x.db", "a SQLite URL has no host"),
        ("sqlite://", "a SQLite URL has no host"),
        ("sqlite:///", "a SQLite URL names a file"),
        ("sqlite:///:memory:", "the memory store is memory:"),
        (":memory:", "the memory store is memory:"),
    ],
)
@pytest.mark.parametrize("command", [["sweep"], ["jobs", "list"], ["import", "-"]])
def test_unknown_forms_are_one_line_usage_errors_that_create_nothing(
    cwd: Path, given: str, says: str, command: list[str]
) -> None:
    r = cli(*command, "--store", given, stdin=b"")
    assert r.code == 2, (r.out, r.err)
    assert r.out == ""
    lines = r.err.splitlines()
    assert len(lines) == 1 and says in lines[0] and KNOWN_FORMS in lines[0], r.err
    assert repr(given) in lines[0]  # the line names the value it refuses
    assert list(cwd.iterdir()) == []


def test_an_unknown_sqlite_option_is_refused(cwd: Path) -> None:
    r = cli("sweep", "--store", "sqlite:///x.db?journal=wal")
    assert r.code == 2 and "unknown SQLite URL option 'journal'; known: synchronous" in r.err
    assert list(cwd.iterdir()) == []


def test_the_environment_store_is_parsed_the_same_way(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPCHART_STORE", "memory")
    r = cli("sweep")
    assert r.code == 2 and "did you mean memory:" in r.err
    assert list(cwd.iterdir()) == []


def test_the_python_api_refuses_the_same_forms(cwd: Path) -> None:
    with pytest.raises(StoreError, match="unknown scheme 'mysql:'"):
        open_store("mysql://u@h/db")
    with pytest.raises(StoreError, match="did you mean memory:"):
        open_store("memory")
    with pytest.raises(StoreError, match="empty"):
        open_store("")
    assert list(cwd.iterdir()) == []


# -- PostgreSQL -----------------------------------------------------------------------------


def _pg_tables(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
        return int(row[0]) if row is not None else -1


@pytest.mark.parametrize("scheme", ["postgresql://", "postgres://"])
def test_both_postgresql_schemes_open_postgresql(pg_url: str, scheme: str, cwd: Path) -> None:
    url = scheme + pg_url.split("://", 1)[1]
    r = cli("sweep", "--store", url)
    assert r.code == 0, r.err
    assert _pg_tables(pg_url) > 0
    assert list(cwd.iterdir()) == []


# -- serve binds first ----------------------------------------------------------------------



def _serve(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepchart", "serve", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("store", [[], ["--store", "sqlite:rel.db"], ["--database", "jobs/x.db"]])
def test_serve_on_a_taken_port_creates_no_store_file(tmp_path: Path, taken_port: int, store: list[str]) -> None:
    (tmp_path / "jobs").mkdir()
    r = _serve(tmp_path, "--port", str(taken_port), *store)
    assert r.returncode == 1, r.stderr
    assert f"cannot listen on 127.0.0.1:{taken_port}" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["jobs"]  # no stepchart.db, rel.db or x.db


def test_serve_on_a_taken_port_creates_no_postgresql_tables(pg_url: str, tmp_path: Path, taken_port: int) -> None:
    r = _serve(tmp_path, "--port", str(taken_port), "--store", pg_url)
    assert r.returncode == 1 and f"cannot listen on 127.0.0.1:{taken_port}" in r.stderr, r.stderr
    assert _pg_tables(pg_url) == 0


def test_serve_refuses_an_unknown_store_form_before_binding(tmp_path: Path, taken_port: int) -> None:
    # the port is taken too: the usage error is found first, and nothing is created
    r = _serve(tmp_path, "--port", str(taken_port), "--store", "memory")
    assert r.returncode == 2 and "did you mean memory:" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert list(tmp_path.iterdir()) == []
