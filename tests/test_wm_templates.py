"""Job templates over a real server (issue 9): list, read, create jobs, on memory, SQLite and PostgreSQL.

``serve --templates DIR`` (and the project file's ``templates:``) loads template
documents; a template whose workflow is not loaded stops the server (exit 2, located).
A loaded workflow without a template gets a default one. ``POST .../jobTemplates/{id}/job``
creates jobs through the engine's job creation (R6 runs, the creation is logged and
replayable), needs ``jobCreate``, and answers ``{"jobIds": [...]}``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_helpers import EXAMPLES, USERS, ManualClock, ServeProcess, check_error, live_app

from stepchart.bootstrap import open_engine
from stepchart.http.auth import UserDirectory, add_user
from stepchart.load.templates import load_template

pytest_plugins = ["pg_fixture"]

BASE = "/org/item"
PEOPLE = {
    **USERS,
    "erin": (["editors"], ["jobCreate"], "tok-erin"),
}
RUSH = """\
jobTemplate: rush
name: Rush parcel edit
workflow: parcel-edit
description: An edit the owner wants today.
jobName: "Rush {counter}"
priority: High
ownedBy: erin
assignedType: User
assignedTo: alice
dueIn: PT8H
"""
CLIENT_KEYS = (
    "jobTemplateId", "jobTemplateName", "category", "defaultJobDuration", "defaultAssignedTo", "defaultDueDate",
    "defaultStartDate", "jobStartDateType", "diagramId", "diagramName", "defaultPriorityName",
    "defaultAssignedType", "description", "defaultDescription", "state", "extendedPropertyTableDefinitions",
    "lastUpdatedBy", "lastUpdatedDate", "defaultJobName", "defaultStatus", "defaultFinalStatus",
)  # fmt: skip  # every field the client reads (docs/wm-client-notes.md 2.5): none may trigger its lazy GET


def _h(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {PEOPLE[user][2]}"}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[httpx.Client, Any]]:
    url = {"memory": "memory:", "sqlite": str(tmp_path / "jobs.db")}.get(request.param)
    engine = open_engine(url or request.getfixturevalue("pg_url"), workflows=EXAMPLES)
    templates = [
        load_template(RUSH, engine.workflows),
        load_template("jobTemplate: draft\nworkflow: parcel-edit\nstate: Draft\n", engine.workflows),
        load_template("jobTemplate: old\nworkflow: parcel-edit\nstate: Retired\n", engine.workflows),
    ]
    with live_app(engine, UserDirectory.of(PEOPLE), clock=ManualClock(), templates=templates) as server, \
            httpx.Client(base_url=server.url, timeout=10) as c:
        yield c, engine
    engine.store.close()


def test_templates_list_and_read_in_the_clients_shape(served: tuple[httpx.Client, Any]) -> None:
    c, _engine = served
    listed = c.get(f"{BASE}/jobTemplates", headers=_h("erin")).json()["jobTemplates"]
    by_id = {t["jobTemplateId"]: t for t in listed}
    # parcel-edit has templates, so only permit-review gets a default one (its id is the workflow's)
    assert sorted(by_id) == ["draft", "old", "permit-review", "rush"]
    for t in listed:
        assert all(k in t for k in CLIENT_KEYS), t
    rush = c.get(f"{BASE}/jobTemplates/rush", headers=_h("erin")).json()
    assert rush == by_id["rush"]
    assert (rush["jobTemplateName"], rush["diagramId"], rush["diagramName"]) == (
        "Rush parcel edit", "parcel-edit", "Parcel edit")
    assert (rush["defaultPriorityName"], rush["defaultAssignedType"], rush["defaultAssignedTo"]) == (
        "High", "User", "alice")
    assert (rush["defaultJobName"], rush["defaultJobDuration"], rush["state"]) == ("Rush {counter}", 8 / 24, "Active")
    assert by_id["permit-review"]["diagramId"] == "permit-review" and by_id["permit-review"]["state"] == "Active"
    check_error(c.get(f"{BASE}/jobTemplates/nope", headers=_h("erin")), 404, "NotFound")


def test_create_jobs_with_template_defaults_and_counter(served: tuple[httpx.Client, Any]) -> None:
    c, engine = served
    r = c.post(f"{BASE}/jobTemplates/rush/job", json={"numberOfJobs": 3}, headers=_h("erin"))
    assert r.status_code == 200, r.text
    ids = r.json()["jobIds"]
    assert len(ids) == 3 and len(set(ids)) == 3
    jobs = [c.get(f"{BASE}/jobs/{j}", headers=_h("erin")).json() for j in ids]
    assert [j["jobName"] for j in jobs] == ["Rush 1", "Rush 2", "Rush 3"]
    first = jobs[0]
    assert (first["jobTemplateId"], first["jobTemplateName"], first["priority"], first["ownedBy"]) == (
        "rush", "Rush parcel edit", "High", "erin")
    assert first["description"] == "An edit the owner wants today."
    assert first["dueDate"] == "2026-03-01T17:00:00Z"  # creation + dueIn PT8H
    assert first["returnValues"] == {"start": "Success"}  # the automatic start step ran (R6)
    assert first["currentSteps"][0]["assignedType"] == "User" and first["currentSteps"][0]["assignedTo"] == "alice"
    again = c.post(f"{BASE}/jobTemplates/rush/job", json={}, headers=_h("erin")).json()["jobIds"]
    assert c.get(f"{BASE}/jobs/{again[0]}", headers=_h("erin")).json()["jobName"] == "Rush 4"
    assert engine.verify_replay(ids) == []  # every creation is in the log and replays to the same job


def test_the_body_overrides_the_template(served: tuple[httpx.Client, Any]) -> None:
    c, _engine = served
    body = {"numberOfJobs": 1, "jobId": "P-1", "jobName": "Lot 9", "priority": "Low", "description": "d",
            "ownedBy": "bob", "assignedType": "Group", "assignedTo": "editors", "startDate": "2026-03-02T08:00:00Z",
            "dueDate": "2026-03-09T08:00:00Z", "percentComplete": 10, "notes": "n", "parentJob": "P-0",
            "extendedProperties": [{"tableName": "parcel", "properties": [{"propertyName": "lot", "value": 9}]}]}
    assert c.post(f"{BASE}/jobTemplates/rush/job", json=body, headers=_h("erin")).json() == {"jobIds": ["P-1"]}
    job = c.get(f"{BASE}/jobs/P-1", headers=_h("erin")).json()
    for key in ("jobName", "priority", "description", "ownedBy", "startDate", "dueDate", "notes", "parentJob",
                "percentComplete"):
        assert job[key] == body[key], key
    assert job["extendedProperties"] == [{**body["extendedProperties"][0], "relationshipType": "OneToOne"}]
    assert job["currentSteps"][0]["assignedType"] == "Group" and job["currentSteps"][0]["assignedTo"] == "editors"


def test_refusals_change_nothing(served: tuple[httpx.Client, Any]) -> None:
    c, engine = served
    post = lambda tid, body, user="erin": c.post(f"{BASE}/jobTemplates/{tid}/job", json=body, headers=_h(user))  # noqa: E731
    for tid in ("draft", "old"):
        assert "creates no jobs" in check_error(post(tid, {}), 400, "InvalidRequest")["error"]["message"]
    check_error(post("rush", {}, "carol"), 400, "InsufficientPrivileges")
    check_error(post("rush", {"numberOfJobs": 2, "jobId": "X"}), 400, "InvalidRequest")
    check_error(post("rush", {"numberOfJobs": 101}), 400, "SchemaViolation")
    check_error(post("rush", {"numberOfJobs": 0}), 400, "SchemaViolation")
    check_error(post("rush", {"location": {"geometryType": "esriGeometryPoint"}}), 400, "InvalidRequest")
    check_error(post("nope", {}), 404, "NotFound")
    assert engine.store.job_ids() == []


def test_a_retried_create_with_one_key_makes_the_jobs_once(served: tuple[httpx.Client, Any]) -> None:
    c, engine = served
    headers = {**_h("erin"), "Idempotency-Key": "k-1"}
    first = c.post(f"{BASE}/jobTemplates/rush/job", json={"numberOfJobs": 2}, headers=headers).json()
    second = c.post(f"{BASE}/jobTemplates/rush/job", json={"numberOfJobs": 2}, headers=headers).json()
    assert first == second and len(engine.store.job_ids()) == 2


def _users(tmp_path: Path) -> str:
    return add_user(tmp_path / "users.yaml", "erin", ["editors"], ["jobCreate"])


def test_serve_loads_templates_from_a_folder_and_the_project(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "rush.yaml").write_text(RUSH, encoding="utf-8")
    token = _users(tmp_path)
    workflows = [a for p in EXAMPLES for a in ("--workflow", str(p))]
    args = ["--database", "memory:", "--users", str(tmp_path / "users.yaml"), *workflows]
    for extra in (["--templates", str(folder)], []):
        if not extra:  # the project file's templates: (found in the working folder)
            (tmp_path / "stepchart.yaml").write_text("project: p\ntemplates: templates\n", encoding="utf-8")
        srv = ServeProcess([*args, *extra], cwd=tmp_path).start()
        try:
            r = httpx.get(f"{srv.url}{BASE}/jobTemplates/rush", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and r.json()["jobTemplateName"] == "Rush parcel edit", r.text
        finally:
            srv.stop()


def test_serve_refuses_a_template_whose_workflow_is_not_loaded(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("jobTemplate: t\nworkflow: nowhere\n", encoding="utf-8")
    _users(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "stepchart.cli", "serve", "--port", "0", "--database", "memory:",
         "--users", str(tmp_path / "users.yaml"), "--templates", str(bad)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "t.yaml:2:11: error[unknown-workflow]" in done.stderr, done.stderr
