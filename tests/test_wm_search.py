"""Issue 9: ``POST /jobs/search`` and ``POST /jobs/statistics`` through a real server, on memory, SQLite and
PostgreSQL, with the same answers on every store; a hostile ``q`` is a located 400 that runs nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_helpers import EXAMPLES, USERS, auth, check_error, live_app

from stepchart import Actor, Engine
from stepchart.http.auth import UserDirectory
from stepchart.http.openapi import validator
from stepchart.http.reads import ReadPolicy
from stepchart.stores import open_store
from stepchart.stores.base import JobSearch
from stepchart.stores.jobsearch import NOT_SEARCHABLE

pytest_plugins = ["pg_fixture"]

STORES = ["memory", "sqlite", "postgres"]
T0 = "2026-03-01T09:00:00Z"
BOSS = Actor.of("alice", ["editors"], ["jobClose", "jobAssignAny"])
SEARCH = "/org/item/jobs/search"
STATS = "/org/item/jobs/statistics"


def _populate(engine: Engine) -> None:
    """Twelve jobs: even ones parcel-edit (at ``edit``, editors), odd ones permit-review (at ``intake``, clerks);
    every third assigned to the user dana, J05 and J08 closed."""
    for i in range(12):
        workflow = "parcel-edit" if i % 2 == 0 else "permit-review"
        job_id = f"J{i:02d}"
        engine.create_job(workflow, job_id, now=T0)
        step = "edit" if i % 2 == 0 else "intake"
        if i % 3 == 0:
            assert engine.assign(job_id, step, "User", "dana", BOSS, T0).ok
        if i in (5, 8):
            assert engine.close_job(job_id, BOSS, T0).ok


def _engine(kind: str, tmp_path: Path, base_engine: Engine, request: pytest.FixtureRequest) -> Engine:
    url = {"memory": "memory:", "sqlite": str(tmp_path / f"{kind}.db")}.get(kind)
    store = open_store(url if url is not None else str(request.getfixturevalue("pg_url")))
    engine = base_engine.spawn(store)
    for path in EXAMPLES:
        engine.add_workflow(path)
    engine.sync_workflows()
    _populate(engine)
    return engine


@pytest.fixture(params=STORES)
def server(request: pytest.FixtureRequest, tmp_path: Path, base_engine: Engine) -> Iterator[Any]:
    engine = _engine(request.param, tmp_path, base_engine, request)
    with live_app(engine) as srv:
        srv.engine = engine
        yield srv
    engine.store.close()


def _post(srv: Any, path: str, body: Any, user: str = "alice") -> httpx.Response:
    return httpx.post(srv.url + path, json=body, headers=auth(user), timeout=30)


def _search(srv: Any, **body: Any) -> dict[str, Any]:
    full = {"q": None, "search": None, "fields": None, "displayNames": [], "sortFields": [], "start": 0, "num": 10}
    r = _post(srv, SEARCH, {**full, **body})  # the Python client always sends all seven keys
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    assert not list(validator("http-job-search-result").iter_errors(answer))
    return answer


def _ids(srv: Any, q: str, **body: Any) -> list[str]:
    found = _search(srv, q=q, fields=["jobId"], num=1000, **body)
    return [row[0] for row in found["results"]]


ALL = [f"J{i:02d}" for i in range(12)]
EVEN = [j for j in ALL if int(j[1:]) % 2 == 0]
DANA = ["J00", "J03", "J06", "J09"]

QUERIES: list[tuple[str, list[str]]] = [
    ("", ALL),
    ("closed=0", [j for j in ALL if j not in ("J05", "J08")]),
    ("closed = 1", ["J05", "J08"]),
    ("diagramId='parcel-edit'", EVEN),
    ("workflow = 'parcel-edit' AND closed=0", [j for j in EVEN if j != "J08"]),
    ("assignedTo='dana'", DANA),
    ("assignedType = 'User' AND currentStepId = 'edit'", ["J00", "J06"]),
    ("NOT assignedTo = 'dana'", [j for j in ALL if j not in DANA]),
    ("assignedTo IN ('clerks', 'dana')", [j for j in ALL if j in DANA or int(j[1:]) % 2 == 1]),
    ("assignedTo NOT IN ('editors')", [j for j in ALL if j in DANA or int(j[1:]) % 2 == 1]),
    ("jobId LIKE 'j1%'", ["J10", "J11"]),  # LIKE folds ASCII case on every store
    ("jobId > 'J09' OR jobId < 'J01'", ["J00", "J10", "J11"]),
    ("currentStepName = 'Edit parcels'", EVEN),
    ("stepName LIKE '%application%'", [j for j in ALL if int(j[1:]) % 2 == 1]),
    ("currentStepName IS NULL", []),
    ("currentStepName IS NOT NULL AND (diagramVersion IS NULL OR closed = 1)", ["J05", "J08"]),
    ("NOT (currentStepName = 'Edit parcels' OR closed = 1)", [j for j in ALL if j not in EVEN and j != "J05"]),
    ("assignedTo IS NULL", []),
]


def _answers(srv: Any) -> list[Any]:
    """What every store must answer alike: the query table, pages, sorts, free text, statistics."""
    out: list[Any] = [_ids(srv, q) for q, _ in QUERIES]
    out.append(_search(srv, q="closed=0", sortFields=[{"field": "jobId", "sortOrder": "Desc"}], start=2, num=3))
    out.append(_search(srv, sortFields=[{"field": "diagramId"}, {"field": "closed", "sortOrder": "Desc"}], num=12))
    out.append(_search(srv, search="j1", fields="jobId, currentStepName", displayNames=["Id", "Step"]))
    for text in ("J1\\", "_1", "%", "'"):  # a backslash is itself; % and _ match as in LIKE, on every store
        out.append([r[0] for r in _search(srv, search=text, fields=["jobId"], num=100)["results"]])
    for group in ("assignedTo", "closed", "currentStepName", "diagramId", None):
        r = _post(srv, STATS, {"q": "closed=0", "groupBy": group} if group else {"search": "J0"})
        assert r.status_code == 200, r.text
        assert not list(validator("http-job-statistics-result").iter_errors(r.json()))
        out.append(r.json())
    return out


def test_every_store_gives_the_same_answers(
    tmp_path: Path, base_engine: Engine, request: pytest.FixtureRequest
) -> None:
    """Issue 9: the same search on memory, SQLite and PostgreSQL finds the same jobs, in the same order."""
    answers = {}
    for kind in STORES:
        engine = _engine(kind, tmp_path, base_engine, request)
        with live_app(engine) as srv:
            answers[kind] = _answers(srv)
        engine.store.close()
    assert answers["memory"] == answers["sqlite"] == answers["postgres"]
    got = answers["memory"]
    for (q, expected), found in zip(QUERIES, got, strict=False):
        assert found == expected, q
    page = got[len(QUERIES)]
    assert [r[0] for r in page["results"]] == ["J09", "J07", "J06"]  # open jobs J11..J00 without J08, from the third
    assert (page["total"], page["start"], page["num"], page["nextStart"]) == (10, 2, 3, 5)
    by_workflow = [r[0] for r in got[len(QUERIES) + 1]["results"]]
    assert by_workflow == ["J08", "J00", "J02", "J04", "J06", "J10", "J05", "J01", "J03", "J07", "J09", "J11"]
    text = got[len(QUERIES) + 2]
    assert text["fields"] == [
        {"name": "jobId", "alias": "Id", "type": "text", "perStep": False},
        {"name": "currentStepName", "alias": "Step", "type": "text", "perStep": True},
    ]
    assert text["results"] == [["J10", ["Edit parcels"]], ["J11", ["Check the application"]]]
    assert text["nextStart"] is None
    assert got[len(QUERIES) + 3 : len(QUERIES) + 7] == [[], ["J01", "J10", "J11"], ALL, []]
    stats = got[len(QUERIES) + 7 :]
    assert stats[0] == {
        "total": 10,
        "groupBy": "assignedTo",
        "groupedValues": [
            {"value": "clerks", "count": 3},
            {"value": "dana", "count": 4},
            {"value": "editors", "count": 3},
        ],
    }
    assert stats[1]["groupedValues"] == [{"value": 0, "count": 10}]
    assert stats[2]["groupedValues"] == [
        {"value": "Check the application", "count": 5},
        {"value": "Edit parcels", "count": 5},
    ]
    assert stats[3]["groupedValues"] == [{"value": "parcel-edit", "count": 5}, {"value": "permit-review", "count": 5}]
    assert stats[4] == {"total": 10}  # J0 in the id: J00..J09


def test_default_fields_and_values(server: Any) -> None:
    """No ``fields``: every searchable field, current-step fields as one value per current step."""
    found = _search(server, q="jobId = 'J03'")
    names = [f["name"] for f in found["fields"]]
    assert "jobId" in names and "currentStepName" in names and not set(names) & set(NOT_SEARCHABLE)
    row = dict(zip(names, found["results"][0], strict=True))
    assert row["jobId"] == "J03" and row["diagramId"] == "permit-review" and row["closed"] == 0
    assert row["currentStepId"] == ["intake"] and row["assignedTo"] == ["dana"] and row["assignedType"] == ["User"]
    assert row["currentStepName"] == ["Check the application"]
    assert found["total"] == 1 and found["nextStart"] is None
    version = server.engine.job("J03")["workflowVersion"]
    assert row["diagramVersion"] == version and version
    odd = [j for j in ALL if int(j[1:]) % 2 == 1]
    assert _ids(server, f"workflowVersion = '{version}' AND workflow = 'permit-review'") == odd


def test_reads_own_filters_results(tmp_path: Path, base_engine: Engine, request: pytest.FixtureRequest) -> None:
    """``--reads own``: bob (group editors) finds only jobs at a step of his group (R16); jobReadAll finds all."""
    engine = _engine("sqlite", tmp_path, base_engine, request)
    users = dict(USERS)
    users["reader"] = ([], ["jobReadAll"], "tok-reader")
    with live_app(engine, UserDirectory.of(users), reads=ReadPolicy(reads="own")) as srv:
        r = _post(srv, SEARCH, {"fields": ["jobId"], "num": 100}, user="bob")
        assert [row[0] for row in r.json()["results"]] == ["J02", "J04", "J08", "J10"]
        r = _post(srv, STATS, {"groupBy": "closed"}, user="bob")
        assert r.json()["total"] == 4
        r = httpx.post(srv.url + SEARCH, json={"num": 100}, headers={"Authorization": "Bearer tok-reader"})
        assert r.json()["total"] == 12
    engine.store.close()


BAD_BODIES: list[tuple[dict[str, Any], str, str]] = [
    ({"q": "closed = 0 AND"}, "InvalidRequest", "q: position 14"),
    ({"q": "jobStatus = 'x'"}, "InvalidRequest", "q: jobStatus"),
    ({"q": "nosuch = 1"}, "InvalidRequest", "q: position 0"),
    ({"fields": ["jobId", "nosuch"]}, "InvalidRequest", "fields[1]: nosuch"),
    ({"fields": ["diagramName"]}, "InvalidRequest", "fields[0]: diagramName"),
    ({"sortFields": [{"field": "assignedTo"}]}, "InvalidRequest", "sortFields[0].field: assignedTo"),
    ({"sortFields": [{"field": "jobId", "sortOrder": "Up"}]}, "SchemaViolation", "$.sortFields[0].sortOrder"),
    ({"num": 1001}, "SchemaViolation", "$.num"),
    ({"fields": ["jobId"], "displayNames": ["a", "b"]}, "InvalidRequest", "displayNames[1]: no field to name"),
]


@pytest.mark.parametrize(("body", "type_", "detail"), BAD_BODIES)
def test_bad_bodies_are_located_400s(server: Any, body: dict[str, Any], type_: str, detail: str) -> None:
    err = check_error(_post(server, SEARCH, body), 400, type_)["error"]
    assert any(d.startswith(detail) for d in err["details"]), err


def test_statistics_refuses_what_it_cannot_do(server: Any) -> None:
    check_error(_post(server, STATS, {"groupBy": "jobStatus"}), 400, "InvalidRequest")
    err = check_error(_post(server, STATS, {"spatialExtent": {"xmin": 0}}), 400, "InvalidRequest")["error"]
    assert err["details"] == ["spatialExtent"]
    assert _post(server, STATS, {"hasLocation": False}).json() == {"total": 12}


HOSTILE = [
    "'; DROP TABLE jobs; --",
    "jobId = ''; DROP TABLE jobs; --'",
    "jobId = 'x' -- comment",
    "jobId = 'x' /* c */",
    "jobId = 'x'; DELETE FROM jobs",
    "jobId = 'x' UNION SELECT doc FROM jobs",
    "1=1",
    "jobId = \"J00\"",
    "jobId = 'unterminated",
    "(" * 40 + "closed=0" + ")" * 40,
    "NOT " * 50 + "closed = 0",
    "jobId = '" + "a" * 5000 + "'",
    " OR ".join(["closed=0"] * 300),
    "jobId = 'J\x00'",
    "jobId = '\ud800'",
    "jobs.doc = 'x'",
    "closed = 'yes'",
    "jobId LIKE 3",
    "jobId IN ()",
    "sqlite_master = 1",
    "\x00",
]


def test_hostile_queries_are_400s_and_run_nothing(server: Any) -> None:
    """A hostile ``q`` (quotes, comments, ``;``, unions, unknown fields, huge, deep, NUL, surrogates): 400, never a 500,
    and the jobs are all still there."""
    for q in HOSTILE:
        raw = json.dumps({"q": q}).encode()  # json.dumps escapes a lone surrogate as \\ud800
        r = httpx.post(
            server.url + SEARCH, content=raw, headers={**auth("alice"), "Content-Type": "application/json"}, timeout=30
        )
        assert r.status_code == 400, (q[:60], r.status_code, r.text[:200])
        check_error(r, 400, r.json()["error"]["type"])
        s = httpx.post(
            server.url + STATS,
            content=json.dumps({"q": q, "search": q[:200]}).encode(),
            headers={**auth("alice"), "Content-Type": "application/json"},
            timeout=30,
        )
        assert s.status_code == 400, (q[:60], s.text[:200])
    # a value holding SQL is only a value: it finds nothing and changes nothing
    assert _ids(server, "jobId = '''; DROP TABLE jobs; --'") == []
    assert _search(server, search="'; DROP TABLE jobs; --")["total"] == 0
    assert _ids(server, "") == ALL
    assert len(server.engine.store.job_ids()) == 12


@pytest.mark.parametrize("q", ["assignedTo = 'dana' AND closed = 0", "currentStepId = 'review' AND diagramId = 'x'"])
def test_sqlite_drives_a_step_condition_from_the_step_indexes(tmp_path: Path, q: str) -> None:
    """The plan behind bench/bench_search.py: a current-step test is looked up in a job_steps index, never a scan
    of the jobs or a walk of the few-valued closed / workflow indexes (SQLite keeps no statistics)."""
    import sqlite3

    from stepchart.stores.jobsearch import _where, prepare
    from stepchart.stores.query import parse_query
    from stepchart.stores.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "plan.db")
    search = JobSearch(where=prepare(parse_query(q), None, {}))
    where, args = _where(search, store._search_dialect())
    with sqlite3.connect(tmp_path / "plan.db") as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM jobs j WHERE {where}", args).fetchall()
    plan = " | ".join(r[3] for r in rows)
    store.close()
    assert "USING COVERING INDEX job_steps_" in plan, plan
    assert "jobs_closed" not in plan and "jobs_workflow" not in plan and "SCAN j" not in plan, plan


def test_the_job_properties_are_searched_sorted_and_counted_on_every_store(server: Any) -> None:
    """The stored job properties (names, people, dates, numbers) answer q, free text, sorting and statistics."""
    from stepchart import SYSTEM

    for i, job_id in enumerate(("J00", "J02", "J04")):
        changes = {"jobName": f"Lot {i}", "dueDate": f"2027-01-0{i + 1}T00:00:00Z", "priority": "High" if i else "Low",
                   "ownedBy": "erin", "percentComplete": 10 * i}  # fmt: skip
        assert server.engine.update_job(job_id, changes, SYSTEM, T0).ok
    q = "jobName LIKE 'lot%' AND dueDate >= DATE '2027-01-02' AND percentComplete > 5"
    body = {"q": q, "fields": ["jobId", "jobName", "dueDate", "priority"], "sortFields": [{"field": "dueDate",
            "sortOrder": "Desc"}]}  # fmt: skip
    found = _search(server, **body)
    assert found["results"] == [["J04", "Lot 2", "2027-01-03T00:00:00Z", "High"],
                                ["J02", "Lot 1", "2027-01-02T00:00:00Z", "High"]]  # fmt: skip
    assert _ids(server, "ownedBy = 'erin' AND priority = 'Low'") == ["J00"]
    assert _search(server, search="lot 1", fields=["jobId"])["results"] == [["J02"]]
    stats = _post(server, STATS, {"q": "ownedBy IS NOT NULL", "groupBy": "priority"}).json()
    assert stats["total"] == 3
    assert stats["groupedValues"] == [{"value": "High", "count": 2}, {"value": "Low", "count": 1}]
