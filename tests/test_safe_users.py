"""Who may call the service, safely: the users file fails closed, and no token reaches a log (issue 11).

Every test runs ``stepchart serve`` as a subprocess on a loopback socket and reads the
log it writes to standard error.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
from http_helpers import ServeProcess, check_error, wait_for

from stepchart.http.auth import UserDirectory, UsersFileError, UsersUnavailable, add_user, hash_token, read_users


def _users(tmp_path: Path) -> tuple[Path, str, str]:
    path = tmp_path / "users.yaml"
    alice = add_user(path, "alice", ["editors"], ["jobCreate"])
    bob = add_user(path, "bob", ["editors"], [])
    return path, alice, bob


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_invalid_users_file_closes_the_service_until_it_is_fixed(tmp_path: Path) -> None:
    """An edit that removes bob and has a typo must not leave bob in: every token gets 503 naming file:line:col."""
    path, alice, bob = _users(tmp_path)
    good = path.read_text()
    srv = ServeProcess(["--users", str(path), "--database", "memory:"], cwd=tmp_path).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.get("/o/i/jobs", headers=_h(bob)).status_code == 200
            # remove bob, and mistype a key of alice's entry (line 3 of the new file)
            alice_entry = re.search(r"- username: alice\n(?:  .*\n)+", good)
            assert alice_entry is not None
            broken = "users:\n" + alice_entry.group(0).replace("  groups:", "  gruops:")
            path.write_text(broken)
            assert "username: bob" not in broken

            def closed() -> bool:
                return c.get("/o/i/jobs", headers=_h(bob)).status_code == 503

            assert wait_for(closed, timeout=10)
            for token in (alice, bob, "sc_not-a-token"):
                for _ in range(5):
                    body = check_error(c.get("/o/i/jobs", headers=_h(token)), 503, "UsersFileInvalid")
            (detail,) = body["error"]["details"]
            assert re.match(rf"{re.escape(str(path))}:3:3: ", detail), detail
            assert "gruops" in detail
            health = check_error(c.get("/health"), 503, "UsersFileInvalid")
            assert health["error"]["details"] == [detail]
            # a request without a token is still told to bring one
            check_error(c.get("/o/i/jobs"), 401, "TokenRequired")
            # fixed again: alice is back, bob (removed) is not
            path.write_text(broken.replace("gruops:", "groups:"))
            assert wait_for(lambda: c.get("/o/i/jobs", headers=_h(alice)).status_code == 200, timeout=10)
            check_error(c.get("/o/i/jobs", headers=_h(bob)), 401, "InvalidToken")
            assert c.get("/health").status_code == 200
    finally:
        srv.stop()
    log = srv.log.read_text()
    assert log.count("users file invalid") == 1, log  # once per change, not once per request
    assert log.count("is valid again") == 1, log


def test_users_file_errors_are_located(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    digest = hash_token("t")
    cases = {
        "users:\n  - username: a\n    tokenSha256: nothex\n": ":3:18: users[0]: tokenSha256",
        f"users:\n  - username: a\n    tokenSha256: {digest}\n  - username: a\n    tokenSha256: {digest}\n": ":4:15:",
        "users: {a: 1}\n": ":1:8: users must be a list",
        "users:\n  - [1]\n": ":2:5: users[0]: a user is a mapping",
        "users: [oops\n": ":",
    }
    for text, where in cases.items():
        path.write_text(text)
        try:
            read_users(path)
        except UsersFileError as exc:
            assert str(exc).startswith(f"{path}{where}"), (text, str(exc))
        else:
            raise AssertionError(f"accepted: {text!r}")


def test_a_directory_fails_closed_in_process(tmp_path: Path) -> None:
    """The same through the Python API: the last good users are dropped, not kept."""
    path, alice, _bob = _users(tmp_path)
    users = UserDirectory.from_file(path, reload_interval=0)
    assert users.authenticate(alice) is not None
    path.write_text("users: [oops")
    try:
        users.authenticate(alice)
    except UsersUnavailable as exc:
        assert exc.problem.startswith(f"{path}:")
    else:
        raise AssertionError("an invalid users file still let alice in")
    assert users.check() is not None and len(users) == 0


def test_no_token_reaches_the_log(tmp_path: Path) -> None:
    """?token= is redacted in uvicorn's access log and in the service's own lines; every way in works."""
    path, alice, _bob = _users(tmp_path)
    wrong = "sc_WRONGwrongWRONGwrong0123456789"
    srv = ServeProcess(["--users", str(path), "--database", "memory:"], cwd=tmp_path, access_log=True).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.get(f"/o/i/jobs?token={alice}").status_code == 200
            assert c.get(f"/o/i/jobs?limit=5&token={alice}&mine=true").status_code == 200
            assert c.get("/o/i/jobs", headers={"X-Esri-Authorization": f"Bearer {alice}"}).status_code == 200
            check_error(c.get(f"/o/i/jobs?token={wrong}"), 401, "InvalidToken")
            check_error(c.get(f"/nowhere?token={wrong}"), 404, "NotFound")
            check_error(
                c.post(f"/o/i/jobs?token={alice}", content=b"{", headers={"content-type": "application/json"}),
                400,
                "InvalidJson",
            )
            # the access log did see these requests
            assert wait_for(lambda: "".join(srv.banner).count("/o/i/jobs") >= 5, timeout=10)
    finally:
        srv.stop()
    log = srv.log.read_text() + "".join(srv.banner)  # uvicorn writes its access log to stdout
    assert "token=REDACTED" in log, log
    for secret in (alice, wrong, alice[3:20]):
        assert secret not in log, log


def test_the_serve_help_names_the_limits() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "stepchart.cli", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    for option in ("--header-timeout", "--body-timeout", "--max-connections", "--write-timeout"):
        assert option in r.stdout


def test_the_log_filter_redacts_and_holds_back_repeats() -> None:
    """One line per kind of failure per interval; a change of state always; no credential in any line."""
    import io
    import logging

    from stepchart.http.logs import SafeLogFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SafeLogFilter(interval=60))
    log = logging.getLogger("test.safe.filter")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    try:
        for i in range(100):
            log.warning("refused connection %d", i)
        log.error("users file invalid: %s", "a", extra={"always": True})
        log.error("users file invalid: %s", "b", extra={"always": True})
        log.info('%s - "%s %s HTTP/%s" %d', "1.2.3.4:5", "GET", "/o/i/jobs?a=1&token=sc_SECRET", "1.1", 200)
        log.warning("bad header %s", "Authorization: Bearer sc_SECRET2")
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "refused connection 0",
        "users file invalid: a",
        "users file invalid: b",
        '1.2.3.4:5 - "GET /o/i/jobs?a=1&token=REDACTED HTTP/1.1" 200',
        "bad header Authorization: Bearer REDACTED",
    ], lines
