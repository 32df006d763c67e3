"""Esri's own Python client drives ``stepchart serve`` over HTTPS (issue 9's compatibility suite).

``arcgis.gis.workflowmanager`` from PyPI, with its real transport (``Connection``: TLS
verified against the test's CA, ``X-Esri-Authorization``, ``f=json``, retries) and its
real notification socket (websocket-client over TLS). The only stand-in is the portal
object it reads the server URL and token from (tests/arcgis_helpers.py). Rule numbers are
the shared SPEC's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from arcgis.gis.workflowmanager import WorkflowManager
from arcgis_helpers import CLIENT_USERS, ITEM, ORG, CompatServer, disconnect, start_server
from http_helpers import ROOT, ServeProcess

pytest_plugins = ["pg_fixture"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompatServer]:
    store = str(request.getfixturevalue("pg_module_url")) if request.param == "postgres" else None
    started = start_server(tmp_path_factory.mktemp("compat"), store)
    try:
        yield started
    finally:
        assert started.process.stop() == 0


@pytest.fixture(scope="module")
def wm(server: CompatServer) -> Iterator[WorkflowManager]:
    client = server.client("alice")
    try:
        yield client
    finally:
        disconnect(client)


def _tag() -> str:
    return uuid.uuid4().hex[:12]


def _new_job(wm: WorkflowManager, template: str = "parcel-standard", **kw: Any) -> Any:
    (job_id,) = wm.jobs.create(template, **kw)
    return wm.jobs.get(job_id)


def _step(job: Any) -> dict[str, Any]:
    (current,) = job.current_steps
    assert isinstance(current, dict)
    return current


# --- templates and job creation ---------------------------------------------------------


def test_the_client_lists_and_reads_job_templates(wm: WorkflowManager) -> None:
    listed = {t.job_template_id: t for t in wm.job_templates}
    # the template file's two, and a default template for the loaded workflow none names
    assert set(listed) == {"parcel-rush", "parcel-standard", "permit-review", "compat-gp"}
    rush = wm.job_template("parcel-rush")
    assert rush.job_template_name == "Rush parcel edit"
    assert rush.diagram_id == "parcel-edit"
    assert rush.default_priority_name == "High"
    assert (rush.default_assigned_type, rush.default_assigned_to) == ("User", "alice")
    assert rush.default_job_name == "Rush {counter}"
    assert listed["permit-review"].diagram_id == "permit-review"
    with pytest.raises(Exception, match="No job template 'no-such-template'"):
        wm.job_template("no-such-template")


def test_jobs_created_from_a_template_take_its_defaults(wm: WorkflowManager) -> None:
    ids = wm.jobs.create("parcel-rush", count=2)
    assert len(ids) == 2 and len(set(ids)) == 2
    for job_id in ids:
        job = wm.jobs.get(job_id)
        assert job.job_id == job_id
        assert job.job_name.startswith("Rush ")
        assert (job.priority, job.owned_by, job.created_by) == ("High", "alice", "alice")
        assert (job.job_template_id, job.diagram_id) == ("parcel-rush", "parcel-edit")
        assert job.closed is False and job.job_status == "Ready"
        # dueIn PT8H from the creation
        created, due = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in (job.created_date, job.due_date))
        assert (due - created).total_seconds() == 8 * 3600
        # R6: the automatic start step ran; the template's assignment went to the first step
        step = _step(job)
        assert step["stepId"] == "edit" and step["stepName"] == "Edit parcels"
        assert (step["assignedType"], step["assignedTo"]) == ("User", "alice")
        assert step["canSkip"] is False and step["status"] == "Ready"


def test_a_created_job_keeps_the_values_the_client_gives(wm: WorkflowManager) -> None:
    job_id = f"C-{_tag()}"
    made = wm.jobs.create(
        "parcel-standard", name="Parcel 12", priority="Low", description="fence moved", notes="call first",
        job_id=job_id,
        extended_properties={"tableName": "parcel", "properties": [{"propertyName": "lot", "value": "12"}]},
    )  # fmt: skip
    assert made == [job_id]
    job = wm.jobs.get(job_id)
    assert (job.job_name, job.priority, job.description, job.notes) == ("Parcel 12", "Low", "fence moved", "call first")
    (table,) = job.extended_properties
    assert table["tableName"] == "parcel"
    assert table["properties"] == [{"propertyName": "lot", "value": "12"}]
    with pytest.raises(Exception, match="jobId"):  # a job id names one job only
        wm.jobs.create("parcel-standard", count=2, job_id=f"D-{_tag()}")


# --- search and statistics ---------------------------------------------------------------


def test_search_finds_pages_and_sorts_what_q_says(wm: WorkflowManager) -> None:
    tag = _tag()
    made = [wm.jobs.create("parcel-standard", name=f"{tag} {n}", priority=p, description=tag)[0]
            for n, p in ((3, "High"), (1, "Low"), (2, "High"))]  # fmt: skip
    found = wm.jobs.search(
        f"description = '{tag}' AND priority = 'High'", fields="jobId,jobName,priority,currentStepId",
        sort_by=[{"field": "jobName", "sortOrder": "Desc"}],
    )  # fmt: skip
    assert [f["name"] for f in found["fields"]] == ["jobId", "jobName", "priority", "currentStepId"]
    assert found["results"] == [[made[0], f"{tag} 3", "High", ["edit"]], [made[2], f"{tag} 2", "High", ["edit"]]]
    assert found["total"] == 2
    page = wm.jobs.search(f"description = '{tag}'", fields="jobName", sort_by=[{"field": "jobName"}], num=2,
                          start_num=1)  # fmt: skip
    assert page["results"] == [[f"{tag} 2"], [f"{tag} 3"]] and page["total"] == 3
    by_text = wm.jobs.search(None, search_string=tag, fields="jobId")
    assert sorted(row[0] for row in by_text["results"]) == sorted(made)


def test_statistics_count_by_a_field(wm: WorkflowManager) -> None:
    tag = _tag()
    for priority in ("High", "High", "Low"):
        wm.jobs.create("parcel-standard", priority=priority, description=tag)
    stats = wm.jobs.statistics(f"description = '{tag}'", group_by="priority")
    assert stats["total"] == 3
    assert stats["grouped_values"] == [{"value": "High", "count": 2}, {"value": "Low", "count": 1}]


@pytest.mark.parametrize("q", ["priority = 'x' OR 1=1; DROP TABLE jobs", "nosuch = 1", "priority = 'unterminated"])
def test_a_bad_q_is_the_clients_exception_naming_the_position(wm: WorkflowManager, q: str) -> None:
    with pytest.raises(Exception, match="position"):
        wm.jobs.search(q)
    assert wm.jobs.search("closed = 0", fields="jobId")["total"] >= 1  # nothing was dropped


# --- holds, run / stop / finish on the WebSocket, set current step, assignment ----------


def test_a_hold_blocks_run_until_released(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    assert job.add_hold(["edit"]) is True  # R19
    held = wm.jobs.get(job.job_id)
    assert held.job_status == "OnHold" and _step(held)["manualHold"] is True
    assert len(held.holds) == 1
    with pytest.raises(Exception, match="hold"):  # R20: a held step does not run
        held.run()
    assert held.release_hold(["edit"]) is True
    released = wm.jobs.get(job.job_id)
    assert released.job_status == "Ready" and _step(released)["manualHold"] is False


def test_a_webhook_dependency_is_refused_saying_so(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    with pytest.raises(Exception, match=r"[Ww]ebhook"):  # R14: a clear 400, not a schema error
        job.add_hold(["edit"], webhook_connection_id="hook-1")
    with pytest.raises(Exception, match=r"[Ww]ebhook"):
        job.release_hold(["edit"], webhook_connection_id="hook-1")
    assert wm.jobs.get(job.job_id).holds == []  # nothing changed


def test_run_stop_and_finish_wait_for_their_messages_on_the_socket(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    ran = job.run().result(timeout=30)
    assert ran.msg_type.value == "STEPINFOREQUIRED"  # a manual step waits for its person (docs/http.md)
    assert ran.message["jobId"] == job.job_id and ran.message["msgCode"] == "StepWaitingForFinish"
    assert wm.jobs.get(job.job_id).job_status == "Working"
    stopped = job.stop().result(timeout=30)
    assert stopped.msg_type.value == "STEPPAUSED" and stopped.message["jobId"] == job.job_id
    assert _step(wm.jobs.get(job.job_id))["status"] == "Paused"
    job.run().result(timeout=30)
    finished = job.finish()
    last = finished.result(timeout=30)
    assert last.msg_type.value == "STEPFINISHED"
    assert last.message["stepIds"] == ["edit"]
    assert [m.msg_type.value for m in finished.messages][-1] == "STEPFINISHED"
    after = wm.jobs.get(job.job_id)
    assert _step(after)["stepId"] == "review"  # R7: the edit step's path


@pytest.mark.parametrize(("host_says", "ends"), [("complete", "STEPFINISHED"), ("fail", "STEPERROR")])
def test_a_run_of_a_geoprocessing_step_waits_for_the_host(
    server: CompatServer, wm: WorkflowManager, host_says: str, ends: str
) -> None:
    job = _new_job(wm, "compat-gp")
    running = job.run()
    assert wm.jobs.get(job.job_id).job_status == "Working"
    assert not running.done()  # the step runs on the host: the client waits
    # the host finishes it through its own endpoint, with its own token (R13)
    host = {"Authorization": f"Bearer {CLIENT_USERS['host'][2]}"}
    url = f"{server.url}/{ORG}/{ITEM}/jobs/{job.job_id}/steps/publish/{host_says}"
    assert httpx.post(url, json={}, headers=host, verify=server.context).status_code == 200
    last = running.result(timeout=30)
    assert last.msg_type.value == ends and last.message["jobId"] == job.job_id
    after = wm.jobs.get(job.job_id)
    assert _step(after)["stepId"] == ("check" if host_says == "complete" else "publish")


def test_a_refused_run_raises_with_the_step_responses(server: CompatServer, wm: WorkflowManager) -> None:
    job = _new_job(wm)
    carols = server.client("carol")
    try:
        theirs = carols.jobs.get(job.job_id)
        with pytest.raises(Exception, match="edit"):  # R16: carol is not in editors
            theirs.run()
    finally:
        disconnect(carols)
    assert _step(wm.jobs.get(job.job_id))["status"] == "Ready"  # nothing changed


def test_set_current_step_moves_the_job(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    assert job.set_current_step("review") is True  # R21
    assert _step(wm.jobs.get(job.job_id))["stepId"] == "review"


def test_a_step_is_reassigned_through_update_step(server: CompatServer, wm: WorkflowManager) -> None:
    job = _new_job(wm)
    assert job.update_step("edit", "User", "bob") is True  # R25
    step = _step(wm.jobs.get(job.job_id))
    assert (step["assignedType"], step["assignedTo"]) == ("User", "bob")
    bobs = server.client("bob")
    try:
        with pytest.raises(Exception, match="assign"):  # bob holds no jobAssignAny
            bobs.jobs.get(job.job_id).update_step("edit", "User", "carol")
    finally:
        disconnect(bobs)
    assert _step(wm.jobs.get(job.job_id))["assignedTo"] == "bob"


# --- properties, history, comments, management, diagrams --------------------------------


def test_update_changes_the_properties_and_is_in_the_history(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    assert wm.jobs.update(job.job_id, {"priority": "Low", "notes": "wait for survey"}) is True
    after = wm.jobs.get(job.job_id)
    assert (after.priority, after.notes) == ("Low", "wait for survey")
    actions = [r["action"] for r in after.history["history"]]
    assert actions[0] == "Created" and "Updated" in actions


def test_comments_are_stored_and_in_the_history(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    first, second = job.add_comment("survey booked"), job.add_comment("survey done")
    assert first != second
    comments = job.comments
    assert [(c["commentId"], c["comment"], c["createdBy"]) for c in comments] == [
        (first, "survey booked", "alice"), (second, "survey done", "alice")]  # fmt: skip
    history = job.history
    assert history["job_id"] == job.job_id
    assert [r["result"] for r in history["history"] if r["action"] == "Commented"] == ["survey booked", "survey done"]


def test_the_history_records_the_steps_moves(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    job.run().result(timeout=30)
    job.finish().result(timeout=30)
    records = wm.jobs.get(job.job_id).history["history"]
    edit = [(r["action"], r["username"]) for r in records if r["stepId"] == "edit"]
    assert ("Started", "alice") in edit and ("Finished", "alice") in edit  # R23
    done = next(r for r in records if r["stepId"] == "edit" and r["action"] == "Finished")
    assert done["startDate"] and done["endDate"] and done["durationSeconds"] is not None


def test_close_reopen_and_delete(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    assert wm.jobs.close([job.job_id]) is True
    closed = wm.jobs.get(job.job_id)
    assert closed.closed is True and closed.job_status == "Closed" and closed.end_date
    with pytest.raises(Exception, match="closed"):  # R14: a closed job takes no action
        closed.run()
    assert wm.jobs.reopen([job.job_id]) is True
    reopened = wm.jobs.get(job.job_id)
    assert reopened.closed is False and reopened.end_date is None
    assert wm.jobs.delete([job.job_id]) is True
    with pytest.raises(Exception, match=job.job_id):
        wm.jobs.get(job.job_id)


def test_managing_a_running_job_is_refused_and_changes_nothing(wm: WorkflowManager) -> None:
    job = _new_job(wm)
    job.run().result(timeout=30)
    with pytest.raises(Exception, match="runs"):
        wm.jobs.close([job.job_id])
    assert wm.jobs.get(job.job_id).closed is False


def test_diagrams_are_the_loaded_workflows(wm: WorkflowManager) -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "parcel-edit.yaml").read_text("utf-8"))
    job = _new_job(wm)
    diagram = wm.jobs.diagram(job.job_id)
    assert diagram.diagram_id == "parcel-edit" and diagram.diagram_name == "Parcel edit"
    assert [s["id"] for s in diagram.steps] == [s["id"] for s in workflow["steps"]]
    assert diagram.initial_step_id == "start"
    listed = {d.diagram_id for d in wm.diagrams}
    assert {"parcel-edit", "permit-review"} <= listed
    assert wm.diagram("permit-review").initial_step_id == "intake"
    version = wm.diagram_version("parcel-edit", str(job.diagram_version))
    assert [s["id"] for s in version.steps] == [s["id"] for s in diagram.steps]


# --- the transport ------------------------------------------------------------------------


def test_a_wrong_token_is_refused_and_the_client_never_goes_anonymous(server: CompatServer) -> None:
    from arcgis.gis._impl._con import Connection
    from arcgis_helpers import StandInGIS, StandInItem

    con = Connection(baseurl=server.url, token="sc_wrong", verify_cert=True, ca_bundles=str(server.ca_file))
    stranger = WorkflowManager(StandInItem(StandInGIS(server.url, con)))
    with pytest.raises(Exception, match="The token is not valid"):
        stranger.job_templates  # noqa: B018 - a property that makes the request
    # still the token's refusal, not "no token": the client did not retry without it
    with pytest.raises(Exception, match="The token is not valid"):
        stranger.jobs.create("parcel-standard")


def test_every_request_went_over_the_socket_with_the_clients_header(server: CompatServer) -> None:
    log = server.process.log.read_text("utf-8") + "".join(server.process.banner)
    assert f"/{ORG}/{ITEM}/jobTemplates/parcel-rush/job" in log
    assert f"/{ORG}/{ITEM}/notificationWs?token=REDACTED" in log
    assert CLIENT_USERS["alice"][2] not in log  # no token in any log line
    # the server only speaks TLS: the client's plain-http rewrite is what reaches it
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.url.replace("https://", "http://") + "/health", timeout=5).raise_for_status()


def test_the_suite_used_esris_client(server: CompatServer) -> None:
    import arcgis

    assert arcgis.__version__.startswith("2.4.")
    assert Path(arcgis.__file__).parent.name == "arcgis"


# --- the README's section, as written -----------------------------------------------------


def _readme_section() -> tuple[list[str], str]:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Use it from Esri's Python client") :]
    section = section[: section.index("\n## ", 1)]
    shell = re.search(r"```sh\n(.*?)```", section, re.S)
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert shell is not None and code is not None
    return shell.group(1).strip().splitlines(), code.group(1)


@pytest.mark.skipif(
    shutil.which("openssl") is None and os.environ.get("CI") != "true",
    reason="openssl is not installed (CI installs it)",
)
def test_the_readme_connects_the_client_to_a_local_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (make, add, serve), code = _readme_section()
    subprocess.run(shlex.split(make), cwd=tmp_path, check=True, capture_output=True, timeout=120)
    command = re.fullmatch(r"TOKEN=\$\((.*)\)", add)
    assert command is not None
    made = subprocess.run([sys.executable, "-m", "stepchart", *shlex.split(command.group(1))[1:]], cwd=tmp_path,
                          check=True, capture_output=True, text=True, timeout=60)  # fmt: skip
    token = made.stdout.strip()
    flags = shlex.split(serve.removesuffix("&"))[2:]
    port = flags.index("--port")
    del flags[port : port + 2]  # a free port instead of the README's 8443
    trust = ssl.create_default_context(cafile=str(tmp_path / "localhost.pem"))
    server = ServeProcess(["--no-project", *flags], tmp_path, verify=trust).start()
    try:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("TOKEN", token)
        assert '"https://127.0.0.1:8443"' in code
        namespace: dict[str, Any] = {"__name__": "readme"}
        exec(compile(code.replace("https://127.0.0.1:8443", server.url), "README.md", "exec"), namespace)
        printed = capsys.readouterr().out.splitlines()
        expected = [line.split("# ", 1)[1].split(":")[0].split(",")[0].strip()
                    for line in code.splitlines() if line.startswith("print(")]  # fmt: skip
        assert [p.strip() for p in printed] == expected
        disconnect(namespace["wm"])
    finally:
        assert server.stop() == 0
