"""``stepchart verify``: each flaw found at its place with its shortest trace; sound workflows pass; exit codes.

Through the real command line (``stepchart.cli.main``). SPEC rules the flaws rest on:
R16 (an Unassigned step is nobody's), R2 and R8 (a proceedNext Run finding no path),
R4/R4a (the host's result refused), R5/R7 (a Skipped return), R6 (the cascade bound),
R9 (the end of a job).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, cli

from stepchart.tools.lint import CODES

HERE = ROOT / "tests" / "verify"
FLAWED = HERE / "flawed"
SOUND = HERE / "sound"
EXAMPLES = ROOT / "examples"
DESIGNER_CHARTS = ROOT / "tests" / "designer" / "charts"


def verify(*args: str) -> tuple[int, dict[str, Any]]:
    r = cli("verify", "--format", "json", *args)
    assert r.code in (0, 1), r.err
    return r.code, json.loads(r.out)


def findings(data: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    return [(f["code"], f["stepId"], f["line"], f["column"]) for w in data["workflows"] for f in w["findings"]]


def trace(finding: dict[str, Any]) -> list[str]:
    """A finding's trace as ``actor op step [value]`` words, the refused move last."""

    def word(m: dict[str, Any]) -> str:
        what = m.get("type", m["operation"])
        tail = f" {m['value']}" if "value" in m and m["operation"] != "fail" else ""
        return f"{m['actor'] or 'host'} {what} {m['stepId']}{tail}"

    out = [word(m) for m in finding["trace"]]
    if "refusedMove" in finding:
        out.append(word(finding["refusedMove"]) + f" -> {finding['refusedMove']['answer']}")
    return out


def only(data: dict[str, Any], code: str) -> dict[str, Any]:
    found = [f for w in data["workflows"] for f in w["findings"] if f["code"] == code]
    assert len(found) == 1, found
    return found[0]


def test_the_four_codes_are_in_the_one_codes_table() -> None:
    for code in ("stuck", "dead-step", "refused-result", "livelock"):
        assert CODES[code][0] == "error"
    listed = [line.split()[0] for line in cli("check", "--codes").lines]
    assert listed[-4:] == ["stuck", "dead-step", "refused-result", "livelock"]


def test_stuck_an_unassigned_step_nobody_may_run() -> None:
    """R9a/R16: the path hands 'review' to Unassigned; the job stops there after two moves."""
    code, data = verify(str(FLAWED / "unassigned.yaml"))
    assert code == 1
    assert findings(data) == [("stuck", "review", 10, 9)]
    f = only(data, "stuck")
    assert trace(f) == ["alice Run intake", "alice Finish intake"]
    assert "'review' is Unassigned: nobody may run it" in f["message"]


def test_refused_result_a_proceed_next_run_that_matches_no_path() -> None:
    """R2/R8: every Run answers NoMatchingPaths, so the job is also stuck and 'publish' dead."""
    code, data = verify(str(FLAWED / "proceed-next.yaml"))
    assert code == 1
    assert findings(data) == [
        ("stuck", "prepare", 5, 9),
        ("refused-result", "prepare", 10, 12),
        ("dead-step", "publish", 11, 9),
    ]
    assert trace(only(data, "refused-result")) == ["editors-member Run prepare -> NoMatchingPaths"]
    assert trace(only(data, "stuck")) == []


def test_refused_result_the_hosts_failure_and_stuck_in_error() -> None:
    """R4/R4a: complete with a value no path takes is refused; after fail the automatic gp step in Error is nobody's."""
    code, data = verify(str(FLAWED / "gp-failure.yaml"))
    assert code == 1
    assert findings(data) == [("stuck", "compute", 5, 9), ("refused-result", "compute", 8, 12)]
    assert trace(only(data, "refused-result")) == ["host complete compute Failure -> InvalidRequest"]
    stuck = only(data, "stuck")
    assert trace(stuck) == ["host fail compute"]
    assert "compute (Error, Unassigned)" in stuck["message"]


def test_dead_step_reached_only_by_a_skip_of_a_step_that_cannot_be_skipped() -> None:
    """R5/R7: 'shortcut' takes a Skipped return that 'edit' (canSkip false) never gives."""
    code, data = verify(str(FLAWED / "skipped-only.yaml"))
    assert code == 1
    assert findings(data) == [("dead-step", "shortcut", 12, 9)]
    assert only(data, "dead-step")["trace"] == []


def test_livelock_after_a_human_move() -> None:
    """R6: finishing 'start' sets off ping/pong, which pass the bound; the request is refused and nothing changes."""
    code, data = verify(str(FLAWED / "livelock.yaml"))
    assert code == 1
    f = only(data, "livelock")
    assert (f["stepId"], f["line"], f["column"]) == ("ping", 10, 9)
    assert trace(f) == ["alice Run start", "alice Finish start -> InvalidRequest"]
    assert "'ping', 'pong'" in f["message"]
    # the looping steps are the livelock, not dead steps; the job can never complete past 'start'
    assert sorted(c for c, *_ in findings(data)) == ["livelock", "stuck"]


def test_livelock_of_a_new_job(tmp_path: Path) -> None:
    wf = tmp_path / "loop.yaml"
    wf.write_text(
        "workflow: loop\ninitialStep: a\nsteps:\n"
        "  - {id: a, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: b}]}\n"
        "  - {id: b, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: a}]}\n"
    )
    code, data = verify(str(wf))
    assert code == 1
    f = only(data, "livelock")
    assert f["stepId"] in ("a", "b") and f["trace"] == [] and "refusedMove" not in f
    assert "a new job cannot be created" in f["message"]


def test_a_loop_no_path_leaves() -> None:
    code, data = verify(str(FLAWED / "stuck-loop.yaml"))
    assert code == 1
    f = only(data, "stuck")
    assert trace(f) == ["dana Run start", "dana respond start redo"]
    assert "goes round 'fix', 'check'" in f["message"]


def test_flaws_across_parallel_branches_each_with_its_shortest_trace() -> None:
    code, data = verify(str(FLAWED / "parallel.yaml"))
    assert code == 1
    assert findings(data) == [("stuck", "a2", 16, 9), ("refused-result", "b1", 21, 20)]
    assert trace(only(data, "refused-result")) == [
        "alice Run split",
        "alice Finish split",
        "reviewers-member Run b1",
        "reviewers-member respond b1 later -> InvalidRequest",
    ]
    stuck = trace(only(data, "stuck"))
    assert len(stuck) == 8  # a2 is left alone once the other branch and the join have finished
    assert stuck[:4] == ["alice Run split", "alice Finish split", "alice Run a1", "alice Finish a1"]


def test_text_output_locates_each_finding_and_prints_its_trace() -> None:
    r = cli("verify", str(FLAWED / "unassigned.yaml"))
    assert r.code == 1
    assert "unassigned.yaml:10:9: error[stuck]: the job gets stuck at review (Ready, Unassigned)" in r.lines[0]
    assert r.lines[1:4] == ["  trace from a new job:", "    1. alice: Run intake", "    2. alice: Finish intake"]
    assert "unassigned: 4 states, 9 moves in" in r.out
    assert r.lines[-1] == "1 finding in 1 workflow"


@pytest.mark.parametrize("extra", [(), ("--admin",), ("--holds",), ("--admin", "--holds")])
def test_sound_workflows_give_no_finding(extra: tuple[str, ...]) -> None:
    """Parallel branches that rejoin, a loop that can always exit, skippable steps, and the shipped examples."""
    code, data = verify(*extra, str(SOUND), str(EXAMPLES))
    assert findings(data) == []
    assert code == 0
    names = [w["workflow"] for w in data["workflows"]]
    assert names == ["loop-exit", "rejoin", "skippable", "parcel-edit", "permit-review"]
    assert all(w["complete"] and w["states"] > 1 and w["moves"] >= w["states"] for w in data["workflows"])
    assert data["ok"] is True


def test_admin_and_holds_add_moves() -> None:
    """--admin can assign an Unassigned step to itself and SetCurrentStep any step; --holds adds held states."""
    _, plain = verify(str(SOUND / "loop-exit.yaml"))
    _, held = verify("--holds", str(SOUND / "loop-exit.yaml"))
    assert held["workflows"][0]["states"] > plain["workflows"][0]["states"]
    code, data = verify("--admin", str(FLAWED / "unassigned.yaml"), str(FLAWED / "skipped-only.yaml"))
    assert code == 0 and findings(data) == []


def test_designer_step_types_and_rules_take_part() -> None:
    charts = ("--charts", str(ROOT / "statecharts"), "--charts", str(DESIGNER_CHARTS))
    code, data = verify(*charts, str(HERE / "designer" / "approval-signed-only.yaml"))
    assert code == 1
    assert trace(only(data, "refused-result")) == [
        "alice Run sign",
        "alice respond sign signed",
        "alice Finish sign -> NoMatchingPaths",
    ]
    wf = str(HERE / "designer" / "app-then-file.yaml")
    assert verify(wf)[0] == 0
    code, data = verify("--rules", str(ROOT / "rules"), "--rules", str(HERE / "rules"), wf)
    assert code == 1
    assert trace(only(data, "stuck")) == ["alice Run edit"]


def test_max_states_gives_an_explicit_incomplete_result() -> None:
    code, data = verify("--max-states", "5", str(EXAMPLES / "permit-review.yaml"))
    assert code == 1
    w = data["workflows"][0]
    assert (w["complete"], w["states"], w["maxStates"], w["findings"]) == (False, 5, 5, [])
    assert data["summary"]["incomplete"] == 1 and data["ok"] is False
    r = cli("verify", "--max-states", "5", str(EXAMPLES / "permit-review.yaml"))
    assert r.code == 1
    assert "incomplete: stopped at --max-states 5; stuck and dead-step are not decided" in r.out
    assert r.lines[-1] == "0 findings in 1 workflow, 1 search incomplete"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    wf = str(SOUND / "rejoin.yaml")
    assert cli("verify").code == 2
    r = cli("verify", str(tmp_path / "missing.yaml"))
    assert r.code == 2 and "no such file or folder" in r.err
    assert cli("verify", "--max-states", "0", wf).code == 2
    assert cli("verify", "--max-states", "many", wf).code == 2
    assert cli("verify", "--format", "xml", wf).code == 2
    (tmp_path / "notes.yaml").write_text("just: notes\n")
    r = cli("verify", str(tmp_path))
    assert r.code == 2 and "no workflow found" in r.err
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: bad\ninitialStep: a\nsteps:\n  - {id: a, type: manual, paths: [{nextStep: nowhere}]}\n")
    r = cli("verify", str(bad))
    assert r.code == 2
    assert f"{bad}:4:" in r.err and "unknown-step" in r.err
    (tmp_path / "file").write_text("")
    assert cli("verify", "--scenarios", str(tmp_path / "file"), wf).code == 2
    r = cli("verify", "--scenarios", str(tmp_path / "file" / "below"), str(FLAWED / "unassigned.yaml"))
    assert r.code == 2 and "--scenarios" in r.err


def test_written_scenarios_replay_each_finding_through_stepchart_test(tmp_path: Path) -> None:
    out = tmp_path / "found"
    code, data = verify("--scenarios", str(out), str(FLAWED))
    assert code == 1
    written = [p for w in data["workflows"] for p in w["scenarios"]]
    with_trace = [f for w in data["workflows"] for f in w["findings"] if f["code"] != "dead-step"]
    assert len(written) == len(with_trace) == 10
    assert sorted(str(p) for p in out.iterdir()) == sorted(written)
    r = cli("test", str(out))
    assert r.code == 0, r.out
    assert r.lines[-1] == "10 passed, 0 failed"


def test_a_written_scenario_fails_once_the_flaw_is_fixed(tmp_path: Path) -> None:
    """The last expectation shows the finding: fix the workflow and the scenario no longer passes."""
    wf = tmp_path / "unassigned.yaml"
    shutil.copy(FLAWED / "unassigned.yaml", wf)
    assert verify("--scenarios", str(tmp_path / "sc"), str(wf))[0] == 1
    (scenario,) = (tmp_path / "sc").iterdir()
    text = scenario.read_text()
    assert "  - act: {type: Finish, stepIds: [intake]}\n    as: alice\n    expect: {success: true}\n" in text
    assert "- {stepId: review, status: Ready, assignedType: Unassigned}" in text
    assert cli("test", str(scenario)).code == 0
    wf.write_text(wf.read_text().replace("assignedType: Unassigned", "assignedType: User, assignedTo: alice"))
    assert verify(str(wf))[0] == 0
    r = cli("test", str(scenario))
    assert r.code == 1 and "1 failed" in r.out


def test_the_readme_example_is_what_verify_prints_and_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README section shows a real finding, its trace and the scenario written, as they are (times aside)."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Prove a workflow cannot get stuck", 1)[1].split("\n## ", 1)[0]
    shown = section.split("$ stepchart verify tests/verify/readme/map-update.yaml --scenarios found\n", 1)[1]
    shown_lines = shown.split("$ stepchart test found", 1)[0].splitlines()
    monkeypatch.chdir(tmp_path)
    shutil.copytree(HERE / "readme", tmp_path / "tests" / "verify" / "readme")
    r = cli("verify", "tests/verify/readme/map-update.yaml", "--scenarios", "found")
    assert r.code == 1

    def steady(lines: list[str]) -> list[str]:
        return [line.split(" in ")[0] if " states, " in line else line for line in lines]

    assert steady(r.lines) == steady(shown_lines)
    written = (tmp_path / "found" / "map-update-refused-result-publish-1.yaml").read_text("utf-8")
    assert f"```yaml\n{written}```" in section
    assert cli("test", "found").lines[-1] == "1 passed, 0 failed"


def test_help_states_the_default_bound() -> None:
    from stepchart.tools.verify import DEFAULT_MAX_STATES

    r = cli("verify", "--help")
    assert r.code == 0
    assert f"(default {DEFAULT_MAX_STATES})" in " ".join(r.out.split())


def test_verify_given_no_paths_verifies_the_projects_workflows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12: verify reads the project file (stepchart.yaml) like every command that loads definitions."""
    from stepchart.cli import main

    (tmp_path / "workflows").mkdir()
    flawed = ROOT / "tests" / "verify" / "readme" / "map-update.yaml"
    (tmp_path / "workflows" / "map-update.yaml").write_text(flawed.read_text("utf-8"), "utf-8")
    (tmp_path / "stepchart.yaml").write_text("project: p\nworkflows: workflows\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["verify"]) == 1
    assert "error[refused-result]" in capsys.readouterr().out
    (tmp_path / "stepchart.yaml").write_text("project: p\n", "utf-8")
    assert main(["verify"]) == 2
    assert "stepchart verify: error: give workflow files" in capsys.readouterr().err
