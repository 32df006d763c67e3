"""``stepchart diagram``: byte-stable Mermaid and DOT (golden files), job highlighting, SVG/PNG with Graphviz.

Regenerate the golden files after an intended change with
``STEPCHART_UPDATE_GOLDEN=1 python -m pytest tests/test_cli_diagram.py`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli, proc

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("STEPCHART_UPDATE_GOLDEN") == "1"

CASES = [
    ("parcel-edit.workflow", ROOT / "examples" / "parcel-edit.yaml", ()),
    ("permit-review.workflow", ROOT / "examples" / "permit-review.yaml", ()),
    ("tricky.workflow", GOLDEN / "tricky.workflow.yaml", ()),
    ("parcel-edit.job", ROOT / "examples" / "parcel-edit.yaml", ("--job", str(GOLDEN / "parcel-edit.job.yaml"))),
    ("gp.chart", ROOT / "statecharts" / "gp.yaml", ()),
    ("manual.chart", ROOT / "statecharts" / "manual.yaml", ()),
    ("openApp.chart", ROOT / "statecharts" / "openApp.yaml", ()),
    ("question.chart", ROOT / "statecharts" / "question.yaml", ()),
]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.parametrize(("name", "source", "extra"), CASES, ids=[c[0] for c in CASES])
def test_golden(name: str, source: Path, extra: tuple[str, ...], fmt: str) -> None:
    r = cli("diagram", str(source), "--format", fmt, *extra)
    assert r.code == 0, r.err
    golden = GOLDEN / f"{name}.{'mmd' if fmt == 'mermaid' else 'dot'}"
    if UPDATE:
        golden.write_bytes(r.raw)
    assert r.raw == golden.read_bytes(), f"{golden.name} differs; rerun with STEPCHART_UPDATE_GOLDEN=1 if intended"


def test_output_does_not_depend_on_the_working_folder_or_the_run(tmp_path: Path) -> None:
    src = ROOT / "examples" / "permit-review.yaml"
    copy = tmp_path / "elsewhere.yaml"
    shutil.copy(src, copy)
    a = cli("diagram", str(src)).raw
    b = proc("diagram", "elsewhere.yaml", cwd=tmp_path).raw
    assert a == b == (GOLDEN / "permit-review.workflow.mmd").read_bytes()


def test_workflow_diagram_marks_what_the_issue_asks_for() -> None:
    text = (GOLDEN / "permit-review.workflow.mmd").read_text("utf-8")
    assert text.startswith("---\ntitle: Building permit review (workflow permit-review)\n---\nstateDiagram-v2\n")
    assert "    [*] --> intake\n" in text
    assert "    triage --> inspect : yes / Group inspectors\n" in text  # return value and assignment
    assert "    notify_applicant --> [*]\n" in text  # a step with no path ends its branch
    assert "    class update_layer automatic\n" in text
    assert "    class notify_neighbours skippable\n" in text
    dot = (GOLDEN / "permit-review.workflow.dot").read_text("utf-8")
    assert (
        '"update-layer" [label="Update the permit layer\\nupdate-layer: gp, automatic", style="rounded,bold"];' in dot
    )
    assert '"notify-neighbours" -> "__end";' in dot


def test_chart_diagram_shows_states_events_and_guards_by_name() -> None:
    text = (GOLDEN / "manual.chart.mmd").read_text("utf-8")
    assert "    Ready --> Finished : finish [canSkip] / Skipped\n" in text
    assert "    Paused --> Running : run\n" in text
    assert "    Finished --> [*]\n" in text
    assert "    class Cancelled, Error external\n" in text


def test_job_highlights_current_steps_and_statuses() -> None:
    text = (GOLDEN / "parcel-edit.job.mmd").read_text("utf-8")
    assert "title: Parcel edit (workflow parcel-edit), job J7" in text
    assert "    review : current: WaitingForInfo\n" in text
    assert "    class review currentWaitingForInfo\n" in text
    assert "    class start, edit done\n" in text
    dot = (GOLDEN / "parcel-edit.job.dot").read_text("utf-8")
    assert 'fillcolor="#fed7aa"' in dot


def test_tricky_ids_stay_distinct_and_quotes_are_escaped() -> None:
    text = (GOLDEN / "tricky.workflow.mmd").read_text("utf-8")
    assert 'state "The #quot;first#quot; step" as s_state' in text
    assert "    s_state --> a_b : Success or Skipped / Group team (forced)\n" in text
    assert "    a_b --> a_b_2 : yes: really\n" in text
    assert "    a_b --> s_end : no\n" in text


def test_format_follows_the_output_suffix(tmp_path: Path) -> None:
    out = tmp_path / "wf.dot"
    r = cli("diagram", str(ROOT / "examples" / "parcel-edit.yaml"), "-o", str(out))
    assert r.code == 0
    assert out.read_bytes() == (GOLDEN / "parcel-edit.workflow.dot").read_bytes()


def test_errors_and_usage(tmp_path: Path) -> None:
    assert cli("diagram", str(tmp_path / "missing.yaml")).code == 2
    r = cli("diagram", str(ROOT / "statecharts" / "gp.yaml"), "--job", str(GOLDEN / "parcel-edit.job.yaml"))
    assert r.code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: w\ninitialStep: a\nsteps: [{id: a, type: manual, paths: [{nextStep: b}]}]\n")
    r = cli("diagram", str(bad))
    assert r.code == 1
    assert f"{bad}:3:50: error[unknown-step]" in r.err
    other = tmp_path / "other.yaml"
    other.write_text("hello: world\n")
    assert cli("diagram", str(other)).code == 1
    job = tmp_path / "job.yaml"
    job.write_text("jobId: J1\nworkflow: other\n")
    r = cli("diagram", str(ROOT / "examples" / "parcel-edit.yaml"), "--job", str(job))
    assert r.code == 1
    assert "is of workflow 'other'" in r.err


HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = pytest.mark.skipif(not HAS_DOT and os.environ.get("CI") != "true",
                               reason="Graphviz's dot is not installed (CI installs it)")  # fmt: skip


@NEEDS_DOT
def test_svg_and_png_through_graphviz(tmp_path: Path) -> None:
    svg = cli("diagram", str(ROOT / "examples" / "permit-review.yaml"), "--format", "svg")
    assert svg.code == 0, svg.err
    assert b"<svg" in svg.raw
    assert b"Update the permit layer" in svg.raw
    png = tmp_path / "chart.png"
    r = cli("diagram", str(ROOT / "statecharts" / "gp.yaml"), "-o", str(png))
    assert r.code == 0, r.err
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_svg_without_graphviz_is_a_usage_error(tmp_path: Path) -> None:
    r = proc("diagram", str(ROOT / "examples" / "parcel-edit.yaml"), "--format", "svg",
             env={"PATH": str(tmp_path)})  # fmt: skip
    assert r.code == 2
    assert "Graphviz" in r.err
