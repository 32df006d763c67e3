"""One memory store, scoped like the SQL stores: idempotency keys belong to one job, on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import stepchart
from stepchart import Actor, Engine
from stepchart.stores import ManagedStore, MemoryStore, open_store

pytest_plugins = ["pg_fixture"]

ROOT = Path(__file__).resolve().parent.parent
PARCEL = ROOT / "examples" / "parcel-edit.yaml"
T0 = "2026-03-01T09:00:00Z"
ALICE = Actor.of("alice", ["editors"], ["jobUpdateHolds", "workflowSetStepCurrent"])
BOSS = Actor.of("boss", [], ["jobClose", "jobReopenClosed", "jobDelete", "adminAdvanced"])


@pytest.fixture(params=["default", "memory", "sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, base_engine: Engine) -> Iterator[Engine]:
    """An engine with parcel-edit on each store: the engine's default, ``memory:``, SQLite, PostgreSQL."""
    if request.param == "default":
        eng = base_engine.spawn()
        eng.add_workflow(PARCEL)
        yield eng
        return
    url = {"memory": "memory:", "sqlite": str(tmp_path / "jobs.db")}.get(request.param)
    store = open_store(url if url is not None else str(request.getfixturevalue("pg_url")))
    eng = base_engine.spawn(store)
    eng.add_workflow(PARCEL)
    eng.sync_workflows()
    try:
        yield eng
    finally:
        store.close()


def test_one_idempotency_key_on_two_jobs_acts_on_both(engine: Engine) -> None:
    engine.create_job("parcel-edit", "J1", now=T0)
    engine.create_job("parcel-edit", "J2", now=T0)
    first = engine.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z", idempotency_key="same")
    second = engine.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:02:00Z", idempotency_key="same")
    assert first.ok and second.ok
    assert second.events and all(e["jobId"] == "J2" for e in second.events)
    assert engine.job("J2")["currentSteps"][0]["status"] == "Running"
    assert [e["action"] for e in engine.action_log("J2")] == ["Create", "Run"]
    # within one job the key still recalls the first answer and does nothing
    again = engine.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:03:00Z", idempotency_key="same")
    assert again.body == second.body and again.events == []
    # ... and the same key on another body is refused, not answered with the first reply (issue 11)
    other = engine.act("J2", {"type": "Stop"}, ALICE, "2026-03-01T09:03:00Z", idempotency_key="same")
    assert (other.status_code, other.error_type) == (422, "IdempotencyKeyReused")
    assert engine.job("J2")["currentSteps"][0]["status"] == "Running"


def test_one_idempotency_key_on_two_jobs_closes_both(engine: Engine) -> None:
    engine.create_job("parcel-edit", "J1", now=T0)
    engine.create_job("parcel-edit", "J2", now=T0)
    assert engine.close_job("J1", BOSS, "2026-03-01T09:01:00Z", idempotency_key="close").ok
    assert engine.close_job("J2", BOSS, "2026-03-01T09:02:00Z", idempotency_key="close").ok
    assert engine.job("J2")["closed"] is True
    assert engine.verify_replay() == []


def test_the_default_store_is_the_one_memory_store() -> None:
    eng = stepchart.Engine(workflows=[PARCEL])
    assert type(eng.store) is MemoryStore and isinstance(eng.store, ManagedStore)
    assert type(open_store("memory:")) is MemoryStore
    assert stepchart.MemoryStore is MemoryStore
    eng.create_job("parcel-edit", "J1", now=T0)
    assert [e["type"] for e in eng.events_after(0)] == [e["type"] for e in eng.store.events]
    assert eng.search_jobs(assigned_to="editors")[0]["jobId"] == "J1"
