"""``stepchart serve`` over HTTPS (issue 9): uvicorn's TLS with a certificate of the test's own making."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trustme
from http_helpers import ServeProcess

from stepchart.http.auth import hash_token

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[trustme.CA, Path, Path]:
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    cert, key = tmp_path / "localhost.pem", tmp_path / "localhost-key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return ca, cert, key


def _context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def test_serve_answers_over_https_and_not_over_plain_http(
    tmp_path: Path, certificate: tuple[trustme.CA, Path, Path]
) -> None:
    ca, cert, key = certificate
    ctx = _context(ca)
    server = ServeProcess(
        ["--store", "memory:", "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)], tmp_path, verify=ctx
    ).start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        r = httpx.get(f"{server.url}/health", verify=ctx)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        unauth = httpx.post(f"{server.url}/org/item/jobs", json={"workflow": "parcel-edit"}, verify=ctx)
        assert unauth.status_code == 401 and "error" in unauth.json()  # the same API, only over TLS
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.url.replace("https://", "http://") + "/health", timeout=5).raise_for_status()
        with pytest.raises(httpx.ConnectError):  # a client that does not trust our certificate
            httpx.get(f"{server.url}/health")
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize(
    "flags",
    [
        lambda cert, key, other: ["--ssl-certfile", str(cert)],
        lambda cert, key, other: ["--ssl-keyfile", str(key)],
        lambda cert, key, other: ["--ssl-certfile", str(cert), "--ssl-keyfile", str(other)],
        lambda cert, key, other: ["--ssl-certfile", str(key), "--ssl-keyfile", str(cert)],
    ],
    ids=["cert-alone", "key-alone", "key-of-another", "swapped"],
)
def test_a_certificate_that_cannot_serve_is_a_usage_error(
    tmp_path: Path, certificate: tuple[trustme.CA, Path, Path], flags: object
) -> None:
    _ca, cert, key = certificate
    other = tmp_path / "other-key.pem"
    trustme.CA().issue_cert("localhost").private_key_pem.write_to_path(str(other))
    args = flags(cert, key, other)  # type: ignore[operator]
    run = subprocess.run(
        [sys.executable, "-m", "stepchart", "serve", "--port", "0", "--store", str(tmp_path / "s.db"), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "stepchart serve: error:" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "s.db").exists()


def _docs_commands() -> list[str]:
    text = (ROOT / "docs" / "http.md").read_text("utf-8")
    section = text[text.index("### HTTPS") :]
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block is not None
    return [line[2:] for line in block.group(1).splitlines() if line.startswith("$ ")]


@pytest.mark.skipif(
    shutil.which("openssl") is None and os.environ.get("CI") != "true",
    reason="openssl is not installed (CI installs it)",
)
def test_the_docs_make_a_certificate_that_serves(tmp_path: Path) -> None:
    make, serve = _docs_commands()
    assert make.startswith("openssl ") and serve.startswith("stepchart serve ")
    subprocess.run(shlex.split(make), cwd=tmp_path, check=True, capture_output=True, timeout=120)
    args = shlex.split(serve)[2:]
    trust = ssl.create_default_context(cafile=str(tmp_path / "localhost.pem"))
    server = ServeProcess(["--store", "memory:", *args], tmp_path, verify=trust).start()
    try:
        r = httpx.get(f"{server.url}/health", verify=trust)
        assert r.status_code == 200
    finally:
        assert server.stop() == 0


def test_clients_that_never_close_do_not_hold_up_the_shutdown(
    tmp_path: Path, certificate: tuple[trustme.CA, Path, Path]
) -> None:
    """A TLS close waits for the client's close_notify: an idle keep-alive socket and a
    WebSocket that stops reading never send it, and held every shutdown for uvicorn's whole
    graceful timeout (with an ERROR line); the server now ends them after a short grace."""
    import websocket

    ca, cert, key = certificate
    ctx = _context(ca)
    users = tmp_path / "users.yaml"
    users.write_text(f"users: [{{username: ann, tokenSha256: {hash_token('tok-ann')}}}]\n", "utf-8")
    flags = ["--store", "memory:", "--users", str(users), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    server = ServeProcess(flags, tmp_path, verify=ctx).start()
    idle = httpx.Client(verify=ctx)  # keeps its connection open after the answer
    try:
        assert idle.get(f"{server.url}/health").status_code == 200
        ws = websocket.create_connection(
            server.url.replace("https://", "wss://") + "/org/item/notificationWs?token=tok-ann",
            sslopt={"context": ctx}, timeout=10,
        )  # fmt: skip
        assert json.loads(ws.recv()).get("connected")  # open and greeted; never read again
    finally:
        code = server.stop()
    assert code == 0
    log = server.log.read_text("utf-8")
    assert "Finished server process" in log
    assert "graceful shutdown exceeded" not in log and "ERROR" not in log, log
    idle.close()
    ws.close()
