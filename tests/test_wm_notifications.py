"""The notification WebSocket (issue 9) with websocket-client, the library Esri's client uses, over loopback.

A real uvicorn server (in a thread, or ``stepchart serve`` processes) on SQLite or
PostgreSQL; the client speaks as docs/wm-client-notes.md §3 says the real one does:
it waits for the ``connected`` greeting, subscribes and waits for any answer, then
reads ``{"msgType", "message", "timestamp"}`` frames. The messages are built from the
R24 events (SPEC R24) of every request on the job, whoever made it; R18 (holds) and R25
(assign) requests give theirs too.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websocket
from conftest import stored_engine
from http_helpers import LiveServer, ServeProcess, auth, live_app, wait_for
from ws_helpers import (
    BASE,
    FINISH_ENDS,
    RUN_ENDS,
    STOP_ENDS,
    act,
    close_code,
    connect,
    create,
    messages_until,
    recv,
    subscribe,
    ws_url,
)

from stepchart import Engine
from stepchart.http.auth import add_user
from stepchart.http.notifications import POLICY_CLOSE, hub_of
from stepchart.http.reads import ReadPolicy

pytest_plugins = ["pg_fixture"]


@pytest.fixture
def engine(base_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    with stored_engine(base_engine, str(tmp_path / "jobs.db")) as eng:
        yield eng


@pytest.fixture
def server(engine: Engine) -> Iterator[LiveServer]:
    with live_app(engine) as srv:
        yield srv


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


# -- handshake, greeting, snapshot --------------------------------------------------------------


def test_greeting_then_a_job_state_snapshot_per_job(server: LiveServer, client: httpx.Client) -> None:
    create(client, "J1")
    create(client, "J2", "permit-review")
    ws = connect(server.url)
    state1, state2 = subscribe(ws, "J1", "J2")
    assert [state1["msgType"], state2["msgType"]] == ["JobState", "JobState"]
    m = state1["message"]
    assert m["jobId"] == "J1" and m["jobStatus"] == "Open" and m["diagramId"] == "parcel-edit"
    assert m["diagramVersion"] and "percentComplete" in m and m["jobTemplateName"]
    assert m["stepStates"] == [
        {
            "stepId": "edit",
            "stepName": "Edit parcels",
            "assignedTo": "editors",
            "assignedType": "Group",
            "canSkip": False,
            "status": "Ready",
            "messageDetails": None,
        }
    ]
    assert state2["message"]["jobId"] == "J2" and state2["message"]["diagramId"] == "permit-review"
    ws.close()


def test_header_alone_or_query_alone_authenticates(server: LiveServer, client: httpx.Client) -> None:
    create(client, "J1")
    ws = websocket.create_connection(ws_url(server.url, None), header=["Authorization: Bearer tok-bob"], timeout=10)
    assert json.loads(ws.recv()) == {"connected": True}
    assert subscribe(ws, "J1", token="tok-bob")[0]["msgType"] == "JobState"
    ws.close()
    ws = websocket.create_connection(ws_url(server.url, "tok-carol"), timeout=10)
    assert json.loads(ws.recv()) == {"connected": True}
    ws.close()


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_no_or_bad_token_is_closed_with_a_policy_code(server: LiveServer, token: str | None) -> None:
    header = [f"X-Esri-Authorization: Bearer {token}"] if token else []
    ws = websocket.create_connection(ws_url(server.url, token), header=header, timeout=10)
    assert close_code(ws) == POLICY_CLOSE == 1008
    ws.close()


def test_malformed_messages_get_an_error_and_the_socket_goes_on(server: LiveServer, client: httpx.Client) -> None:
    create(client, "J1")
    ws = connect(server.url)
    bad = [
        "not json",
        "[1, 2]",
        '{"msgType": "dance", "jobIds": ["J1"]}',
        '{"msgType": "subscribe", "jobIds": "J1"}',
        '{"msgType": "subscribe", "jobIds": [1]}',
        '{"msgType": "subscribe", "jobIds": ["J1"], "jobIds": ["J2"]}',
        '{"jobIds": ["J1"]}',
        json.dumps({"msgType": "subscribe", "jobIds": ["x" * 70000]}),
        '{"msgType": "subscribe", "jobIds": ["J1"], "token": "wrong"}',
    ]
    for text in bad:
        ws.send(text)
        frame = recv(ws)
        assert frame["msgType"] == "Error", (text, frame)
        assert frame["message"]["msg"] and frame["message"]["msgCode"], frame
    ws.send_binary(b"\x00\x01")
    assert recv(ws)["message"]["msgCode"] == "InvalidMessage"
    (missing,) = subscribe(ws, "NO-SUCH-JOB")
    assert missing["msgType"] == "Error" and missing["message"]["jobId"] == "NO-SUCH-JOB"
    assert missing["message"]["msgCode"] == "JobNotFound"
    assert subscribe(ws, "J1")[0]["msgType"] == "JobState"  # still serving
    ws.close()


# -- the messages of requests --------------------------------------------------------------------


def test_each_action_ends_the_clients_wait_in_order(server: LiveServer, client: httpx.Client) -> None:
    """Run, Stop, Hold/ReleaseHold (R18), assign (R25), Finish, a question (R3), the host (R4), JobClosed."""
    create(client, "J1")
    ws = connect(server.url)
    subscribe(ws, "J1")

    act(client, "J1", {"type": "Run"})
    run = messages_until(ws, RUN_ENDS)
    assert [m["msgType"] for m in run] == ["StepStarted", "StepInfoRequired"]
    assert run[0]["message"] == {"jobId": "J1", "stepIds": ["edit"], "username": "alice"}
    assert run[1]["message"]["allowedActions"] == ["Finish", "Stop"]

    act(client, "J1", {"type": "Stop"})
    stop = messages_until(ws, STOP_ENDS)
    assert [(m["msgType"], m["message"]["stepId"]) for m in stop] == [("StepPaused", "edit")]

    act(client, "J1", {"type": "Hold"})
    act(client, "J1", {"type": "ReleaseHold"})
    r = client.post(
        f"{BASE}/jobs/J1/steps/edit/assign", json={"assignedType": "User", "assignedTo": "alice"}, headers=auth("alice")
    )
    assert r.status_code == 200, r.text
    held, released, reassigned = recv(ws), recv(ws), recv(ws)
    assert (held["msgType"], released["msgType"], reassigned["msgType"]) == (
        "StepHeld",
        "StepHoldReleased",
        "StepReassigned",
    )
    assert held["message"]["holdId"] == released["message"]["holdId"]
    assert reassigned["message"]["assignedTo"] == "alice" and reassigned["message"]["assignedType"] == "User"

    act(client, "J1", {"type": "Finish"})
    finish = messages_until(ws, FINISH_ENDS)
    assert [m["msgType"] for m in finish] == ["StepFinished"]
    assert finish[0]["message"]["currentSteps"] == ["review"] and finish[0]["message"]["jobStatus"] == "Open"

    act(client, "J1", {"type": "Run"}, user="carol")  # the question asks (R3)
    question = messages_until(ws, RUN_ENDS)
    assert [m["msgType"] for m in question] == ["StepStarted", "StepInfoRequired"]
    assert [q["value"] for q in question[1]["message"]["questionResponses"]] == ["approve", "reject"]

    r = client.post(f"{BASE}/jobs/J1/steps/review/respond", json={"value": "approve"}, headers=auth("carol"))
    assert r.status_code == 200, r.text
    answered = [recv(ws), recv(ws)]  # review finishes; publish (gp, automatic) starts and waits for the host
    assert [(m["msgType"], m["message"].get("stepIds")) for m in answered] == [
        ("StepFinished", ["review"]),
        ("StepStarted", ["publish"]),
    ]
    r = client.post(f"{BASE}/jobs/J1/steps/publish/fail", json={"message": "disk full"}, headers=auth("host"))
    assert r.status_code == 200, r.text
    failed = messages_until(ws, RUN_ENDS)  # the host's failure ends a waiting Run (R4)
    assert [(m["msgType"], m["message"]["stepId"], m["message"]["msg"]) for m in failed] == [
        ("StepError", "publish", "disk full")
    ]
    act(client, "J1", {"type": "Run"}, user="carol")  # an asynchronous step: no StepInfoRequired
    assert recv(ws)["message"]["stepIds"] == ["publish"]
    r = client.post(f"{BASE}/jobs/J1/steps/publish/complete", headers=auth("host"))
    assert r.status_code == 200, r.text
    done, closed = recv(ws), recv(ws)
    assert done["msgType"] == "StepFinished" and done["message"]["jobStatus"] == "Closed"
    assert closed["msgType"] == "JobUpdated" and closed["message"]["jobStatus"] == "Closed"
    ws.settimeout(0.6)
    with pytest.raises(websocket.WebSocketTimeoutException):  # nothing twice
        ws.recv()
    ws.close()


def test_events_of_requests_not_made_over_http_reach_subscribers(
    server: LiveServer, client: httpx.Client, engine: Engine
) -> None:
    """The events feed is the source: a request made by the engine directly (a script) is seen too."""
    create(client, "J1")
    ws = connect(server.url)
    subscribe(ws, "J1")
    from stepchart.model import Actor

    alice = Actor("alice", frozenset({"editors"}), frozenset())
    answer = engine.act("J1", {"type": "Run"}, alice, "2026-03-01T09:00:00Z")
    assert answer.body["success"], answer.body
    assert recv(ws)["msgType"] == "StepStarted"
    ws.close()


def test_unsubscribe_stops_messages(server: LiveServer, client: httpx.Client) -> None:
    for job_id in ("J1", "J2", "J3"):
        create(client, job_id)
    ws = connect(server.url)
    subscribe(ws, "J1", "J2")
    ws.send(json.dumps({"msgType": "unsubscribe", "jobIds": ["J1"], "token": "tok-alice"}))
    act(client, "J1", {"type": "Run"})
    act(client, "J2", {"type": "Run"})
    first = recv(ws)
    assert (first["msgType"], first["message"]["jobId"]) == ("StepStarted", "J2")  # none of J1 before it
    assert recv(ws)["msgType"] == "StepInfoRequired"
    ws.send(json.dumps({"msgType": "unsubscribe", "all": True}))
    act(client, "J2", {"type": "Stop"})
    subscribe(ws, "J3")  # its JobState comes after anything of J2 would have
    act(client, "J3", {"type": "Run"})
    frame = recv(ws)
    assert (frame["msgType"], frame["message"]["jobId"]) == ("StepStarted", "J3")
    ws.close()


def test_two_connections_on_one_job_share_one_feed(server: LiveServer, client: httpx.Client) -> None:
    create(client, "J1")
    first, second = connect(server.url), connect(server.url, "tok-bob")
    subscribe(first, "J1")
    subscribe(second, "J1", token="tok-bob")
    hub = hub_of(server.app.state.service)
    assert list(hub.feeds) == ["J1"] and len(hub.feeds["J1"].followers) == 2
    act(client, "J1", {"type": "Run"})
    assert [recv(first)["msgType"], recv(first)["msgType"]] == [recv(second)["msgType"], recv(second)["msgType"]]
    first.close()
    assert wait_for(lambda: len(hub.feeds["J1"].followers) == 1)
    second.close()
    assert wait_for(lambda: not hub.feeds)


def test_reads_own_hides_other_peoples_jobs(engine: Engine) -> None:
    with live_app(engine, reads=ReadPolicy(reads="own")) as server, httpx.Client(base_url=server.url) as c:
        create(c, "J1")  # current step edit: assigned to the group editors
        ws = connect(server.url, "tok-carol")  # not in editors
        (answer,) = subscribe(ws, "J1", token="tok-carol")
        assert (answer["msgType"], answer["message"]["msgCode"]) == ("Error", "JobNotFound")
        ws.close()
        ws = connect(server.url, "tok-bob")
        assert subscribe(ws, "J1", token="tok-bob")[0]["msgType"] == "JobState"
        ws.close()


def test_a_client_that_never_reads_is_dropped_and_requests_keep_answering(
    server: LiveServer, client: httpx.Client
) -> None:
    hub = hub_of(server.app.state.service)
    hub.queue_size = 20
    create(client, "J1")
    create(client, "J2")
    slow = connect(server.url, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    subscribe(slow, "J1")
    reader = connect(server.url)
    subscribe(reader, "J2")
    slowest = 0.0
    for n in range(4000):  # bounded: stops as soon as the slow client is dropped
        started = time.monotonic()
        act(client, "J1", {"type": "Run" if n % 2 == 0 else "Stop"})
        slowest = max(slowest, time.monotonic() - started)
        if hub.dropped:
            break
    assert hub.dropped == 1, "the slow client was never dropped"
    assert slowest < 5.0, slowest  # a request never waited for the client (bound generous for a loaded machine)
    assert wait_for(lambda: len(hub.connections) == 1)
    act(client, "J2", {"type": "Run"})  # the others are still served
    assert recv(reader)["msgType"] == "StepStarted"
    slow.settimeout(10)
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
        while True:  # what was in flight, then the end
            if slow.recv_data(control_frame=True)[0] == websocket.ABNF.OPCODE_CLOSE:
                raise websocket.WebSocketConnectionClosedException("closed")
    reader.close()


# -- several processes on one database -----------------------------------------------------------


def _two_processes(database: str, tmp_path: Path) -> tuple[ServeProcess, ServeProcess, str]:
    users = tmp_path / "users.yaml"
    token = add_user(users, "alice", ["editors"], ["jobCreate", "jobUpdateHolds", "jobClose"])
    args = ["--database", database, "--users", str(users)]
    a = ServeProcess(args, cwd=tmp_path, access_log=True).start()
    try:
        b = ServeProcess(args, cwd=tmp_path).start()
    except Exception:
        a.stop()
        raise
    return a, b, token


def _seen_across(a: ServeProcess, b: ServeProcess, token: str) -> None:
    """A subscriber on ``a`` receives the messages of requests served by ``b``, in order, once each."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=b.url, timeout=30, headers=headers) as c:
        assert c.post(f"{BASE}/jobs", json={"workflow": "parcel-edit", "jobId": "J1"}).status_code == 200
        ws = connect(a.url, token)
        assert subscribe(ws, "J1", token=token)[0]["msgType"] == "JobState"
        for kind in ("Run", "Stop", "Hold", "ReleaseHold", "Run", "Finish"):
            r = c.post(f"{BASE}/jobs/J1/action", json={"type": kind})
            assert r.status_code == 200 and r.json()["success"], r.text
    got = [recv(ws)["msgType"] for _ in range(7)]
    assert got == [
        "StepStarted",
        "StepInfoRequired",
        "StepPaused",
        "StepHeld",
        "StepHoldReleased",
        "StepStarted",
        "StepInfoRequired",
    ]
    assert recv(ws)["msgType"] == "StepFinished"
    ws.settimeout(0.8)
    with pytest.raises(websocket.WebSocketTimeoutException):
        ws.recv()
    ws.close()


def test_two_serve_processes_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    a, b, token = _two_processes(pg_url, tmp_path)
    try:
        _seen_across(a, b, token)
    finally:
        a.stop()
        b.stop()


def test_two_serve_processes_on_one_sqlite_file_and_the_token_is_not_logged(tmp_path: Path) -> None:
    a, b, token = _two_processes(str(tmp_path / "jobs.db"), tmp_path)
    try:
        _seen_across(a, b, token)
    finally:
        a.stop()
        b.stop()
    log = a.log.read_text()
    assert "notificationWs" in log, log  # the access line is there ...
    assert token not in log and "REDACTED" in log  # ... without the token


# -- PostgreSQL's wake-ups -----------------------------------------------------------------------


@pytest.mark.parametrize("served_by", ["this process", "another engine"])
def test_on_postgresql_a_commit_wakes_the_poller(
    base_engine: Engine, pg_url: str, served_by: str
) -> None:
    """With a poll interval (60 s) far longer than the socket's timeout (10 s), only NOTIFY
    can bring the messages; the events table stays the source (order and cursor as before)."""
    with stored_engine(base_engine, pg_url) as eng, stored_engine(base_engine, pg_url) as other, live_app(eng) as srv:
        hub = hub_of(srv.app.state.service)
        hub.interval = 60.0
        with httpx.Client(base_url=srv.url, timeout=10) as client:
            create(client, "J1")
            ws = connect(srv.url)  # 10 s timeout on every receive
            assert subscribe(ws, "J1")[0]["msgType"] == "JobState"
            assert wait_for(lambda: hub.polls >= 1)  # the poller's first poll is done: now it waits
            if served_by == "this process":
                act(client, "J1", {"type": "Run"})
            else:  # a script or another serve on the same database
                from stepchart import Actor

                alice = Actor.of("alice", ["editors"], [])
                assert other.act("J1", {"type": "Run"}, alice, "2026-03-01T09:01:00Z").success
            # each receive gives up after 10 s, long before the next poll: only the wake-up brings them
            assert [recv(ws)["msgType"], recv(ws)["msgType"]] == ["StepStarted", "StepInfoRequired"]
            ws.close()
