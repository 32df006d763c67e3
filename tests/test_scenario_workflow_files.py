"""A scenario's ``workflow:`` may name any file (issue 11): one that is no workflow is said to be so, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import ROOT, cli

SECRET = "hunter2-do-not-print"
SCENARIO = "name: s\nworkflow: {file}\ndo:\n  - act: {{type: Run}}\n"


@pytest.mark.parametrize("command", ["test", "check"])
@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("compose.yaml", f"services:\n  db:\n    image: postgres\n    password: {SECRET}\n", "no stepchart document"),
        ("job.yaml", f"jobId: {SECRET}\nworkflow: parcel-edit\n", "a job document"),
        ("secrets.yaml", f"- {SECRET}\n- another-{SECRET}\n", "no stepchart document"),
    ],
)
def test_a_file_that_is_no_workflow_is_named_by_kind_without_its_content(
    tmp_path: Path, command: str, name: str, text: str, said: str
) -> None:
    (tmp_path / name).write_text(text, "utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.format(file=name), "utf-8")
    r = cli(command, str(scenario))
    assert r.code == 1
    output = r.out + r.err
    assert f"{name} is not a workflow: it is {said}" in output, output
    for leaked in (SECRET, "password", "services", "postgres", "jobId"):
        assert leaked not in output, output


def test_a_broken_workflow_keeps_its_own_located_problem(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "parcel-edit.yaml").read_text("utf-8")
    broken = text.replace("initialStep: start", "initialStep: nope")
    (tmp_path / "w.yaml").write_text(broken, "utf-8")
    (tmp_path / "s.yaml").write_text(SCENARIO.format(file="w.yaml"), "utf-8")
    r = cli("test", str(tmp_path / "s.yaml"))
    assert r.code == 1
    assert "the workflow does not load:" in r.out and "unknown-initial-step" in r.out, r.out
