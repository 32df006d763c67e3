"""Job template documents (issue 9): loaded and checked with located errors, and a default per workflow."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stepchart.cli import main
from stepchart.errors import DefinitionError
from stepchart.io.yamldoc import parse_yaml
from stepchart.load.templates import default_template, load_template, parse_template
from stepchart.load.workflows import load_workflow
from stepchart.tools.lint import document_kind
from stepchart.tools.lint.check import check_paths

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = """\
jobTemplate: parcel-rush
name: Rush parcel edit
workflow: parcel-edit
description: An edit the owner wants today.
state: Active
jobName: "Rush {counter}"
priority: High
ownedBy: alice
assignedType: Group
assignedTo: editors
dueIn: PT8H
"""


def test_a_template_loads_every_field() -> None:
    t = load_template(TEMPLATE)
    assert (t.id, t.name, t.workflow, t.description, t.state) == (
        "parcel-rush", "Rush parcel edit", "parcel-edit", "An edit the owner wants today.", "Active",
    )  # fmt: skip
    assert (t.priority, t.owned_by, t.assigned_type, t.assigned_to) == ("High", "alice", "Group", "editors")
    assert t.due_in == timedelta(hours=8)
    assert t.job_name_for(12) == "Rush 12" and t.creates_jobs and not t.default


def test_defaults_name_and_job_name_from_the_id() -> None:
    t = load_template("jobTemplate: quick\nworkflow: parcel-edit\npriority: 2\n")
    assert t.name == "quick" and t.job_name_for(3) == "quick 3" and t.priority == "2" and t.due_in is None


def test_the_default_template_of_a_workflow_has_its_id() -> None:
    from stepchart.io.files import data_dir
    from stepchart.load.charts import load_chart_dir

    wf = load_workflow(ROOT / "examples" / "parcel-edit.yaml", load_chart_dir(data_dir("statecharts")))
    t = default_template(wf)
    assert (t.id, t.workflow, t.name, t.default) == ("parcel-edit", "parcel-edit", "Parcel edit", True)
    assert t.job_name_for(1) == "Parcel edit 1"


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("jobTemplate: t\nworkflow: w\ncolour: red\n", "unknown-key", 3),
        ("jobTemplate: t\n", "missing-key", 1),
        ("jobTemplate: t\nworkflow: w\nstate: Paused\n", "bad-value", 3),
        ("jobTemplate: t\nworkflow: w\ndueIn: 3 days\n", "bad-format", 3),
        ("jobTemplate: t\nworkflow: w\njobName: 'Job {n}'\n", "bad-placeholder", 3),
        ("jobTemplate: t\nworkflow: w\nassignedType: User\n", "missing-assignee", 3),
        ("jobTemplate: t\nworkflow: w\nassignedTo: bob\n", "assignee-without-type", 3),
        ("jobTemplate: 9t\nworkflow: w\n", "bad-name", 1),
    ],
)
def test_mistakes_are_located(text: str, code: str, line: int) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_template(parse_yaml(text, "t.yaml"))
    assert caught.value.code == code and caught.value.line == line and caught.value.file == "t.yaml"


def test_a_template_of_a_workflow_that_is_not_loaded_is_refused() -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_template(parse_yaml("jobTemplate: t\nworkflow: nope\n", "t.yaml"), {})
    assert caught.value.code == "unknown-workflow" and caught.value.line == 2


def test_check_knows_templates_and_their_workflows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(TEMPLATE, "utf-8")
    assert document_kind(parse_yaml(TEMPLATE).value) == "template"
    assert main(["check", str(good)]) == 0
    assert main(["check", str(good), str(ROOT / "examples" / "parcel-edit.yaml")]) == 0
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(TEMPLATE.replace("workflow: parcel-edit", "workflow: parcel-edits"), "utf-8")
    capsys.readouterr()
    assert main(["check", str(wrong), str(ROOT / "examples" / "parcel-edit.yaml")]) == 1
    assert f"{wrong}:3:11: error[unknown-workflow]" in capsys.readouterr().out
    result = check_paths([wrong])
    assert result.errors == 0  # alone, only what the template itself says is checked


def test_importing_the_commands_module_keeps_the_entry_point_a_function() -> None:
    import importlib

    import stepchart.cli

    importlib.import_module("stepchart.cli.main")
    assert callable(stepchart.cli.main) and stepchart.cli.main(["schema"]) == 0


def test_the_readme_template_loads_and_means_what_it_says() -> None:
    import re

    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme[readme.index("### Job templates") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    from dataclasses import replace

    t = load_template(parse_yaml(block.group(1), "README.md"))
    assert replace(t, file="") == replace(load_template(TEMPLATE), file="")


def test_the_project_file_names_the_templates_check_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "workflows" / "parcel-edit.yaml").write_text((ROOT / "examples" / "parcel-edit.yaml").read_text())
    (tmp_path / "templates" / "rush.yaml").write_text(TEMPLATE.replace("parcel-edit", "parcel-typo"), "utf-8")
    (tmp_path / "stepchart.yaml").write_text("project: p\nworkflows: workflows\ntemplates: templates\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    assert "templates/rush.yaml:3:11: error[unknown-workflow]" in capsys.readouterr().out
    (tmp_path / "templates" / "rush.yaml").write_text(TEMPLATE, "utf-8")
    assert main(["check"]) == 0
