"""The durable stores (memory:, SQLite, PostgreSQL) behind the engine: one suite, every backend.

R12 atomicity, the action log and its replay, the events feed, indexed queries,
job management (close, reopen, delete, upgrade), the sweep, workflow versions,
migrations, and export/import between backends. PostgreSQL tests need a server (see
``pg_fixture``); with ``STEPCHART_REQUIRE_PG=1`` they fail instead of skipping.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stepchart import Actor, Engine
from stepchart.management.replay import ReplayError, replay_job
from stepchart.model import CurrentStep, Hold, Job
from stepchart.model.times import parse_datetime
from stepchart.stores import open_store
from stepchart.stores.base import (
    SCHEMA_VERSION,
    JobExistsError,
    JobFilter,
    JobStore,
    ManagedStore,
    SchemaVersionError,
    StoreError,
    Transaction,
)
from stepchart.stores.memory import ManagedMemoryStore
from stepchart.stores.records import index_job, job_from_doc, to_micros
from stepchart.stores.sqlite import MIGRATIONS as SQLITE_MIGRATIONS
from stepchart.stores.sqlite import SQLiteStore

pytest_plugins = ["pg_fixture"]

ROOT = Path(__file__).resolve().parent.parent
PARCEL = ROOT / "examples" / "parcel-edit.yaml"
T0 = "2026-03-01T09:00:00Z"

ALICE = Actor.of("alice", ["editors"], ["jobUpdateHolds", "workflowSetStepCurrent"])
BOSS = Actor.of("boss", [], ["jobClose", "jobReopenClosed", "jobDelete", "adminAdvanced", "jobUpdateHolds"])

# An automatic step that a hold can block (load_job keeps it Ready until the next request).
TIMED = {
    "workflow": "timed",
    "initialStep": "wait",
    "steps": [
        {"id": "wait", "type": "manual", "automatic": True, "proceedNext": True, "paths": [{"nextStep": "done"}]},
        {"id": "done", "type": "manual", "assignedType": "User", "assignedTo": "bob"},
    ],
}


def version_workflow(second: str) -> dict[str, Any]:
    """Workflow ``ver``: a -> ``second``; editing ``second`` makes a new version."""
    return {
        "workflow": "ver",
        "initialStep": "a",
        "steps": [
            {"id": "a", "type": "manual", "assignedType": "User", "assignedTo": "u", "paths": [{"nextStep": second}]},
            {"id": second, "type": "manual", "assignedType": "User", "assignedTo": "u"},
        ],
    }


# -- backends ---------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store that outlives the objects that open it."""
    if request.param == "sqlite":
        return str(tmp_path / "jobs.db")
    return str(request.getfixturevalue("pg_url"))


OpenEngine = Callable[..., Engine]


@pytest.fixture
def open_engine(base_engine: Engine) -> Iterator[OpenEngine]:
    """``open_engine(url, *workflows)``: an engine on a store at ``url``, closed after the test."""
    opened: list[ManagedStore] = []

    def make(url: str | ManagedStore, *workflows: Any) -> Engine:
        store = url if isinstance(url, ManagedStore) else open_store(url)
        opened.append(store)
        engine = base_engine.spawn(store)
        for w in workflows or (PARCEL,):
            engine.add_workflow(w)
        assert engine.sync_workflows() == []
        return engine

    yield make
    for s in opened:
        s.close()


def managed(engine: Engine) -> ManagedStore:
    assert isinstance(engine.store, ManagedStore)
    return engine.store


# -- documents --------------------------------------------------------------------------------

def test_job_from_doc_is_the_exact_inverse_of_to_doc() -> None:
    job = Job("J7", "w", "abc", True,
              [CurrentStep("a", "Running", "User", "u"), CurrentStep("b", "Ready")],
              [Hold("H1", "a", "bob", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00.5Z", "J2", "s", "system",
                    "2026-01-02T00:00:00.5Z")],
              {"x": "Success"},
              [{"date": "2026-01-01T00:00:00Z", "jobId": "J7", "stepId": None, "username": "u", "action": "Closed"}])
    assert job_from_doc(json.loads(json.dumps(job.to_doc()))) == job
    bare = Job("J8", "w")
    assert job_from_doc(bare.to_doc()) == bare


def test_release_times_sort_as_times_not_as_text() -> None:
    """``...00.5Z`` is later than ``...00Z`` though it sorts first as text: the index uses microseconds."""
    assert to_micros("2026-01-01T00:00:00.5Z") > to_micros("2026-01-01T00:00:00Z")
    assert to_micros("2026-01-01T01:00:00+01:00") == to_micros("2026-01-01T00:00:00Z")
    job = Job("J1", "w", holds=[Hold("H1", "a", scheduled_release="2026-01-02T00:00:00Z"),
                                Hold("H2", "a", scheduled_release="2026-01-01T00:00:00Z", released_by="x"),
                                Hold("H3", "a", dependent_job_id="J2")])
    ix = index_job(job)
    assert ix.next_release == to_micros("2026-01-02T00:00:00Z")
    assert ix.waits == (("J2", None),)
    job.closed = True
    assert index_job(job).next_release is None and index_job(job).waits == ()


# -- the store interface ----------------------------------------------------------------------

def test_add_get_exists_and_duplicates(store_url: str) -> None:
    store = open_store(store_url)
    try:
        job = Job("J1", "w", "v1", current_steps=[CurrentStep("a", "Ready")])
        store.add(job, [{"type": "X", "jobId": "J1"}], {"jobId": "J1", "actor": "system", "action": "Create",
                                                      "body": {}, "now": T0, "response": None})
        assert store.get("J1") == job and store.exists("J1") and not store.exists("J2")
        assert store.get("J2") is None
        with pytest.raises(JobExistsError):
            store.add(Job("J1", "w"))
        store.add(Job("J0", "w"))
        assert store.job_ids() == ["J1", "J0"]  # creation order, not name order
        [entry] = store.log_entries("J1")
        assert entry["sequence"] >= 1 and entry["action"] == "Create"
        assert entry["events"] == [{"type": "X", "jobId": "J1"}]
    finally:
        store.close()


def test_a_request_is_one_transaction_all_or_nothing(durable_url: str) -> None:
    """R12: an error after the job row was written leaves job, log and events as they were."""
    store = open_store(durable_url)
    try:
        store.add(Job("J1", "w", current_steps=[CurrentStep("a", "Ready")]))
        before = store.get("J1")
        with pytest.raises(TypeError), store.transaction("J1") as tx:
            job = tx.job
            assert job is not None
            job.closed = True
            # the job and the log entry are written first; the unserialisable event fails last
            tx.commit(job, [{"type": "X", "bad": object()}],
                      {"jobId": "J1", "actor": "a", "action": "Run", "body": {}, "now": T0, "response": {}})
        assert store.get("J1") == before
        assert store.log_entries("J1") == [] and store.events_after(0) == []
        with store.transaction("J1") as tx:  # the store is still usable
            assert tx.job == before
    finally:
        store.close()


def test_a_400_keeps_nothing_not_even_the_pre_pass(store_url: str, open_engine: OpenEngine) -> None:
    """R12: a held automatic step whose hold has expired would run in the pre-pass; a 400 drops that too."""
    eng = open_engine(store_url, PARCEL, TIMED)
    eng.load_job({"jobId": "J1", "workflow": "timed", "currentSteps": [{"stepId": "wait"}],
                  "holds": [{"holdId": "H1", "stepId": "wait", "scheduledRelease": "2026-03-01T10:00:00Z"}]})
    before = eng.job("J1")
    log_before = eng.action_log()
    result = eng.act("J1", {"type": "SetCurrentStep", "stepIds": ["done"]}, Actor("nobody"), "2026-03-01T11:00:00Z")
    assert result.error_type == "InsufficientPrivileges"
    assert eng.job("J1") == before and eng.action_log() == log_before


def test_every_200_is_logged_once_with_increasing_numbers_and_replays(store_url: str,
                                                                      open_engine: OpenEngine) -> None:
    eng = open_engine(store_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.create_job("parcel-edit", "J2", now=T0)
    answers = [
        eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z"),
        eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:02:00Z"),  # AlreadyExecuting: still a 200
        eng.act("J1", {"type": "Hold", "dependentJobId": "J2"}, ALICE, "2026-03-01T09:02:30Z"),  # 200, refused step
        eng.act("J1", {"type": "Finish"}, ALICE, "2026-03-01T09:03:00Z"),
        eng.act("J1", {"type": "Run", "stepIds": 5}, ALICE, "2026-03-01T09:04:00Z"),  # 400: not logged
        eng.act("J9", {"type": "Run"}, ALICE, "2026-03-01T09:04:00Z"),  # 400: not logged
        eng.act("J2", {"type": "Hold", "dependentJobId": "J1"}, ALICE, "2026-03-01T09:05:00Z"),
        eng.act("J1", {"type": "Run"}, Actor("carol"), "2026-03-01T09:05:30Z"),
        eng.respond("J1", "review", "approve", Actor("carol"), "2026-03-01T09:06:00Z"),
        eng.complete("J1", "publish", now="2026-03-01T09:07:00Z"),
        eng.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:08:00Z"),  # J1 closed: the dependency is met
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 400, 400, 200, 200, 200, 200, 200]
    log = eng.action_log()
    seqs = [e["sequence"] for e in log]
    assert len(set(seqs)) == len(seqs) and seqs == sorted(seqs)
    assert [e["action"] for e in log] == ["Create", "Create", "Run", "Run", "Hold", "Finish", "Hold", "Run",
                                         "Respond", "Complete", "Run"]
    ok = [a for a in answers if a.ok]
    assert [e["response"] for e in log[2:]] == [a.body for a in ok]
    assert [e["events"] for e in log[2:]] == [a.events for a in ok]
    run = log[2]
    assert run["actor"]["username"] == "alice" and run["now"] == "2026-03-01T09:01:00Z"
    assert run["body"] == {"type": "Run"}
    assert log[-1]["reads"] == {"J1": {"closed": True, "returnValues": {"start": "Success", "edit": "Success",
                                                                          "review": "approve", "publish": "Success"}}}
    # events: the feed is the log's events, in order
    assert [{k: v for k, v in e.items() if k not in ("sequence", "logSequence")} for e in eng.events_after(0)] == \
        [ev for e in log for ev in e["events"]]
    assert eng.verify_replay() == []
    assert eng.replay_job("J2") == eng.job("J2")
    assert eng.job("J2")["holds"][0]["releasedBy"] == "system"


def test_replay_uses_what_the_request_saw_of_other_jobs(store_url: str, open_engine: OpenEngine) -> None:
    """A dependency read from another job is in the log: replaying one job needs no other job."""
    eng = open_engine(store_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.create_job("parcel-edit", "J2", now=T0)
    eng.act("J2", {"type": "Hold", "dependentJobId": "J1", "dependentStepId": "edit"}, ALICE, "2026-03-01T09:01:00Z")
    eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:02:00Z")
    eng.act("J1", {"type": "Finish"}, ALICE, "2026-03-01T09:03:00Z")
    eng.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:04:00Z")
    assert eng.job("J2")["holds"][0]["releasedDate"] == "2026-03-01T09:04:00Z"
    entries = eng.action_log("J2")
    assert replay_job(eng, entries, "J2") == eng.job("J2")
    # a log that claims J1 was not there gives another history: replay notices
    tampered = [dict(e) for e in entries]
    tampered[-1]["reads"] = {"J1": {"closed": False, "returnValues": {}}}
    with pytest.raises(ReplayError, match="answered"):
        replay_job(eng, tampered, "J2")


def test_idempotency_keys_recall_the_first_answer(store_url: str, open_engine: OpenEngine) -> None:
    eng = open_engine(store_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    first = eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z", idempotency_key="k-1")
    again = eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:02:00Z", idempotency_key="k-1")
    assert first.body == again.body and again.events == []
    assert [e["action"] for e in eng.action_log("J1")] == ["Create", "Run"]
    assert eng.action_log("J1")[-1]["idempotencyKey"] == "k-1"
    closed = eng.close_job("J1", BOSS, "2026-03-01T09:03:00Z", idempotency_key="k-2")
    assert closed.error_type == "InvalidRequest"  # running: refused, not recorded
    eng.act("J1", {"type": "Stop"}, ALICE, "2026-03-01T09:04:00Z")
    assert eng.close_job("J1", BOSS, "2026-03-01T09:05:00Z", idempotency_key="k-2").ok
    assert eng.close_job("J1", BOSS, "2026-03-01T09:06:00Z", idempotency_key="k-2").ok
    assert [e["action"] for e in eng.action_log("J1")][-1:] == ["Close"]
    assert eng.verify_replay() == []


def test_two_writers_on_one_job_never_lose_an_update(store_url: str) -> None:
    """Threads with their own engines hold one step 40 times each: every hold is kept, ids never repeat."""
    stores = [open_store(store_url) for _ in range(4)] if store_url != "memory:" else [open_store(store_url)] * 4
    engines = []
    for s in stores:
        e = Engine(store=s, workflows=[PARCEL])
        e.sync_workflows()
        engines.append(e)
    engines[0].create_job("parcel-edit", "J1", now=T0)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(40):
                r = engines[k].act("J1", {"type": "Hold", "stepIds": ["edit"]}, ALICE, f"2026-03-01T10:{i:02d}:0{k}Z")
                assert r.ok and r.success, r.body
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        holds = engines[0].job("J1")["holds"]
        assert [h["holdId"] for h in holds] == [f"H{i}" for i in range(1, 161)]
        log = engines[0].action_log("J1")
        assert len(log) == 161 and len({e["sequence"] for e in log}) == 161
        assert engines[0].verify_replay() == []
    finally:
        for s in set(stores):
            s.close()


# -- finding jobs -----------------------------------------------------------------------------

def test_search_by_state_workflow_assignee_actor_step_and_pages(store_url: str, open_engine: OpenEngine) -> None:
    eng = open_engine(store_url, PARCEL, TIMED)
    for i in range(1, 6):
        eng.create_job("parcel-edit", f"P{i}", now=T0)
    eng.load_job({"jobId": "T1", "workflow": "timed", "currentSteps": [{"stepId": "done"}]})
    eng.act("P2", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z")  # edit becomes alice's? no: R9a only on activation
    eng.act("P2", {"type": "Finish"}, ALICE, "2026-03-01T09:02:00Z")  # review: User carol
    eng.close_job("P3", BOSS, "2026-03-01T09:03:00Z")

    def ids(**kw: Any) -> list[str]:
        return [j["jobId"] for j in eng.search_jobs(**kw)]

    assert ids() == ["P1", "P2", "P3", "P4", "P5", "T1"]
    assert ids(closed=True) == ["P3"]
    assert ids(closed=False, workflow="parcel-edit") == ["P1", "P2", "P4", "P5"]
    assert ids(assigned_to="carol") == ["P2"]
    assert ids(assigned_to=["carol", "bob"]) == ["P2", "T1"]
    assert ids(assigned_to="editors", closed=False) == ["P1", "P4", "P5"]
    assert ids(actor=Actor.of("carol")) == ["P2"]
    assert ids(actor=Actor.of("x", ["editors"])) == ["P1", "P3", "P4", "P5"]
    assert ids(step="review") == ["P2"]
    assert ids(limit=2) == ["P1", "P2"] and ids(after="P2", limit=2) == ["P3", "P4"]
    assert ids(after="T1") == []
    [summary] = eng.search_jobs(step="review")
    version = eng.workflows["parcel-edit"].version
    assert summary == {"jobId": "P2", "workflow": "parcel-edit", "workflowVersion": version, "closed": False,
                       "currentSteps": [{"stepId": "review", "status": "Ready", "assignedType": "User",
                                         "assignedTo": "carol"}]}
    assert [j["jobId"] for j in eng.list_jobs(closed=True)] == ["P3"]
    assert managed(eng).search(JobFilter(workflow="timed")) == eng.search_jobs(workflow="timed")


class PlainStore(JobStore):
    """A store with only what the engine needs (no log, no events feed, no indexes), as a host may write."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    def get(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return job.copy() if job is not None else None

    def add(self, job: Job, events: list[dict[str, Any]] | None = None, log: dict[str, Any] | None = None) -> None:
        if job.job_id in self.jobs:
            raise JobExistsError(job.job_id)
        self.jobs[job.job_id] = job.copy()

    def job_ids(self) -> list[str]:
        return list(self.jobs)

    @contextlib.contextmanager
    def transaction(self, job_id: str) -> Iterator[Transaction]:
        tx = Transaction(self.get(job_id))
        yield tx
        if tx.committed and tx.job_to_save is not None:
            self.jobs[job_id] = tx.job_to_save


def test_search_on_a_plain_memory_store_scans() -> None:
    eng = Engine(workflows=[PARCEL], store=PlainStore())
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.create_job("parcel-edit", "J2", now=T0)
    assert [j["jobId"] for j in eng.search_jobs(assigned_to="editors", after="J1")] == ["J2"]
    with pytest.raises(StoreError, match="open_store"):
        eng.events_after(0)


# -- job management -----------------------------------------------------------------------------

def test_close_reopen_delete_with_privileges_history_and_events(store_url: str, open_engine: OpenEngine) -> None:
    eng = open_engine(store_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.create_job("parcel-edit", "J2", now=T0)
    assert eng.close_job("J9", BOSS, T0).error_type == "JobNotFound"
    assert eng.close_job("J1", ALICE, T0).error_type == "InsufficientPrivileges"
    assert eng.reopen_job("J1", ALICE, T0).error_type == "InsufficientPrivileges"
    assert eng.delete_job("J1", ALICE, T0).error_type == "InsufficientPrivileges"
    assert eng.reopen_job("J1", BOSS, T0).error_type == "InvalidRequest"  # not closed
    eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z")
    running = eng.close_job("J1", BOSS, "2026-03-01T09:02:00Z")
    assert running.error_type == "InvalidRequest" and "rule: manage-no-running-step" in running.body["error"]["details"]
    assert eng.delete_job("J1", BOSS, "2026-03-01T09:02:00Z").error_type == "InvalidRequest"
    eng.act("J1", {"type": "Stop"}, ALICE, "2026-03-01T09:03:00Z")

    closed = eng.close_job("J1", BOSS, "2026-03-01T09:04:00Z")
    assert closed.ok and closed.body == {"success": True, "jobId": "J1", "closed": True}
    assert eng.close_job("J1", BOSS, "2026-03-01T09:04:30Z").error_type == "InvalidRequest"  # closed already
    assert eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:05:00Z").body["stepResponses"][0]["status"] == \
        "JobClosed"
    reopened = eng.reopen_job("J1", BOSS, "2026-03-01T09:06:00Z")
    assert reopened.ok and not eng.job("J1")["closed"]
    assert [h["action"] for h in eng.job("J1")["history"]][-2:] == ["Closed", "Reopened"]
    assert eng.job("J1")["history"][-1] == {"date": "2026-03-01T09:06:00Z", "jobId": "J1", "stepId": None,
                                            "username": "boss", "action": "Reopened"}
    assert eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:07:00Z").success  # as it was when closed

    assert eng.delete_job("J2", BOSS, "2026-03-01T09:08:00Z").ok
    assert not managed(eng).exists("J2") and "J2" not in managed(eng).job_ids()
    assert eng.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:09:00Z").error_type == "JobNotFound"
    feed = [(e["type"], e["jobId"]) for e in eng.events_after(0)]
    assert ("JobClosed", "J1") in feed and ("JobReopened", "J1") in feed and feed[-1] == ("JobDeleted", "J2")
    assert [e["action"] for e in eng.action_log("J2")] == ["Create", "Delete"]  # the log stays
    assert eng.replay_job("J2") is None
    assert eng.verify_replay() == []
    eng.create_job("parcel-edit", "J2", now="2026-03-01T10:00:00Z")  # the id may be used again
    assert eng.verify_replay() == []


def test_sweep_releases_expired_holds_by_index_and_runs_blocked_steps(store_url: str,
                                                                       open_engine: OpenEngine) -> None:
    eng = open_engine(store_url, PARCEL, TIMED)
    for jid, at in (("A", "2026-03-01T10:00:00Z"), ("B", "2026-03-01T12:00:00Z"), ("C", "2026-03-01T10:00:00.5Z")):
        eng.load_job({"jobId": jid, "workflow": "timed", "currentSteps": [{"stepId": "wait"}],
                      "holds": [{"holdId": "H1", "stepId": "wait", "scheduledRelease": at}]})
    eng.create_job("parcel-edit", "P", now=T0)
    eng.load_job({"jobId": "D", "workflow": "timed", "currentSteps": [{"stepId": "wait"}],
                  "holds": [{"holdId": "H1", "stepId": "wait", "dependentJobId": "P"}]})
    store = managed(eng)
    assert store.due_jobs(parse_datetime("2026-03-01T09:59:59Z")) == []
    assert store.due_jobs(parse_datetime("2026-03-01T10:00:00Z")) == ["A"]
    assert store.due_jobs(parse_datetime("2026-03-01T11:00:00Z")) == ["A", "C"]
    swept = eng.sweep("2026-03-01T11:00:00Z")
    assert [(j, r.status_code) for j, r in swept] == [("A", 200), ("C", 200)]
    for jid in ("A", "C"):
        job = eng.job(jid)
        assert [c["stepId"] for c in job["currentSteps"]] == ["done"]  # the blocked automatic step ran
        assert job["holds"][0]["releasedBy"] == "system"
    assert eng.job("A")["holds"][0]["releasedDate"] == "2026-03-01T10:00:00Z"  # the scheduled time (R19)
    assert eng.sweep("2026-03-01T11:00:00Z") == []  # nothing due any more
    assert eng.close_job("P", BOSS, "2026-03-01T11:30:00Z").ok
    assert store.due_jobs(parse_datetime("2026-03-01T11:30:00Z")) == ["D"]  # a dependency met
    assert [j for j, _ in eng.sweep("2026-03-01T13:00:00Z")] == ["B", "D"]
    assert [c["stepId"] for c in eng.job("D")["currentSteps"]] == ["done"]
    assert eng.sweep("2026-03-01T13:00:00Z") == []
    assert eng.verify_replay() == []


# -- workflow versions --------------------------------------------------------------------------

def test_jobs_keep_their_workflow_version_across_restarts_and_upgrade_explicitly(
        durable_url: str, open_engine: OpenEngine) -> None:
    v1, v2 = version_workflow("b"), version_workflow("c")
    first = open_engine(durable_url, v1)
    old = first.workflows["ver"].version
    for jid in ("J1", "J2", "J3", "J4"):
        first.create_job("ver", jid, now=T0)
    u = Actor("u")
    first.act("J3", {"type": "Run"}, u, "2026-03-01T09:01:00Z")
    first.act("J3", {"type": "Finish"}, u, "2026-03-01T09:02:00Z")  # J3 at b
    first.store.close()

    later = open_engine(durable_url, v2)  # the YAML was edited: v2 is the newest now
    new = later.workflows["ver"].version
    assert new != old and set(later.workflow_versions("ver")) == {new, old}
    assert later.job("J1")["workflowVersion"] == old
    later.act("J1", {"type": "Run"}, u, "2026-03-01T10:00:00Z")
    later.act("J1", {"type": "Finish"}, u, "2026-03-01T10:01:00Z")
    assert [c["stepId"] for c in later.job("J1")["currentSteps"]] == ["b"]  # still version 1's path

    refused = later.upgrade_job("J2", ALICE, "2026-03-01T10:02:00Z")
    assert refused.error_type == "InsufficientPrivileges"
    up = later.upgrade_job("J2", BOSS, "2026-03-01T10:02:00Z")
    assert up.ok and up.body == {"success": True, "jobId": "J2", "workflowVersion": new, "previousVersion": old}
    assert later.upgrade_job("J2", BOSS, "2026-03-01T10:02:30Z").error_type == "InvalidRequest"  # there already
    later.act("J2", {"type": "Run"}, u, "2026-03-01T10:03:00Z")
    later.act("J2", {"type": "Finish"}, u, "2026-03-01T10:04:00Z")
    assert [c["stepId"] for c in later.job("J2")["currentSteps"]] == ["c"]  # version 2's path

    missing = later.upgrade_job("J3", BOSS, "2026-03-01T10:05:00Z")
    assert missing.error_type == "InvalidRequest" and missing.body["error"]["details"] == ["stepId: b"]
    later.act("J4", {"type": "Run"}, u, "2026-03-01T10:06:00Z")
    running = later.upgrade_job("J4", BOSS, "2026-03-01T10:07:00Z")
    assert running.error_type == "InvalidRequest" and "rule: manage-no-running-step" in running.body["error"]["details"]
    assert later.upgrade_job("J4", BOSS, "2026-03-01T10:07:00Z", version="nope").error_type == "InvalidRequest"
    upgraded = [e for e in later.events_after(0) if e["type"] == "JobUpgraded"]
    assert [(e["jobId"], e["fromVersion"], e["toVersion"]) for e in upgraded] == [("J2", old, new)]
    assert later.verify_replay() == []


def test_a_version_first_written_with_a_job_is_saved_with_it(durable_url: str, open_engine: OpenEngine,
                                                              base_engine: Engine) -> None:
    eng = open_engine(durable_url)
    wf = eng.add_workflow(version_workflow("z"))  # loaded after sync_workflows
    eng.create_job("ver", "J1", now=T0)
    eng.store.close()
    store = open_store(durable_url)
    try:
        assert ("ver", wf.version) in [(w, v) for w, v, _ in store.stored_workflows()]
        fresh = base_engine.spawn(store)  # no YAML at all: the store has the versions
        assert fresh.sync_workflows() == []
        assert fresh.act("J1", {"type": "Run"}, Actor("u"), "2026-03-01T09:01:00Z").success
    finally:
        store.close()


# -- schema versions ----------------------------------------------------------------------------

def _raw(url: str) -> Any:
    if url.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(url, autocommit=True)
    return sqlite3.connect(url, isolation_level=None)


def test_a_database_from_a_newer_stepchart_is_a_clear_error(durable_url: str) -> None:
    open_store(durable_url).close()
    conn = _raw(durable_url)
    conn.execute(f"INSERT INTO stepchart_schema (version, description, applied_at) VALUES "
                 f"({SCHEMA_VERSION + 7}, 'from the future', '2030-01-01T00:00:00Z')")
    conn.close()
    with pytest.raises(SchemaVersionError, match=rf"schema version {SCHEMA_VERSION + 7} is newer"):
        open_store(durable_url)


def test_schema_upgrades_run_in_order_and_backfill(durable_url: str) -> None:
    old = open_store(durable_url, migrate_to=1)
    assert old.schema_version == 1
    old.close()
    doc = Job("J1", "timed", "v", current_steps=[CurrentStep("wait", "Ready")],
              holds=[Hold("H1", "wait", scheduled_release="2026-03-01T10:00:00Z"),
                     Hold("H2", "wait", dependent_job_id="J0")]).to_doc()
    conn = _raw(durable_url)
    mark = "%s" if durable_url.startswith("postgresql://") else "?"
    conn.execute(f"INSERT INTO jobs (job_id, workflow, workflow_version, closed, version, doc) "
                 f"VALUES ('J1', 'timed', 'v', {'false' if mark == '%s' else 0}, 1, {mark})", (json.dumps(doc),))
    conn.close()
    store = open_store(durable_url)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert store.due_jobs(parse_datetime("2026-03-01T10:00:00Z")) == ["J1"]
        conn = _raw(durable_url)
        rows = conn.execute("SELECT version FROM stepchart_schema ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m[0] for m in SQLITE_MIGRATIONS]  # each migration once (versions may skip)
        assert conn.execute("SELECT dep_job_id FROM job_waits").fetchall() == [("J0",)]
        conn.close()
    finally:
        store.close()
    open_store(durable_url).close()  # opening again changes nothing


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.db"
    bad.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match=r"x\.db"):
        open_store(bad)


# -- opening --------------------------------------------------------------------------------

def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_store("memory:"), ManagedMemoryStore)
    for target in (tmp_path / "a.db", f"sqlite:///{tmp_path}/b.db", f"sqlite:{tmp_path}/c.db"):
        s = open_store(target)
        assert isinstance(s, SQLiteStore)
        s.close()
    s = open_store(f"sqlite:///{tmp_path}/d.db?synchronous=full")
    assert isinstance(s, SQLiteStore) and s.synchronous == "FULL"
    s.close()
    with pytest.raises(StoreError, match="unknown SQLite URL option"):
        open_store(f"sqlite:///{tmp_path}/e.db?journal=x")
    monkeypatch.chdir(tmp_path)
    s = open_store()
    assert isinstance(s, SQLiteStore) and Path(s.path).name == "stepchart.db"
    s.close()
    assert (tmp_path / "stepchart.db").exists()
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_sqlite_runs_the_quickstart_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          base_engine: Engine) -> None:
    """The embedded default ./stepchart.db: a second run finds the first run's jobs and goes on."""
    monkeypatch.chdir(tmp_path)
    for run in (1, 2):
        store = open_store()
        eng = base_engine.spawn(store)
        eng.add_workflow(PARCEL)
        eng.sync_workflows()
        job = eng.create_job("parcel-edit", now=T0)
        assert job["jobId"] == f"J{run}"
        store.close()


# -- the indexes are used -------------------------------------------------------------------------

def test_sqlite_queries_use_their_indexes(tmp_path: Path) -> None:
    from stepchart.stores import sqlite as store_sqlite

    store = SQLiteStore(tmp_path / "q.db")
    try:
        conn = store._conn()

        def plan(sql: str, args: tuple[Any, ...]) -> str:
            return " | ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args))

        due = plan(store_sqlite.DUE_SCHEDULED, (0, -1))
        assert "jobs_next_release" in due and "SCAN jobs" not in due, due
        deps = plan(store_sqlite.DUE_DEPENDENCIES, (-1,))
        assert "SCAN w" in deps or "job_waits" in deps
        assert "SCAN d" not in deps, deps  # the dependent job is found by its key
        one = plan("SELECT doc FROM jobs WHERE job_id = ?", ("J1",))
        assert "USING INDEX" in one, one
        log = plan("SELECT seq FROM action_log WHERE job_id = ? AND seq > ? ORDER BY seq", ("J1", 0))
        assert "action_log_job" in log, log
    finally:
        store.close()


def test_postgres_queries_can_use_their_indexes(pg_url: str) -> None:
    from stepchart.stores import postgres as store_postgres

    store = open_store(pg_url)
    try:
        conn = store._conn()  # type: ignore[attr-defined]
        conn.execute("SET enable_seqscan = off")
        due = "\n".join(r[0] for r in conn.execute("EXPLAIN " + store_postgres.DUE_SCHEDULED, (0, None)))
        assert "jobs_next_release" in due, due
        conn.execute("RESET enable_seqscan")
    finally:
        store.close()


# -- the events feed --------------------------------------------------------------------------------

def test_events_feed_pages_and_filters(store_url: str, open_engine: OpenEngine) -> None:
    eng = open_engine(store_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.create_job("parcel-edit", "J2", now=T0)
    eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z")
    eng.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:02:00Z")
    everything = eng.events_after(0)
    seen: list[dict[str, Any]] = []
    cursor = 0
    while page := eng.events_after(cursor, limit=2):
        seen.extend(page)
        cursor = page[-1]["sequence"]
    assert seen == everything and len({e["sequence"] for e in seen}) == len(seen)
    assert [e["type"] for e in eng.events_after(0, "J2")][-1] == "StepStarted"
    assert all(e["jobId"] == "J2" for e in eng.events_after(0, "J2"))
    assert eng.events_after(cursor) == []
    log_seqs = {e["sequence"] for e in eng.action_log()}
    assert all(e["logSequence"] in log_seqs for e in everything)


def test_postgres_feed_waits_for_a_late_committer_instead_of_skipping_it(pg_url: str,
                                                                          open_engine: OpenEngine) -> None:
    """A transaction that took its sequence number first but commits last is not skipped by a poller."""
    import psycopg

    eng = open_engine(pg_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    cursor = eng.events_after(0)[-1]["sequence"]
    slow = psycopg.connect(pg_url)  # a writer in the middle of its transaction
    slow.execute("INSERT INTO events (job_id, event) VALUES ('J0', '{\"type\": \"Slow\", \"jobId\": \"J0\"}')")
    eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z")  # commits after, with a higher number
    assert eng.events_after(cursor) == []  # not yet: the slow writer could still land before it
    slow.commit()
    slow.close()
    later = eng.events_after(cursor)
    assert [e["type"] for e in later] == ["Slow", "StepStarted"]
    assert later[0]["sequence"] < later[1]["sequence"]
    assert eng.events_after(later[0]["sequence"]) == later[1:]
    assert eng.events_after(later[1]["sequence"]) == []


# -- export and import ------------------------------------------------------------------------------

@pytest.mark.parametrize("source,target", [("sqlite", "postgres"), ("postgres", "sqlite"), ("memory", "sqlite")])
def test_export_import_moves_jobs_between_backends(source: str, target: str, tmp_path: Path,
                                                    request: pytest.FixtureRequest, open_engine: OpenEngine,
                                                    base_engine: Engine) -> None:
    def url(kind: str, name: str) -> str:
        if kind == "memory":
            return "memory:"
        if kind == "sqlite":
            return str(tmp_path / f"{name}.db")
        return str(request.getfixturevalue("pg_url"))

    src = open_engine(url(source, "src"), PARCEL, TIMED)
    src.create_job("parcel-edit", "J1", now=T0)
    src.create_job("parcel-edit", "J2", now=T0)
    src.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z")
    src.act("J2", {"type": "Hold", "dependentJobId": "J1", "holdScheduledRelease": "2026-03-02T00:00:00Z"},
            ALICE, "2026-03-01T09:02:00Z")
    src.delete_job("J2", BOSS, "2026-03-01T09:03:00Z")
    src.load_job({"jobId": "T1", "workflow": "timed", "currentSteps": [{"stepId": "wait"}],
                  "holds": [{"holdId": "H1", "stepId": "wait", "scheduledRelease": "2026-03-01T10:00:00Z"}]})
    records = list(managed(src).export_records())
    assert records[0]["kind"] == "stepchart-export"
    dest_store = open_store(url(target, "dest"))
    try:
        report = dest_store.import_records(json.loads(json.dumps(r)) for r in records)
        assert (report.jobs, report.log_entries) == (2, 6)
        dest = base_engine.spawn(dest_store)
        assert dest.sync_workflows() == []  # the versions came along
        for jid in ("J1", "T1"):
            assert dest.job(jid) == src.job(jid)
        assert dest.verify_replay() == []
        assert dest.search_jobs() == src.search_jobs()
        assert managed(dest).due_jobs(parse_datetime("2026-03-01T10:00:00Z")) == ["T1"]
        assert [e["type"] for e in dest.events_after(0)] == [e["type"] for e in src.events_after(0)]
        with pytest.raises(JobExistsError):
            dest_store.import_records(records)
        assert dest.verify_replay() == []  # the failed import left nothing behind
        again = dest_store.import_records(records, skip_existing=True)
        assert again.jobs == 0 and again.log_entries == 0
        assert sorted(again.skipped_jobs) == ["J1", "J2", "T1"]  # J2: deleted, but its log is there
        only = list(managed(src).export_records(["T1"]))
        assert [r["kind"] for r in only] == ["stepchart-export", "workflow", "workflow", "job", "log"]
    finally:
        dest_store.close()


def test_import_refuses_what_it_cannot_read() -> None:
    store = open_store("memory:")
    with pytest.raises(StoreError, match="not a stepchart export"):
        store.import_records([{"kind": "job"}])
    with pytest.raises(StoreError, match="it is empty"):
        store.import_records([])
    with pytest.raises(StoreError, match="newer"):
        store.import_records([{"kind": "stepchart-export", "format": 99}])


def test_close_then_use_again_from_any_thread(durable_url: str) -> None:
    """close() ends every connection; a thread that used one before opens a new one."""
    store = open_store(durable_url)
    store.add(Job("J1", "w"))
    seen: list[bool] = []
    used, go = threading.Event(), threading.Event()

    def other() -> None:
        seen.append(store.exists("J1"))
        used.set()
        go.wait(10)
        seen.append(store.exists("J1"))

    t = threading.Thread(target=other)
    t.start()
    used.wait(10)
    store.close()
    go.set()
    t.join()
    assert seen == [True, True]
    assert store.get("J1") == Job("J1", "w")
    store.close()


def test_a_job_created_by_a_user_replays_with_that_user(store_url: str, open_engine: OpenEngine) -> None:
    eng = open_engine(store_url)
    eng.create_job("parcel-edit", "J1", now=T0, actor=ALICE)
    assert eng.job("J1")["history"][0]["username"] == "alice"
    assert eng.action_log("J1")[0]["actor"]["username"] == "alice"
    assert eng.verify_replay() == []


def test_postgres_requests_on_different_jobs_do_not_wait_for_each_other(pg_url: str, open_engine: OpenEngine) -> None:
    """A request holding job J1 (its row lock) delays another request on J1, not one on J2."""
    eng = open_engine(pg_url)
    eng.create_job("parcel-edit", "J1", now=T0)
    eng.create_job("parcel-edit", "J2", now=T0)
    holding, release = threading.Event(), threading.Event()

    def hold_j1() -> None:
        with eng.store.transaction("J1") as tx:
            assert tx.job is not None
            holding.set()
            release.wait(20)

    def act_j1(results: list[float]) -> None:
        started = time.monotonic()
        eng.act("J1", {"type": "Run"}, ALICE, "2026-03-01T09:02:00Z")
        results.append(time.monotonic() - started)

    holder = threading.Thread(target=hold_j1)
    holder.start()
    assert holding.wait(10)
    started = time.monotonic()
    assert eng.act("J2", {"type": "Run"}, ALICE, "2026-03-01T09:01:00Z").success
    assert time.monotonic() - started < 5  # J2 did not wait for J1's transaction
    waited: list[float] = []
    other = threading.Thread(target=act_j1, args=(waited,))
    other.start()
    time.sleep(0.5)
    assert waited == []  # still queued behind J1's row lock
    release.set()
    holder.join(10)
    other.join(10)
    assert waited and waited[0] >= 0.5
    assert eng.job("J1")["currentSteps"][0]["status"] == "Running"
