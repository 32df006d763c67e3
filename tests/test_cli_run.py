"""``stepchart new-job``, ``stepchart run`` and ``stepchart explain`` on job document files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_helpers import ROOT, cli

from stepchart import Actor, Engine
from stepchart.io.schemas import validator
from stepchart.tools.explain import explain

WF = str(ROOT / "examples" / "parcel-edit.yaml")
NOW = "2026-03-01T09:00:00Z"
ALICE = ("--as", "alice", "--groups", "editors", "--now", NOW)


@pytest.fixture
def job(tmp_path: Path) -> Path:
    r = cli("new-job", WF, "--now", NOW)
    assert r.code == 0, r.err
    p = tmp_path / "job.json"
    p.write_text(r.out, encoding="utf-8")
    return p


def test_new_job_prints_a_job_document(job: Path) -> None:
    doc = json.loads(job.read_text())
    assert list(validator("job").iter_errors(doc)) == []
    assert doc["jobId"] == "J1"
    assert doc["currentSteps"] == [
        {"stepId": "edit", "status": "Ready", "assignedType": "Group", "assignedTo": "editors"}
    ]
    assert doc["returnValues"] == {"start": "Success"}  # the automatic start step ran (R6)


def test_new_job_options(tmp_path: Path) -> None:
    out = tmp_path / "j.yaml"
    r = cli("new-job", WF, "--job-id", "P-1", "--now", NOW, "-o", str(out))
    assert r.code == 0
    doc = yaml.safe_load(out.read_text())
    assert doc["jobId"] == "P-1"
    assert doc["history"][0]["date"] == NOW  # a string, not a YAML timestamp
    assert cli("new-job", str(tmp_path / "missing.yaml")).code == 2
    assert cli("new-job", WF, "--now", "yesterday").code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: w\ninitialStep: nope\nsteps: [{id: a, type: manual}]\n")
    r = cli("new-job", str(bad))
    assert r.code == 1
    assert "error[unknown-initial-step]" in r.err


def test_run_prints_the_response_and_writes_the_job(job: Path) -> None:
    r = cli("run", "--job", str(job), "--workflow", WF, *ALICE, "--events", "--write", '{"type": "Run"}')
    assert r.code == 0, r.err
    assert r.lines[0] == "200 success: true"
    assert r.lines[1].split() == ["edit", "Success", "The", "step", "was", "started", "running."]
    assert "  StepStarted edit by alice at 2026-03-01T09:00:00Z" in r.lines
    assert r.lines[-1] == f"job J1 written to {job}"
    doc = json.loads(job.read_text())
    assert doc["currentSteps"][0]["status"] == "Running"
    r = cli("run", "--job", str(job), "--workflow", WF, *ALICE, "--format", "json", "--events", "--write",
            '{"type": "Finish"}')  # fmt: skip
    data = json.loads(r.out)
    assert r.code == 0
    assert data["statusCode"] == 200
    assert data["response"]["stepResponses"] == [
        {"stepId": "edit", "status": "Success", "statusDescription": "The step was finished."}
    ]
    assert [e["type"] for e in data["events"]] == ["StepFinished"]
    assert data["written"] == str(job)
    assert json.loads(job.read_text())["currentSteps"][0]["stepId"] == "review"


def test_run_refused_exits_1_and_a_400_writes_nothing(job: Path, tmp_path: Path) -> None:
    before = job.read_bytes()
    r = cli("run", "--job", str(job), "--workflow", WF, "--as", "bob", "--now", NOW, "--write", '{"type": "Run"}')
    assert r.code == 1
    assert r.lines[0] == "200 success: false"
    assert "AssignedToDifferentUser" in r.lines[1]
    assert r.lines[-1] == f"job J1 written to {job}"  # a 200 keeps what the request changed (R12): here nothing
    assert job.read_bytes() == before
    r = cli("run", "--job", str(job), "--workflow", WF, *ALICE, "--write", '{"type": "Run", "stepIds": 5}')
    assert r.code == 1
    assert r.lines[0].startswith("400 SchemaViolation")
    assert "  $.stepIds: expected array, found number 5" in r.lines
    assert r.lines[-1] == "job J1 unchanged: not written"
    assert job.read_bytes() == before


def test_run_payload_from_a_file_or_standard_input(job: Path, tmp_path: Path) -> None:
    body = tmp_path / "run.json"
    body.write_text('{"type": "Run", "stepIds": ["edit"]}')
    out = tmp_path / "after.yaml"
    r = cli("run", "--job", str(job), "--workflow", WF, *ALICE, "-o", str(out), str(body))
    assert r.code == 0, r.err
    assert yaml.safe_load(out.read_text())["currentSteps"][0]["status"] == "Running"
    r = cli("run", "--job", str(job), "--workflow", WF, *ALICE, "-", stdin=b'{"type": "Run"}')
    assert r.code == 0
    r = cli("run", "--job", str(job), "--workflow", WF, *ALICE, "not json")
    assert r.code == 1
    assert r.lines[0].startswith("400 InvalidJson")


def test_run_usage_and_document_errors(job: Path, tmp_path: Path) -> None:
    assert cli("run", "--workflow", WF, '{"type": "Run"}').code == 2  # no --job
    assert cli("run", "--job", str(job), "--workflow", WF, "--now", "noon", '{"type": "Run"}').code == 2
    assert cli("run", "--job", str(job), "--workflow", WF, str(tmp_path / "missing.json")).code == 2
    assert cli("run", "--job", str(tmp_path / "nojob.json"), "--workflow", WF, '{"type": "Run"}').code == 2
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"jobId": "J1", "workflow": "parcel-edit", "currentSteps": [{"stepId": "edit", "status": "Done"}]}'
    )
    r = cli("run", "--job", str(broken), "--workflow", WF, '{"type": "Run"}')
    assert r.code == 1
    assert f"{broken}:1:90: error[unknown-status]" in r.err


def test_a_job_without_workflow_takes_the_only_one_given(tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text("jobId: J9\ncurrentSteps: [{stepId: edit, status: Running}]\n")
    r = cli("run", "--job", str(bare), "--workflow", WF, *ALICE, "--write", '{"type": "Finish"}')
    assert r.code == 0, r.err
    doc = yaml.safe_load(bare.read_text())
    assert doc["workflow"] == "parcel-edit"
    assert doc["currentSteps"][0]["stepId"] == "review"


def test_dependency_holds_with_other_jobs(job: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"jobId": "J2", "workflow": "parcel-edit", "closed": True, "currentSteps": []}))
    body = '{"type": "Hold", "dependentJobId": "J2"}'
    r = cli("run", "--job", str(job), "--workflow", WF, "--as", "alice", "--privilege", "jobUpdateHolds",
            "--now", NOW, body)  # fmt: skip
    assert r.code == 1
    assert r.lines[0].startswith("400 JobNotFound")
    r = cli("run", "--job", str(job), "--other-job", str(other), "--workflow", WF, "--as", "alice",
            "--privilege", "jobUpdateHolds", "--now", NOW, body)  # fmt: skip
    assert r.code == 0, r.out


# -- explain ------------------------------------------------------------------------------------------


def test_explain_lists_every_check_with_its_facts(job: Path) -> None:
    before = job.read_bytes()
    r = cli("explain", "--job", str(job), "--workflow", WF, "--as", "bob", "--now", NOW, '{"type": "Run"}')
    assert r.code == 1
    assert r.lines[0] == f"Run on job J1 as bob (groups: none; privileges: none) at {NOW}"
    assert r.lines[1] == "step edit:"
    assert r.lines[2].split() == ["pass", "job-not-closed", "job.closed", "=", "false"]
    assert r.lines[5].split() == [
        "FAIL", "run-finish-by-assignee", "actor.isEngine", "=", "false,", "step.assignedToActor", "=", "false",
        "->", "AssignedToDifferentUser",
    ]  # fmt: skip
    assert r.lines[6] == "  => AssignedToDifferentUser: The step is assigned to a different user (R16)."
    assert r.lines[-1] == "The request would not succeed. Nothing was changed."
    assert job.read_bytes() == before
    r = cli("explain", "--job", str(job), "--workflow", WF, *ALICE, '{"type": "Run"}')
    assert r.code == 0
    assert "  pass  run-lifecycle" in r.out
    assert "step.accepts(run) = true" in r.out
    assert "  => Success: The step was started running." in r.lines


def test_explain_request_level_checks_and_errors(job: Path) -> None:
    r = cli("explain", "--job", str(job), "--workflow", WF, *ALICE, '{"type": "Hold"}')
    assert r.code == 1
    assert r.lines[1] == "request checks:"
    assert "FAIL" in r.lines[2] and "hold-needs-privilege" in r.lines[2]
    assert "actor.privilege(jobUpdateHolds) = false" in r.lines[2]
    assert "=> 400 InsufficientPrivileges: Hold needs the jobUpdateHolds privilege (R18)." in r.out
    r = cli("explain", "--job", str(job), "--workflow", WF, *ALICE, "{oops")
    assert r.code == 1
    assert "=> 400 InvalidJson" in r.out


def test_explain_json_is_the_python_api_data(job: Path) -> None:
    r = cli("explain", "--job", str(job), "--workflow", WF, *ALICE, "--format", "json",
            '{"type": "Finish", "stepIds": ["edit"]}')  # fmt: skip
    assert r.code == 1
    data = json.loads(r.out)
    assert data["allowed"] is False
    (step,) = data["steps"]
    assert step["stepId"] == "edit"
    assert step["status"] == "NoStartedStep"
    failing = [c for c in step["checks"] if not c["passed"]]
    assert [c["rule"] for c in failing] == ["finish-started-or-skippable"]
    assert failing[0]["facts"] == [
        {"fact": "step.started", "argument": None, "value": False},
        {"fact": "step.canSkip", "argument": None, "value": False},
    ]
    engine = Engine(workflows=[WF])
    engine.load_job(str(job), now=NOW)
    ex = explain(engine, "J1", '{"type": "Finish", "stepIds": ["edit"]}', Actor.of("alice", ["editors"]), NOW)
    assert ex.to_dict() == data
    assert ex.steps[0].failed is not None and ex.steps[0].failed.rule == "finish-started-or-skippable"


def test_explain_reads_standard_input(job: Path) -> None:
    r = cli("explain", "--job", str(job), "--workflow", WF, *ALICE, "-", stdin=b'{"type": "Stop"}')
    assert r.code == 1
    assert "  => NotRunning: The step is not running." in r.lines
