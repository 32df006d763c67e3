"""No command answers with a traceback (issue 11): every command fed the hostile corpora, a looping
workflow, a scenario clock past year 9999 and a damaged database gives located lines and an exit code.

Each command runs in-process through ``stepchart.cli.main``: an exception escaping it
fails the test, and so does a traceback printed on either stream.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from stepchart.cli import main

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile"
EXAMPLE = str(ROOT / "examples" / "parcel-edit.yaml")
NOW = "2026-03-01T09:00:00Z"

LOOP = """workflow: loop
initialStep: b
steps:
  - {id: b, type: manual, automatic: true, proceedNext: true, paths: [{nextStep: c}]}
  - {id: c, type: openApp, automatic: true, proceedNext: true, paths: [{nextStep: b}]}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Exit code and both streams of one command; an exception escaping main fails the test."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 2
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, (argv, text)
    return code, text


def _commands(kind: str, f: str, tmp: Path) -> list[list[str]]:
    payload = '{"type": "Run"}'
    common = [["check", f], ["test", f], ["validate", f]]
    if kind == "workflow":
        return [*common, ["new-job", f, "--now", NOW], ["demo", f, "--now", NOW, "--database", "memory:"],
                ["diagram", f], ["explain", payload, "--job", f, "--workflow", f]]  # fmt: skip
    if kind == "chart":
        return [*common, ["diagram", f]]
    if kind == "rules":
        rules = tmp / "rules"
        rules.mkdir(exist_ok=True)
        shutil.copy(f, rules / Path(f).name)
        return [*common, ["new-job", EXAMPLE, "--rules", str(rules), "--now", NOW]]
    return [*common, ["run", payload, "--job", f, "--workflow", EXAMPLE, "--now", NOW],
            ["explain", payload, "--job", f, "--workflow", EXAMPLE, "--now", NOW],
            ["diagram", EXAMPLE, "--job", f], ["import", f, "--store", "memory:"]]  # fmt: skip


CORPUS = sorted(p for p in HOSTILE.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_command_refuses_the_hostile_corpus_without_a_traceback(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for argv in _commands(path.parent.name, str(path), tmp_path):
        code, text = run(capsys, *argv)
        assert isinstance(code, int), argv
        if argv[0] in ("check", "new-job", "run"):
            assert code != 0 or "warning" in text or path.parent.name == "rules", (argv, text)


def test_a_looping_workflow_is_one_line_for_new_job_and_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loop.yaml").write_text(LOOP)
    for argv in (["new-job", "loop.yaml", "--now", NOW], ["demo", "loop.yaml", "--database", "memory:"]):
        code, text = run(capsys, *argv)
        assert code == 1, text
        errors = [line for line in text.splitlines() if "error:" in line]
        assert len(errors) == 1 and "loops through automatic steps" in errors[0], text
    assert "stepchart new-job: error: loop.yaml: InvalidRequest" in run(capsys, "new-job", "loop.yaml")[1]


def test_a_scenario_clock_past_year_9999_is_a_located_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "workflows").mkdir()
    shutil.copy(ROOT / "tests" / "scenarios" / "workflows" / "chain.yaml", tmp_path / "workflows")
    (tmp_path / "far.yaml").write_text(
        "scenarios:\n  - name: far\n    workflow: workflows/chain.yaml\n    now: '9999-12-31T23:00:00Z'\n"
        "    do:\n      - advance: PT2H\n      - act: {type: Run}\n"
    )
    code, text = run(capsys, "test", "far.yaml")
    assert code == 1
    assert "far.yaml:6: far: operation 1 (advance PT2H): the clock would leave the years 1 to 9999" in text, text


def test_a_damaged_database_is_one_line_per_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "demo", "--database", "jobs.db", "--now", NOW)[0] == 0
    with contextlib.closing(sqlite3.connect("jobs.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    size = os.path.getsize("jobs.db")
    with open("jobs.db", "r+b") as f:  # keep the header page, damage every page after the second
        f.seek(8192)
        f.write(bytes(range(256)) * ((size - 8192) // 256 + 1))
    for argv in (["jobs", "list", "--store", "jobs.db"], ["jobs", "events", "--store", "jobs.db"],
                 ["replay", "--store", "jobs.db"], ["export", "--store", "jobs.db"],
                 ["sweep", "--store", "jobs.db"], ["demo", "--database", "jobs.db", "--now", NOW]):  # fmt: skip
        code, text = run(capsys, *argv)
        assert code == 1, (argv, text)
        errors = [line for line in text.splitlines() if "error" in line]
        assert len(errors) == 1 and "jobs.db" in errors[0], (argv, text)
