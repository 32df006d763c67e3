"""Inputs that used to reach a 500 or a driver exception (issue 11), on SQLite and PostgreSQL.

- a lone surrogate escape (``"\\ud800"``) or NUL in a JSON body is 400 ``InvalidJson`` on
  every route (R10, R14), naming the JSON path; nothing changes;
- the Python API refuses the same text in mapping bodies, operation values and job ids,
  with no driver exception; documents refuse it with a located ``DefinitionError``;
- ``store export`` / ``store import`` stop with a message naming the record;
- numeric query parameters are ASCII digits only (``?limit=²``, ``?after=①``: 400);
- paging with ``after=`` a deleted job goes on after where that job was.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, stored_engine
from http_helpers import EXAMPLES, auth, check_error, live_app

from stepchart import SYSTEM, Actor, Engine

sys.path.insert(0, str(ROOT / "bench"))
from bench_amplification import stored_bytes

from stepchart.cli import main
from stepchart.errors import DefinitionError
from stepchart.stores import open_store

pytest_plugins = ["pg_fixture"]

BASE = "/org/item"
T0 = "2026-03-01T09:00:00Z"
ALICE = Actor.of("alice", ["editors"], ["jobUpdateHolds", "jobDelete"])
SURROGATE = '"\\ud800"'  # JSON text: a lone high surrogate escape
NUL = '"a\\u0000b"'


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, base_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    url = str(request.getfixturevalue("pg_url")) if request.param == "postgres" else str(tmp_path / "jobs.db")
    with stored_engine(base_engine, url, jobs=("J1",)) as eng:
        yield eng


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    """The jobs, and the actions logged besides their creation (PostgreSQL's feed may show a
    just-committed Create a moment late, so only the other entries are compared)."""
    jobs = [engine.job(j) for j in engine.store.job_ids()]
    return jobs, [e["sequence"] for e in engine.action_log() if e["action"] != "Create"]


ROUTES = [
    ("/jobs/J1/action", '{"type": "Run", "stepIds": [%s]}'),
    ("/jobs/J1/action", '{"type": "Hold", "dependentJobId": %s}'),
    ("/jobs", '{"workflow": "parcel-edit", "jobId": %s}'),
    ("/jobs/J1/steps/edit/respond", '{"value": %s}'),
    ("/jobs/J1/steps/edit/complete", '{"returnValue": %s}'),
    ("/jobs/J1/steps/edit/fail", '{"message": %s}'),
    ("/jobs/J1/steps/edit/assign", '{"assignedType": "User", "assignedTo": %s}'),
    ("/jobs/J1/action", '{"type": "Run", %s: 1}'),
]


def test_unstorable_strings_are_invalid_json_on_every_route(engine: Engine) -> None:
    before = _snapshot(engine)
    with live_app(engine) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        for path, template in ROUTES:
            for text, what in ((SURROGATE, "lone surrogate (U+D800)"), (NUL, "NUL character (U+0000)")):
                for user in ("alice", "host"):
                    r = c.post(
                        f"{BASE}{path}",
                        content=(template % text).encode(),
                        headers={**auth(user), "Content-Type": "application/json"},
                    )
                    body = check_error(r, 400, "InvalidJson")
                    assert what in body["error"]["details"][0], (path, body)
    assert _snapshot(engine) == before


def test_the_python_api_refuses_them_without_a_driver_exception(engine: Engine) -> None:
    before = _snapshot(engine)
    for bad in ("\ud800", "a\x00b"):
        r = engine.act("J1", {"type": "Run", "stepIds": [bad]}, ALICE, T0)
        assert (r.status_code, r.error_type) == (400, "InvalidJson")
        assert "$.stepIds[0]" in r.body["error"]["details"][0]
        r = engine.act("J1", {"type": "Run", bad: 1}, ALICE, T0)
        assert (r.status_code, r.error_type) == (400, "InvalidJson")
        assert engine.respond("J1", "edit", bad, ALICE, T0).error_type == "InvalidJson"
        assert engine.fail("J1", "edit", bad, now=T0).error_type == "InvalidJson"
        assert engine.assign("J1", "edit", "User", bad, SYSTEM, T0).error_type == "InvalidJson"
        assert engine.act(f"J{bad}", {"type": "Run"}, ALICE, T0).error_type == "InvalidRequest"
        assert engine.close_job(f"J{bad}", ALICE, T0).error_type == "InvalidRequest"
        assert engine.explain(f"J{bad}", {"type": "Run"}, ALICE, T0)[0].error_type == "InvalidRequest"
        with pytest.raises(KeyError):
            engine.job(f"J{bad}")
        with pytest.raises(ValueError, match="no store can keep"):
            engine.create_job("parcel-edit", f"J{bad}", now=T0)
        with pytest.raises(DefinitionError) as info:
            engine.load_job({"jobId": "J7", "workflow": "parcel-edit", "returnValues": {"edit": bad}}, now=T0)
        assert info.value.first.code == "not-text" and info.value.first.path == ("returnValues", "edit")
    assert _snapshot(engine) == before


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('jobId: J7\nworkflow: parcel-edit\nreturnValues:\n  edit: "a\\0b"\n', (4, 9)),
        ('jobId: J7\nworkflow: parcel-edit\nreturnValues:\n  "e\\x00": x\n', (4, 3)),
        ('{"jobId": "J7", "workflow": "parcel-edit",\n "returnValues": {"edit": "\\ud800"}}', (2, 30)),
    ],
)
def test_documents_refuse_them_with_a_location(base_engine: Engine, text: str, where: tuple[int, int]) -> None:
    eng = base_engine.spawn()
    eng.add_workflow(EXAMPLES[0])
    with pytest.raises(DefinitionError) as info:
        eng.load_job(text, now=T0)
    first = info.value.first
    assert (first.line, first.column) == where, str(first)
    assert first.code in ("not-text", "yaml-syntax")
    str(first).encode("utf-8")  # the message can be printed: it never echoes the bad character
    assert not eng.store.exists("J7")


def test_export_and_import_refuse_them_with_a_message(
    base_engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "jobs.db")
    eng = base_engine.spawn(open_store(db))
    eng.add_workflow(EXAMPLES[0])
    eng.sync_workflows()
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.store.close()
    dump = tmp_path / "dump.jsonl"
    assert main(["export", "--store", db, "-o", str(dump)]) == 0
    lines = dump.read_text().splitlines()
    job_at = next(i for i, line in enumerate(lines) if json.loads(line)["kind"] == "job")
    doc = json.loads(lines[job_at])
    doc["doc"]["returnValues"] = {"edit": "a\x00b"}
    lines[job_at] = json.dumps(doc)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    dest = str(tmp_path / "copy.db")
    assert main(["import", str(bad), "--store", dest]) == 2  # a refused input: exit 2, one line
    err = capsys.readouterr().err
    assert f"bad.jsonl:{job_at + 1}:" in err and "$.doc.returnValues.edit" in err and "NUL" in err
    assert open_store(dest).job_ids() == []
    # a store that holds such text (written by an older version) is refused on export
    conn = sqlite3.connect(db)
    conn.execute("UPDATE jobs SET doc = json_set(doc, '$.returnValues.edit', 'a' || char(0) || 'b')")
    conn.commit()
    conn.close()
    assert main(["export", "--store", db, "-o", str(tmp_path / "again.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "$.doc.returnValues.edit" in err and "NUL" in err and "Traceback" not in err


def test_numbers_in_the_query_are_ascii_digits(engine: Engine) -> None:
    with live_app(engine) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        h = auth("alice")
        odd = ("jobs?limit=²", "jobs?limit=\u0661", "jobs?limit=" + "9" * 5000, "events?after=①", "events?limit=٣")
        for query in odd:
            check_error(c.get(f"{BASE}/{query}", headers=h), 400, "InvalidRequest")
        assert c.get(f"{BASE}/jobs?limit=5", headers=h).status_code == 200


def test_paging_after_a_deleted_job_goes_on_from_where_it_was(engine: Engine) -> None:
    for jid in ("J2", "J3", "J4", "J5"):
        engine.create_job("parcel-edit", jid, now=T0)
    with live_app(engine) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        h = auth("alice")
        first = c.get(f"{BASE}/jobs?limit=2", headers=h).json()
        assert [j["jobId"] for j in first["jobs"]] == ["J1", "J2"] and first["next"] == "J2"
        assert c.delete(f"{BASE}/jobs/J2", headers=h).status_code == 200
        rest = c.get(f"{BASE}/jobs?limit=10&after=J2", headers=h).json()
        assert [j["jobId"] for j in rest["jobs"]] == ["J3", "J4", "J5"]
    # a job made again with the id takes its new place
    engine.create_job("parcel-edit", "J2", now=T0)
    assert [j["jobId"] for j in engine.search_jobs(after="J2")] == []
    assert [j["jobId"] for j in engine.search_jobs(after="J4")] == ["J5", "J2"]


def test_the_memory_store_pages_after_a_deleted_job_too(base_engine: Engine) -> None:
    eng = base_engine.spawn()
    eng.add_workflow(EXAMPLES[0])
    for jid in ("J1", "J2", "J3"):
        eng.create_job("parcel-edit", jid, now=T0)
    boss = Actor.of("boss", [], ["jobDelete"])
    assert eng.delete_job("J2", boss, T0).ok
    assert [j["jobId"] for j in eng.search_jobs(after="J2")] == ["J3"]


# -- what one refused request may cost in stored bytes (issue 11) ---------------------------------

MAX_STEP_IDS = 100
"""The documented cap on ``stepIds`` (payload schema ``maxItems``, docs/http.md)."""

STORED_OVERHEAD = 2048
"""The documented bound: a refused request stores at most its body plus this many bytes."""



def test_a_refused_request_stores_at_most_its_body_and_a_bound(engine: Engine, request: pytest.FixtureRequest) -> None:
    url = str(request.getfixturevalue("pg_url")) if "postgres" in request.node.name else engine.store.path  # type: ignore[attr-defined]
    with live_app(engine) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        h = {**auth("bob"), "Content-Type": "application/json"}  # an unprivileged user
        too_many = json.dumps({"type": "Run", "stepIds": [f"s{i}" for i in range(MAX_STEP_IDS + 1)]})
        err = check_error(c.post(f"{BASE}/jobs/J1/action", content=too_many, headers=h), 400, "SchemaViolation")
        assert err["error"]["details"] == ["$.stepIds: 101 items; at most 100 allowed"]
        start = stored_bytes(url)
        # 100 distinct unknown step ids filling a 64 KB body: each refused (R15: StepNotInDiagram)
        width = (64 * 1024 - 40) // MAX_STEP_IDS - 3
        body = json.dumps({"type": "Run", "stepIds": [f"{i:04d}".ljust(width, "x") for i in range(MAX_STEP_IDS)]})
        assert 63 * 1024 < len(body) <= 64 * 1024
        r = c.post(f"{BASE}/jobs/J1/action", content=body, headers={**h, "Idempotency-Key": "amp"})
        assert r.status_code == 200 and not r.json()["success"]
        assert {s["status"] for s in r.json()["stepResponses"]} == {"StepNotInDiagram"}
        stored = stored_bytes(url) - start
        assert stored <= len(body) + STORED_OVERHEAD, (stored, len(body))
        # what was kept still answers a retry and reads back as it was answered
        again = c.post(f"{BASE}/jobs/J1/action", content=body, headers={**h, "Idempotency-Key": "amp"})
        assert again.json() == r.json()
        assert engine.action_log("J1")[-1]["response"] == r.json()
        assert engine.verify_replay(["J1"]) == []


# -- every 4xx the server produces has the R14 body (issue 11) ------------------------------------

UNPARSABLE = {
    "a Content-Length that is no number": b"POST /org/item/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "two Content-Lengths": b"POST /org/item/jobs HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "no Host": b"GET /org/item/jobs HTTP/1.1\r\n\r\n",
    "a Unicode digit": b"POST /org/item/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: \xc2\xb2\r\n\r\n",
}


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_uvicorns_own_400s_have_the_error_body_under_stepchart_serve(tmp_path: Path) -> None:
    from http_helpers import ServeProcess

    from stepchart.http.openapi import validator

    srv = ServeProcess([], cwd=tmp_path).start()
    try:
        port = int(srv.url.rsplit(":", 1)[1])
        for what, request in UNPARSABLE.items():
            status, headers, body = _raw(port, request)
            assert status == 400 and headers["content-type"] == "application/json", (what, headers, body)
            value = json.loads(body)
            assert not list(validator("error").iter_errors(value)) and value["error"]["type"] == "InvalidHttp", what
    finally:
        srv.stop()


def test_every_refusal_of_the_app_has_the_error_body(engine: Engine) -> None:
    with live_app(engine, max_body=1024) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        h, text = auth("alice"), "text/plain"
        for response, status, type_ in [
            (c.get(f"{BASE}/nowhere", headers=h), 404, "NotFound"),
            (c.request("OPTIONS", f"{BASE}/jobs", headers=h), 405, "MethodNotAllowed"),
            (c.get(f"{BASE}/jobs"), 401, "TokenRequired"),
            # a Content-Length over the limit is 413 before the media type is looked at (docs/http.md)
            (c.post(f"{BASE}/jobs", content=b"x" * 2048, headers={**h, "Content-Type": text}), 413, "PayloadTooLarge"),
            (c.post(f"{BASE}/jobs", content=b"{}", headers={**h, "Content-Type": text}), 415, "UnsupportedMediaType"),
            (c.get(f"{BASE}/jobs?closed=perhaps", headers=h), 400, "InvalidRequest"),
        ]:
            check_error(response, status, type_)
