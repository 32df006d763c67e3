"""Two ``stepchart serve`` processes on one PostgreSQL database, hit by concurrent clients.

What must hold, whichever process a request reaches and however they interleave:

- no lost update: every Hold answered ``Success`` is in the job (R12, R18), with hold ids
  ``H1..Hn`` each given once, and as many ``Held`` history records;
- no duplicate under retries: requests retried with the same ``Idempotency-Key`` (to
  both processes, at the same time) act once and all get the first answer;
- jobs created at once without an id on both processes all get distinct ids.

The PostgreSQL server comes from the ``pg_url`` fixture (tests/pg_fixture.py): skipped
where no server can be had, failed instead under ``STEPCHART_REQUIRE_PG=1`` (CI).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_helpers import EXAMPLES, ServeProcess

from stepchart.http.auth import add_user

pytest_plugins = ["pg_fixture"]

CLIENTS = 12
BASE = "/org/item"


@pytest.fixture
def two_servers(pg_url: str, tmp_path: Path) -> Iterator[tuple[list[ServeProcess], str]]:
    users = tmp_path / "users.yaml"
    token = add_user(users, "alice", ["editors"], ["jobCreate", "jobUpdateHolds", "jobClose"])
    args = ["--database", pg_url, "--users", str(users), "--sweep-interval", "0.5"]
    servers: list[ServeProcess] = []
    try:
        for _ in range(2):
            servers.append(ServeProcess(args, cwd=tmp_path).start())
        yield servers, token
    finally:
        for s in servers:
            s.stop()


def _post(client: httpx.Client, url: str, body: Any, token: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, json=body, headers=headers)


def test_no_lost_update_across_two_processes(two_servers: tuple[list[ServeProcess], str]) -> None:
    servers, token = two_servers
    with httpx.Client(timeout=30) as c:
        assert (
            _post(c, f"{servers[0].url}{BASE}/jobs", {"workflow": "parcel-edit", "jobId": "J1"}, token).status_code
            == 200
        )
    per_client = 10
    urls = itertools.cycle([s.url for s in servers])
    plan = [next(urls) for _ in range(CLIENTS * per_client)]

    def one(url: str) -> dict[str, Any]:
        with httpx.Client(timeout=60) as c:
            r = _post(c, f"{url}{BASE}/jobs/J1/action", {"type": "Hold"}, token)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(one, plan))
    successes = sum(1 for a in answers if a["success"])
    assert successes == len(plan)
    with httpx.Client(timeout=30) as c:
        job = c.get(f"{servers[1].url}{BASE}/jobs/J1", headers={"Authorization": f"Bearer {token}"}).json()
        history = c.get(f"{servers[0].url}{BASE}/jobs/J1/history", headers={"Authorization": f"Bearer {token}"}).json()
    ids = [h["holdId"] for h in job["holds"]]
    assert len(ids) == successes
    assert sorted(ids, key=lambda s: int(s[1:])) == [f"H{i}" for i in range(1, successes + 1)]
    assert [h["action"] for h in history["history"]].count("Held") == successes


def test_retries_with_one_idempotency_key_act_once(two_servers: tuple[list[ServeProcess], str]) -> None:
    servers, token = two_servers
    with httpx.Client(timeout=30) as c:
        assert (
            _post(c, f"{servers[0].url}{BASE}/jobs", {"workflow": "parcel-edit", "jobId": "J1"}, token).status_code
            == 200
        )
    keys = [f"key-{i}" for i in range(20)]
    copies = 4  # each request sent four times: twice to each process, all at once
    plan = [(key, servers[i % 2].url) for key in keys for i in range(copies)]
    random.Random(7).shuffle(plan)

    def one(item: tuple[str, str]) -> tuple[str, int, Any]:
        key, url = item
        with httpx.Client(timeout=60) as c:
            r = _post(c, f"{url}{BASE}/jobs/J1/action", {"type": "Hold"}, token, key)
            return key, r.status_code, r.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one, plan))
    by_key: dict[str, list[Any]] = {}
    for key, status, body in results:
        assert status == 200, body
        by_key.setdefault(key, []).append(body)
    for key, bodies in by_key.items():
        assert len(bodies) == copies
        assert all(b == bodies[0] for b in bodies), key  # the first answer, every time
    with httpx.Client(timeout=30) as c:
        job = c.get(f"{servers[1].url}{BASE}/jobs/J1", headers={"Authorization": f"Bearer {token}"}).json()
        events = c.get(
            f"{servers[0].url}{BASE}/events?jobId=J1&limit=1000", headers={"Authorization": f"Bearer {token}"}
        ).json()["events"]
    assert len(job["holds"]) == len(keys)  # no duplicate
    assert Counter(e["type"] for e in events)["StepHeld"] == len(keys)


def test_concurrent_creates_get_distinct_ids(two_servers: tuple[list[ServeProcess], str]) -> None:
    servers, token = two_servers
    n = 24

    def one(i: int) -> str:
        with httpx.Client(timeout=60) as c:
            r = _post(c, f"{servers[i % 2].url}{BASE}/jobs", {"workflow": "parcel-edit"}, token)
            assert r.status_code == 200, r.text
            job_id: str = r.json()["jobId"]
            return job_id

    with ThreadPoolExecutor(CLIENTS) as pool:
        ids = list(pool.map(one, range(n)))
    assert len(set(ids)) == n
    with httpx.Client(timeout=30) as c:
        listed = c.get(f"{servers[1].url}{BASE}/jobs?limit=1000", headers={"Authorization": f"Bearer {token}"}).json()
    assert sorted(j["jobId"] for j in listed["jobs"]) == sorted(ids)


def test_nul_characters_are_refused_before_they_reach_postgresql(pg_url: str, base_engine: Any) -> None:
    """PostgreSQL text cannot hold U+0000: the service answers 400, never 500, and changes nothing."""
    from http_helpers import auth, check_error, live_app

    from stepchart.stores import open_store

    engine = base_engine.spawn(open_store(pg_url))
    engine.add_workflow(EXAMPLES[0])
    engine.sync_workflows()
    try:
        engine.create_job("parcel-edit", "J1", now="2026-03-01T09:00:00Z")
        with live_app(engine) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
            before = (engine.job("J1"), len(engine.action_log()), len(engine.events_after()))
            h = auth("alice")
            check_error(c.post(f"{BASE}/jobs/J%00/action", json={"type": "Run"}, headers=h), 400, "InvalidRequest")
            check_error(c.get(f"{BASE}/jobs?workflow=a%00b", headers=h), 400, "InvalidRequest")
            check_error(c.get(f"{BASE}/events?jobId=%00", headers=h), 400, "InvalidRequest")
            for body in [
                {"type": "Hold", "dependentJobId": "J\u0000"},
                {"type": "Run", "stepIds": ["edit\u0000"]},
            ]:
                r = c.post(f"{BASE}/jobs/J1/action", json=body, headers=h)
                err = check_error(r, 400, "InvalidJson")  # issue 11: refused by the JSON parser
                assert "NUL" in err["error"]["details"][0]
            r = c.post(
                f"{BASE}/jobs/J1/steps/edit/assign", json={"assignedType": "User", "assignedTo": "a\u0000"}, headers=h
            )
            check_error(r, 400, "InvalidJson")
            assert (engine.job("J1"), len(engine.action_log()), len(engine.events_after())) == before
    finally:
        engine.store.close()


def test_concurrent_retries_of_a_keyed_create_make_one_job(two_servers: tuple[list[ServeProcess], str]) -> None:
    servers, token = two_servers
    plan = [(f"create-{k}", servers[i % 2].url) for k in range(6) for i in range(4)]
    random.Random(3).shuffle(plan)

    def one(item: tuple[str, str]) -> tuple[str, str]:
        key, url = item
        with httpx.Client(timeout=60) as c:
            r = _post(c, f"{url}{BASE}/jobs", {"workflow": "parcel-edit"}, token, key)
            assert r.status_code == 200, r.text
            return key, r.json()["jobId"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        made = list(pool.map(one, plan))
    by_key: dict[str, set[str]] = {}
    for key, job_id in made:
        by_key.setdefault(key, set()).add(job_id)
    assert all(len(ids) == 1 for ids in by_key.values()), by_key
    with httpx.Client(timeout=30) as c:
        listed = c.get(f"{servers[0].url}{BASE}/jobs?limit=1000", headers={"Authorization": f"Bearer {token}"}).json()
    assert len(listed["jobs"]) == 6
