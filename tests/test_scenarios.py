"""Every scenario (SPEC 6.3) as its own pytest test, and the runner's own failures.

The scenarios under ``tests/scenarios`` (one file per rule, R1..R25 and section 6) and
``examples/scenarios`` run with ``stepchart.scenarios.load_file`` / ``run_scenario`` on one
shared base engine; a failure shows the runner's message. The deliberately wrong scenarios
of ``tests/scenario_failures`` check that the runner fails the right way: the message names
the scenario, the operation, the field, the expected and the actual value; a scenario that
cannot run fails with its reason and the run goes on; ``stepchart test`` exits 0/1/2 and
ends with ``N passed, N failed``; a folder run passes over files without do:/scenarios:.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stepchart import Engine
from stepchart.cli import main as cli_main
from stepchart.tools.scenarios import Scenario, ScenarioResult, discover, load_file, run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIRS = [ROOT / "tests" / "scenarios", ROOT / "examples" / "scenarios"]
FAILURES = ROOT / "tests" / "scenario_failures"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


def _collect() -> list[pytest.ParameterSet]:
    files, missing = discover(SCENARIO_DIRS)
    assert not missing, missing
    params: list[pytest.ParameterSet] = []
    for f in files:
        rel = f.relative_to(ROOT).as_posix()
        loaded = load_file(f)
        if isinstance(loaded, ScenarioResult):  # the file itself does not load: one failing test
            params.append(pytest.param(loaded, id=f"{rel}::{loaded.name}"))
            continue
        params.extend(pytest.param(s, id=f"{rel}::{s.name}") for s in loaded)
    return params


SCENARIOS = _collect()


def test_every_rule_has_a_scenario_file() -> None:
    """Each SPEC rule R1..R25 that 6.3 can express is cited by a scenario name (R23, R24: test_engine_details)."""
    names = " ".join(p.values[0].name for p in SCENARIOS)
    expressible = [f"R{i}" for i in range(1, 23)] + ["R4a", "R9a", "R25"]
    missing = [r for r in expressible if not re.search(rf"\b{r}\b", names)]
    assert not missing, f"no scenario cites {missing}"
    ids = [p.id for p in SCENARIOS]
    assert len(ids) == len(set(ids)), "scenario names must be unique within a file"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario: Scenario | ScenarioResult, base_engine: Engine) -> None:
    result = scenario if isinstance(scenario, ScenarioResult) else run_scenario(scenario, base_engine)
    if not result.passed:
        pytest.fail(f"{result.file}:{result.line}: {result.name}: {result.message}", pytrace=False)


# -- the runner fails correctly ------------------------------------------------------------------


def _results(name: str, base_engine: Engine) -> dict[str, ScenarioResult]:
    loaded = load_file(FAILURES / name)
    assert not isinstance(loaded, ScenarioResult), loaded.message
    return {s.name: run_scenario(s, base_engine) for s in loaded}


# name -> (operation label, field, expected, actual) that the failure message must hold
WRONG = {
    "wrong step status": ("operation 1 (act Run as alice)", "stepResponses[0].status", "'NotRunning'", "'Success'"),
    "wrong success": ("operation 1 (act Run as alice)", "success", "false", "true"),
    "wrong current step status": (
        "operation 1 (act Run as alice)",
        "job.currentSteps[a].status",
        "'Paused'",
        "'Running'",
    ),
    "wrong current step ids": ("operation 1 (expect)", "job.currentSteps", "['b']", "['a']"),
    "wrong return value": ("operation 1 (act Finish as alice)", "job.returnValues.a", "'Skipped'", "'Success'"),
    "wrong error type": ("operation 1 (act raw", "error.type", "'SchemaViolation'", "'InvalidJson'"),
    "unexpected request error": ("operation 1 (act Run 5 as alice)", "unexpected request error", "", "SchemaViolation"),
    "expected a request error, got a 200": ("operation 1 (act Run as alice)", "error", "InvalidRequest", "a 200"),
    "wrong number of step responses": ("operation 1 (act Run as alice)", "stepResponses", "2 responses", "got 1"),
    "wrong active holds": ("operation 1 (act Hold as alice)", "job.activeHolds", "expected 2", "got 1"),
    "wrong closed": ("operation 1 (expect)", "job.closed", "true", "false"),
    "stops at the first unmet expectation": (
        "operation 2 (act Stop as alice)",
        "stepResponses[0].status",
        "'AlreadyExecuting'",
        "'Success'",
    ),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_runner_failure_names_operation_field_expected_actual(name: str, base_engine: Engine) -> None:
    """6.3: a scenario fails at its first unmet expectation, naming the operation, field, expected and actual."""
    result = _results("wrong-expectations.yaml", base_engine)[name]
    assert not result.passed
    assert result.name == name
    label, fld, expected, actual = WRONG[name]
    msg = result.message
    assert msg.startswith(label), msg
    assert f"{fld}:" in msg or f"{fld} " in msg, msg
    assert expected in msg and actual in msg, msg
    if expected:
        assert msg.index(expected) < msg.index(actual, msg.index(expected)), "expected comes before actual"


def test_runner_stops_at_first_unmet_expectation(base_engine: Engine) -> None:
    result = _results("wrong-expectations.yaml", base_engine)["stops at the first unmet expectation"]
    assert result.operations == 2
    assert "NoSuchStatus" not in result.message


CANNOT_RUN = {
    "unknown top-level key": "unknown key 'colour'",
    "unknown actor": "unknown actor 'mallory'",
    "missing workflow file": "no such file",
    "workflow file that does not load": "the workflow does not load",
    "inline workflow that does not load": "unknown step type 'teleport'",
    "unknown operation key": "unknown key 'colour'",
    "a new job whose automatic steps loop cannot be created": "InvalidRequest",
}


def test_runner_scenarios_that_cannot_run_fail_with_the_reason_and_the_run_goes_on(base_engine: Engine) -> None:
    results = _results("cannot-run.yaml", base_engine)
    for name, reason in CANNOT_RUN.items():
        assert not results[name].passed, name
        assert reason in results[name].message, (name, results[name].message)
    assert results["the run goes on and this one passes"].passed


def test_runner_a_file_that_does_not_parse_fails_with_the_reason() -> None:
    loaded = load_file(FAILURES / "unreadable.yaml")
    assert isinstance(loaded, ScenarioResult) and not loaded.passed
    assert "duplicate-key" in loaded.message and loaded.line == 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepchart.cli", "test", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )


def _summary(stdout: str) -> tuple[int, int]:
    last = stdout.strip().splitlines()[-1]
    m = SUMMARY.match(last)
    assert m, f"closing line {last!r}"
    return int(m.group(1)), int(m.group(2))


def test_cli_exit_0_when_all_pass() -> None:
    proc = _cli("examples/scenarios", "tests/scenarios/r02-proceed-next.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _summary(proc.stdout) == (10, 0)


def test_cli_exit_1_when_any_fails_and_failure_lines_name_the_scenario() -> None:
    proc = _cli("tests/scenario_failures")
    assert proc.returncode == 1
    passed, failed = _summary(proc.stdout)
    assert (passed, failed) == (1, len(WRONG) + len(CANNOT_RUN) + 2)  # + single-failing.yaml, unreadable.yaml
    lines = proc.stdout.splitlines()
    line = next(x for x in lines if "wrong step status" in x)
    assert line.startswith("FAIL tests/scenario_failures/wrong-expectations.yaml:")
    assert "operation 1 (act Run as alice): stepResponses[0].status: expected 'NotRunning', got 'Success'" in line
    assert any("a single failing scenario: operation 1 (act Finish as alice)" in x for x in lines)


def test_cli_exit_2_when_a_path_does_not_exist() -> None:
    proc = _cli("examples/scenarios", "no/such/folder")
    assert proc.returncode == 2
    assert "no/such/folder" in proc.stderr


def test_cli_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["test", str(FAILURES / "single-failing.yaml")]) == 1
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"
    assert cli_main(["test", "-v", str(ROOT / "examples" / "scenarios")]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_folder_selection_passes_over_files_without_do_or_scenarios(tmp_path: Path) -> None:
    """6.3: in a folder, only .yaml/.yml files whose top level has do: or scenarios: are run."""
    shutil.copy(ROOT / "statecharts" / "manual.yaml", tmp_path / "chart.yaml")
    shutil.copy(ROOT / "rules" / "20-steps.yaml", tmp_path / "rules.yml")
    (tmp_path / "wf").mkdir()
    shutil.copy(FAILURES / "workflows" / "small.yaml", tmp_path / "wf" / "small.yaml")
    (tmp_path / "notes.yaml").write_text("title: not a scenario\nitems: [do, scenarios]\n")
    (tmp_path / "scenario.txt").write_text("do: []\nworkflow: wf/small.yaml\n")
    nested = tmp_path / "deep" / "er"
    nested.mkdir(parents=True)
    (nested / "one.yml").write_text(
        "name: nested\nworkflow: ../../wf/small.yaml\ndo:\n  - expect: {job: {closed: false}}\n"
    )
    (tmp_path / "many.yaml").write_text(
        "scenarios:\n"
        "  - {name: first, workflow: wf/small.yaml, do: [{expect: {job: {currentSteps: [{stepId: a}]}}}]}\n"
        "  - {name: second, workflow: wf/small.yaml, do: []}\n"
    )
    files, missing = discover([tmp_path])
    assert not missing
    assert sorted(f.name for f in files) == ["many.yaml", "one.yml"]
    proc = _cli(str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    assert _summary(proc.stdout) == (3, 0)
    proc = _cli(str(ROOT / "tests" / "scenarios" / "workflows"))
    assert proc.returncode == 5 and _summary(proc.stdout) == (0, 0)  # no scenario selected: exit 5, as pytest


def test_designer_chart_scenarios_reach_the_lifecycle_fallback_rules() -> None:
    """R15: a designer's own step type; run-lifecycle, stop-lifecycle and finish-lifecycle refuse."""
    from stepchart import data_dir

    designer = ROOT / "tests" / "designer"
    base = Engine([data_dir("statecharts"), designer / "charts"])
    files, _ = discover([designer])
    results = [run_scenario(s, base) for f in files for s in load_file(f)]  # type: ignore[union-attr]
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]
