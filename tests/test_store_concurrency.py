"""Many writers at once, and writers that die: on SQLite and on PostgreSQL.

- 8 worker processes send 500 requests each (every kind: jobAction types, respond,
  complete, fail, assign, close, reopen, the sweep) against the same few jobs, with
  holds that depend on each other's jobs. Afterwards every request that answered 200
  is in the action log exactly once (with the same answer), nothing else is, no
  sequence number repeats, and replaying each job's log rebuilds the stored job.
- A writer is killed (SIGKILL) inside a request, after its job row was written and
  before its log entry was: the job must be as its log says, every time.

This file is also the worker program: ``python test_store_concurrency.py worker|writer ...``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

pytest_plugins = ["pg_fixture"]

HERE = Path(__file__).resolve()
WORKERS = 8
REQUESTS = 500
JOBS = [f"C{i}" for i in range(1, 7)]
BASE = "2026-05-01T08:00:00Z"
PRIVILEGES = ["jobUpdateHolds", "workflowSetStepCurrent", "jobForceStop", "adminBasic", "jobAssignAny", "jobClose",
              "jobReopenClosed"]

# A workflow that never ends: every step type, several current steps at once, an automatic step.
LOOP: dict[str, Any] = {
    "workflow": "loop",
    "initialStep": "work",
    "steps": [
        {"id": "work", "type": "manual", "canSkip": True, "assignedType": "Group", "assignedTo": "editors",
         "paths": [{"nextStep": "check"}]},
        {"id": "check", "type": "question", "answers": ["again", "done", "both"], "assignedType": "Group",
         "assignedTo": "editors",
         "paths": [{"nextStep": "build", "returnValue": ["again", "both"]},
                   {"nextStep": "auto", "returnValue": ["done", "both"]}]},
        {"id": "build", "type": "gp",
         "paths": [{"nextStep": "work", "returnValue": "Success"}, {"nextStep": "check", "returnValue": "Retry"}]},
        {"id": "auto", "type": "manual", "automatic": True, "proceedNext": True, "paths": [{"nextStep": "work"}]},
    ],
}
STEPS = [s["id"] for s in LOOP["steps"]]


# -- the worker side ---------------------------------------------------------------------------

def _request(engine: Any, rng: random.Random, actor: Any, job_id: str, now: Any) -> tuple[str, str, Any]:
    """One random request: (action as logged, acting user, result)."""
    from stepchart.model.times import format_datetime

    name = actor.username
    kind = rng.choices(["Run", "Finish", "Stop", "Hold", "ReleaseHold", "SetCurrentStep", "RefreshStatus",
                        "respond", "complete", "fail", "assign", "close", "reopen"],
                       [14, 14, 5, 8, 8, 3, 2, 10, 8, 2, 4, 1, 6])[0]
    step = rng.choice(STEPS)
    targets: dict[str, Any] = {"stepIds": [step]} if rng.random() < 0.5 else {}
    if kind in ("Run", "Finish", "Stop", "RefreshStatus"):
        return kind, name, engine.act(job_id, {"type": kind, **targets}, actor, now)
    if kind == "Hold":
        body: dict[str, Any] = {"type": "Hold", **targets}
        flavour = rng.random()
        if flavour < 0.4:
            body["holdScheduledRelease"] = format_datetime(now + timedelta(minutes=rng.randint(1, 20)))
        elif flavour < 0.7:
            body["dependentJobId"] = rng.choice(JOBS)
            if rng.random() < 0.5:
                body["dependentStepId"] = rng.choice(STEPS)
        return "Hold", name, engine.act(job_id, body, actor, now)
    if kind == "ReleaseHold":
        body = {"type": "ReleaseHold", **targets}
        if rng.random() < 0.3:
            body["dependentJobId"] = rng.choice(JOBS)
        return "ReleaseHold", name, engine.act(job_id, body, actor, now)
    if kind == "SetCurrentStep":
        return kind, name, engine.act(job_id, {"type": kind, "stepIds": [step]}, actor, now)
    if kind == "respond":
        value = rng.choice(["again", "done", "both", "nope"])
        return "Respond", name, engine.respond(job_id, "check", value, actor, now)
    if kind == "complete":
        return "Complete", "system", engine.complete(job_id, "build", rng.choice(["Success", "Retry", "Bogus"]),
                                                     now=now)
    if kind == "fail":
        return "Fail", "system", engine.fail(job_id, "build", "host failed", now=now)
    if kind == "assign":
        if rng.random() < 0.5:
            return "Assign", name, engine.assign(job_id, step, "Group", "editors", actor, now)
        return "Assign", name, engine.assign(job_id, step, "User", name, actor, now)
    if kind == "close":
        return "Close", name, engine.close_job(job_id, actor, now)
    return "Reopen", name, engine.reopen_job(job_id, actor, now)


def _engine(url: str) -> Any:
    from stepchart import Engine
    from stepchart.stores import open_store

    engine = Engine(store=open_store(url), workflows=[LOOP])
    engine.sync_workflows()
    return engine


def worker(url: str, k: int, n: int, out_path: str, seed: int) -> None:
    """Send ``n`` random requests; write one JSON line per request (and per job the sweep refreshed)."""
    from stepchart.model import Actor
    from stepchart.model.times import format_datetime, parse_datetime

    engine = _engine(url)
    rng = random.Random(seed * 1000 + k)
    actor = Actor.of(f"w{k}", ["editors"], PRIVILEGES)
    base = parse_datetime(BASE)
    with open(out_path, "w", encoding="utf-8") as out:
        for i in range(n):
            now = base + timedelta(seconds=60 * i, microseconds=k + 1)  # unique per (worker, request)
            job_id = rng.choice(JOBS)
            action, who, result = _request(engine, rng, actor, job_id, now)
            out.write(json.dumps({"jobId": job_id, "actor": who, "now": format_datetime(now), "action": action,
                                  "status": result.status_code, "response": result.body}) + "\n")
            if k == 0 and i % 25 == 24:  # the sweep runs beside the workers
                at = now + timedelta(seconds=30)
                for jid, res in engine.sweep(at):
                    out.write(json.dumps({"jobId": jid, "actor": "system", "now": format_datetime(at),
                                          "action": "Refresh", "status": res.status_code, "response": res.body})
                              + "\n")
    engine.store.close()


def writer(url: str, seed: int) -> None:
    """Send requests until killed; announce each time a request is inside its transaction.

    The store's log append is slowed down and preceded by ``inside`` on stdout: at that
    moment the job's row is written and its log entry is not.
    """
    from stepchart.model import Actor
    from stepchart.model.times import parse_datetime

    engine = _engine(url)
    store_class = type(engine.store)
    original = store_class._append

    def slow_append(self: Any, *args: Any, **kwargs: Any) -> Any:
        print("inside", flush=True)
        time.sleep(0.05)
        return original(self, *args, **kwargs)

    store_class._append = slow_append
    rng = random.Random(seed)
    actor = Actor.of("crash", ["editors"], PRIVILEGES)
    now = parse_datetime(BASE) + timedelta(days=seed)
    i = 0
    while True:
        i += 1
        now += timedelta(seconds=7)
        print(f"begin {i}", flush=True)
        _request(engine, rng, actor, rng.choice(JOBS), now)
        print(f"end {i}", flush=True)


# -- the test side ------------------------------------------------------------------------------

def _setup(url: str, base_engine: Any) -> Any:
    from stepchart.stores import open_store

    store = open_store(url)
    engine = base_engine.spawn(store)
    engine.add_workflow(LOOP)
    engine.sync_workflows()
    for jid in JOBS:
        engine.create_job("loop", jid, now=BASE)
    return engine


def _user(actor: Any) -> str:
    return str(actor["username"] if isinstance(actor, dict) else actor)


def _run_concurrency(url: str, tmp_path: Path, base_engine: Any) -> None:
    engine = _setup(url, base_engine)
    seed = int(os.environ.get("STEPCHART_TEST_SEED", "7"))
    outs = [tmp_path / f"worker{k}.jsonl" for k in range(WORKERS)]
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(HERE), "worker", url, str(k), str(REQUESTS), str(outs[k]),
                               str(seed)], stderr=subprocess.PIPE, text=True) for k in range(WORKERS)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    elapsed = time.monotonic() - started

    answered = [json.loads(line) for out in outs for line in out.read_text().splitlines()]
    assert sum(1 for a in answered if a["action"] != "Refresh") == WORKERS * REQUESTS
    ok = [a for a in answered if a["status"] == 200]
    log = [e for e in engine.action_log() if e["action"] != "Create"]

    def key(x: dict[str, Any]) -> tuple[str, str, str, str]:
        return x["jobId"], _user(x["actor"]), x["now"], x["action"]

    expected = Counter(key(a) for a in ok)
    found = Counter(key(e) for e in log)
    assert max(expected.values()) == 1  # the keys identify requests
    assert found == expected, (f"missing from the log: {list((expected - found).items())[:5]}; "
                               f"not sent: {list((found - expected).items())[:5]}")
    responses = {key(a): a["response"] for a in ok}
    assert all(e["response"] == responses[key(e)] for e in log)
    seqs = [e["sequence"] for e in engine.action_log()]
    assert len(seqs) == len(set(seqs))
    # the run did real work on shared jobs, not only refusals
    statuses = Counter(r["status"] for a in ok for r in a["response"].get("stepResponses", []))
    assert statuses["Success"] > WORKERS * REQUESTS // 10, statuses
    assert len({e["jobId"] for e in log}) == len(JOBS)
    mismatches = engine.verify_replay()
    assert [m.describe() for m in mismatches] == []
    events = engine.events_after(0)
    assert len({e["sequence"] for e in events}) == len(events)
    assert sum(len(e["events"]) for e in engine.action_log()) == len(events)
    engine.store.close()
    print(f"{url.split(':')[0]}: {WORKERS}x{REQUESTS} requests in {elapsed:.1f}s, {len(ok)} answered 200, "
          f"step statuses {dict(statuses)}")


def test_eight_processes_on_sqlite(tmp_path: Path, base_engine: Any) -> None:
    _run_concurrency(str(tmp_path / "shared.db"), tmp_path, base_engine)


def test_eight_processes_on_postgres(pg_url: str, tmp_path: Path, base_engine: Any) -> None:
    _run_concurrency(pg_url, tmp_path, base_engine)


def _crash(url: str, base_engine: Any) -> None:
    engine = _setup(url, base_engine)
    engine.store.close()
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, str(HERE), "writer", url, str(round_ + 1)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        done = 0
        deadline = time.monotonic() + 60
        killed_inside = False
        for line in proc.stdout:
            if line.startswith("end"):
                done += 1
            if line.strip() == "inside" and done >= 5 + 3 * round_:
                os.kill(proc.pid, signal.SIGKILL)  # the job row is written, the log entry is not
                killed_inside = True
                break
            assert time.monotonic() < deadline, "the writer made no progress"
        proc.wait(timeout=30)
        assert killed_inside, proc.stderr.read() if proc.stderr else ""
        assert proc.returncode == -signal.SIGKILL

    from stepchart.stores import open_store

    store = open_store(url)
    checker = base_engine.spawn(store)
    checker.add_workflow(LOOP)
    checker.sync_workflows()
    try:
        assert [m.describe() for m in checker.verify_replay()] == []
        assert any(_user(e["actor"]) == "crash" for e in checker.action_log())
        seqs = [e["sequence"] for e in checker.action_log()]
        assert len(seqs) == len(set(seqs))
    finally:
        store.close()
    if not url.startswith("postgresql://"):
        conn = sqlite3.connect(url)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()


def test_a_writer_killed_inside_a_request_on_sqlite(tmp_path: Path, base_engine: Any) -> None:
    _crash(str(tmp_path / "crash.db"), base_engine)


def test_a_writer_killed_inside_a_request_on_postgres(pg_url: str, base_engine: Any) -> None:
    _crash(pg_url, base_engine)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    elif mode == "writer":
        writer(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
