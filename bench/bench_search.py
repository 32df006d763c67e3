"""Benchmark (not a test): ``POST /jobs/search`` stays indexed as a SQLite store grows (issue 9).

Two SQLite stores, 1,000 and 100,000 parcel-edit jobs (bulk-imported), each with the
same 20 jobs assigned to the user ``target`` and the same 20 at the step ``review``;
every other job is at ``edit``, assigned to one of 500 other users. One uvicorn server
per store (a child process each, on loopback) answers ``POST /jobs/search`` with a
selective ``q`` (``assignedTo = 'target'``, and ``currentStepId = 'review' AND
closed = 0``), sorted by ``jobId``, first page of 10 and the total. Requests alternate
between the two servers, so both share the machine's noise. Target: the median ratio
large/small under 3 (the step condition is an uncorrelated ``IN`` the planner drives
from the ``job_steps`` indexes, so the work follows the matching jobs, not the store).

    python bench/bench_search.py                 # 1,000 vs 100,000 jobs, 300 requests each
    python bench/bench_search.py --large 20000 --requests 100

Prints a table, then one JSON line (the last line of output).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from stepchart import Engine, data_dir
from stepchart.http.app import create_app
from stepchart.http.auth import UserDirectory
from stepchart.stores import ManagedStore, open_store

T0 = "2026-03-01T09:00:00Z"
TOKEN = "tok-bench"
MATCHES = 20
QUERIES = {
    "assignee": "assignedTo = 'target'",
    "step": "currentStepId = 'review' AND closed = 0",
}


def _records(n: int) -> Iterator[dict[str, Any]]:
    """Export records of ``n`` parcel-edit jobs: ``MATCHES`` assigned to target, ``MATCHES`` at review."""
    engine = Engine(workflows=[data_dir("examples") / "parcel-edit.yaml"])
    engine.create_job("parcel-edit", "TEMPLATE", now=T0)
    doc = engine.job("TEMPLATE")
    wf = engine.workflows["parcel-edit"]
    yield {"kind": "stepchart-export", "format": 1}
    yield {"kind": "workflow", "workflow": wf.id, "version": wf.version, "source": wf.source}
    spread = max(1, n // MATCHES)
    for i in range(n):
        job = json.loads(json.dumps(doc))
        job["jobId"] = f"J{i:06d}"
        step = {"stepId": "edit", "status": "Ready", "assignedType": "User", "assignedTo": f"u{i % 500}"}
        if i % spread == 0 and i // spread < MATCHES:
            step["assignedTo"] = "target"
        elif i % spread == 1 and i // spread < MATCHES:
            step = {"stepId": "review", "status": "Ready", "assignedType": "User", "assignedTo": "carol"}
        job["currentSteps"] = [step]
        job["history"] = []
        yield {"kind": "job", "doc": job}


def _serve(db: str, sock: socket.socket) -> None:
    """The child process: ``create_app`` over the store at ``db``, uvicorn on the inherited socket."""
    engine = Engine(store=open_store(db), workflows=[data_dir("examples") / "parcel-edit.yaml"])
    engine.sync_workflows()
    app = create_app(engine, UserDirectory.of({"bench": ([], [], TOKEN)}))
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


class _Server:
    """A uvicorn server on 127.0.0.1 in a child process (so client and server do not share one GIL)."""

    def __init__(self, db: str) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = mp.get_context("fork").Process(target=_serve, args=(db, self.sock), daemon=True)
        self.process.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the search server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def _fill(path: str, n: int) -> str:
    store = open_store(path)
    assert isinstance(store, ManagedStore)
    store.import_records(_records(n))
    store.close()
    return path


def _post(port: int, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """One search on a new connection, timed (a kept-alive connection on this loopback adds a steady ~40 ms of
    delayed-ACK wait to every request, whatever it does, which would hide the search itself)."""
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    t = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/org/item/jobs/search", body=data, headers=headers)
    r = conn.getresponse()
    raw = r.read()
    elapsed = time.perf_counter() - t
    conn.close()
    assert r.status == 200, raw
    answer: dict[str, Any] = json.loads(raw)
    return elapsed, answer


def run(small_n: int, large_n: int, requests: int, warmup: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="stepchart-bench-search-") as tmp:
        started = time.perf_counter()
        dbs = {k: _fill(str(Path(tmp) / f"{k}.db"), n) for k, n in (("small", small_n), ("large", large_n))}
        fill_s = time.perf_counter() - started
        servers = {k: _Server(db) for k, db in dbs.items()}
        timings: dict[str, list[float]] = {f"{s}_{q}": [] for s in servers for q in QUERIES}
        for i in range(warmup + requests):
            for qname, q in QUERIES.items():
                for size in ["small", "large"] if i % 2 == 0 else ["large", "small"]:
                    body = {"q": q, "fields": ["jobId", "assignedTo"], "num": 10,
                            "sortFields": [{"field": "jobId", "sortOrder": "Asc"}]}
                    elapsed, answer = _post(servers[size].port, body)
                    assert answer["total"] == MATCHES, answer
                    if i >= warmup:
                        timings[f"{size}_{qname}"].append(elapsed)
        for srv in servers.values():
            srv.stop()
    med = {k: statistics.median(v) * 1e3 for k, v in timings.items()}
    out: dict[str, Any] = {"small_jobs": small_n, "large_jobs": large_n, "requests": requests}
    out["fill_s"] = round(fill_s, 1)
    for q in QUERIES:
        out[f"median_ms_small_{q}"] = round(med[f"small_{q}"], 3)
        out[f"median_ms_large_{q}"] = round(med[f"large_{q}"], 3)
        out[f"ratio_{q}"] = round(med[f"large_{q}"] / med[f"small_{q}"], 3)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()
    result = run(args.small, args.large, args.requests, args.warmup)
    print(f"python {platform.python_version()}, {platform.machine()}, {args.requests} requests per series")
    print(f"{'query':<10} {'small ms':>10} {'large ms':>10} {'ratio':>7}  (target < 3)")
    for q in QUERIES:
        print(f"{q:<10} {result[f'median_ms_small_{q}']:>10.3f} {result[f'median_ms_large_{q}']:>10.3f} "
              f"{result[f'ratio_{q}']:>7.2f}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
