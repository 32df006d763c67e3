"""Workflow Manager diagram JSON (issue 9): ``export-diagram`` and ``import-diagram`` through the real CLI.

Export then import gives back the same workflow (SPEC 6.1 fields, defaults filled); a
hand-made diagram using every field WM-REST.md lists imports with a located warning, by
JSON pointer, for each thing a workflow cannot hold, and nothing else is lost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from stepchart.cli import main
from stepchart.io.yamldoc import parse_yaml, read_yaml_file
from stepchart.tools.wmdiagram import from_diagram, parse_expression, render_expression, to_diagram

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def normalized(workflow: dict[str, Any]) -> dict[str, Any]:
    """A workflow document with SPEC 6.1's defaults filled, so documents that mean the same compare equal."""
    w = json.loads(json.dumps(workflow))
    w.setdefault("autoClose", True)
    for s in w["steps"]:
        for key in ("canSkip", "proceedNext", "automatic"):
            s.setdefault(key, False)
        s.setdefault("paths", [])
        for p in s["paths"]:
            p.setdefault("forceGroupAssignment", False)
    return w


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_export_then_import_gives_back_the_same_workflow(example: Path, tmp_path: Path, capsys: Any) -> None:
    diagram, back = tmp_path / "d.json", tmp_path / "w.yaml"
    assert main(["export-diagram", str(example), "-o", str(diagram)]) == 0
    exported = json.loads(diagram.read_text("utf-8"))
    assert exported["diagramId"] == read_yaml_file(example).value["workflow"]
    assert main(["import-diagram", str(diagram), "-o", str(back), "--strict"]) == 0
    assert capsys.readouterr().err == ""  # not one warning on our own export
    assert normalized(read_yaml_file(back).value) == normalized(read_yaml_file(example).value)
    assert main(["check", str(back)]) == 0


def test_exported_diagram_has_the_wm_fields() -> None:
    d = to_diagram(read_yaml_file(ROOT / "examples" / "permit-review.yaml").value, version=3)
    assert {"diagramId", "diagramVersion", "diagramName", "description", "initialStepId", "initialStepName", "steps",
            "annotations", "dataSources", "displayGrid"} <= set(d)  # fmt: skip
    assert d["diagramVersion"] == 3 and d["initialStepName"] == "Check the application"
    triage = next(s for s in d["steps"] if s["id"] == "triage")
    assert triage["action"] == {
        "actionType": "Question",
        "args": {"question": "Does the site need an inspection?",
                 "responses": [{"label": "yes", "value": "yes"}, {"label": "no", "value": "no"}]},
    }  # fmt: skip
    assert [p["expression"] for p in triage["paths"]] == ['returnValue == "yes"'] * 2 + ['returnValue == "no"']
    assert triage["paths"][0]["assignedType"] == "Group" and triage["paths"][0]["assignedTo"] == "inspectors"
    assert {s["action"]["actionType"] for s in d["steps"]} == {"Manual", "Question", "OpenApp", "ExecuteGP"}


# -- a hand-made diagram using every field -----------------------------------------------------------

HAND_MADE: dict[str, Any] = {
    "diagramId": "7f3c2a10-guid",
    "diagramVersion": 4,
    "diagramName": "Hand made",
    "description": "uses every field",
    "initialStepId": "1-start",
    "initialStepName": "Start",
    "displayGrid": True,
    "annotations": [{"text": "a note on the canvas"}],
    "dataSources": [{"name": "parcels"}],
    "steps": [
        {
            "id": "1-start", "name": "Start", "description": "begin here", "stepTemplateId": None,
            "automatic": True, "proceedNext": True, "canSkip": False,
            "action": {"actionType": "Manual", "args": {}},
            "position": "0,0,10,10", "shape": "Ellipse", "color": "#fff", "outlineColor": "#000",
            "labelColor": "#000", "helpUrl": "", "helpText": "", "schedule": None,
            "paths": [{"nextStep": "ask", "expression": "", "label": "go", "status": None, "assignedType": "Group",
                       "assignedTo": "clerks", "isAssignedToCustomExpression": False, "forceGroupAssignment": True,
                       "notifications": [], "points": [], "ports": [], "lineColor": "#000", "labelColor": "#000"}],
        },
        {
            "id": "ask", "name": "Approve?", "automatic": False, "proceedNext": False, "canSkip": True,
            "action": {"actionType": "Question", "args": {"question": "Approve?", "responses": [
                {"label": "Yes", "value": 1}, {"label": "No", "value": 0}], "canComment": True}},
            "helpText": "press a button",
            "paths": [
                {"nextStep": "run-gp", "expression": "$ReturnValue = 1"},
                {"nextStep": "mail", "expression": "returnValue == 0 || returnValue == 'later'"},
                {"nextStep": "mail", "expression": "jobPriority > 2", "notifications": [{"to": "x"}]},
            ],
        },
        {
            "id": "run-gp", "name": "Run the model", "automatic": True,
            "action": {"actionType": "ExecuteGP", "args": {}},
            "schedule": {"cron": "0 0 * * *"},
            "paths": [{"nextStep": "mail", "expression": "returnValue == \"Success\"",
                       "isAssignedToCustomExpression": True, "assignedTo": "$job.owner"}],
        },
        {
            "id": "mail", "name": "Send the mail", "stepTemplateId": "tmpl-1",
            "action": {"actionType": "SendEmail", "args": {"to": "a@b.c"}},
            "paths": [], "colour": "misspelt",
        },
    ],
}


def _write(tmp_path: Path, diagram: dict[str, Any]) -> Path:
    path = tmp_path / "diagram.json"
    path.write_text(json.dumps(diagram, indent=2), "utf-8")
    return path


def test_hand_made_diagram_maps_what_it_can(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "w.yaml"
    assert main(["import-diagram", str(_write(tmp_path, HAND_MADE)), "-o", str(out)]) == 0
    wf = read_yaml_file(out).value
    assert wf["workflow"] == "w-7f3c2a10-guid" and wf["name"] == "Hand made" and wf["description"] == "uses every field"
    assert wf["initialStep"] == "s-1-start"
    start, ask, gp, mail = wf["steps"]
    assert start == {"id": "s-1-start", "name": "Start", "description": "begin here", "type": "manual",
                     "proceedNext": True, "automatic": True,
                     "paths": [{"nextStep": "ask", "assignedType": "Group", "assignedTo": "clerks",
                                "forceGroupAssignment": True}]}  # fmt: skip
    assert ask["type"] == "question" and ask["canSkip"] is True and ask["answers"] == [1, 0]
    assert ask["paths"] == [
        {"nextStep": "run-gp", "returnValue": 1},
        {"nextStep": "mail", "returnValue": [0, "later"]},
        {"nextStep": "mail"},
    ]
    assert gp["type"] == "gp" and gp["paths"] == [{"nextStep": "mail", "returnValue": "Success"}]
    assert mail["type"] == "manual" and mail["paths"] == []


def test_hand_made_diagram_warns_at_each_json_pointer(tmp_path: Path, capsys: Any) -> None:
    path = _write(tmp_path, HAND_MADE)
    assert main(["import-diagram", str(path), "-o", str(tmp_path / "w.yaml"), "--strict"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    found = {(ln.split("[")[1].split("]")[0], ln.split("]: ")[1].split(":")[0]) for ln in lines}
    assert found == {
        ("renamed-id", "/diagramId"),
        ("renamed-id", "/steps/0/id"),
        ("unmapped-annotations", "/annotations"),
        ("unmapped-datasources", "/dataSources"),
        ("unmapped-action-args", "/steps/1/action/args"),
        ("unmapped-field", "/steps/1/helpText"),
        ("unmapped-expression", "/steps/1/paths/2/expression"),
        ("unmapped-notifications", "/steps/1/paths/2/notifications"),
        ("unmapped-schedule", "/steps/2/schedule"),
        ("unmapped-field", "/steps/2/paths/0/assignedTo"),
        ("unmapped-field", "/steps/3/stepTemplateId"),
        ("unmapped-action-type", "/steps/3/action/actionType"),
        ("unmapped-action-args", "/steps/3/action/args"),
        ("unmapped-field", "/steps/3/colour"),
    }
    text = path.read_text("utf-8").splitlines()
    schedule = next(ln for ln in lines if "unmapped-schedule" in ln)
    line = int(schedule.split(":")[1])
    assert '"schedule"' in text[line - 1]  # located at the line that holds it


def test_map_chooses_a_step_type_for_an_action_type(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "w.yaml"
    assert main(["import-diagram", str(_write(tmp_path, HAND_MADE)), "-o", str(out), "--map", "SendEmail=gp"]) == 0
    assert read_yaml_file(out).value["steps"][3]["type"] == "gp"
    assert "unmapped-action-type" not in capsys.readouterr().err


def test_map_to_an_unknown_step_type_is_a_located_error(tmp_path: Path, capsys: Any) -> None:
    args = ["import-diagram", str(_write(tmp_path, HAND_MADE)), "--map", "SendEmail=mailer"]
    assert main(args) == 1
    assert "unknown-step-type" in capsys.readouterr().err


def test_import_then_export_then_import_is_stable(tmp_path: Path) -> None:
    first = from_diagram(parse_yaml(json.dumps(HAND_MADE), "d.json"), mapping={"SendEmail": "gp"}).workflow
    again = from_diagram(parse_yaml(json.dumps(to_diagram(first)), "d2.json"))
    assert again.warnings == []
    assert again.workflow == first


@pytest.mark.parametrize(
    ("diagram", "code", "where"),
    [
        ({"diagramId": "d", "steps": [{"id": "a", "action": {"actionType": "Manual"}}]},
         "missing-key", "/initialStepId"),
        ({"diagramId": "d", "initialStepId": "a", "steps": []}, "missing-key", "/steps"),
        ({"diagramId": "d", "initialStepId": "b", "steps": [{"id": "a", "action": {"actionType": "Manual"}}]},
         "unknown-step", "/initialStepId"),
        ({"diagramId": "d", "initialStepId": "a", "steps": [{"id": "a", "action": {}}]},
         "missing-key", "/steps/0/action/actionType"),
        ({"diagramId": "d", "initialStepId": "a",
          "steps": [{"id": "a", "action": {"actionType": "Manual"}, "paths": [{"nextStep": "zz"}]}]},
         "unknown-step", "/steps/0/paths/0/nextStep"),
        ({"diagramId": 5, "initialStepId": "a", "steps": [{"id": "a", "action": {"actionType": "Manual"}}]},
         "wrong-type", "/diagramId"),
    ],
)
def test_a_diagram_without_what_a_workflow_needs_is_refused(
    tmp_path: Path, capsys: Any, diagram: dict[str, Any], code: str, where: str
) -> None:
    out = tmp_path / "w.yaml"
    assert main(["import-diagram", str(_write(tmp_path, diagram)), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"error[{code}]: {where}:" in err
    assert not out.exists()


def test_usage_errors_exit_2(tmp_path: Path, capsys: Any) -> None:
    assert main(["import-diagram", str(tmp_path / "nope.json")]) == 2
    assert main(["export-diagram", str(tmp_path / "nope.yaml")]) == 2
    assert main(["import-diagram", str(_write(tmp_path, HAND_MADE)), "--map", "SendEmail"]) == 2
    assert "ACTIONTYPE=STEPTYPE" in capsys.readouterr().err


def test_export_refuses_a_workflow_that_does_not_load(tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: w\ninitialStep: a\nsteps:\n  - {id: a, type: nosuch}\n", "utf-8")
    assert main(["export-diagram", str(bad)]) == 1
    assert "unknown-step-type" in capsys.readouterr().err


def test_import_writes_yaml_to_standard_output(tmp_path: Path, capsys: Any) -> None:
    small = {"diagramId": "d", "initialStepId": "a", "steps": [{"id": "a", "action": {"actionType": "Manual"}}]}
    assert main(["import-diagram", str(_write(tmp_path, small))]) == 0
    out = capsys.readouterr().out
    steps = [{"id": "a", "type": "manual", "paths": []}]
    assert yaml.safe_load(out) == {"workflow": "d", "initialStep": "a", "steps": steps}


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("", []),
        ('returnValue == "a"', ["a"]),
        ("ReturnValue = 'it''s'", ["it's"]),
        ("${returnValue} == 5 OR returnValue == true", [5, True]),
        ("(returnValue == 1) || (returnValue == 2.5)", [1, 2.5]),
        ('returnValue == "a || b"', ["a || b"]),
        ("returnValue > 1", None),
        ("returnValue == 1 && jobId == 2", None),
        ("jobPriority == 1", None),
        ("returnValue == ORANGE", None),
    ],
)
def test_expressions(text: str, values: list[Any] | None) -> None:
    assert parse_expression(text) == values


def test_rendered_expressions_parse_back() -> None:
    for value in ["x", 'say "hi"', "ä", 3, -1.5, True, ["a", 2, False]]:
        parsed = parse_expression(render_expression(value))  # type: ignore[arg-type]
        assert parsed == (value if isinstance(value, list) else [value])


def _docs_section() -> str:
    text = (ROOT / "docs" / "tools.md").read_text("utf-8")
    start = text.index("## `stepchart import-diagram` and `export-diagram`")
    return text[start : text.index("\n## ", start + 1)]


def test_the_docs_examples_run_as_shown(tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import shlex

    blocks = re.findall(r"```console\n(.*?)```", _docs_section(), re.S)
    commands = [ln[2:] for ln in blocks[0].splitlines() if ln.startswith("$ ")]
    assert len(commands) == 2
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "parcel-edit.yaml").write_text((ROOT / "examples" / "parcel-edit.yaml").read_text())
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "stepchart" and main(argv[1:]) == 0
    assert normalized(read_yaml_file("parcel-edit.yaml").value) == normalized(
        read_yaml_file(ROOT / "examples" / "parcel-edit.yaml").value
    )
    shown = next(ln for ln in blocks[1].splitlines() if not ln.startswith("$ "))
    capsys.readouterr()
    _write(tmp_path, HAND_MADE)
    main(["import-diagram", "diagram.json", "-o", "w.yaml"])
    produced = next(ln for ln in capsys.readouterr().err.splitlines() if "unmapped-action-type" in ln)
    assert produced.split(": warning")[1] == shown.split(": warning")[1]
