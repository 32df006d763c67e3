"""SPEC 6.3: an operation with no ``expect`` must get ``Success`` for every step.

Failures name the failing operation's own line.

Through the real ``stepchart test`` command (text, ``--format json`` and ``--junit-xml``).
"""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from cli_helpers import ROOT, cli

PARCEL = ROOT / "examples" / "parcel-edit.yaml"


def suite(tmp_path: Path, text: str) -> Path:
    (tmp_path / "wf.yaml").write_text(PARCEL.read_text("utf-8"), encoding="utf-8")
    p = tmp_path / "sc.yaml"
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


# bob is no editor: his Run answers AssignedToDifferentUser (R16) in a 200 response
SILENT_REFUSAL = """
name: bob runs a step that is not his
workflow: wf.yaml
actors:
  alice: {groups: [editors]}
  bob: {}
do:
  - act: {type: Run}
    as: alice
  - act: {type: Stop}
    as: alice
  - act: {type: Run}
    as: bob
  - act: {type: Finish}
    as: alice
    expect: {stepResponses: [{stepId: edit, status: Success}]}
"""


def test_a_refused_step_without_expect_fails_the_scenario_naming_the_answer(tmp_path: Path) -> None:
    r = cli("test", str(suite(tmp_path, SILENT_REFUSAL)))
    assert r.code == 1, r.out
    assert r.lines[-1] == "0 passed, 1 failed"
    fail = r.lines[0]
    assert fail.startswith(f"FAIL {tmp_path / 'sc.yaml'}:11: bob runs a step that is not his: "), fail
    assert "operation 3 (act Run as bob): step 'edit' answered AssignedToDifferentUser" in fail, fail
    assert "(The step is assigned to a different user (R16).)" in fail
    assert "operation without expect must succeed (SPEC 6.3)" in fail


def test_a_refusal_that_is_meant_says_so_and_passes(tmp_path: Path) -> None:
    meant = SILENT_REFUSAL.replace(
        "  - act: {type: Run}\n    as: bob\n",
        "  - act: {type: Run}\n    as: bob\n"
        "    expect: {stepResponses: [{stepId: edit, status: AssignedToDifferentUser}]}\n",
    )
    r = cli("test", str(suite(tmp_path, meant)))
    assert r.code == 0, r.out
    assert r.lines[-1] == "1 passed, 0 failed"


def test_an_expect_without_step_responses_still_only_checks_what_it_lists(tmp_path: Path) -> None:
    """The new rule is for operations with no expect at all; expect: {job: ...} checks the job only."""
    text = SILENT_REFUSAL.replace(
        "  - act: {type: Run}\n    as: bob\n",
        "  - act: {type: Run}\n    as: bob\n    expect: {job: {currentSteps: [{stepId: edit, status: Paused}]}}\n",
    )
    r = cli("test", str(suite(tmp_path, text)))
    assert r.code == 0, r.out


def test_step_operations_without_expect_follow_the_rule_too(tmp_path: Path) -> None:
    """A Hold with no stepIds targets every current step; a refused one fails without expect."""
    text = """
    name: release with nothing held
    workflow: wf.yaml
    actors:
      alice: {groups: [editors], privileges: [jobUpdateHolds]}
    do:
      - act: {type: ReleaseHold}
        as: alice
    """
    r = cli("test", str(suite(tmp_path, text)))
    assert r.code == 1
    assert (
        ":6: release with nothing held: operation 1 (act ReleaseHold as alice): step 'edit' answered NotHeld" in r.out
    )


def test_the_line_of_an_unmet_expectation_is_the_operations_own(tmp_path: Path) -> None:
    text = """
    name: wrong status late in the scenario
    workflow: wf.yaml
    actors:
      alice: {groups: [editors]}
    do:
      - act: {type: Run}
        as: alice
      - advance: PT1H
      - act: {type: Finish}
        as: alice
        expect:
          stepResponses: [{stepId: edit, status: Held}]
    """
    path = suite(tmp_path, text)
    r = cli("test", str(path))
    assert r.code == 1
    assert r.lines[0].startswith(f"FAIL {path}:9: wrong status late in the scenario: operation 3 (act Finish as alice)")
    j = json.loads(cli("test", str(path), "--format", "json").out)
    assert j["scenarios"][0]["line"] == 9
    junit = tmp_path / "junit.xml"
    cli("test", str(path), "--junit-xml", str(junit))
    case = ET.parse(junit).getroot().find("./testsuite/testcase")
    assert case is not None and case.get("line") == "9"


def test_a_request_error_without_expect_is_located_at_its_operation(tmp_path: Path) -> None:
    text = """
    name: raw text
    workflow: wf.yaml
    do:
      - expect: {job: {closed: false}}
      - act: '{"type": "Run", "stepIds": 5}'
    """
    r = cli("test", str(suite(tmp_path, text)))
    assert r.code == 1
    assert ":5: raw text: operation 2 (act raw" in r.lines[0], r.lines[0]
    assert "unexpected request error SchemaViolation" in r.lines[0]


def test_a_scenario_that_cannot_run_names_the_line_of_what_is_wrong(tmp_path: Path) -> None:
    text = """
    scenarios:
      - name: unknown key
        workflow: wf.yaml
        colour: red
        do: []
      - name: job that does not load
        workflow: wf.yaml
        job:
          currentSteps: [{stepId: edit, status: Runing}]
        do: []
    """
    path = suite(tmp_path, text)
    r = cli("test", str(path))
    assert r.lines[0].startswith(f"FAIL {path}:4: unknown key: unknown key 'colour'"), r.lines
    assert r.lines[1].startswith(f"FAIL {path}:9: job that does not load: the job does not load: "), r.lines
    assert "error[unknown-status]" in r.lines[1]
