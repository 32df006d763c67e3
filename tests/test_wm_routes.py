"""Workflow Manager's job management routes (issue 9) through a real uvicorn server, on every store.

``jobs/manage`` (close, reopen, delete, upgrade many jobs with the management rules),
``jobs/{jobId}/{stepId}`` (assign, R25), the history in WM's record shape (R23 records
and Created, Upgraded, Commented), comments (stored, in the feed, exported), and the
diagrams of the loaded workflows. Each test runs on memory, SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_helpers import ALL_PRIVILEGES, USERS, ManualClock, check_error, live_app, wait_for

from stepchart import Engine
from stepchart.cli.main import main
from stepchart.http.auth import UserDirectory
from stepchart.http.openapi import validator
from stepchart.stores import MemoryStore, open_store
from stepchart.stores.comments import COMMENTS_VERSION
from stepchart.tools.wmdiagram import to_diagram

pytest_plugins = ["pg_fixture"]

BASE = "/org1/item1"
T0 = "2026-03-01T09:00:00Z"
USERS_WM = {**USERS, "boss": ([], [*ALL_PRIVILEGES, "adminAdvanced"], "tok-boss")}

FLOW: dict[str, Any] = {
    "workflow": "wmflow",
    "name": "WM flow",
    "initialStep": "a",
    "steps": [
        {"id": "a", "name": "Step A", "type": "manual", "assignedType": "User", "assignedTo": "alice",
         "paths": [{"nextStep": "b"}]},
        {"id": "b", "type": "manual", "paths": []},
    ],
}  # fmt: skip
FLOW_V2 = {**copy.deepcopy(FLOW), "name": "WM flow, edited"}


def headers(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {USERS_WM[user][2]}"}


def valid(stem: str, body: Any) -> None:
    errors = [e.message for e in validator(stem).iter_errors(body)]
    assert not errors, errors


@pytest.fixture
def engine(base_engine: Engine, store_url: str) -> Iterator[Engine]:
    eng = base_engine.spawn(MemoryStore() if store_url == "memory:" else open_store(store_url))
    eng.add_workflow(FLOW)
    eng.sync_workflows()
    yield eng
    eng.store.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def client(engine: Engine, clock: ManualClock) -> Iterator[httpx.Client]:
    with live_app(engine, UserDirectory.of(USERS_WM), clock=clock) as srv, httpx.Client(
        base_url=srv.url, timeout=10
    ) as c:
        yield c


def manage(client: httpx.Client, type_: str, ids: list[str], user: str = "alice") -> httpx.Response:
    return client.post(f"{BASE}/jobs/manage", json={"type": type_, "jobIds": ids}, headers=headers(user))


def act(client: httpx.Client, job_id: str, type_: str) -> None:
    r = client.post(f"{BASE}/jobs/{job_id}/action", json={"type": type_}, headers=headers("alice"))
    assert r.status_code == 200 and r.json()["success"], r.text


# -- jobs/manage ---------------------------------------------------------------------------------


def test_manage_closes_reopens_upgrades_and_deletes_many_jobs(client: httpx.Client, engine: Engine) -> None:
    for jid in ("J1", "J2"):
        engine.create_job("wmflow", jid, now=T0)
    r = manage(client, "Close", ["J1", "J2"])
    assert r.status_code == 200, r.text
    valid("http-manage-result", r.json())
    closed = [{"jobId": j, "success": True, "closed": True} for j in ("J1", "J2")]
    assert r.json() == {"success": True, "results": closed}
    assert engine.job("J1")["closed"] and engine.job("J2")["closed"]

    # nothing changes: the R14 error of the refusal (the client raises), each job named
    body = check_error(manage(client, "Close", ["J1", "J2"]), 400, "InvalidRequest")["error"]
    assert body["details"][0].startswith("J1: InvalidRequest") and body["details"][1].startswith("J2: ")

    # some change: 200, success false, the refused job's own error
    assert manage(client, "Reopen", ["J1"]).json()["success"] is True
    r = manage(client, "Reopen", ["J1", "J2"])
    assert r.status_code == 200 and r.json()["success"] is False
    first, second = r.json()["results"]
    assert first["success"] is False and first["error"]["type"] == "InvalidRequest"
    assert second == {"jobId": "J2", "success": True, "closed": False}
    assert not engine.job("J2")["closed"]

    # the same privileges as the single-job routes and stepchart jobs upgrade (rules/40-management.yaml)
    check_error(manage(client, "Delete", ["J1"], user="bob"), 400, "InsufficientPrivileges")
    assert engine.store.exists("J1")
    engine.add_workflow(FLOW_V2)
    old, new = engine.workflow_versions("wmflow")
    check_error(manage(client, "Upgrade", ["J1", "J2"]), 400, "InsufficientPrivileges")  # alice: no adminAdvanced
    r = manage(client, "Upgrade", ["J1", "J2"], user="boss")
    assert r.status_code == 200 and r.json()["success"] is True, r.text
    assert r.json()["results"][0] == {"jobId": "J1", "success": True, "workflowVersion": new, "previousVersion": old}
    assert engine.job("J2")["workflowVersion"] == new

    r = manage(client, "Delete", ["J1"])
    assert r.json() == {"success": True, "results": [{"jobId": "J1", "success": True, "deleted": True}]}
    assert not engine.store.exists("J1") and engine.store.exists("J2")
    def types() -> list[str]:  # PostgreSQL's feed shows an event once its transaction is settled
        return [e["type"] for e in engine.events_after(job_id="J1")]

    assert wait_for(lambda: len(types()) == 4)
    assert types() == ["JobClosed", "JobReopened", "JobUpgraded", "JobDeleted"]


def test_manage_refuses_a_bad_body_before_anything_runs(client: httpx.Client, engine: Engine) -> None:
    engine.create_job("wmflow", "J1", now=T0)
    check_error(manage(client, "Archive", ["J1"]), 400, "SchemaViolation")
    check_error(manage(client, "Close", []), 400, "SchemaViolation")
    check_error(manage(client, "Close", ["J1", "J1"]), 400, "SchemaViolation")  # each job once
    capped = check_error(manage(client, "Close", ["J1"] + [f"X{i}" for i in range(100)]), 400, "InvalidRequest")
    assert capped["error"]["details"] == ["jobIds: 101 ids"]  # at most 100, J1 not closed
    check_error(manage(client, "Close", ["NOPE"]), 400, "JobNotFound")
    # nothing ran (counting log entries is not used: PostgreSQL shows an entry once it is settled)
    assert not engine.job("J1")["closed"] and [e["action"] for e in engine.action_log("J1")] in ([], ["Create"])


# -- assign (R25) ------------------------------------------------------------------------------------


def test_post_to_a_step_assigns_it_as_the_assign_route_does(client: httpx.Client, engine: Engine) -> None:
    engine.create_job("wmflow", "J1", now=T0)
    engine.create_job("wmflow", "J2", now=T0)
    body = {"assignedType": "User", "assignedTo": "bob"}
    wm = client.post(f"{BASE}/jobs/J1/a", json=body, headers=headers("alice"))
    ours = client.post(f"{BASE}/jobs/J2/steps/a/assign", json=body, headers=headers("alice"))
    assert wm.status_code == ours.status_code == 200
    assert wm.json() == ours.json() and wm.json()["success"] is True
    valid("response", wm.json())
    assert engine.job("J1")["currentSteps"][0]["assignedTo"] == "bob"
    # WM's client sends assignedTo null when unassigning
    unassign = {"assignedType": "Unassigned", "assignedTo": None}
    r = client.post(f"{BASE}/jobs/J1/a", json=unassign, headers=headers("alice"))
    assert r.status_code == 200 and r.json()["success"], r.text
    assert engine.job("J1")["currentSteps"][0]["assignedType"] == "Unassigned"
    # the same refusals: a step that is not current (R25), a bad body
    wm, ours = (client.post(p, json=body, headers=headers("alice")) for p in
                (f"{BASE}/jobs/J1/b", f"{BASE}/jobs/J1/steps/b/assign"))  # fmt: skip
    assert wm.status_code == ours.status_code and wm.json() == ours.json()
    check_error(wm, 400, "InvalidRequest")
    check_error(client.post(f"{BASE}/jobs/J1/a", json={"assignedType": "Robot"}, headers=headers("alice")),
                400, "SchemaViolation")  # fmt: skip
    # the service's own routes still win over the catch-all
    assert client.post(f"{BASE}/jobs/J2/close", headers=headers("alice")).json()["closed"] is True


# -- history in WM's shape ---------------------------------------------------------------------------


def test_history_has_wm_records_with_created_upgraded_and_commented(
    client: httpx.Client, engine: Engine, clock: ManualClock
) -> None:
    assert client.post(f"{BASE}/jobs", json={"workflow": "wmflow", "jobId": "J1"}, headers=headers("alice")).is_success
    clock.advance(seconds=10)
    act(client, "J1", "Run")
    clock.advance(seconds=90)
    act(client, "J1", "Finish")
    engine.add_workflow(FLOW_V2)
    clock.advance(seconds=5)
    assert manage(client, "Upgrade", ["J1"], user="boss").json()["success"]
    clock.advance(seconds=5)
    assert client.post(f"{BASE}/jobs/J1/comments", json={"comment": "looks fine"}, headers=headers("bob")).is_success
    r = client.get(f"{BASE}/jobs/J1/history?f=json", headers=headers("carol"))
    assert r.status_code == 200
    valid("http-wm-history", r.json())
    history = r.json()["history"]
    assert [h["action"] for h in history] == [
        "Created", "Activated", "Started", "Finished", "Activated", "Upgraded", "Commented"]  # fmt: skip
    created, _, started, finished, _, upgraded, commented = history
    assert created["username"] == "alice" and created["date"] == T0
    assert started["startDate"] == "2026-03-01T09:00:10Z"
    assert finished["stepId"] == "a" and finished["result"] == "Success"
    assert (finished["startDate"], finished["endDate"], finished["durationSeconds"]) == (
        "2026-03-01T09:00:10Z", "2026-03-01T09:01:40Z", 90.0)  # fmt: skip
    old, new = engine.workflow_versions("wmflow")
    assert upgraded["username"] == "boss" and upgraded["result"] == f"{old} -> {new}"
    assert commented["username"] == "bob" and commented["result"] == "looks fine" and commented["commentId"] == "1"
    check_error(client.get(f"{BASE}/jobs/NOPE/history", headers=headers("alice")), 400, "JobNotFound")


# -- comments ------------------------------------------------------------------------------------------


def test_comments_are_stored_in_order_and_reach_the_events_feed(
    client: httpx.Client, engine: Engine, clock: ManualClock
) -> None:
    engine.create_job("wmflow", "J1", now=T0)
    r = client.get(f"{BASE}/jobs/J1/comments", headers=headers("carol"))
    assert r.json() == {"jobId": "J1", "jobComments": []}
    added = client.post(f"{BASE}/jobs/J1/comments", json={"comment": "first"}, headers=headers("alice"))
    assert added.status_code == 200 and added.json() == {"jobId": "J1", "commentId": "1"}
    valid("http-comment-added", added.json())
    clock.advance(minutes=1)
    assert client.post(f"{BASE}/jobs/J1/comments", json={"comment": "second"}, headers=headers("bob")).json()[
        "commentId"] == "2"  # fmt: skip
    r = client.get(f"{BASE}/jobs/J1/comments", headers=headers("carol"))
    valid("http-comments", r.json())
    assert r.json()["jobComments"] == [
        {"commentId": "1", "comment": "first", "createdBy": "alice", "createdDate": T0},
        {"commentId": "2", "comment": "second", "createdBy": "bob", "createdDate": "2026-03-01T09:01:00Z"},
    ]
    def feed() -> list[dict[str, Any]]:
        return [e for e in engine.events_after(job_id="J1") if e["type"] == "JobCommentUpdated"]

    assert wait_for(lambda: len(feed()) == 2)
    assert [(e["commentId"], e["username"]) for e in feed()] == [("1", "alice"), ("2", "bob")]
    # refusals change nothing
    check_error(client.post(f"{BASE}/jobs/J1/comments", json={"comment": ""}, headers=headers("alice")),
                400, "SchemaViolation")  # fmt: skip
    check_error(client.post(f"{BASE}/jobs/NOPE/comments", json={"comment": "x"}, headers=headers("alice")),
                400, "JobNotFound")  # fmt: skip
    check_error(client.get(f"{BASE}/jobs/NOPE/comments", headers=headers("alice")), 400, "JobNotFound")
    assert len(engine.store.comments("J1")) == 2  # type: ignore[attr-defined]
    # a comment is no part of the job's state: replay still gives back the stored job
    assert engine.verify_replay() == []


def test_export_and_import_carry_comments(
    client: httpx.Client, engine: Engine, store_url: str, tmp_path: Path, capsys: Any
) -> None:
    engine.create_job("wmflow", "J1", now=T0)
    engine.create_job("wmflow", "J2", now=T0)
    for text in ("one", "two"):
        assert client.post(f"{BASE}/jobs/J2/comments", json={"comment": text}, headers=headers("alice")).is_success
    records = list(engine.store.export_records())  # type: ignore[attr-defined]
    assert [r["commentId"] for r in records if r["kind"] == "comment"] == ["1", "2"]
    for target in (MemoryStore(), open_store(str(tmp_path / "copy.db"))):
        report = target.import_records(records)
        assert report.comments == 2
        assert [c["comment"] for c in target.comments("J2")] == ["one", "two"] and target.comments("J1") == []
        target.close()
    # through the real CLI too: stepchart export, then import into a new SQLite file
    if store_url != "memory:":
        out, copy_db = tmp_path / "export.jsonl", str(tmp_path / "cli.db")
        assert main(["export", "--store", store_url, "-o", str(out)]) == 0
        assert main(["import", "--store", copy_db, str(out), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["comments"] == 2
        copied = open_store(copy_db)
        assert [c["comment"] for c in copied.comments("J2")] == ["one", "two"]
        copied.close()
    # a deleted job's comments go with it
    assert manage(client, "Delete", ["J2"]).json()["success"]
    assert engine.store.comments("J2") == []  # type: ignore[attr-defined]


def test_sqlite_database_of_an_older_schema_gets_the_comments_table(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    open_store(str(db)).close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE job_comments")
    conn.execute("DELETE FROM stepchart_schema WHERE version = ?", (COMMENTS_VERSION,))
    conn.commit()
    conn.close()
    store = open_store(str(db))
    assert store.comments("J1") == []
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT MAX(version) FROM stepchart_schema").fetchone()[0] == COMMENTS_VERSION
    conn.close()


# -- diagrams ------------------------------------------------------------------------------------------


def test_diagrams_are_the_stored_workflow_versions(client: httpx.Client, engine: Engine) -> None:
    engine.create_job("wmflow", "J1", now=T0)
    engine.add_workflow(FLOW_V2)
    old, new = engine.workflow_versions("wmflow")
    r = client.get(f"{BASE}/diagrams?f=json", headers=headers("carol"))
    assert r.status_code == 200
    valid("http-diagrams", r.json())
    listed = {d["diagramId"]: d for d in r.json()["diagrams"]}
    assert listed["wmflow"] == {**to_diagram(FLOW_V2, version=2), "workflowVersion": new}
    assert set(listed) == set(engine.workflows)
    one = client.get(f"{BASE}/diagrams/wmflow/1", headers=headers("carol")).json()
    assert one == {**to_diagram(FLOW, version=1), "workflowVersion": old}
    assert client.get(f"{BASE}/diagrams/wmflow", headers=headers("carol")).json()["diagramVersion"] == 2
    for bad in ("3", "0", "x"):
        check_error(client.get(f"{BASE}/diagrams/wmflow/{bad}", headers=headers("carol")), 400, "InvalidRequest")
    check_error(client.get(f"{BASE}/diagrams/nope", headers=headers("carol")), 400, "InvalidRequest")
    # a job's diagram is the version it runs
    job = client.get(f"{BASE}/jobs/J1/diagram", headers=headers("carol")).json()
    valid("http-diagram", job)
    assert job["diagramVersion"] == 1 and job["diagramName"] == "WM flow"
    assert manage(client, "Upgrade", ["J1"], user="boss").json()["success"]
    assert client.get(f"{BASE}/jobs/J1/diagram", headers=headers("carol")).json()["diagramVersion"] == 2
    check_error(client.get(f"{BASE}/jobs/NOPE/diagram", headers=headers("carol")), 400, "JobNotFound")
