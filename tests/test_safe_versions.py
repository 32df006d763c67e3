"""Versions and documents (issue 11): a job document keeps the workflow version it names.

``load_job``, ``stepchart run`` and ``stepchart explain`` refuse a document whose
``workflowVersion`` is not the loaded one with a located error naming both hashes, unless
the caller asks for the upgrade (``upgrade=True``, ``--upgrade``), which applies the
upgrade's preconditions. Documents that contradict their workflow are refused at load,
each contradiction located.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepchart import SYSTEM, Actor, Engine
from stepchart.cli import main
from stepchart.errors import DefinitionError

ROOT = Path(__file__).resolve().parent.parent
PARCEL = (ROOT / "examples" / "parcel-edit.yaml").read_text(encoding="utf-8")
EDITED = PARCEL.replace("canSkip: false", "canSkip: true")  # the new version lets Finish skip edit
T0 = "2026-03-01T09:00:00Z"
ALICE = Actor.of("alice", ["editors"])


def _job_on(base_engine: Engine, source: str) -> dict[str, object]:
    eng = base_engine.spawn()
    eng.add_workflow(source)
    return eng.create_job("parcel-edit", "J1", now=T0)


def test_load_job_refuses_another_version_naming_both_hashes(base_engine: Engine) -> None:
    doc = _job_on(base_engine, PARCEL)
    old = str(doc["workflowVersion"])
    eng = base_engine.spawn()
    new = eng.add_workflow(EDITED).version
    assert old != new
    text = json.dumps(doc, indent=2)
    with pytest.raises(DefinitionError) as info:
        eng.load_job(text, now=T0)
    first = info.value.first
    assert first.code == "version-mismatch" and first.path == ("workflowVersion",)
    assert (first.line, first.column) == (4, 22)
    assert old in first.message and new in first.message
    assert not eng.store.exists("J1")
    # asked for, the upgrade moves the job to the loaded version
    moved = eng.load_job(text, now=T0, upgrade=True)
    assert moved["workflowVersion"] == new
    assert eng.act("J1", {"type": "Finish"}, ALICE, T0).success  # the new version allows the skip


def test_a_job_on_a_loaded_older_version_stays_on_it(base_engine: Engine) -> None:
    doc = _job_on(base_engine, PARCEL)
    eng = base_engine.spawn()
    eng.add_workflow(PARCEL)
    eng.add_workflow(EDITED)  # newest: what new jobs get
    loaded = eng.load_job(dict(doc), now=T0)
    assert loaded["workflowVersion"] == doc["workflowVersion"]
    refused = eng.act("J1", {"type": "Finish"}, ALICE, T0)  # its own version forbids the skip
    assert refused.body["stepResponses"][0]["status"] == "NoStartedStep"


def test_the_upgrade_keeps_its_preconditions(base_engine: Engine) -> None:
    eng = base_engine.spawn()
    eng.add_workflow(PARCEL)
    eng.create_job("parcel-edit", "J1", now=T0)
    assert eng.act("J1", {"type": "Run"}, ALICE, T0).success
    running = eng.job("J1")
    target = base_engine.spawn()
    target.add_workflow(EDITED)
    with pytest.raises(DefinitionError) as info:
        target.load_job(dict(running), now=T0, upgrade=True)
    assert info.value.first.code == "upgrade-refused" and "running (edit)" in info.value.first.message
    # a current step the new version lacks is refused where it is written
    without_edit = PARCEL.replace("id: edit", "id: amend").replace("nextStep: edit", "nextStep: amend")
    other = base_engine.spawn()
    other.add_workflow(without_edit)
    ready = {**running, "currentSteps": [{"stepId": "edit", "status": "Ready"}]}
    with pytest.raises(DefinitionError) as info:
        other.load_job(ready, now=T0, upgrade=True)
    assert info.value.first.code == "unknown-step" and info.value.first.path == ("currentSteps", 0, "stepId")


def test_run_and_explain_refuse_another_version_unless_asked(
    base_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps(_job_on(base_engine, PARCEL), indent=2))
    before = job.read_text()
    wf = tmp_path / "parcel-edit.yaml"
    wf.write_text(EDITED)  # the designer edited the YAML after the job was saved
    common = ["--job", str(job), "--workflow", str(wf), "--as", "alice", "--group", "editors", "--now", T0]
    for command in (["run", *common, "--write"], ["explain", *common]):
        capsys.readouterr()
        assert main([*command, '{"type": "Finish"}']) == 1
        out = "".join(capsys.readouterr())
        assert f"{job}:4:22: error[version-mismatch]" in out
        assert job.read_text() == before  # nothing written under the new version
    assert main(["run", *common, "--write", "--upgrade", '{"type": "Finish"}']) == 0
    saved = json.loads(job.read_text())
    assert saved["workflowVersion"] != json.loads(before)["workflowVersion"]
    assert saved["currentSteps"][0]["stepId"] == "review"


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (
            {"holds": [{"holdId": "H1", "stepId": "nowhere", "setBy": "bob", "setDate": T0}]},
            "unknown-step",
            ("holds", 0, "stepId"),
        ),
        ({"returnValues": {"start": "Success", "ghost": "Success"}}, "unknown-step", ("returnValues", "ghost")),
        (
            {"currentSteps": [{"stepId": "edit"}, {"stepId": "review"}, {"stepId": "edit"}]},
            "duplicate-current-step",
            ("currentSteps", 2, "stepId"),
        ),
    ],
)
def test_documents_that_contradict_their_workflow_are_refused_at_load(
    base_engine: Engine, change: dict[str, object], code: str, path: tuple[object, ...]
) -> None:
    doc = {**_job_on(base_engine, PARCEL), **change}
    eng = base_engine.spawn()
    eng.add_workflow(PARCEL)
    text = json.dumps(doc, indent=2)
    with pytest.raises(DefinitionError) as info:
        eng.load_job(text, now=T0)
    found = [p for p in info.value.problems if p.code == code]
    assert found and found[0].path == path and found[0].line > 1, info.value.problems
    assert not eng.store.exists("J1")
    assert eng.create_job("parcel-edit", "J1", now=T0, actor=SYSTEM)["jobId"] == "J1"
