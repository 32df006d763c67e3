"""No false greens (issue 12): ``check`` reports what ``run``, ``test`` and the engine refuse.

``test --coverage`` counts only what the scenarios could reach.

Job documents (SPEC 6.2) are checked by the job loader itself against the checked
workflows; scenario operations (SPEC 6.3) by the scenario runner's own checks and the
engine's payload check (R10). Each finding carries the code the loader or runner uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import ROOT, cli, findings, proc, write

from stepchart.tools.lint import CODES

PARCEL = ROOT / "examples" / "parcel-edit.yaml"




# -- job documents (SPEC 6.2) -------------------------------------------------------------------


def test_a_job_with_an_unknown_status_is_an_error_with_runs_own_code(tmp_path: Path) -> None:
    job = write(
        tmp_path,
        "job.yaml",
        """
        jobId: J9
        workflow: parcel-edit
        currentSteps:
          - {stepId: edit, status: Runing}
        """,
    )
    r = cli("check", str(job), str(PARCEL))
    assert r.code == 1, r.out
    assert ("job.yaml", 4, 28, "error", "unknown-status") in findings(r.out), r.out
    assert "'Runing' is not a status of a current manual step" in r.out
    # run refuses the same document with the same code: check no longer says 0 errors first
    ran = cli("run", "--job", str(job), "--workflow", str(PARCEL), '{"type": "Run"}')
    assert ran.code == 1
    assert "job.yaml:4:28: error[unknown-status]" in ran.err, ran.err


def test_a_job_naming_an_unknown_workflow_is_an_error(tmp_path: Path) -> None:
    job = write(tmp_path, "job.yaml", "jobId: J8\nworkflow: parcel-edti\n")
    r = cli("check", str(job), str(PARCEL))
    assert r.code == 1, r.out
    assert ("job.yaml", 2, 11, "error", "unknown-workflow") in findings(r.out), r.out
    assert "checked workflows: parcel-edit" in r.out
    assert r.lines[-1] == "1 error, 0 warnings in 2 files (1 job document, 1 workflow)"


def test_a_good_job_stays_green_and_takes_the_only_workflow_as_run_does(tmp_path: Path) -> None:
    named = write(
        tmp_path, "a.yaml", "jobId: J1\nworkflow: parcel-edit\ncurrentSteps: [{stepId: edit, status: Running}]\n"
    )
    unnamed = write(tmp_path, "b.yaml", "jobId: J2\ncurrentSteps: [{stepId: review, status: WaitingForInfo}]\n")
    r = cli("check", str(named), str(unnamed), str(PARCEL))
    assert r.code == 0, r.out
    assert findings(r.out) == []
    bad = write(tmp_path, "c.yaml", "jobId: J3\ncurrentSteps: [{stepId: review, status: Running}]\n")
    r = cli("check", str(bad), str(PARCEL))  # a question step is never Running (SPEC section 2)
    assert ("c.yaml", 2, 41, "error", "unknown-status") in findings(r.out), r.out


def test_a_job_of_a_broken_workflow_is_reported_once_in_the_workflow(tmp_path: Path) -> None:
    wf = write(tmp_path, "wf.yaml", "workflow: w\ninitialStep: a\nsteps:\n  - {id: a, type: manaul}\n")
    job = write(tmp_path, "job.yaml", "jobId: J1\nworkflow: w\n")
    r = cli("check", str(job), str(wf))
    assert [f[4] for f in findings(r.out)] == ["unknown-step-type"], r.out


# -- scenarios (SPEC 6.3) -----------------------------------------------------------------------

SCENARIO = """
name: refusals
workflow: wf.yaml
actors:
  alice: {groups: [editors]}
do:
  - act: {type: Run, stepIds: edit}
    as: alice
  - act: {type: Run}
    as: alcie
  - advance: 2 hours
  - act: '{"type": "Run", "stepIds": 5}'
    as: alice
  - act: '{"type": Run'
  - act: {type: Skip}
    expect: {error: {type: SchemaViolation}}
  - respond: {stepId: review, value: approve}
    as: carol
"""


def test_scenario_operations_test_would_refuse_are_located_errors(tmp_path: Path) -> None:
    write(tmp_path, "wf.yaml", PARCEL.read_text("utf-8"))
    sc = write(tmp_path, "sc.yaml", SCENARIO)
    r = cli("check", str(sc))
    assert r.code == 1, r.out
    got = findings(r.out)
    assert got == [
        ("sc.yaml", 6, 31, "error", "wrong-type"),  # R10: stepIds is an array
        ("sc.yaml", 9, 9, "error", "unknown-actor"),
        ("sc.yaml", 10, 14, "error", "bad-duration"),
        ("sc.yaml", 11, 10, "error", "wrong-type"),  # raw text: located at the string
        ("sc.yaml", 13, 10, "error", "invalid-json"),
        ("sc.yaml", 17, 9, "error", "unknown-actor"),
    ], r.out
    assert '$.stepIds: expected array, found string "edit" (the engine answers SchemaViolation)' in r.out
    assert "unknown actor 'alcie'; actors are: alice (or system)" in r.out
    assert "'2 hours' is not an ISO 8601 duration" in r.out
    # the operation that expects an error (operation 6) is not reported
    assert "operation 6" not in r.out


def test_test_refuses_each_of_them_with_the_same_words(tmp_path: Path) -> None:
    """One check for both commands: the runner's failure is the message check reports."""
    write(tmp_path, "wf.yaml", PARCEL.read_text("utf-8"))
    for i, (op, code) in enumerate(
        [
            ("- act: {type: Run}\n    as: alcie", "unknown-actor"),
            ("- advance: 2 hours", "bad-duration"),
        ]
    ):
        sc = write(tmp_path, f"s{i}.yaml", f"workflow: wf.yaml\nactors: {{alice: {{}}}}\ndo:\n  {op}\n")
        checked = cli("check", str(sc))
        tested = cli("test", str(sc))
        assert checked.code == 1 and tested.code == 1, (checked.out, tested.out)
        found = re.search(rf"s{i}\.yaml:(\d+):\d+: error\[{code}\]: s{i}\.yaml: (.*)$", checked.out, re.M)
        assert found, checked.out
        line, message = found.groups()
        assert line == ("5" if code == "unknown-actor" else "4")  # the as: key, the advance: key
        assert f"s{i}.yaml:{line}: s{i}.yaml: {message}" in tested.out, tested.out


def test_the_jobs_and_workflows_a_scenario_sets_up_are_loaded_as_test_loads_them(tmp_path: Path) -> None:
    write(tmp_path, "wf.yaml", PARCEL.read_text("utf-8"))
    write(tmp_path, "sub/broken.yaml", "workflow: b\ninitialStep: a\nsteps:\n  - {id: a, type: manaul}\n")
    sc = write(
        tmp_path,
        "sc.yaml",
        """
        scenarios:
          - name: a job in a status its chart lacks
            workflow: wf.yaml
            job:
              currentSteps: [{stepId: edit, status: Runing}]
            do: []
          - name: another job on a broken workflow
            workflow: wf.yaml
            jobs:
              - {jobId: J2, workflow: sub/broken.yaml}
            do: []
        """,
    )
    r = cli("check", str(sc))
    assert r.code == 1, r.out
    assert findings(r.out) == [
        ("sc.yaml", 5, 45, "error", "unknown-status"),
        ("sc.yaml", 10, 31, "error", "unknown-step-type"),
    ], r.out
    assert "the workflow does not load: " in r.out and "broken.yaml:4:" in r.out
    # stepchart test refuses both scenarios
    assert cli("test", str(sc)).lines[-1] == "0 passed, 2 failed"
    # checked with the broken workflow itself, the problem is reported once, in that file
    r = cli("check", str(sc), str(tmp_path / "sub" / "broken.yaml"))
    assert [(f[0], f[4]) for f in findings(r.out)] == [
        ("sc.yaml", "unknown-status"),
        ("broken.yaml", "unknown-step-type"),
    ]


def test_the_new_codes_are_in_the_one_table() -> None:
    for code in ("unknown-actor", "bad-duration", "invalid-json", "unknown-status", "unknown-workflow"):
        assert CODES[code][0] == "error"
    r = cli("check", "--codes")
    assert re.search(r"^unknown-actor\s+error\s+", r.out, re.M), r.out


def test_the_shipped_scenarios_stay_green() -> None:
    r = cli("check", str(ROOT / "examples"))
    assert r.code == 0, r.out
    assert findings(r.out) == []
    r = cli("check", str(ROOT / "tests" / "scenarios"))  # its workflows/ hold deliberate loops and islands
    in_scenarios = [line for line in r.lines if re.match(r"^tests/scenarios/[^/]+\.yaml:", line)]
    assert in_scenarios == [], in_scenarios
    assert re.search(r"\(\d+ scenario files, ", r.lines[-1]), r.lines[-1]


# -- coverage: what the scenarios could reach ------------------------------------------------


MANUAL_ONLY = """
name: one manual step
workflow: wf.yaml
do:
  - act: {type: Run}
  - act: {type: Finish}
    expect: {job: {closed: true}}
"""


def _manual_suite(tmp_path: Path) -> Path:
    write(tmp_path, "wf.yaml", "workflow: tiny\ninitialStep: a\nsteps:\n  - {id: a, type: manual, paths: []}\n")
    return write(tmp_path, "sc.yaml", MANUAL_ONLY)


def test_coverage_counts_only_the_charts_and_rules_scenarios_reach(tmp_path: Path) -> None:
    r = cli("test", str(_manual_suite(tmp_path)), "--coverage", "--format", "json")
    assert r.code == 0, r.out
    cov = json.loads(r.out)["coverage"]
    labels = [m["label"] for section in cov.values() for m in section["missed"]]
    # only the manual chart: 10 transitions in statecharts/manual.yaml (one per source state)
    assert cov["transitions"]["total"] == 10, cov["transitions"]
    assert all(label.startswith("manual: ") for label in [m["label"] for m in cov["transitions"]["missed"]])
    # no rule only a question (Respond), an asynchronous step (Complete, Fail) or job management reaches
    assert not any(re.match(r"(respond|complete|fail|close|reopen|delete|upgrade)-", label) for label in labels), labels
    rule_files = {m["file"] for m in cov["rules"]["missed"]}
    assert "rules/40-management.yaml" not in rule_files
    assert any(m["label"].startswith("assign-needs-privilege") for m in cov["rules"]["missed"])


def test_coverage_names_shipped_files_by_their_short_name_from_any_folder(tmp_path: Path) -> None:
    sc = _manual_suite(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = proc("test", str(sc), "--coverage", cwd=elsewhere)
    assert r.code == 0, r.out + r.err
    assert re.search(r"^  statecharts/manual\.yaml:\d+: manual: ", r.out, re.M), r.out
    assert re.search(r"^  rules/20-steps\.yaml:\d+: ", r.out, re.M), r.out
    assert str(ROOT) not in r.out
    assert "site-packages" not in r.out
