"""Benchmark (not a test): the durable stores.

1. SQLite, a small store against a large one: the median latency of one action
   (``act`` Run or Stop on a job picked at random) on a store holding 100 jobs and on
   one holding 100,000 jobs (each with its creation in the action log). The actions
   alternate between the two stores, so both share the machine's noise. Target: the
   ratio large/small stays under 1.5 (every request reads and writes its job by key:
   nothing scans).
2. PostgreSQL, clients on different jobs: actions per second with 4 concurrent client
   processes against 1 (each client acts on jobs of its own). Requests on different
   jobs take different row locks, so the clients do not queue behind each other; what
   is left is the machine (CPU cores shared with the server) and the commit's WAL
   flush, which concurrent commits share.

    python bench/bench_store.py                      # both; PostgreSQL from $STEPCHART_PG_URL
    python bench/bench_store.py --jobs 20000 --actions 1000 --pg-url postgresql://...
    python bench/bench_store.py --skip-postgres

Prints a table, then one JSON line (the last line of output).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from stepchart import Actor, Engine, data_dir
from stepchart.stores import ManagedStore, open_store

T0 = "2026-03-01T09:00:00Z"
EDITOR = Actor.of("ed", ["editors"], [])


def template(engine: Engine) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh parcel-edit job (edit Ready, Group editors) and its creation log entry."""
    engine.create_job("parcel-edit", "TEMPLATE", now=T0)
    doc = engine.job("TEMPLATE")
    store = engine.store
    assert isinstance(store, ManagedStore)
    [entry] = store.log_entries("TEMPLATE")
    return doc, entry


def records(engine: Engine, ids: list[str]) -> Any:
    """Export records of ``ids`` copies of the template job (bulk import is one transaction)."""
    doc, entry = template(engine)
    text = json.dumps(doc)
    log = json.dumps({k: v for k, v in entry.items() if k != "sequence"})
    yield {"kind": "stepchart-export", "format": 1}
    wf = engine.workflows["parcel-edit"]
    yield {"kind": "workflow", "workflow": wf.id, "version": wf.version, "source": wf.source}
    for jid in ids:
        yield {"kind": "job", "doc": json.loads(text.replace('"TEMPLATE"', json.dumps(jid)))}
    for jid in ids:
        yield {"kind": "log", **json.loads(log.replace('"TEMPLATE"', json.dumps(jid)))}


def engine_on(store: ManagedStore) -> Engine:
    engine = Engine(store=store, workflows=[data_dir("examples") / "parcel-edit.yaml"])
    engine.sync_workflows()
    return engine


def fill(url: str, n: int) -> Engine:
    store = open_store(url)
    engine = engine_on(store)
    store.import_records(records(engine_on(open_store("memory:")), [f"J{i}" for i in range(1, n + 1)]))
    return engine


def toggle(engine: Engine, job_id: str, running: set[str], now: str) -> None:
    """Run the job's edit step, or Stop it if it runs: every action changes the job."""
    action = "Stop" if job_id in running else "Run"
    result = engine.act(job_id, {"type": action, "stepIds": ["edit"]}, EDITOR, now)
    assert result.success, result.body
    running.symmetric_difference_update({job_id})


def sqlite_latency(small_n: int, large_n: int, actions: int, warmup: int, seed: int) -> dict[str, Any]:
    """Median act() latency on a small and a large SQLite store, interleaved.

    Three series, one action each per round, in rotating order:

    - ``small``: a job picked at random among the small store's jobs;
    - ``large``: a job picked at random among as many jobs of the large store, spread
      over all of it. Each job then sees as many actions as a small-store job, so the
      documents grow alike (every action adds history): the headline ratio compares
      store sizes and nothing else;
    - ``large_any``: a job picked at random among all the large store's jobs (each one
      touched about once: colder pages, but younger, smaller documents).
    """
    with tempfile.TemporaryDirectory(prefix="stepchart-bench-") as tmp:
        started = time.perf_counter()
        small = fill(str(Path(tmp) / "small.db"), small_n)
        large = fill(str(Path(tmp) / "large.db"), large_n)
        fill_s = time.perf_counter() - started
        rng = random.Random(seed)
        spread = [f"J{1 + k * large_n // small_n}" for k in range(small_n)]
        pools = {"small": (small, [f"J{k}" for k in range(1, small_n + 1)]), "large": (large, spread)}
        timings: dict[str, list[float]] = {"small": [], "large": [], "large_any": []}
        running: set[tuple[str, str]] = set()
        for i in range(warmup + actions):
            series = ["small", "large", "large_any"]
            series = series[i % 3:] + series[:i % 3]
            for name in series:
                engine, pool = pools.get(name, (large, []))
                job_id = rng.choice(pool) if pool else f"J{rng.randint(1, large_n)}"
                key = ("large" if engine is large else "small", job_id)
                now = f"2026-03-02T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"
                mine = {j for s_, j in running if s_ == key[0]}
                t = time.perf_counter()
                toggle(engine, job_id, mine, now)
                elapsed = time.perf_counter() - t
                running.symmetric_difference_update({key})
                if i >= warmup:
                    timings[name].append(elapsed)
        size = os.path.getsize(Path(tmp) / "large.db")
        for e in (small, large):
            e.store.close()
    med = {k: statistics.median(v) * 1e3 for k, v in timings.items()}
    p90 = {k: statistics.quantiles(v, n=10)[-1] * 1e3 for k, v in timings.items()}
    return {"small_jobs": small_n, "large_jobs": large_n, "actions": actions,
            **{f"median_ms_{k}": round(v, 3) for k, v in med.items()},
            **{f"p90_ms_{k}": round(v, 3) for k, v in p90.items()},
            "ratio": round(med["large"] / med["small"], 3), "ratio_any": round(med["large_any"] / med["small"], 3),
            "fill_s": round(fill_s, 1), "large_db_mb": round(size / 1e6, 1)}


def _client(url: str, job_ids: list[str], actions: int, ready: Any, go: Any, out: Any) -> None:
    """One client process: its own engine and jobs; times ``actions`` toggles after the start signal."""
    store = open_store(url)
    engine = engine_on(store)
    running = {j for j in job_ids if engine.job(j)["currentSteps"][0]["status"] == "Running"}
    toggle(engine, job_ids[0], running, T0)  # connect and warm up before the clock starts
    backend = _backend_cpu_probe(store)
    ready.set()
    go.wait()
    started, cpu, server = time.perf_counter(), time.process_time(), backend()
    for i in range(actions):
        toggle(engine, job_ids[i % len(job_ids)], running, f"2026-03-03T00:00:{i % 60:02d}Z")
    server_after = backend()
    out.put((time.perf_counter() - started, time.process_time() - cpu,
             None if server is None or server_after is None else server_after - server))
    store.close()


def _backend_cpu_probe(store: ManagedStore) -> Any:
    """A function giving the CPU seconds of this client's server process so far (None if not on this machine)."""
    try:
        pid = store._conn().info.backend_pid  # type: ignore[attr-defined]
        path = Path(f"/proc/{pid}/stat")
        path.read_text()
    except (OSError, AttributeError):
        return lambda: None

    def cpu() -> float | None:
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return cpu


def _schema_url(url: str, schema: str, *settings: str) -> str:
    """``url`` whose sessions use ``schema`` (and ``name=value`` settings)."""
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", " ".join(f"-c{s}" for s in (f"search_path={schema}", *settings))))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def pg_throughput_run(url: str, actions: int, rounds: int, jobs_per_client: int = 25,
                      settings: tuple[str, ...] = ()) -> dict[str, Any]:
    """Actions per second with 1 and with 4 client processes, each on jobs of its own (median of rounds).

    ``settings`` (``name=value``) apply to the clients' sessions, e.g. ``synchronous_commit=off``
    to see the CPU-bound figure without the wait for each commit's WAL flush.
    """
    import psycopg

    schema = f"stepchart_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        target = _schema_url(url, schema, *settings)
        ids = [f"J{i}" for i in range(1, 4 * jobs_per_client + 1)]
        fill(target, len(ids)).store.close()
        ctx = mp.get_context("spawn")
        result: dict[str, list[float]] = {"1": [], "4": []}
        cpu_per_action: list[float] = []
        for _ in range(rounds):
            for clients in (1, 4):
                ready = [ctx.Event() for _ in range(clients)]
                go, out = ctx.Event(), ctx.Queue()
                procs = [ctx.Process(target=_client, args=(target, ids[c::4][:jobs_per_client], actions, ready[c],
                                                           go, out)) for c in range(clients)]
                for p in procs:
                    p.start()
                for r in ready:
                    if not r.wait(120):
                        raise RuntimeError(f"a client did not start: exit codes {[p.exitcode for p in procs]}")
                started = time.perf_counter()
                go.set()
                for p in procs:
                    p.join(600)
                wall = time.perf_counter() - started
                for _ in procs:
                    _, client_cpu, server_cpu = out.get(timeout=10)
                    cpu_per_action.append((client_cpu + (server_cpu or 0.0)) / actions)
                result[str(clients)].append(clients * actions / wall)
        with psycopg.connect(target) as probe:
            shown = {name: probe.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                     for name in ("synchronous_commit", "fsync", "server_version")}
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
    one, four = statistics.median(result["1"]), statistics.median(result["4"])
    cpu_ms = statistics.median(cpu_per_action) * 1e3
    return {"actions_per_client": actions, "rounds": rounds, "per_second_1_client": round(one, 1),
            "per_second_4_clients": round(four, 1), "speedup": round(four / one, 2), "server": shown,
            "cpu_ms_per_action": round(cpu_ms, 3),
            "cpu_bound_ceiling_per_second": round((os.cpu_count() or 1) * 1e3 / cpu_ms, 1),
            "all_rounds": {k: [round(x, 1) for x in v] for k, v in result.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the large SQLite store")
    parser.add_argument("--small", type=int, default=100, help="jobs in the small SQLite store")
    parser.add_argument("--actions", type=int, default=3000, help="timed actions per SQLite store")
    parser.add_argument("--pg-url", default=os.environ.get("STEPCHART_PG_URL"), help="PostgreSQL server URL")
    parser.add_argument("--pg-actions", type=int, default=600, help="actions per PostgreSQL client")
    parser.add_argument("--rounds", type=int, default=3, help="PostgreSQL rounds (median)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    report: dict[str, Any] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                              "platform": platform.platform()}
    if not args.skip_sqlite:
        s = sqlite_latency(args.small, args.jobs, args.actions, warmup=300, seed=args.seed)
        report["sqlite"] = s
        print(f"SQLite act() median: {s['median_ms_small']:.3f} ms with {s['small_jobs']:,} jobs, "
              f"{s['median_ms_large']:.3f} ms with {s['large_jobs']:,} jobs: ratio {s['ratio']:.2f} (target < 1.5); "
              f"any of the {s['large_jobs']:,} jobs: {s['median_ms_large_any']:.3f} ms, ratio {s['ratio_any']:.2f}; "
              f"p90 {s['p90_ms_small']:.3f} / {s['p90_ms_large']:.3f} / {s['p90_ms_large_any']:.3f} ms; "
              f"{s['large_db_mb']} MB file filled in {s['fill_s']} s")
    if not args.skip_postgres:
        if not args.pg_url:
            print("PostgreSQL: skipped (no --pg-url and no $STEPCHART_PG_URL)")
        else:
            for label, settings in (("postgres", ()), ("postgres_async_commit", ("synchronous_commit=off",))):
                p = pg_throughput_run(args.pg_url, args.pg_actions, args.rounds, settings=settings)
                report[label] = p
                commit = p["server"]["synchronous_commit"]
                print(f"PostgreSQL actions/s on different jobs, synchronous_commit={commit}: "
                      f"{p['per_second_1_client']} with 1 client, {p['per_second_4_clients']} with 4 clients: "
                      f"x{p['speedup']} (server {p['server']['server_version']}, fsync={p['server']['fsync']}, "
                      f"{report['cpus']} CPUs shared with the server; {p['cpu_ms_per_action']} ms CPU per action, "
                      f"client and server, so at most {p['cpu_bound_ceiling_per_second']}/s on this machine)")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
