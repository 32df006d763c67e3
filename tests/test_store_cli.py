"""The store commands: ``stepchart replay|sweep|export|import`` and ``stepchart jobs ...``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from stepchart.cli import main
from stepchart.stores import open_store

pytest_plugins = ["pg_fixture"]

ROOT = Path(__file__).resolve().parent.parent
PARCEL = ROOT / "examples" / "parcel-edit.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(three_jobs_db: str) -> str:
    """J1 (edit running), J2 (edit held until 10:00), J3 (fresh) in SQLite (conftest)."""
    return three_jobs_db


def test_jobs_list_filters_and_json(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, err = run(capsys, "jobs", "list", "--store", db)
    assert code == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["J1", "J2", "J3"]
    assert "edit (Running, Group editors)" in out.splitlines()[0] and err.strip() == "3 jobs"
    code, out, _ = run(capsys, "jobs", "list", "--store", db, "--open", "--assignee", "editors", "--after", "J1",
                       "--limit", "1", "--json")
    assert code == 0 and [j["jobId"] for j in json.loads(out)] == ["J2"]
    assert run(capsys, "jobs", "list", "--store", db, "--closed")[1] == ""


def test_close_reopen_delete_upgrade_from_the_command_line(capsys: pytest.CaptureFixture[str], db: str,
                                                           tmp_path: Path) -> None:
    code, _, err = run(capsys, "jobs", "close", "--store", db, "J3", "--as", "bob", "--now", "2026-03-01T11:00:00Z")
    assert code == 1 and "InsufficientPrivileges" in err
    code, out, err = run(capsys, "jobs", "close", "--store", db, "J3", "J1", "--as", "bob", "--privilege", "jobClose",
                         "--now", "2026-03-01T11:00:00Z")
    assert code == 1 and out.startswith('J3: {"success": true') and "J1: InvalidRequest" in err  # J1 runs
    assert run(capsys, "jobs", "list", "--store", db, "--closed")[1].startswith("J3\t")
    assert run(capsys, "jobs", "reopen", "--store", db, "J3", "--now", "2026-03-01T11:01:00Z")[0] == 0
    assert run(capsys, "jobs", "delete", "--store", db, "J3", "--now", "2026-03-01T11:02:00Z")[0] == 0
    assert [j for j in run(capsys, "jobs", "list", "--store", db)[1].splitlines()][-1].startswith("J2\t")
    edited = tmp_path / "parcel-edit.yaml"
    edited.write_text(PARCEL.read_text().replace("name: Parcel edit", "name: Parcel edit, second edition"))
    code, out, _ = run(capsys, "jobs", "upgrade", "--store", db, "J2", "--workflows", str(edited),
                       "--now", "2026-03-01T11:03:00Z")
    assert code == 0 and '"previousVersion"' in out
    code, _, err = run(capsys, "jobs", "upgrade", "--store", db, "J2", "--now", "2026-03-01T11:04:00Z")
    assert code == 1 and "already" in err  # the edited version is stored: it is the newest now
    assert run(capsys, "replay", "--store", db)[0] == 0


def test_events_feed_from_the_command_line(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "jobs", "events", "--store", db)
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [e["type"] for e in events][-2:] == ["StepStarted", "StepHeld"]
    code, out, _ = run(capsys, "jobs", "events", "--store", db, "--after", str(events[-2]["sequence"]), "--job", "J2")
    assert [json.loads(line)["type"] for line in out.splitlines()] == ["StepHeld"]


def test_sweep_from_the_command_line(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "sweep", "--store", db, "--now", "2026-03-01T09:30:00Z")
    assert code == 0 and out.strip() == "0 jobs swept, 0 failed"
    code, out, _ = run(capsys, "sweep", "--store", db, "--now", "2026-03-01T10:30:00Z")
    assert code == 0 and out.splitlines() == ["J2: holds released", "1 jobs swept, 0 failed"]
    store = open_store(db)
    try:
        assert store.get("J2") is not None and store.get("J2").holds[0].released_by == "system"  # type: ignore[union-attr]
    finally:
        store.close()


def test_replay_finds_a_job_that_differs_from_its_log(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "replay", "--store", db)
    assert code == 0 and out.strip().endswith("3 jobs replay exactly, 0 differ")
    code, out, _ = run(capsys, "replay", "--store", db, "--show", "J1")
    assert code == 0 and json.loads(out)["currentSteps"][0]["status"] == "Running"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE jobs SET doc = json_set(doc, '$.closed', json('true')) WHERE job_id = 'J2'")
    conn.commit()
    conn.close()
    code, out, _ = run(capsys, "replay", "--store", db)
    assert code == 1 and "J2: differs in closed" in out and "2 jobs replay exactly, 1 differ" in out
    assert run(capsys, "replay", "--store", db, "--job", "J1")[0] == 0


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
def test_export_then_import_moves_a_store(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path,
                                          target: str, request: pytest.FixtureRequest) -> None:
    dump = tmp_path / "dump.jsonl"
    code, _, err = run(capsys, "export", "--store", db, "-o", str(dump))
    records = [json.loads(line) for line in dump.read_text().splitlines()]
    assert code == 0 and f"{len(records)} records" in err
    assert [r["kind"] for r in records][:3] == ["stepchart-export", "workflow", "job"]
    dest = str(tmp_path / "copy.db") if target == "sqlite" else str(request.getfixturevalue("pg_url"))
    code, out, _ = run(capsys, "import", str(dump), "--store", dest)
    assert code == 0 and out.startswith("imported 3 jobs, 5 log entries")
    assert run(capsys, "replay", "--store", dest)[0] == 0
    assert run(capsys, "jobs", "list", "--store", dest, "--json")[1] == run(capsys, "jobs", "list", "--store", db,
                                                                            "--json")[1]
    code, _, err = run(capsys, "import", str(dump), "--store", dest)
    assert code == 1 and "exists" in err
    code, out, _ = run(capsys, "import", str(dump), "--store", dest, "--skip-existing")
    assert code == 0 and "skipped existing jobs: J1, J2, J3" in out
    code, out, _ = run(capsys, "export", "--store", db, "--job", "J2")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["stepchart-export", "workflow", "job", "log",
                                                                       "log"]


def test_store_from_the_environment_and_usage_errors(capsys: pytest.CaptureFixture[str], db: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPCHART_STORE", db)
    assert run(capsys, "jobs", "list")[1].count("\n") == 3
    code, _, err = run(capsys, "import", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "stepchart-export", "format": 1}\nnot json\n')
    code, _, err = run(capsys, "import", str(bad))
    assert code == 2 and "bad.jsonl:2" in err
    code, _, err = run(capsys, "jobs", "list", "--store", "postgresql://nobody@127.0.0.1:1/x?connect_timeout=2")
    assert code == 2 and "cannot connect" in err
    code, _, err = run(capsys, "sweep", "--workflows", str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml" in err


def test_default_store_is_stepchart_db_in_the_working_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STEPCHART_STORE", raising=False)
    assert run(capsys, "sweep")[0] == 0  # a command that writes creates it
    assert (tmp_path / "stepchart.db").exists()
    for _ in range(2):  # a second run opens the same file again
        assert run(capsys, "jobs", "list") == (0, "", "0 jobs\n")


