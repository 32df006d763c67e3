"""One dialect, the leftovers of issue 12: ``--format json`` on every command that prints results,
one message prefix on every usage error, and ``--store ""`` refused.

``--format json`` prints one JSON document on standard output carrying what the text says:
job ids, the R13 answers and R14 errors (with their ``type`` and ``message``), counts. The
exit code is the text's. Usage errors print ``stepchart COMMAND: error: MESSAGE``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli

from stepchart.cli import build_parser
from stepchart.stores import KNOWN_FORMS, open_store

PARCEL = ROOT / "examples" / "parcel-edit.yaml"
LATER = "2026-03-01T11:00:00Z"


@pytest.fixture
def db(three_jobs_db: str) -> str:
    """J1 (edit running), J2 (edit held until 10:00), J3 (fresh) in SQLite (conftest)."""
    return three_jobs_db


def _json(*argv: str) -> tuple[int, object]:
    r = cli(*argv, "--format", "json")
    return r.code, json.loads(r.out)  # one document: json.loads refuses anything after it


# -- every command that prints results has --format -------------------------------------------


def test_every_command_that_prints_results_takes_format_text_or_json() -> None:
    from stepchart.cli.completion import command_tree

    formats = {
        " ".join(c.path): [o for o in c.options if "--format" in o.flags] for c in command_tree(build_parser()).walk()
    }
    for path in ("jobs close", "jobs reopen", "jobs delete", "jobs upgrade", "replay", "sweep", "import",
                 "users list", "demo"):  # fmt: skip
        assert formats[path], path
        assert {"text", "json"} <= set(formats[path][0].choices or ()), path


# -- jobs close|reopen|delete|upgrade --------------------------------------------------------------


def test_job_operations_in_json_carry_each_answer_and_the_refusals(db: str, tmp_path: Path) -> None:
    code, doc = _json("jobs", "close", "--store", db, "J3", "J1", "--as", "bob", "--privilege", "jobClose",
                      "--now", LATER)  # fmt: skip
    assert code == 1  # as in text: J1 is running, so one job is refused
    assert isinstance(doc, dict) and doc["refused"] == 1
    closed, refused = doc["jobs"]
    assert closed["jobId"] == "J3" and closed["statusCode"] == 200 and closed["response"]["success"] is True  # R13
    assert refused["jobId"] == "J1" and refused["statusCode"] == 400
    assert refused["response"]["error"]["type"] == "InvalidRequest" and refused["response"]["error"]["message"]  # R14
    code, doc = _json("jobs", "reopen", "--store", db, "J3", "--now", LATER)
    assert code == 0 and doc == {"jobs": [{"jobId": "J3", "statusCode": 200,
                                           "response": {"success": True, "jobId": "J3", "closed": False}}],
                                 "refused": 0}  # fmt: skip
    code, doc = _json("jobs", "delete", "--store", db, "J3", "--as", "bob", "--now", LATER)
    assert code == 1 and isinstance(doc, dict) and doc["refused"] == 1
    assert doc["jobs"][0]["response"]["error"]["type"] == "InsufficientPrivileges"
    edited = tmp_path / "parcel-edit.yaml"
    edited.write_text(PARCEL.read_text().replace("name: Parcel edit", "name: Parcel edit, second edition"))
    code, doc = _json("jobs", "upgrade", "--store", db, "J2", "--workflow", str(edited), "--now", LATER)
    assert code == 0 and isinstance(doc, dict) and "previousVersion" in doc["jobs"][0]["response"]


def test_job_operation_text_is_unchanged_beside_json(db: str) -> None:
    text = cli("jobs", "close", "--store", db, "J3", "--as", "bob", "--now", LATER)
    assert text.code == 1 and text.out == "" and text.err.startswith("J3: InsufficientPrivileges: ")


# -- sweep, replay -------------------------------------------------------------------------------


def test_sweep_in_json_names_the_jobs_it_released(db: str) -> None:
    code, doc = _json("sweep", "--store", db, "--now", "2026-03-01T09:30:00Z")
    assert code == 0 and doc == {"swept": 0, "failed": 0, "jobs": []}
    code, doc = _json("sweep", "--store", db, "--now", "2026-03-01T10:30:00Z")
    assert code == 0 and isinstance(doc, dict) and (doc["swept"], doc["failed"]) == (1, 0)
    [released] = doc["jobs"]
    assert released["jobId"] == "J2" and released["statusCode"] == 200 and released["response"]["success"] is True


def test_replay_in_json_counts_and_names_the_jobs_that_differ(db: str) -> None:
    code, doc = _json("replay", "--store", db)
    assert code == 0 and doc == {"checked": 3, "exact": 3, "differ": []}
    conn = sqlite3.connect(db)
    conn.execute("UPDATE jobs SET doc = json_set(doc, '$.closed', json('true')) WHERE job_id = 'J2'")
    conn.commit()
    conn.close()
    code, doc = _json("replay", "--store", db)
    assert code == 1 and isinstance(doc, dict) and (doc["checked"], doc["exact"]) == (3, 2)
    [differ] = doc["differ"]
    assert differ["jobId"] == "J2" and differ["message"] == "J2: differs in closed" and differ["error"] is None
    assert differ["stored"]["closed"] is True and differ["replayed"]["closed"] is False


# -- import ----------------------------------------------------------------------------------------


def test_import_in_json_counts_what_it_added_and_names_a_job_that_exists(db: str, tmp_path: Path) -> None:
    export = tmp_path / "jobs.jsonl"
    assert cli("export", "--store", db, "-o", str(export)).code == 0
    kinds = [json.loads(line)["kind"] for line in export.read_text().splitlines()]
    copy = str(tmp_path / "copy.db")
    code, doc = _json("import", "--store", copy, str(export))
    assert code == 0 and isinstance(doc, dict)
    assert (doc["jobs"], doc["logEntries"], doc["workflows"]) == (kinds.count("job"), kinds.count("log"),
                                                                  kinds.count("workflow"))  # fmt: skip
    assert doc["events"] > 0 and doc["skippedJobs"] == []
    code, doc = _json("import", "--store", copy, str(export))
    assert code == 1 and isinstance(doc, dict) and doc["error"]["type"] == "JobExists"
    assert doc["error"]["jobId"] == "J1" and "nothing imported" in doc["error"]["message"]
    code, doc = _json("import", "--store", copy, str(export), "--skip-existing")
    assert code == 0 and isinstance(doc, dict) and doc["skippedJobs"] == ["J1", "J2", "J3"] and doc["jobs"] == 0
    text = cli("import", "--store", copy, str(export))
    assert text.code == 1 and text.err.startswith("stepchart import: error: job 'J1' exists in the store")


# -- users list, demo --------------------------------------------------------------------------------


def test_users_list_in_json_names_groups_and_privileges_never_tokens(tmp_path: Path) -> None:
    users = str(tmp_path / "users.yaml")
    added = cli("users", "add", "alice", "--group", "editors,qa", "--privilege", "jobClose", "--users", users)
    assert added.code == 0
    token = added.out.strip()
    assert cli("users", "add", "bob", "--users", users).code == 0
    r = cli("users", "list", "--users", users, "--format", "json")
    assert r.code == 0 and token not in r.out
    assert json.loads(r.out) == [
        {"username": "alice", "groups": ["editors", "qa"], "privileges": ["jobClose"]},
        {"username": "bob", "groups": [], "privileges": []},
    ]
    assert cli("users", "list", "--users", str(tmp_path / "nope.yaml"), "--format", "json").code == 2


def test_demo_in_json_is_one_document_with_every_request_and_response(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    text = cli("demo", "--store", str(tmp_path / "text.db"))
    code, doc = _json("demo", "--store", db)
    assert code == text.code == 0 and isinstance(doc, dict)
    assert doc["store"] == db and doc["now"] == "2026-01-01T09:00:00Z"
    walks = doc["walks"]
    # the same walks as the text: one per shipped example, each job to its end, each response shown
    assert [w["jobId"] for w in walks] == [line.split()[1] for line in text.lines if line.startswith("job ")][::2]
    assert sum(len(w["requests"]) for w in walks) == sum(1 for line in text.lines if line.startswith("    -> "))
    assert all(w["job"]["closed"] for w in walks)
    first = walks[0]["requests"][0]
    assert first["action"] == "Run" and first["statusCode"] == 200 and first["response"]["success"] is True  # R13
    assert {r["action"] for w in walks for r in w["requests"]} >= {"Run", "Finish", "respond"}
    store = open_store(db, read_only=True)
    try:
        assert sorted(store.job_ids()) == sorted(w["jobId"] for w in walks)  # what it says it did, it did
    finally:
        store.close()


# -- one message prefix --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line", "usage"),
    [
        (["check", "--no-project"], "stepchart check: error: give files or folders to check (or --codes)", True),
        (["check", "-", "-"], "stepchart check: error: standard input (-) can be read once", True),
        (["schema", "nope"], "stepchart schema: error: no schema 'nope'; schemas are: payload, ", True),
        (["schema", "--all"], "stepchart schema: error: --all writes every schema into a folder", True),
        (["init", "afile"], "stepchart init: error: afile is not a folder", True),
        (["init", "full"], "stepchart init: error: full is not empty; nothing written", True),
        (["test", "--no-project"], "stepchart test: error: give scenario files or folders", True),
        (["check", "--project", "nope.yaml", "x"], "stepchart check: error: --project nope.yaml: no such file", False),
        (["check", "nope"], "stepchart check: error: no such file or folder: nope", False),
    ],
)
def test_usage_errors_print_the_one_prefix(argv: list[str], line: str, usage: bool, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    r = cli(*argv, stdin=b"")
    assert r.code == 2, r.err
    assert r.err.splitlines()[-1].startswith(line), r.err
    assert r.err.startswith(f"usage: stepchart {argv[0]} ") == usage, r.err


def test_a_file_that_cannot_be_written_has_the_prefix_too(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    r = cli("schema", "--all", "-o", str(blocker / "schemas"))
    assert r.code == 2 and r.err.startswith(f"stepchart schema: error: cannot write {blocker / 'schemas'}"), r.err
    r = cli("init", str(blocker / "project"))
    assert r.code == 2 and r.err.startswith(f"stepchart init: error: cannot write {blocker / 'project'}"), r.err


# -- --store "" ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["jobs", "list"],
        ["jobs", "events"],
        ["jobs", "close", "J1"],
        ["replay"],
        ["sweep"],
        ["export"],
        ["import", "-"],
        ["demo"],
    ],
)
def test_an_empty_store_is_a_usage_error_not_the_default_store(argv: list[str], db: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("STEPCHART_STORE", db)  # an empty --store is not "the environment's" either
    before = Path(db).read_bytes()
    r = cli(*argv, "--store", "", stdin=b"")
    assert r.code == 2, (r.out, r.err)
    assert r.err.splitlines()[-1] == f"stepchart {' '.join(argv[:2] if argv[0] == 'jobs' else argv[:1])}: error: " \
        f"store '': empty; known forms: {KNOWN_FORMS}", r.err  # fmt: skip
    assert r.out == "" and list(work.iterdir()) == [] and Path(db).read_bytes() == before



def test_serve_refuses_an_empty_store_before_binding(tmp_path: Path, taken_port: int) -> None:
    # the port is taken: a serve that took "" for ./stepchart.db would fail to listen (exit 1) instead
    done = subprocess.run(
        [sys.executable, "-m", "stepchart", "serve", "--port", str(taken_port), "--store", ""],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"store '': empty; known forms: {KNOWN_FORMS}" in done.stderr and list(tmp_path.iterdir()) == []


def test_validate_and_serve_usage_errors_carry_the_one_prefix(tmp_path: Path) -> None:
    """Issue 12: one message prefix style, ``stepchart CMD: error: MESSAGE``, on validate and serve too."""
    r = cli("validate", str(tmp_path / "nope.json"), str(tmp_path / "gone.json"))
    assert r.code == 2
    assert r.err.strip() == f"stepchart validate: error: no such file or folder: {tmp_path / 'nope.json'}, " \
        f"{tmp_path / 'gone.json'}"  # fmt: skip
    r = cli("validate", "-", "-", stdin=b"{}")
    assert r.code == 2 and "stepchart validate: error: - (standard input) can be given once" in r.err
    bad_users = tmp_path / "users.yaml"
    bad_users.write_text("users: 5\n", "utf-8")
    r = cli("serve", "--port", "0", "--store", "memory:", "--users", str(bad_users))
    assert r.code == 1 and r.err.startswith("stepchart serve: error: "), r.err
