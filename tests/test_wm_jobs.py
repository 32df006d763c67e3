"""Workflow Manager's job model and job update over a real server (issue 9), on memory, SQLite and PostgreSQL.

``GET .../jobs/{jobId}`` answers WM's job model plus the SPEC 6.2 fields; ``POST
.../jobs/{jobId}/update`` takes the whole job back with changes (read-only fields
accepted when unchanged, refused when changed), needs ``jobUpdateProperties``, writes
history ``Updated`` (R23) and the event ``JobUpdated`` (R24), and survives a restart,
export/import and replay. A database made by schema version 3 is upgraded in place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_helpers import EXAMPLES, USERS, ManualClock, check_error, live_app

from stepchart.bootstrap import open_engine
from stepchart.http.auth import UserDirectory
from stepchart.stores import open_store
from stepchart.stores.base import SCHEMA_VERSION
from stepchart.stores.sqlite import SQLiteStore

pytest_plugins = ["pg_fixture"]

BASE = "/org/item"
EDITOR = ["jobCreate", "jobUpdateProperties", "jobClose", "jobReopenClosed"]
PEOPLE = {
    **USERS,
    "erin": (["editors"], EDITOR, "tok-erin"),
    "dave": (["editors"], ["jobCreate"], "tok-dave"),
}


def _h(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {PEOPLE[user][2]}"}


@pytest.fixture
def client(store_url: str) -> Iterator[tuple[httpx.Client, Any]]:
    engine = open_engine(store_url, workflows=EXAMPLES)
    with live_app(engine, UserDirectory.of(PEOPLE), clock=ManualClock()) as server, \
            httpx.Client(base_url=server.url, timeout=10) as c:
        yield c, engine
    engine.store.close()


def _create(c: httpx.Client, **fields: Any) -> str:
    r = c.post(f"{BASE}/jobTemplates/parcel-edit/job", json=fields, headers=_h("erin"))
    assert r.status_code == 200, r.text
    ids: list[str] = r.json()["jobIds"]
    return ids[0]


def test_get_answers_the_wm_job_model_with_the_spec_fields(client: tuple[httpx.Client, Any]) -> None:
    c, engine = client
    jid = _create(c, jobName="Lot 7", priority="High", dueDate="2026-03-05T12:00:00+01:00",
                  extendedProperties=[{"tableName": "parcel", "properties": [{"propertyName": "lot", "value": 7}]}])
    doc = c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()
    assert (doc["jobId"], doc["jobName"], doc["priority"]) == (jid, "Lot 7", "High")
    assert doc["jobTemplateId"] == "parcel-edit"  # the workflow's default template
    assert (doc["diagramId"], doc["diagramName"], doc["diagramVersion"]) == ("parcel-edit", "Parcel edit", 1)
    assert (doc["createdBy"], doc["createdDate"], doc["startDate"]) == ("erin", "2026-03-01T09:00:00Z",
                                                                        "2026-03-01T09:00:00Z")
    assert doc["dueDate"] == "2026-03-05T11:00:00Z" and doc["endDate"] is None
    assert (doc["closed"], doc["jobStatus"]) == (False, "Ready")
    step = doc["currentSteps"][0]
    assert step == {"stepId": "edit", "status": "Ready", "assignedType": "Group", "assignedTo": "editors",
                    "stepName": "Edit parcels", "canSkip": False, "manualHold": False,
                    "holdScheduledRelease": None, "dependencies": []}
    assert doc["extendedProperties"] == [
        {"tableName": "parcel", "relationshipType": "OneToOne", "properties": [{"propertyName": "lot", "value": 7}]}
    ]
    # the SPEC 6.2 fields stay
    assert doc["workflow"] == "parcel-edit" and doc["workflowVersion"] == engine.workflows["parcel-edit"].version
    assert doc["returnValues"] == {"start": "Success"} and doc["holds"] == []
    for key in ("description", "ownedBy", "notes", "parentJob", "percentComplete"):
        assert key in doc and doc[key] is None


def test_update_takes_the_whole_job_back_and_changes_only_what_changed(client: tuple[httpx.Client, Any]) -> None:
    c, engine = client
    jid = _create(c)
    job = c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()
    body = {**job, "notes": "call the owner", "percentComplete": 40,
            "extendedProperties": [{"tableName": "parcel", "properties": [{"propertyName": "lot", "value": "7a"}]}]}
    r = c.post(f"{BASE}/jobs/{jid}/update", json=body, headers=_h("erin"))
    assert r.status_code == 200 and r.json() == {"success": True}
    after = c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()
    assert (after["notes"], after["percentComplete"]) == ("call the owner", 40)
    assert after["extendedProperties"][0]["properties"] == [{"propertyName": "lot", "value": "7a"}]
    assert after["currentSteps"] == job["currentSteps"]  # the lifecycle is left alone
    history = engine.job(jid)["history"]
    assert history[-1]["action"] == "Updated" and history[-1]["username"] == "erin"  # R23
    updated = [e for e in engine.events_after(0, jid) if e["type"] == "JobUpdated"]  # R24
    assert len(updated) == 1 and updated[0]["username"] == "erin"
    assert engine.verify_replay([jid]) == []  # the update is replayed from the log


def test_update_refuses_a_changed_read_only_field_and_unknown_fields(client: tuple[httpx.Client, Any]) -> None:
    c, engine = client
    jid = _create(c)
    job = c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()
    before = engine.job(jid)
    for change in ({"createdDate": "2020-01-01T00:00:00Z"}, {"diagramId": "permit-review"},
                   {"closed": True}, {"colour": "red"}):
        body = check_error(c.post(f"{BASE}/jobs/{jid}/update", json={**job, **change}, headers=_h("erin")),
                           400, "InvalidRequest")
        assert next(iter(change)) in body["error"]["message"]
    check_error(c.post(f"{BASE}/jobs/{jid}/update", json={"percentComplete": 101}, headers=_h("erin")),
                400, "SchemaViolation")
    check_error(c.post(f"{BASE}/jobs/{jid}/update", json={"notes": "x"}, headers=_h("dave")),
                400, "InsufficientPrivileges")
    check_error(c.post(f"{BASE}/jobs/NOPE/update", json={"notes": "x"}, headers=_h("erin")), 400, "JobNotFound")
    assert engine.job(jid) == before  # nothing changed


def test_close_sets_end_date_and_reopen_clears_it(client: tuple[httpx.Client, Any]) -> None:
    c, _engine = client
    jid = _create(c)
    assert c.post(f"{BASE}/jobs/{jid}/close", headers=_h("erin")).status_code == 200
    closed = c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()
    assert (closed["endDate"], closed["jobStatus"], closed["closed"]) == ("2026-03-01T09:00:00Z", "Closed", True)
    assert c.post(f"{BASE}/jobs/{jid}/reopen", headers=_h("erin")).status_code == 200
    assert c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()["endDate"] is None


def test_properties_survive_a_restart_and_export_import(store_url: str) -> None:
    engine = open_engine(store_url, workflows=EXAMPLES)
    with live_app(engine, UserDirectory.of(PEOPLE), clock=ManualClock()) as server, \
            httpx.Client(base_url=server.url) as c:
        jid = _create(c, jobName="Keep me", notes="n", parentJob="J0",
                      extendedProperties={"parcel.lot": 9})
    records = list(engine.store.export_records())
    if store_url != "memory:":
        engine.store.close()
        engine = open_engine(store_url, workflows=EXAMPLES)
    doc = engine.job(jid)
    assert (doc["jobName"], doc["notes"], doc["parentJob"], doc["extendedProperties"]) == (
        "Keep me", "n", "J0", {"parcel.lot": 9})
    target = open_store("memory:")
    target.import_records(records)
    moved = target.get(jid)
    assert moved is not None and moved.properties.job_name == "Keep me"
    assert moved.properties.extended_properties == {"parcel.lot": 9}
    engine.store.close()


def test_sql_columns_hold_the_properties(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    engine = open_engine(str(db), workflows=EXAMPLES)
    with live_app(engine, UserDirectory.of(PEOPLE), clock=ManualClock()) as server, \
            httpx.Client(base_url=server.url) as c:
        jid = _create(c, jobName="Lot 1", ownedBy="erin")
        job = c.get(f"{BASE}/jobs/{jid}", headers=_h("erin")).json()
        c.post(f"{BASE}/jobs/{jid}/update", json={**job, "ownedBy": "dave"}, headers=_h("erin"))
    engine.store.close()
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT job_name, owned_by, template_id, created_date FROM jobs WHERE job_id = ?",
                       (jid,)).fetchone()
    conn.close()
    assert row[:3] == ("Lot 1", "dave", "parcel-edit") and isinstance(row[3], int)


def test_a_version_3_database_is_upgraded_and_its_jobs_load(tmp_path: Path) -> None:
    """Migration 4 adds the property columns; a 6.2 document without properties still loads."""
    db = tmp_path / "old.db"
    SQLiteStore(db, migrate_to=3).close()
    doc = {"jobId": "OLD1", "workflow": "parcel-edit", "closed": False,
           "currentSteps": [{"stepId": "edit", "status": "Ready", "assignedType": "Group", "assignedTo": "editors"}],
           "holds": [], "returnValues": {}, "history": []}
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO jobs (job_id, workflow, workflow_version, closed, version, doc) "
                 "VALUES ('OLD1', 'parcel-edit', '', 0, 1, ?)", (json.dumps(doc),))
    conn.commit()
    conn.close()
    store = open_store(str(db))
    assert store.schema_version == SCHEMA_VERSION and SCHEMA_VERSION >= 4
    job = store.get("OLD1")
    assert job is not None and job.properties.job_name is None
    store.close()
    conn = sqlite3.connect(db)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(jobs)")}
    conn.close()
    assert {"job_name", "priority", "due_date", "percent_complete", "template_id"} <= columns
