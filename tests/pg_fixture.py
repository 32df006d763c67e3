"""pytest plugin: a real PostgreSQL for the store tests (``pg_url``, ``pg_server_url``).

Where the server comes from, in order:

1. ``$STEPCHART_PG_URL`` (CI exports it after ``.ci/postgres.sh``);
2. else a throwaway cluster: ``initdb`` and ``pg_ctl`` (on the PATH or under
   ``/usr/lib/postgresql/*/bin``) start one in a temporary folder, listening on a free
   loopback port only, with durability off (the tests kill clients, not the server);
3. else the tests that need PostgreSQL skip, unless ``$STEPCHART_REQUIRE_PG=1``: then
   they fail, so CI cannot pass by skipping them.

``pg_url`` gives each test a fresh, empty schema (the URL sets its ``search_path``), so
tests never see each other's tables and need no CREATEDB privilege.

Load it with ``pytest_plugins = ["pg_fixture"]`` (in ``conftest.py`` or a test module).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest

ENV_URL = "STEPCHART_PG_URL"
ENV_REQUIRE = "STEPCHART_REQUIRE_PG"


def pg_required() -> bool:
    """Whether missing PostgreSQL must fail the tests instead of skipping them."""
    return os.environ.get(ENV_REQUIRE, "") == "1"


def unavailable(reason: str) -> None:
    """Skip, or fail under ``STEPCHART_REQUIRE_PG=1``."""
    if pg_required():
        pytest.fail(f"PostgreSQL is required ({ENV_REQUIRE}=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def _find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq ``options`` that set the search path to ``schema``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def _connect(url: str) -> object:
    try:
        import psycopg
    except ImportError:
        unavailable("psycopg is not installed (pip install 'stepchart[postgres]')")
        raise
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        unavailable(f"cannot connect to {url}: {exc}".strip())
        raise


class _Cluster:
    """A throwaway cluster in a temporary folder, owned by an unprivileged user when we are root."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.dir = Path(tempfile.mkdtemp(prefix="stepchart-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                unavailable("running as root and there is no 'postgres' user to run the server")
            self.user = "postgres"
            shutil.chown(self.dir, user="postgres")

    def _run(self, *args: str) -> None:
        proc = subprocess.run(args, user=self.user, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            unavailable(f"{' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout.strip()} {tail}")

    def start(self) -> str:
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(self.pg_ctl, "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "-o", options, "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            subprocess.run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"], user=self.user,
                           capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server for this test session (see the module text)."""
    url = os.environ.get(ENV_URL)
    if url:
        conn = _connect(url)
        conn.close()  # type: ignore[attr-defined]
        yield url
        return
    initdb, pg_ctl = _find_binary("initdb"), _find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        unavailable(f"no {ENV_URL} and no initdb/pg_ctl to start a server")
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install 'stepchart[postgres]')")
    cluster = _Cluster(initdb, pg_ctl)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@contextlib.contextmanager
def _fresh_schema(server_url: str) -> Iterator[str]:
    schema = f"stepchart_test_{uuid.uuid4().hex[:12]}"
    conn = _connect(server_url)
    conn.execute(f"CREATE SCHEMA {schema}")  # type: ignore[attr-defined]
    try:
        yield with_search_path(server_url, schema)
    finally:
        with contextlib.suppress(Exception):
            conn.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A URL whose connections see a fresh, empty schema of their own; dropped after the test."""
    with _fresh_schema(pg_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def pg_module_url(pg_server_url: str) -> Iterator[str]:
    """As ``pg_url``, one schema for a whole test module (a server the module's tests share)."""
    with _fresh_schema(pg_server_url) as url:
        yield url
