"""``stepchart check``: load errors and semantic findings, located, with stable codes; text and JSON; exit codes."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli, findings, write

from stepchart.tools.lint import CODES, decide


def test_shipped_definitions_are_clean() -> None:
    r = cli("check", str(ROOT / "statecharts"), str(ROOT / "rules"), str(ROOT / "examples"))
    assert r.code == 0, r.out
    assert findings(r.out) == []
    summary = r"^0 errors, 0 warnings in \d+ files \(4 charts, \d+ rules files, \d+ scenario files?, \d+ workflows\)$"
    assert re.search(summary, r.out, re.M), r.out


def test_workflow_findings_are_located_at_the_offending_element(tmp_path: Path) -> None:
    wf = write(
        tmp_path,
        "wf.yaml",
        """
        workflow: demo
        initialStep: start
        steps:
          - id: start
            type: manual
            paths:
              - {nextStep: ask}
              - {nextStep: ask}
          - id: ask
            type: question
            answers: [approve, reject, later]
            paths:
              - {nextStep: done, returnValue: approve}
              - {nextStep: start, returnValue: [reject, Success]}
          - id: done
            type: manual
            paths:
              - {nextStep: ask, returnValue: Skipped}
              - {nextStep: fin, returnValue: Success}
          - id: fin
            type: manual
          - id: island
            type: manual
            paths: [{nextStep: fin}]
        """,
    )
    r = cli("check", str(wf))
    assert r.code == 1, r.out
    got = findings(r.out)
    assert ("wf.yaml", 8, 9, "warning", "duplicate-path") in got
    assert ("wf.yaml", 11, 32, "error", "unused-answer") in got  # 'later'
    assert ("wf.yaml", 14, 49, "warning", "impossible-return-value") in got  # Success from a question
    assert ("wf.yaml", 18, 38, "warning", "impossible-return-value") in got  # Skipped, not canSkip
    assert ("wf.yaml", 22, 9, "warning", "unreachable-step") in got  # island
    assert sum(1 for f in got if f[4] == "unreachable-step") == 1
    assert "never returns 'Skipped'; it returns 'Success' (this path is never taken)" in r.out
    assert re.search(r"^1 error, 4 warnings in 1 file \(1 workflow\)$", r.out, re.M), r.out


def test_no_way_to_end_and_automatic_loops(tmp_path: Path) -> None:
    wf = write(
        tmp_path,
        "loop.yaml",
        """
        workflow: loop
        initialStep: a
        steps:
          - {id: a, type: manual, paths: [{nextStep: b}]}
          - {id: b, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: c}]}
          - {id: c, type: openApp, automatic: true, proceedNext: true, paths: [{nextStep: b}]}
          - {id: g, type: gp, automatic: true, proceedNext: true, paths: [{nextStep: g}]}
        """,
    )
    r = cli("check", str(wf))
    got = findings(r.out)
    assert ("loop.yaml", 5, 10, "error", "automatic-loop") in got, r.out
    assert "automatic steps b -> c -> b finish themselves on Run" in r.out
    # a gp step waits for its host: no loop, though it leads to itself
    assert not any(f[4] == "automatic-loop" and f[1] == 7 for f in got)
    assert ("loop.yaml", 4, 10, "warning", "no-way-to-end") in got
    assert r.code == 1


def test_a_path_condition_that_breaks_the_cycle_is_no_loop(tmp_path: Path) -> None:
    wf = write(
        tmp_path,
        "ok.yaml",
        """
        workflow: ok
        initialStep: a
        steps:
          - {id: a, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: b}]}
          - id: b
            type: manual
            automatic: true
            proceedNext: true
            paths: [{nextStep: a, returnValue: Retry}, {nextStep: end, returnValue: Success}]
          - {id: end, type: manual}
        """,
    )
    r = cli("check", str(wf))
    assert not any(f[4] == "automatic-loop" for f in findings(r.out)), r.out


def test_load_errors_keep_their_codes_and_places(tmp_path: Path) -> None:
    write(
        tmp_path,
        "bad/typo.yaml",
        """
        workflow: typo
        initialStep: a
        steps:
          - {id: a, type: manual, paths: [{nextStep: reveiw}]}
        """,
    )
    write(tmp_path, "bad/syntax.yaml", "workflow: x\nsteps: [\n")
    write(
        tmp_path,
        "bad/chart.yaml",
        """
        stepType: broken
        initial: Ready
        states: {Ready: {}, Done: {final: true}}
        transitions:
          - {event: run, from: Nowhere, to: Done, returnValue: Success}
        """,
    )
    r = cli("check", str(tmp_path / "bad"))
    got = findings(r.out)
    assert ("typo.yaml", 4, 46, "error", "unknown-step") in got, r.out
    assert any(f[0] == "syntax.yaml" and f[4] == "yaml-syntax" for f in got)
    assert ("chart.yaml", 5, 24, "error", "unknown-state") in got
    assert "(1 chart, 1 invalid file, 1 workflow)" in r.out
    assert r.code == 1


def test_a_workflow_using_a_broken_chart_reports_the_chart_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        "mine.yaml",
        """
        stepType: mine
        initial: Ready
        states: {Ready: {}, Done: {final: true}}
        transitions: [{event: run, from: Ready, to: Gone}]
        """,
    )
    write(tmp_path, "wf.yaml", "workflow: w\ninitialStep: a\nsteps: [{id: a, type: mine}]\n")
    r = cli("check", str(tmp_path))
    codes = [f[4] for f in findings(r.out)]
    assert "unknown-state" in codes
    assert "unknown-step-type" not in codes


def test_charts_checked_against_rules_unhandled_event(tmp_path: Path) -> None:
    write(
        tmp_path,
        "review.yaml",
        """
        stepType: review
        initial: Ready
        states:
          Ready: {}
          Reviewing: {started: true, running: true}
          Done: {final: true}
        transitions:
          - {event: run, from: Ready, to: Reviewing}
          - {event: finish, from: Reviewing, to: Done, returnValue: Success}
        """,
    )
    write(
        tmp_path,
        "rules.yaml",
        """
        rules:
          - {name: stop-running, actions: [Stop], require: step.running, yields: NotRunning}
        """,
    )
    r = cli("check", "--no-shipped", "rules", str(tmp_path))  # these rules alone: the shipped ones ask step.accepts
    got = findings(r.out)
    assert ("review.yaml", 5, 3, "error", "unhandled-event") in got, r.out
    assert re.search(r"the rules allow [^\n]*\bStop\b[^\n]* on a review step in Reviewing, but the chart has no [^\n]*"
                     r"\bstop\b", r.out), r.out  # fmt: skip
    assert "in 6 files (5 charts, 1 rules file)" in r.out  # the shipped charts are checked against these rules too
    # with the shipped rules the same chart is consistent: they ask step.accepts first
    r2 = cli("check", str(tmp_path / "review.yaml"))
    assert r2.code == 0, r2.out


def test_rules_that_can_never_pass_or_never_fail(tmp_path: Path) -> None:
    write(
        tmp_path,
        "rules.yaml",
        """
        rules:
          - name: contradiction
            actions: [Run]
            require: {all: [step.current, {not: step.current}]}
            yields: StepNotCurrent
          - name: two-statuses
            actions: [Run]
            require: {all: [{step.status: Ready}, {step.status: Running}]}
            yields: AlreadyExecuting
          - name: running-without-step
            actions: [Run]
            require: {all: [{not: step.current}, step.running]}
            yields: AlreadyExecuting
          - name: tautology
            actions: [Stop]
            require: {any: [job.closed, {not: job.closed}]}
            yields: JobClosed
          - {name: always, actions: [Stop], require: true, yields: JobClosed}
          - {name: forbidden-on-purpose, actions: [SetCurrentStep], require: false, yields: AlreadyExecuting}
          - name: fine
            actions: [Run]
            require: {any: [actor.isEngine, step.assignedToActor]}
            yields: AssignedToDifferentUser
        """,
    )
    r = cli("check", str(tmp_path / "rules.yaml"))
    got = [(f[1], f[4]) for f in findings(r.out) if f[4].startswith("rule-")]
    assert got == [
        (4, "rule-never-passes"),
        (8, "rule-never-passes"),
        (12, "rule-never-passes"),
        (16, "rule-never-fails"),
        (18, "rule-never-fails"),
    ], r.out


@pytest.mark.parametrize(
    ("require", "verdict"),
    [
        ({"actor.anyPrivilege": ["a", "b"]}, (True, True)),
        ({"all": [{"actor.privilege": "a"}, {"not": {"actor.anyPrivilege": ["a", "b"]}}]}, (False, True)),
        ({"all": ["step.hasReleasableHold", {"not": "step.held"}]}, (False, True)),
        ({"all": ["request.assigneeIsActor", "request.assigneeIsActorGroup"]}, (False, True)),
        ({"all": [{"request.stepCount": 0}, {"request.has": "stepIds"}]}, (False, True)),
        ({"any": [{"request.stepCount": 1}, {"not": {"request.stepCount": 1}}]}, (True, False)),
        ({"all": [{"not": "step.inDiagram"}, {"step.type": "manual"}]}, (False, True)),
    ],
)
def test_decide_knows_how_facts_depend_on_each_other(require: object, verdict: tuple[bool, bool]) -> None:
    assert decide(require) == verdict


def test_scenarios_are_schema_checked_and_their_workflow_paths_exist(tmp_path: Path) -> None:
    write(
        tmp_path,
        "s.yaml",
        """
        workflow: ../nowhere.yaml
        do:
          - {act: {type: Run}, as: alice, expekt: {}}
        """,
    )
    r = cli("check", str(tmp_path))
    codes = {f[4] for f in findings(r.out)}
    assert {"scenario-workflow-missing", "unknown-key"} <= codes, r.out


def test_unknown_documents_named_directly_are_errors_in_folders_skipped(tmp_path: Path) -> None:
    other = write(tmp_path, "compose.yaml", "services: {web: {image: nginx}}\n")
    r = cli("check", str(other))
    assert findings(r.out) == [("compose.yaml", 1, 1, "error", "unknown-document")]
    assert r.code == 1
    write(tmp_path, "wf.yaml", "workflow: w\ninitialStep: a\nsteps: [{id: a, type: manual}]\n")
    r = cli("check", str(tmp_path))
    assert r.code == 0, r.out
    assert "1 other file skipped" in r.out


def test_json_format_gives_the_same_findings_as_data(tmp_path: Path) -> None:
    wf = write(
        tmp_path,
        "wf.yaml",
        """
        workflow: w
        initialStep: a
        steps:
          - {id: a, type: manual}
          - {id: b, type: manual}
        """,
    )
    text = cli("check", str(wf))
    r = cli("check", str(wf), "--format", "json")
    assert r.code == text.code == 0
    data = json.loads(r.out)
    assert data["summary"] == {"files": 1, "skipped": 0, "errors": 0, "warnings": 1}
    (p,) = data["problems"]
    assert p == {
        "file": str(wf), "line": 5, "column": 10, "severity": "warning", "code": "unreachable-step",
        "path": "$.steps[1].id", "message": p["message"],
    }  # fmt: skip
    assert f"{wf}:5:10: warning[unreachable-step]: {p['message']}" in text.out
    assert data["files"] == [{"file": str(wf), "kind": "workflow", "errors": 0, "warnings": 1}]


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    wf = write(
        tmp_path, "wf.yaml", "workflow: w\ninitialStep: a\nsteps: [{id: a, type: manual}, {id: b, type: manual}]\n"
    )
    assert cli("check", str(wf)).code == 0
    assert cli("check", "--strict", str(wf)).code == 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli("check").code == 2
    r = cli("check", str(tmp_path / "missing"))
    assert r.code == 2
    assert "no such file or folder" in r.err
    assert cli("check", "--format", "xml", str(tmp_path)).code == 2


def test_codes_table_lists_every_code() -> None:
    r = cli("check", "--codes")
    assert r.code == 0
    listed = [line.split()[0] for line in r.lines]
    assert listed == list(CODES)
    data = json.loads(cli("check", "--codes", "--format", "json").out)
    assert [d["code"] for d in data] == list(CODES)


def _codes_in_source() -> set[str]:
    """Every kebab-case string literal passed to a problem-making call in the package."""
    makers = {"problem", "error", "fail", "warn", "Problem", "bad"}
    found: set[str] = set()
    for path in (ROOT / "src" / "stepchart").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in makers:
                continue
            for arg in node.args:
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", arg.value)
                ):
                    found.add(arg.value)
    return found


def test_every_code_the_loaders_use_is_in_the_table() -> None:
    missing = sorted(c for c in _codes_in_source() if c not in CODES and not c.startswith("schema-"))
    assert missing == []


def test_the_docs_table_is_the_codes_table() -> None:
    doc = (ROOT / "docs" / "tools.md").read_text("utf-8")
    rows = re.findall(r"^\| `([a-zA-Z0-9-]+)` \| (error|warning) \| (.+?) \|$", doc, re.M)
    assert [(c, s) for c, s, _m in rows] == [(c, s) for c, (s, _m) in CODES.items()]


def test_folders_are_walked_in_path_order_and_linked_folders_inside_are_not_entered(tmp_path: Path) -> None:
    """As ``sorted(folder.rglob("*"))``: a folder's files by path parts (``a/b`` before ``a-c``), links not followed."""
    bad = "workflow: w\ninitialStep: nowhere\nsteps: [{id: a, type: manual}]\n"
    write(tmp_path, "a/b.yaml", bad)
    write(tmp_path, "a-c.yaml", bad)
    write(tmp_path, "real/r.yaml", bad)
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    r = cli("check", str(tmp_path))
    files = [line.split(":")[0] for line in r.out.splitlines() if "error[" in line]
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["a/b.yaml", "a-c.yaml", "real/r.yaml"], r.out


def test_check_does_not_load_the_engine() -> None:
    """``check`` needs the loaders, the rules and the action table; not the dispatcher or the stores."""
    import subprocess
    import sys

    code = (
        "import sys, stepchart.tools.lint as lint\n"
        "lint.check_paths([sys.argv[1]])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('stepchart.engine.', 'stepchart.stores'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "rules")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['stepchart.engine.actions']", out.stdout + out.stderr
