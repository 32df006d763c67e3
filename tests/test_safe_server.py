"""What one client may cost the service (issue 11): slow heads and bodies, connections, early answers,
another process's SQLite lock, a store that cannot be written.

Through ``stepchart serve`` as a subprocess (its log read from its standard error) or a
uvicorn server in a thread, always over a loopback socket. Nothing here asserts a time:
where order matters the test checks which answer came first.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_helpers import EXAMPLES, USERS, ServeProcess, auth, check_error, live_app, wait_for

from stepchart import Engine
from stepchart.http.auth import UserDirectory, add_user
from stepchart.http.reads import ReadPolicy
from stepchart.stores.sqlite import SQLiteStore


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServeProcess, str]]:
    token = add_user(tmp_path / "users.yaml", "alice", ["editors"], ["jobCreate"])
    srv = ServeProcess(
        ["--users", "users.yaml", "--database", "jobs.db", "--max-connections", "20", "--header-timeout", "2",
         "--body-timeout", "2", "--write-timeout", "3"],
        cwd=tmp_path,
    ).start()  # fmt: skip
    try:
        yield srv, token
    finally:
        srv.stop()


def _connect(srv: ServeProcess) -> socket.socket:
    host, port = srv.url.removeprefix("http://").rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=10)
    return s


def _read_all(s: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _log_lines(srv: ServeProcess) -> list[str]:
    return [line for line in srv.log.read_text().splitlines() if line.strip()]


def test_half_open_connections_do_not_take_the_service_down(served: tuple[ServeProcess, str]) -> None:
    """limit + 20 connections that send half a head: the extra ones get 503 at once, the rest 408 after
    the header timeout, /health answers from another connection, and the log stays a few lines."""
    srv, _token = served
    before = len(_log_lines(srv))
    socks = [_connect(srv) for _ in range(40)]
    for s in socks:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Half: ")
    answers = [_read_all(s) for s in socks]
    for s in socks:
        s.close()
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
    timed_out = [a for a in answers if a.startswith(b"HTTP/1.1 408 ")]
    assert len(refused) >= 15 and len(refused) + len(timed_out) == 40, answers
    for answer in refused[:1] + timed_out[:1]:
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body["error"]["type"] in ("TooManyConnections", "RequestTimeout")
    assert wait_for(lambda: httpx.get(f"{srv.url}/health", timeout=5).status_code == 200, timeout=10)
    new = _log_lines(srv)[before:]
    assert len(new) <= 6, new  # one line per kind of failure per interval
    assert not any("Traceback" in line for line in new)


def test_a_slow_body_gets_408(served: tuple[ServeProcess, str]) -> None:
    srv, token = served
    s = _connect(srv)
    s.sendall(
        f"POST /o/i/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"work'.encode()
    )
    answer = _read_all(s)
    s.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["type"] == "RequestTimeout"


def test_a_client_gone_mid_body_makes_one_log_line(served: tuple[ServeProcess, str]) -> None:
    srv, token = served
    before = len(_log_lines(srv))
    s = _connect(srv)
    s.sendall(
        f"POST /o/i/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"workflow": '.encode()
    )
    time.sleep(0.3)  # let the server start reading the body
    s.close()
    assert wait_for(lambda: len(_log_lines(srv)) > before, timeout=10)
    time.sleep(0.5)  # anything else it would write comes now
    new = _log_lines(srv)[before:]
    assert len(new) == 1 and "disconnected" in new[0], new
    assert httpx.get(f"{srv.url}/health", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("path", "with_token", "status", "type_"),
    [("/o/i/jobs", False, 401, "TokenRequired"), ("/o/i/jobs", True, 413, "PayloadTooLarge"),
     ("/nowhere", True, 404, "NotFound")],
)  # fmt: skip
def test_an_early_answer_reaches_a_client_still_sending(
    served: tuple[ServeProcess, str], path: str, with_token: bool, status: int, type_: str
) -> None:
    """urllib sends its whole 5 MB body on a Connection: close request before it reads: it gets the answer."""
    srv, token = served
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if with_token else {})}
    req = urllib.request.Request(f"{srv.url}{path}", data=b"[" + b"0," * 2_500_000 + b"0]", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=30)
    assert refused.value.code == status
    assert json.loads(refused.value.read())["error"]["type"] == type_


def _locked_write(tmp_path: Path) -> tuple[sqlite3.Connection, Path]:
    db = tmp_path / "jobs.db"
    other = sqlite3.connect(db, isolation_level=None, timeout=10)
    other.execute("BEGIN IMMEDIATE")  # another process's writer lock, held
    return other, db


def test_another_processes_lock_holds_up_writes_only(served: tuple[ServeProcess, str], tmp_path: Path) -> None:
    """/health and reads answer while a write waits on the lock; the write then answers 503 with Retry-After."""
    srv, token = served
    h = {"Authorization": f"Bearer {token}"}
    job = httpx.post(f"{srv.url}/o/i/jobs", json={"workflow": "parcel-edit"}, headers=h, timeout=10).json()["jobId"]
    other, _db = _locked_write(tmp_path)
    order: list[str] = []
    result: dict[str, Any] = {}
    try:

        def write() -> None:
            result["write"] = httpx.post(
                f"{srv.url}/o/i/jobs/{job}/action", json={"type": "Run"}, headers=h, timeout=30
            )
            order.append("write")

        t = threading.Thread(target=write)
        t.start()
        time.sleep(0.3)  # the write is waiting on the lock now
        assert httpx.get(f"{srv.url}/health", timeout=30).status_code == 200
        order.append("health")
        assert httpx.get(f"{srv.url}/o/i/jobs/{job}", headers=h, timeout=30).status_code == 200
        order.append("read")
        t.join(30)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert order == ["health", "read", "write"], order
    r = result["write"]
    check_error(r, 503, "StoreUnavailable")
    assert r.headers["Retry-After"].isdigit()
    # the lock released, the same write goes through
    assert (
        httpx.post(f"{srv.url}/o/i/jobs/{job}/action", json={"type": "Run"}, headers=h, timeout=10).status_code == 200
    )


class _FullStore(SQLiteStore):
    """A SQLite store whose file may not grow while ``full`` is set: SQLite's own SQLITE_FULL."""

    full = False

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        if self.full:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages}")
        return conn


def test_health_reports_a_store_that_cannot_be_written(base_engine: Engine, tmp_path: Path) -> None:
    store = _FullStore(tmp_path / "jobs.db")
    engine = base_engine.spawn(store)
    for wf in EXAMPLES:
        engine.add_workflow(wf)
    engine.sync_workflows()
    with live_app(engine) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        assert c.get("/health").status_code == 200
        store.full = True
        store.close()  # the next connections cannot grow the file
        refused = None
        for i in range(200):
            r = c.post("/o/i/jobs", json={"workflow": "parcel-edit", "jobId": f"J{i}"}, headers=auth("alice"))
            if r.status_code != 200:
                refused = r
                break
        assert refused is not None
        check_error(refused, 503, "StoreUnavailable")
        body = check_error(c.get("/health"), 503, "StoreNotWritable")
        assert "full" in body["error"]["details"][0]
        store.full = False
        store.close()
        assert c.post("/o/i/jobs", json={"workflow": "parcel-edit"}, headers=auth("alice")).status_code == 200
        assert c.get("/health").status_code == 200
    store.close()


def test_the_read_model_own_and_the_configured_item(engine_on_sqlite: Engine) -> None:
    """--reads own: a job is read by whom it is assigned to (R16) or by jobReadAll; --item: one org/item."""
    users = UserDirectory.of({**USERS, "dora": ([], ["jobReadAll"], "tok-dora")})
    dora = {"Authorization": "Bearer tok-dora"}
    with (
        live_app(engine_on_sqlite, users, reads=ReadPolicy(("org", "item"), "own")) as srv,
        httpx.Client(base_url=srv.url, timeout=10) as c,
    ):
        job = c.post("/org/item/jobs", json={"workflow": "parcel-edit"}, headers=auth("alice"))
        assert job.status_code == 200, job.text
        job_id = job.json()["jobId"]  # its current step is assigned to the group editors
        for path in (f"/org/item/jobs/{job_id}", f"/org/item/jobs/{job_id}/history"):
            assert c.get(path, headers=auth("bob")).status_code == 200  # an editor: his job
            assert c.get(path, headers=dora).status_code == 200  # jobReadAll
            check_error(c.get(path, headers=auth("carol")), 400, "JobNotFound")  # not hers: as if absent
        listed = {u: [j["jobId"] for j in c.get("/org/item/jobs", headers=h).json()["jobs"]]
                  for u, h in (("bob", auth("bob")), ("carol", auth("carol")), ("dora", dora))}  # fmt: skip
        assert listed == {"bob": [job_id], "carol": [], "dora": [job_id]}
        assert c.get("/org/item/jobs?mine=false", headers=auth("carol")).json()["jobs"] == []
        check_error(c.get("/org/item/events", headers=auth("carol")), 400, "InsufficientPrivileges")
        assert c.get("/org/item/events", headers=dora).json()["events"]
        # another org or item is not served, whoever asks
        for path in (f"/other/item/jobs/{job_id}", "/org/other/jobs", f"/org/x/jobs/{job_id}/action"):
            check_error(c.request("POST" if path.endswith("action") else "GET", path, headers=dora), 404, "NotFound")
    with live_app(engine_on_sqlite) as srv, httpx.Client(base_url=srv.url, timeout=10) as c:
        # the default: any valid token reads every job, under any org/item
        assert c.get(f"/any/where/jobs/{job_id}", headers=auth("carol")).status_code == 200


@pytest.fixture
def engine_on_sqlite(base_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    engine = base_engine.spawn(SQLiteStore(tmp_path / "reads.db"))
    for wf in EXAMPLES:
        engine.add_workflow(wf)
    engine.sync_workflows()
    yield engine
    engine.store.close()
