"""Benchmark (not a test): requests per second of the jobAction endpoint against its ceiling.

One uvicorn server (a child process) serves both, on loopback:

* **action**: ``POST /org/item/jobs/{jobId}/action`` through the whole service: token
  check (SHA-256 + constant-time compare), body checks, the engine in its worker
  thread, a SQLite store in ``synchronous=NORMAL`` WAL mode (the default of ``stepchart
  serve``), one committed transaction per request (job document, history, event, log);
* **ceiling**: ``POST /ceiling/org/item/jobs/{jobId}/action``, a bare Starlette endpoint on
  the same server that returns a fixed body of the same size as the action's answers
  and does nothing else;
* **stub** (the breakdown): ``POST /stub/org/item/jobs/{jobId}/action``, the whole service
  (token, body checks, worker thread, JSON answer) over an engine whose ``act`` returns a
  fixed answer at once: what the HTTP layer itself costs.

Before the server starts, ``engine.act`` alone is timed in-process (no HTTP, one
thread) on the memory store and on SQLite: what the engine and the store cost.

The same load generator sends the same requests (same headers, same bodies, only the
path prefix differs) to both: ``wrk`` (Debian's) with one thread and 8 connections, or,
without wrk, one Python asyncio client with a fixed concurrency of 8. Every action is
real: each request alternates ``Run`` and ``Stop`` on one of many one-step jobs (a fresh
set of jobs per round), so every answer is ``success: true``; the script counts the
answers that are not and reports them.

Rounds alternate ceiling and action (rotating which goes first) and the figures are
medians over the rounds. Prints a table, then one JSON line (the last line of output).

    python bench/bench_http.py              # 5 rounds of 8 s each side (about 2 minutes)
    python bench/bench_http.py --quick      # 3 rounds of 3 s
    python bench/bench_http.py --client python   # force the Python client
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
CONNECTIONS = 8
TOKEN = "bench-token-0123456789"
WORKFLOW: dict[str, Any] = {
    "workflow": "bench",
    "initialStep": "work",
    "steps": [
        {"id": "work", "type": "manual", "assignedType": "User", "assignedTo": "bench", "paths": []},
    ],
}
RUN_BODY = b'{"type":"Run"}'
STOP_BODY = b'{"type":"Stop"}'


# -- the server (child process) -----------------------------------------------------------------


def serve(db: str, port_file: str, ceiling_size: int, threads: int | None) -> None:
    """Build the service on ``db`` plus the ceiling route, and serve on a free loopback port."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    from stepchart.bootstrap import open_engine
    from stepchart.engine.core import ActionResult
    from stepchart.http.app import create_app
    from stepchart.http.auth import UserDirectory
    from stepchart.stores import MemoryStore

    engine = open_engine(db, workflows=[WORKFLOW])
    users = UserDirectory.of({"bench": ([], [], TOKEN)})
    fixed = _ceiling_body(ceiling_size)

    async def ceiling(request: Request) -> Response:
        return Response(fixed, media_type="application/json")

    class StubEngine:
        """The service with no engine work: every act answers a fixed R13 body (the breakdown)."""

        store = MemoryStore()
        workflows: ClassVar[dict[str, Any]] = {}
        answer = json.loads(fixed)

        def act(self, *args: Any, **kwargs: Any) -> ActionResult:
            return ActionResult(200, self.answer)

    stub = create_app(StubEngine(), users, engine_threads=threads)  # type: ignore[arg-type]
    app = create_app(
        engine,
        users,
        engine_threads=threads,
        extra_routes=[
            Route("/ceiling/{orgId}/{itemId}/jobs/{jobId}/action", ceiling, methods=["POST"]),
            Mount("/stub", app=stub),
        ],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY by asyncio
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    Path(port_file).write_text(str(sock.getsockname()[1]))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def _ceiling_body(size: int) -> bytes:
    """``{"success":true,...}`` padded to ``size`` bytes: the same size as the action's answers."""
    head = b'{"success":true,"stepResponses":[{"stepId":"work","status":"Success","statusDescription":"'
    tail = b'"}]}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def create_jobs(db: str, prefix: str, count: int) -> None:
    """Pre-create ``count`` one-step jobs ``{prefix}{n}`` (outside any timed region)."""
    from stepchart.bootstrap import open_engine

    engine = open_engine(db, workflows=[WORKFLOW])
    now = "2026-01-01T00:00:00Z"
    for n in range(count):
        engine.create_job("bench", f"{prefix}{n}", now=now)
    engine.store.close()


def engine_act_us(target: str, jobs: int = 1000, passes: int = 6) -> float:
    """Median microseconds of one ``engine.act`` (Run, then Stop) in this process: no HTTP, no threads."""
    from datetime import UTC, datetime

    from stepchart import Actor
    from stepchart.bootstrap import open_engine

    engine = open_engine(target, workflows=[WORKFLOW])
    for n in range(jobs):
        engine.create_job("bench", f"E{n}", now="2026-01-01T00:00:00Z")
    actor = Actor.of("bench")
    per: list[float] = []
    for k in range(passes):
        body = RUN_BODY if k % 2 == 0 else STOP_BODY
        t0 = time.perf_counter()
        for n in range(jobs):
            engine.act(f"E{n}", body, actor, datetime.now(UTC))
        per.append((time.perf_counter() - t0) / jobs * 1e6)
    engine.store.close()
    return round(statistics.median(per[1:]))


# -- load generators ------------------------------------------------------------------------------

WRK_SCRIPT = textwrap.dedent(
    """
    local jobs = tonumber(os.getenv("BENCH_JOBS"))
    local base = os.getenv("BENCH_BASE")
    local jprefix = os.getenv("BENCH_JOB_PREFIX")
    local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")}
    local bodies = {'{"type":"Run"}', '{"type":"Stop"}'}
    local i = 0
    failures = 0
    local threads = {}
    function setup(thread) table.insert(threads, thread) end
    local verified = false
    function request()
      local job = i % jobs
      local visit = math.floor(i / jobs)
      -- wrk calls request() once on this state to check it (script_verify_request) and
      -- never sends that one: do not count it, or each job's Run/Stop order would shift.
      if verified then i = i + 1 else verified = true end
      return wrk.format("POST", base .. "/jobs/" .. jprefix .. job .. "/action", headers, bodies[(visit % 2) + 1])
    end
    function response(status, hdrs, body)
      if status ~= 200 or not string.find(body, '"success":true', 1, true) then
        failures = failures + 1
        if failures <= 3 then io.stderr:write("not success: " .. status .. " " .. body .. "\\n") end
      end
    end
    function done(summary, latency, requests)
      local f = 0
      for _, t in ipairs(threads) do f = f + t:get("failures") end
      io.write(string.format("BENCH %d %d %f %d %d\\n", summary.requests, f, summary.duration / 1e6,
        latency:percentile(50), latency:percentile(99)))
    end
    """
)


def run_wrk(url: str, base: str, job_prefix: str, jobs: int, seconds: float, script: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_JOBS": str(jobs),
        "BENCH_BASE": base,
        "BENCH_JOB_PREFIX": job_prefix,
        "BENCH_TOKEN": TOKEN,
    }
    proc = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=seconds + 60,
    )
    if proc.stderr.strip():
        print(proc.stderr.strip(), file=sys.stderr)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH "))
    n, failures, duration, p50, p99 = line.split()[1:]
    return {
        "requests": int(n),
        "failures": int(failures),
        "rps": int(n) / float(duration),
        "p50_ms": int(p50) / 1000,
        "p99_ms": int(p99) / 1000,
    }


async def _python_client(port: int, base: str, job_prefix: str, jobs: int, seconds: float) -> dict[str, float]:
    """One asyncio client, 8 keep-alive connections, each sending its next request when answered."""
    counter = 0
    failures = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal counter, failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                i = counter
                counter += 1
                body = RUN_BODY if (i // jobs) % 2 == 0 else STOP_BODY
                path = f"{base}/jobs/{job_prefix}{i % jobs}/action"
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode()
                t0 = time.perf_counter()
                writer.write(head + body)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                payload = await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                if b" 200 " not in status_line or b'"success":true' not in payload:
                    failures += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": failures,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


# -- the run ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=4, metavar=("DB", "PORT_FILE", "SIZE", "THREADS"), help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 3 s")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--jobs", type=int, default=3000, help="one-step jobs per round (default 3000)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--engine-threads",
        type=int,
        default=None,
        metavar="N",
        help="as stepchart serve --engine-threads (default: the service's default for SQLite, inline)",
    )
    args = parser.parse_args()
    if args.serve:
        db, port_file, size, threads = args.serve
        serve(db, port_file, int(size), None if threads == "auto" else int(threads))
        return 0

    rounds = args.rounds or (3 if args.quick else 5)
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    tmp = Path(tempfile.mkdtemp(prefix="stepchart-bench-"))
    db = str(tmp / "bench.db")
    # answers are "The step was started running." / "The step was stopped.": the ceiling gets their mean size
    run_answer = (
        '{"success":true,"stepResponses":[{"stepId":"work","status":"Success",'
        '"statusDescription":"The step was started running."}]}'
    )
    stop_answer = run_answer.replace("The step was started running.", "The step was stopped.")
    size = (len(run_answer) + len(stop_answer)) // 2
    print("timing engine.act alone ...", flush=True)
    engine_us = {"memory": engine_act_us("memory:"), "sqlite": engine_act_us(str(tmp / "alone.db"))}
    print(f"creating {rounds + 1} x {args.jobs} jobs in {db} ...", flush=True)
    for r in range(rounds + 1):
        create_jobs(db, f"R{r}-", args.jobs)
    port_file = tmp / "port"
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            db,
            str(port_file),
            str(size),
            "auto" if args.engine_threads is None else str(args.engine_threads),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or child.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        _wait_healthy(port)
        url = f"http://127.0.0.1:{port}"
        script = tmp / "bench.lua"
        script.write_text(WRK_SCRIPT)

        def measure(kind: str, job_prefix: str, secs: float) -> dict[str, float]:
            base = {"ceiling": "/ceiling/org/item", "stub": "/stub/org/item", "action": "/org/item"}[kind]
            if client == "wrk":
                return run_wrk(url, base, job_prefix, args.jobs, secs, script)
            return asyncio.run(_python_client(port, base, job_prefix, args.jobs, secs))

        # warm-up on round 0's jobs (both sides), not counted
        measure("ceiling", "R0-", min(2.0, seconds))
        measure("stub", "R0-", min(2.0, seconds))
        measure("action", "R0-", min(2.0, seconds))
        results: dict[str, list[dict[str, float]]] = {"ceiling": [], "stub": [], "action": []}
        for r in range(1, rounds + 1):
            kinds = ["ceiling", "stub", "action"]
            order = kinds[r % 3 :] + kinds[: r % 3]  # rotate which goes first
            for kind in order:
                res = measure(kind, f"R{r}-", seconds)
                results[kind].append(res)
                print(
                    f"round {r} {kind:8s} {res['rps']:9.0f} req/s  p50 {res['p50_ms']:.2f} ms  "
                    f"p99 {res['p99_ms']:.2f} ms  not-success {res['failures']}",
                    flush=True,
                )
    finally:
        child.terminate()
        child.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(kind: str, key: str) -> float:
        return statistics.median(x[key] for x in results[kind])

    ceiling, action, stub = med("ceiling", "rps"), med("action", "rps"), med("stub", "rps")
    summary = {
        "benchmark": "http",
        "client": "wrk -t1 -c8" if client == "wrk" else "python asyncio, 8 connections",
        "server": _server_stack(),
        "engine_in": "event loop" if not args.engine_threads else f"{args.engine_threads} worker thread(s)",
        "store": "SQLite WAL synchronous=NORMAL",
        "rounds": rounds,
        "seconds": seconds,
        "ceiling_rps": round(ceiling),
        "action_rps": round(action),
        "ratio": round(action / ceiling, 3),
        "stub_rps": round(stub),
        "stub_ratio": round(stub / ceiling, 3),
        "engine_act_us": engine_us,
        "action_p50_ms": round(med("action", "p50_ms"), 2),
        "action_p99_ms": round(med("action", "p99_ms"), 2),
        "ceiling_p50_ms": round(med("ceiling", "p50_ms"), 2),
        "not_success": int(sum(x["failures"] for x in results["action"])),
        "ceiling_not_success": int(sum(x["failures"] for x in results["ceiling"])),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    print()
    print(f"{'':10s} {'req/s (median)':>15s} {'p50 ms':>8s} {'p99 ms':>8s}")
    print(f"{'ceiling':10s} {ceiling:15.0f} {med('ceiling', 'p50_ms'):8.2f} {med('ceiling', 'p99_ms'):8.2f}")
    print(f"{'stub':10s} {stub:15.0f} {med('stub', 'p50_ms'):8.2f} {med('stub', 'p99_ms'):8.2f}")
    print(f"{'action':10s} {action:15.0f} {med('action', 'p50_ms'):8.2f} {med('action', 'p99_ms'):8.2f}")
    print(f"engine.act alone (no HTTP, one thread), median us per request: {engine_us}")
    print(
        f"action / ceiling = {action / ceiling:.2f} (aim: at least 0.5); answers not success: {summary['not_success']}"
    )
    print(json.dumps(summary))
    return 0 if summary["not_success"] == 0 else 1


def _server_stack() -> str:
    import starlette
    import uvicorn

    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    return f"uvicorn {uvicorn.__version__} ({http}, {loop}), starlette {starlette.__version__}"


def _wait_healthy(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server never became healthy")


if __name__ == "__main__":
    sys.exit(main())
