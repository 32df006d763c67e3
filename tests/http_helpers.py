"""Helpers of the HTTP tests: a real uvicorn server on loopback, in a thread or as ``stepchart serve``.

Every server binds 127.0.0.1 on a port the kernel picks (port 0, read back from the
socket or from the ``listening on`` line), and every wait is bounded in time.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from stepchart.http.app import create_app
from stepchart.http.auth import UserDirectory
from stepchart.http.openapi import validator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / "parcel-edit.yaml", ROOT / "examples" / "permit-review.yaml"]

ALL_PRIVILEGES = [
    "jobCreate",
    "jobClose",
    "jobReopenClosed",
    "jobDelete",
    "jobUpdateHolds",
    "workflowSetStepCurrent",
    "jobForceStop",
    "jobAssignAny",
    "adminBasic",
]

# name: (groups, privileges, token)
USERS: dict[str, tuple[list[str], list[str], str]] = {
    "alice": (["editors"], ALL_PRIVILEGES, "tok-alice"),
    "bob": (["editors"], [], "tok-bob"),
    "carol": ([], [], "tok-carol"),
    "host": ([], ["hostExecution"], "tok-host"),
}


def auth(user: str) -> dict[str, str]:
    """The Authorization header of a test user."""
    return {"Authorization": f"Bearer {USERS[user][2]}"}


class ManualClock:
    """A clock the test moves: the service's ``now`` (R22)."""

    def __init__(self, start: str = "2026-03-01T09:00:00Z") -> None:
        self.now = datetime.fromisoformat(start.replace("Z", "+00:00"))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


class LiveServer:
    """A uvicorn server running an app in a background thread, on 127.0.0.1 and a free port."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self, timeout: float = 10.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()


@contextmanager
def live_app(engine: Any, users: UserDirectory | None = None, **options: Any) -> Iterator[LiveServer]:
    """Serve ``create_app(engine, users)`` for the duration of the block."""
    app = create_app(engine, users if users is not None else UserDirectory.of(USERS), **options)
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


def check_error(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    """The response is ``status`` with an R14-shaped body of type ``type_`` (shipped error schema)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    errors = list(validator("error").iter_errors(body))
    assert not errors, errors
    assert body["error"]["type"] == type_, body
    return body


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; returns the last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class ServeProcess:
    """``stepchart serve`` in a subprocess: started with ``--port 0``, its URL read from its banner."""

    def __init__(
        self, args: list[str], cwd: Path, env: dict[str, str] | None = None, *, access_log: bool = False,
        verify: Any = True,
    ) -> None:
        self.args, self.cwd = args, cwd
        self.verify = verify  # httpx's verify: a CA bundle path or ssl context for a server of our own certificate
        self.access_log = access_log
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.banner: list[str] = []
        self.log = cwd / f"serve-{id(self)}.log"

    def start(self, timeout: float = 30.0) -> ServeProcess:
        quiet = [] if self.access_log else ["--no-access-log"]
        cmd = [sys.executable, "-m", "stepchart.cli", "serve", "--port", "0", *quiet, *self.args]
        self._errfile = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=self._errfile, text=True
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        found: list[str] = []

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.append(line)
                m = re.search(r"listening on (https?://\S+)", line)
                if m:
                    found.append(m.group(1))

        threading.Thread(target=read, daemon=True).start()
        while not found:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"stepchart serve did not start: {''.join(lines)} {self.log.read_text()}")
            time.sleep(0.02)
        self.url = found[0]
        self.banner = lines
        # ready when /health answers
        if not wait_for(self._healthy, timeout=max(1.0, deadline - time.monotonic())):
            self.stop()
            raise RuntimeError(f"stepchart serve never became healthy: {self.log.read_text()}")
        return self

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2, verify=self.verify).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._errfile.close()
        return self.proc.returncode


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
