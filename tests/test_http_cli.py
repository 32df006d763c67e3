"""``stepchart serve`` and ``stepchart users`` as a user runs them: real processes, real sockets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from http_helpers import ServeProcess, check_error

from stepchart.http.auth import hash_token, read_users


def stepchart(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stepchart.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_users_add_prints_the_token_once_and_keeps_its_hash(tmp_path: Path) -> None:
    r = stepchart(
        "users", "add", "alice", "--group", "editors", "--privilege", "jobCreate", "-p", "jobUpdateHolds", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("sc_") and len(token) > 40 and "\n" not in token
    text = (tmp_path / "stepchart-users.yaml").read_text()
    assert token not in text and hash_token(token) in text
    assert (tmp_path / "stepchart-users.yaml").stat().st_mode & 0o077 == 0  # owner only
    (user,) = read_users(tmp_path / "stepchart-users.yaml")
    assert (user.username, user.groups, user.privileges) == ("alice", ("editors",), ("jobCreate", "jobUpdateHolds"))
    # a second add of the same name is refused; --replace gives a new token
    again = stepchart("users", "add", "alice", cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stderr
    new = stepchart("users", "add", "alice", "--replace", cwd=tmp_path)
    assert new.returncode == 0 and new.stdout.strip() != token
    assert stepchart("users", "add", "system", cwd=tmp_path).returncode == 1
    assert stepchart("users", "add", "bad name", cwd=tmp_path).returncode == 1
    listed = stepchart("users", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "alice" in listed.stdout and "sc_" not in listed.stdout
    doc = yaml.safe_load(text)
    assert set(doc["users"][0]) == {"username", "groups", "privileges", "tokenSha256"}


def test_help_lists_serve_and_users(tmp_path: Path) -> None:
    r = stepchart("--help", cwd=tmp_path)
    assert r.returncode == 0 and "serve" in r.stdout and "users" in r.stdout
    # the HTTP stack is imported by the serve command only
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from stepchart.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'stepchart.http') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    assert probe.stdout.strip() == "[]"


def test_serve_with_defaults_opens_stepchart_db_and_answers_an_action(tmp_path: Path) -> None:
    token = stepchart("users", "add", "alice", "-g", "editors", "-p", "jobCreate", cwd=tmp_path).stdout.strip()
    srv = ServeProcess([], cwd=tmp_path).start()
    try:
        banner = "".join(srv.banner)
        assert "listening on http://127.0.0.1:" in banner
        assert "SQLite stepchart.db" in banner and "parcel-edit" in banner and "curl -X POST" in banner
        assert (tmp_path / "stepchart.db").exists()
        h = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{srv.url}/org/item/jobs", json={"workflow": "parcel-edit"}, headers=h, timeout=10)
        assert r.status_code == 200, r.text
        job_id = r.json()["jobId"]
        r = httpx.post(f"{srv.url}/org/item/jobs/{job_id}/action", json={"type": "Run"}, headers=h, timeout=10)
        assert r.status_code == 200 and r.json()["success"] is True, r.text
        check_error(
            httpx.post(f"{srv.url}/org/item/jobs/{job_id}/action", json={"type": "Run"}, timeout=10),
            401,
            "TokenRequired",
        )
        assert httpx.get(f"{srv.url}/openapi.json", timeout=10).json()["openapi"] == "3.1.0"
    finally:
        code = srv.stop()
    assert code == 0, srv.log.read_text()
    # the jobs outlive the process: a second serve on the same file sees them
    srv2 = ServeProcess([], cwd=tmp_path).start()
    try:
        r = httpx.get(f"{srv2.url}/org/item/jobs", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert [j["currentSteps"][0]["status"] for j in r.json()["jobs"]] == ["Running"]
    finally:
        srv2.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"], "the store postgresql:"),
    ],
)  # a missing --workflow is a usage error (exit 2): tests/test_cli_dialect.py
def test_serve_reports_startup_problems_plainly(tmp_path: Path, args: list[str], message: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "stepchart.cli", "serve", "--port", "0", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_users_list_on_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    from cli_helpers import cli

    missing = tmp_path / "nobody.yaml"
    r = cli("users", "list", "--users", str(missing))
    assert r.code == 2
    assert r.out == ""
    assert r.err.strip() == f"stepchart users list: error: no such users file: {missing}"
