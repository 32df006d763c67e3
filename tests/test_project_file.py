"""Shipped plus mine: ``--charts``/``--rules`` add to the shipped folders on every command, and ``stepchart.yaml``.

The project file is found upward from the working folder (or named by ``--project``),
its paths are relative to it, and every command that loads definitions reads it through
the shared options; a bad one is a located error (exit 2) and nothing runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli, write

from stepchart.io.project import find_project, read_project

APPROVAL = ROOT / "tests" / "designer" / "charts" / "approval.yaml"

# A designer's rule slotted in before a shipped one (R15: the first rule that fails decides).
BADGE_RULE = """
rules:
  - name: run-needs-badge
    description: Running a step needs the runSteps privilege.
    actions: [Run]
    require: {any: [actor.isEngine, {actor.privilege: runSteps}]}
    yields: AssignedToDifferentUser
    before: not-held
"""

WORKFLOW = """
workflow: sign-off
initialStep: sign
steps:
  - {id: sign, type: approval, answers: [signed], assignedType: User, assignedTo: alice, paths: [{nextStep: file}]}
  - {id: file, type: manual, assignedType: User, assignedTo: alice, paths: []}
"""

SCENARIO = """
name: the badge rule refuses alice's Run until she has the privilege
workflow: ../workflows/sign-off.yaml
actors: {alice: {}, bob: {privileges: [runSteps]}}
do:
  - act: {type: Run}
    as: alice
    expect: {success: false, stepResponses: [{stepId: sign, status: AssignedToDifferentUser}]}
"""



def project(root: Path, text: str | None = "project: sign-off\ncharts: charts\nrules: [rules]\n") -> Path:
    """A designer's folder: a chart of their own, a rule placed before a shipped one, a workflow, a scenario."""
    (root / "charts").mkdir(parents=True, exist_ok=True)
    (root / "charts" / "approval.yaml").write_text(APPROVAL.read_text("utf-8"), encoding="utf-8")
    write(root, "rules/badge.yaml", BADGE_RULE)
    write(root, "workflows/sign-off.yaml", WORKFLOW)
    write(root, "scenarios/badge.yaml", SCENARIO)
    if text is not None:
        write(root, "stepchart.yaml", text)
    return root


# -- 1. one behaviour: the shipped folders plus mine --------------------------------------------


def test_check_a_rule_placed_before_a_shipped_rule_is_fine(tmp_path: Path) -> None:
    """Before: the checked rules replaced the shipped ones, so ``before: not-held`` was an unknown rule."""
    root = project(tmp_path, None)
    r = cli("check", str(root / "rules"))
    assert r.code == 0, r.out
    assert "unknown-rule" not in r.out
    assert "0 errors, 0 warnings in" in r.out


def test_check_a_checked_chart_may_not_redefine_a_shipped_type(tmp_path: Path) -> None:
    """As the engine refuses it (duplicate-step-type): one behaviour; --no-shipped charts is the way to replace."""
    shipped = (ROOT / "statecharts" / "manual.yaml").read_text("utf-8")
    mine = write(tmp_path, "manual.yaml", shipped.replace("description:", "description: mine.", 1))
    r = cli("check", str(mine))
    assert r.code == 1, r.out
    found = r"manual\.yaml:\d+:\d+: error\[duplicate-step-type\]: step type 'manual' is already defined"
    assert re.search(found, r.out), r.out
    assert "--no-shipped charts" in r.out
    assert cli("check", "--no-shipped", "charts", str(mine)).code == 0
    engine = cli("test", "--charts", str(tmp_path), str(ROOT / "examples" / "scenarios"))
    assert engine.code == 1 and "duplicate-step-type" in engine.err, engine.err


def test_test_rules_and_charts_are_added_to_the_shipped_ones(tmp_path: Path) -> None:
    """``--rules mine`` keeps the shipped rules (not-held, to be placed before); ``--charts mine`` keeps manual."""
    root = project(tmp_path, None)
    r = cli("test", "--charts", str(root / "charts"), "--rules", str(root / "rules"), str(root / "scenarios"))
    assert r.code == 0, r.out + r.err
    assert r.out.strip().endswith("1 passed, 0 failed")
    # naming the shipped folder as well still loads each file once (the README's old spelling keeps working)
    twice = cli("test", "--charts", str(ROOT / "statecharts"), "--charts", str(root / "charts"),
                "--rules", str(root / "rules"), str(root / "scenarios"))  # fmt: skip
    assert twice.code == 0, twice.out + twice.err
    # without the shipped rules the badge rule has nothing to go before
    alone = cli("test", "--no-shipped", "rules", "--charts", str(root / "charts"), "--rules", str(root / "rules"),
                str(root / "scenarios"))  # fmt: skip
    assert alone.code == 1
    assert "unknown-rule" in alone.err and "not-held" in alone.err, alone.err


# -- 2. the project file ---------------------------------------------------------------------------


def test_the_project_file_is_found_upward_and_read_by_check_and_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "project: sign-off\ncharts: charts\nrules: [rules]\nworkflows: workflows\nscenarios: scenarios\n"
    root = project(tmp_path / "proj", text)
    (root / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(root / "deep" / "er")
    assert find_project() == root / "stepchart.yaml"
    r = cli("test", str(root / "scenarios"))
    assert r.code == 0, r.out + r.err
    assert cli("test").code == 0  # no paths: the project's scenarios
    c = cli("check")  # no paths: the project file and its folders
    assert c.code == 0, c.out
    assert "(1 chart, 1 project file, 1 rules file, 1 scenario file, 1 workflow)" in c.out, c.out
    # --no-project: today's behaviour, the approval type is unknown
    bare = cli("test", "--no-project", str(root / "scenarios"))
    assert bare.code == 1


def test_no_project_file_is_todays_behaviour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, None)
    monkeypatch.chdir(root)
    found = find_project()
    assert found is None or tmp_path not in found.parents  # none here (a stray one far above is not ours)
    r = cli("test", str(root / "scenarios"))
    assert r.code == 1
    assert "unknown-step-type]: unknown step type 'approval'" in r.out, r.out
    usage = cli("test")
    assert usage.code == 2 and "give scenario files or folders" in usage.err


def test_project_option_names_the_file_and_command_line_adds_to_it(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", "project: sign-off\ncharts: charts\n")  # its rules are not in the project
    named = str(root / "stepchart.yaml")
    r = cli("test", "--project", named, "--rules", str(root / "rules"), str(root / "scenarios"))
    assert r.code == 0, r.out + r.err
    without = cli("test", "--project", named, str(root / "scenarios"))
    assert without.code == 1  # the badge rule is missing: alice's Run succeeds
    missing = cli("test", "--project", str(tmp_path / "nope.yaml"), str(root / "scenarios"))
    assert missing.code == 2 and "nope.yaml: no such file" in missing.err


def test_project_shipped_list_leaves_out_the_shipped_rules(tmp_path: Path) -> None:
    root = project(tmp_path, "project: p\ncharts: charts\nrules: rules\nshipped: [charts]\n")
    r = cli("test", "--project", str(root / "stepchart.yaml"), str(root / "scenarios"))
    assert r.code == 1
    assert "unknown-rule" in r.err  # before: not-held, and not-held is a shipped rule left out


@pytest.mark.parametrize(
    ("text", "where", "code"),
    [
        ("project: p\ncharts: charts\nwrkflows: w\n", ":3:1: error[unknown-key]", "unknown-key"),
        ("project: p\nrules: [rules, nowhere]\n", ":2:16: error[project-path-missing]", "project-path-missing"),
        ("project: p\nshipped: [charts, everything]\n", ":2:19: error[bad-value]", "bad-value"),
        ("charts: charts\n", ":1:1: error[missing-key]", "missing-key"),
        ("project: p\ncharts: [charts\n", "stepchart.yaml:", "yaml"),
    ],
)
def test_a_bad_project_file_is_a_located_error_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, where: str, code: str
) -> None:
    root = project(tmp_path, text)
    monkeypatch.chdir(root)
    for args in (["test", "scenarios"], ["check", "rules"], ["diagram", "workflows/sign-off.yaml"]):
        r = cli(*args)
        assert r.code == 2, (args, r.out, r.err)
        assert "stepchart.yaml" + where.split("stepchart.yaml")[-1] in r.err or where in r.err, r.err
        assert r.out == ""


def test_the_project_file_is_checked_by_check(tmp_path: Path) -> None:
    root = project(tmp_path, "project: p\ncharts: charts\nrules: [rules, gone]\n")
    r = cli("check", "--no-project", str(root / "stepchart.yaml"))
    assert r.code == 1
    assert re.search(r"stepchart\.yaml:3:16: error\[project-path-missing\]: rules: 'gone'", r.out), r.out
    assert "1 project file" in r.out


def test_run_explain_and_diagram_load_the_projects_charts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root)
    job = root / "job.json"
    made = cli("new-job", "workflows/sign-off.yaml", "-o", str(job))
    assert made.code == 0, made.err
    ran = cli("run", "--job", str(job), "--workflow", "workflows/sign-off.yaml", "--as", "alice",
              "--privilege", "runSteps", '{"type": "Run"}')  # fmt: skip
    assert ran.code == 0, ran.out + ran.err
    refused = cli("explain", "--job", str(job), "--workflow", "workflows/sign-off.yaml", "--as", "alice",
                  '{"type": "Run"}')  # fmt: skip
    assert refused.code == 1
    assert "run-needs-badge" in refused.out, refused.out  # the project's rule, checked before not-held
    write(root, "stepchart.yaml", "project: sign-off\ncharts: charts\nrules: [rules]\nworkflows: workflows\n")
    again = cli("explain", "--job", str(job), "--as", "alice", '{"type": "Run"}')  # the job names its workflow
    assert again.code == 1 and "run-needs-badge" in again.out, again.out + again.err
    drawn = cli("diagram", "workflows/sign-off.yaml")
    assert drawn.code == 0, drawn.err
    assert "sign" in drawn.out


def test_store_commands_and_serve_read_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, "project: p\ncharts: charts\nrules: rules\nworkflows: workflows\n")
    monkeypatch.chdir(root)
    db = str(root / "jobs.db")
    swept = cli("sweep", "--store", db)
    assert swept.code == 0, swept.err
    exported = cli("export", "--store", db)
    versions = [json.loads(line) for line in exported.lines if '"sign-off"' in line]
    assert versions, exported.out  # the project's workflow was loaded and saved as a version
    listed = cli("jobs", "close", "NOPE", "--store", db)
    assert "approval" not in listed.err  # the project's chart is known, so the workflow loads
    write(root, "stepchart.yaml", "project: p\ncharts: nowhere\n")
    for args in (["serve", "--port", "0", "--store", str(root / "s.db")], ["jobs", "close", "J1", "--store", db]):
        bad = cli(*args)
        assert bad.code == 2, (args, bad.err)
        assert "stepchart.yaml:2:9: error[project-path-missing]" in bad.err, bad.err
    assert not (root / "s.db").exists()


def test_read_project_paths_are_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    proj = read_project(root / "stepchart.yaml")
    assert proj.charts == (Path("p") / "charts",)
    assert proj.rules == (Path("p") / "rules",)
    assert proj.shipped == {"charts", "rules"}


def test_a_copy_of_the_shipped_definitions_counts_once(tmp_path: Path) -> None:
    """Shipped plus mine: the repository's statecharts/ and rules/ are copies of the installed ones (modelines
    rewritten); naming them, or checking them, adds nothing and is no duplicate. A changed copy is one."""
    import shutil

    from stepchart.io.files import data_dir

    charts, rules = tmp_path / "charts", tmp_path / "rules"
    shutil.copytree(data_dir("statecharts"), charts)
    shutil.copytree(data_dir("rules"), rules)
    for f in [*charts.glob("*.yaml"), *rules.glob("*.yaml")]:
        f.write_text("# a copy, its modeline rewritten\n" + f.read_text("utf-8"), "utf-8")
    scenarios = str(ROOT / "examples" / "scenarios")
    r = cli("test", "--charts", str(charts), "--rules", str(rules), scenarios)
    assert r.code == 0, r.out + r.err
    r = cli("check", str(charts), str(rules), str(ROOT / "examples" / "parcel-edit.yaml"))
    assert r.code == 0, r.out + r.err
    r = cli("verify", "--charts", str(charts), "--rules", str(rules), str(ROOT / "examples" / "parcel-edit.yaml"))
    assert r.code == 0, r.out + r.err
    gp = charts / "gp.yaml"
    gp.write_text(gp.read_text("utf-8").replace("description:", "description: changed.", 1), "utf-8")
    r = cli("test", "--charts", str(charts), scenarios)
    assert r.code == 1 and "duplicate-step-type" in r.out + r.err, r.out + r.err
