"""Idempotency that cannot lie (issue 11), through a real uvicorn server on SQLite and PostgreSQL.

- the same ``Idempotency-Key`` with another body, operation or user answers 422
  ``IdempotencyKeyReused`` and the new request does not run;
- a key belongs to one incarnation of its job: after delete and re-create with the same
  id, an old key does not answer with the deleted job's reply;
- a key expires after the store's ``key_retention`` (24 h by default, configurable);
- the memory store scopes keys per job and per incarnation like the SQL stores (Python API).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import stored_engine
from http_helpers import EXAMPLES, ManualClock, auth, check_error, live_app

from stepchart import Actor, Engine
from stepchart.stores import open_store
from stepchart.stores.idempotency import DEFAULT_KEY_RETENTION

pytest_plugins = ["pg_fixture"]

BASE = "/org/item"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, base_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    url = str(request.getfixturevalue("pg_url")) if request.param == "postgres" else str(tmp_path / "jobs.db")
    with stored_engine(base_engine, url) as eng:
        yield eng


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client(engine: Engine, clock: ManualClock) -> Iterator[httpx.Client]:
    with live_app(engine, clock=clock) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        yield c


def _post(client: httpx.Client, path: str, body: Any, user: str = "alice", key: str | None = "k-1") -> httpx.Response:
    headers = {**auth(user), **({"Idempotency-Key": key} if key else {})}
    return client.post(f"{BASE}{path}", json=body, headers=headers)


def _create(client: httpx.Client, job_id: str) -> None:
    assert _post(client, "/jobs", {"workflow": "parcel-edit", "jobId": job_id}, key=None).status_code == 200


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    jobs = [engine.job(j) for j in engine.store.job_ids()]
    return jobs, len(engine.action_log()), len(engine.events_after())


def test_a_key_reused_with_another_body_or_user_is_refused_and_nothing_runs(
    client: httpx.Client, engine: Engine
) -> None:
    _create(client, "J1")
    first = _post(client, "/jobs/J1/action", {"type": "Hold", "stepIds": ["edit"]})
    assert first.status_code == 200 and first.json()["success"]
    # the same request again: the first answer, nothing done (R12)
    before = _snapshot(engine)
    again = _post(client, "/jobs/J1/action", {"stepIds": ["edit"], "type": "Hold"})  # same JSON value
    assert again.json() == first.json() and _snapshot(engine) == before
    # another body with the same key: 422, and the Run (alice may run edit) did not happen
    other = _post(client, "/jobs/J1/action", {"type": "ReleaseHold", "stepIds": ["edit"]})
    body = check_error(other, 422, "IdempotencyKeyReused")
    assert body["error"]["details"] == ["differs: operation"]
    more = _post(client, "/jobs/J1/action", {"type": "Hold", "stepIds": ["edit", "review"]})
    assert check_error(more, 422, "IdempotencyKeyReused")["error"]["details"] == ["differs: body"]
    # another user with the same key on the same path: 422 too, not a second key
    bob = _post(client, "/jobs/J1/action", {"type": "Hold", "stepIds": ["edit"]}, user="bob")
    assert check_error(bob, 422, "IdempotencyKeyReused")["error"]["details"] == ["differs: user"]
    assert _snapshot(engine) == before
    assert len(engine.job("J1")["holds"]) == 1


def test_a_key_reused_on_a_create_with_another_workflow_is_refused(client: httpx.Client, engine: Engine) -> None:
    made = _post(client, "/jobs", {"workflow": "parcel-edit"}, key="make")
    assert made.status_code == 200
    assert _post(client, "/jobs", {"workflow": "parcel-edit"}, key="make").json()["jobId"] == made.json()["jobId"]
    check_error(_post(client, "/jobs", {"workflow": "permit-review"}, key="make"), 422, "IdempotencyKeyReused")
    assert len(engine.store.job_ids()) == 1


def test_a_key_belongs_to_one_incarnation_of_the_job(client: httpx.Client, engine: Engine) -> None:
    _create(client, "J1")
    assert _post(client, "/jobs/J1/action", {"type": "Hold", "stepIds": ["edit"]}).json()["success"]
    assert client.delete(f"{BASE}/jobs/J1", headers=auth("alice")).status_code == 200
    _create(client, "J1")
    assert engine.job("J1")["holds"] == []
    # the old key does not answer "The hold was applied" for the new job: the Hold runs
    r = _post(client, "/jobs/J1/action", {"type": "Hold", "stepIds": ["edit"]})
    assert r.status_code == 200 and r.json()["success"]
    assert len(engine.job("J1")["holds"]) == 1
    # and within the new incarnation the key answers again
    before = _snapshot(engine)
    assert _post(client, "/jobs/J1/action", {"type": "Hold", "stepIds": ["edit"]}).json() == r.json()
    assert _snapshot(engine) == before


def test_a_key_expires_after_the_retention(client: httpx.Client, engine: Engine, clock: ManualClock) -> None:
    assert engine.store.key_retention == DEFAULT_KEY_RETENTION == timedelta(hours=24)
    _create(client, "J1")
    hold = {"type": "Hold", "stepIds": ["edit"]}
    assert _post(client, "/jobs/J1/action", hold).json()["success"]
    clock.advance(hours=23, minutes=59)
    _post(client, "/jobs/J1/action", hold)
    assert len(engine.job("J1")["holds"]) == 1  # still the retry
    clock.advance(minutes=2)
    assert _post(client, "/jobs/J1/action", hold).json()["success"]
    assert len(engine.job("J1")["holds"]) == 2  # expired: a new request
    # the retention is the store's setting
    engine.store.key_retention = timedelta(minutes=5)
    clock.advance(minutes=6)
    assert _post(client, "/jobs/J1/action", hold).json()["success"]
    assert len(engine.job("J1")["holds"]) == 3


@pytest.mark.parametrize("url", ["default", "memory:"])
def test_the_memory_store_scopes_keys_per_job_and_incarnation(base_engine: Engine, url: str) -> None:
    eng = base_engine.spawn() if url == "default" else base_engine.spawn(open_store(url))
    eng.add_workflow(EXAMPLES[0])
    boss = Actor.of("boss", ["editors"], ["jobUpdateHolds", "jobDelete"])
    t = "2026-03-01T09:00:00Z"
    for jid in ("J1", "J2"):
        eng.create_job("parcel-edit", jid, now=t)
        assert eng.act(jid, {"type": "Hold"}, boss, t, idempotency_key="k").success
        assert len(eng.job(jid)["holds"]) == 1
    assert eng.delete_job("J1", boss, t).ok
    eng.create_job("parcel-edit", "J1", now=t)
    assert eng.act("J1", {"type": "Hold"}, boss, t, idempotency_key="k").success
    assert len(eng.job("J1")["holds"]) == 1
    reused = eng.act("J2", {"type": "Hold", "stepIds": ["edit"]}, boss, t, idempotency_key="k")
    assert (reused.status_code, reused.error_type) == (422, "IdempotencyKeyReused")
    assert len(eng.job("J2")["holds"]) == 1
