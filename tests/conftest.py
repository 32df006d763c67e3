"""Shared fixtures: the repository's folders, a fresh engine on the shipped definitions, stored engines."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stepchart import Actor, Engine
from stepchart.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / "parcel-edit.yaml", ROOT / "examples" / "permit-review.yaml"]
T0 = "2026-03-01T09:00:00Z"


@pytest.fixture(scope="session")
def base_engine() -> Engine:
    """Charts and rules compiled once per test session; spawn() per test for isolation."""
    return Engine()


@pytest.fixture
def engine(base_engine: Engine) -> Engine:
    return base_engine.spawn()


@contextmanager
def stored_engine(
    base: Engine, url: str, workflows: list[Path] = EXAMPLES, jobs: tuple[str, ...] = ()
) -> Iterator[Engine]:
    """An engine on the store at ``url`` with ``workflows`` synced and ``jobs`` of parcel-edit created at T0."""
    eng = base.spawn(open_store(url))
    for wf in workflows:
        eng.add_workflow(wf)
    eng.sync_workflows()
    for job_id in jobs:
        eng.create_job("parcel-edit", job_id, now=T0)
    try:
        yield eng
    finally:
        eng.store.close()


@pytest.fixture
def three_jobs_db(tmp_path: Path, base_engine: Engine) -> str:
    """A SQLite store with parcel-edit jobs J1 (edit running), J2 (edit held until 10:00), J3 (fresh)."""
    url = str(tmp_path / "jobs.db")
    alice = Actor.of("alice", ["editors"], ["jobUpdateHolds"])
    with stored_engine(base_engine, url, [ROOT / "examples" / "parcel-edit.yaml"], ("J1", "J2", "J3")) as eng:
        eng.act("J1", {"type": "Run"}, alice, "2026-03-01T09:01:00Z")
        eng.act("J2", {"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:00Z"}, alice, "2026-03-01T09:02:00Z")
    return url


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port some other socket is listening on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store of each kind (PostgreSQL: the module loads the ``pg_fixture`` plugin)."""
    if request.param == "memory":
        return "memory:"
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    url: str = request.getfixturevalue("pg_url")
    return url
