"""Benchmark (not a test): stored bytes per refused jobAction request (issue 11).

An unprivileged user sends requests whose step ids are all refused (``StepNotInDiagram``):
nothing changes, yet every 200 is logged. What one such request costs the store is
measured on SQLite (and PostgreSQL with ``--pg-url`` or ``$STEPCHART_PG_URL``) as the
bytes of its action-log row (every text and JSON column), for three bodies:

1. the issue's attack: about 64 KB of 9,982 distinct short step ids;
2. the worst body the cap allows: 100 distinct step ids filling 64 KB;
3. a small body: 100 distinct step ids of six characters.

"before" is what the log kept until now: the body, the actor and the whole per-step
response list (one object per target), computed byte for byte as the store used to
write it (the response the engine answers, ``json.dumps`` as the stores write JSON).
"after" is measured in the database. Prints a table, then one JSON line.

    python bench/bench_amplification.py [--pg-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from stepchart import Actor, Engine, data_dir
from stepchart.stores import open_store
from stepchart.stores.records import dumps

sys.path.insert(0, str(Path(__file__).resolve().parent))

T0 = "2026-03-01T09:00:00Z"
BOB = Actor("bob")
COLUMNS = ["actor", "action", "body", "now", "response", "reads", "idem_key"]


def stored_bytes(url: str) -> int:
    """Bytes of every action-log row as the database holds them."""
    if url.startswith("postgresql"):
        import psycopg

        total = " + ".join(f"COALESCE(octet_length({c}::text), 0)" for c in COLUMNS)
        with psycopg.connect(url) as conn:
            row = conn.execute(f"SELECT COALESCE(SUM({total}), 0) FROM action_log").fetchone()
    else:
        total = " + ".join(f"COALESCE(length(CAST({c} AS BLOB)), 0)" for c in COLUMNS)
        with sqlite3.connect(url) as conn:
            row = conn.execute(f"SELECT COALESCE(SUM({total}), 0) FROM action_log").fetchone()
    assert row is not None
    return int(row[0])


def bodies() -> dict[str, list[str]]:
    width = (64 * 1024 - 40) // 100 - 3
    return {
        "9,982 short ids (the issue's attack)": [f"{i:x}" for i in range(9982)],
        "64 KB, 100 long ids (the cap's worst)": [f"{i:04d}".ljust(width, "x") for i in range(100)],
        "small, 100 ids of 6 characters": [f"s{i:05d}" for i in range(100)],
    }


def old_row_bytes(engine: Engine, ids: list[str], log: dict[str, Any]) -> int:
    """What the log used to keep for this request: body, actor, time and the full response list."""
    steps: list[dict[str, Any]] = []
    for i in range(0, len(ids), 100):  # the engine answers 100 at a time now; each id is refused alone
        r = engine.act("J1", {"type": "Run", "stepIds": ids[i : i + 100]}, BOB, T0)
        steps.extend(r.body["stepResponses"])
    response = {"success": False, "stepResponses": steps}
    body = {"type": "Run", "stepIds": ids}
    return sum(
        len(x.encode("utf-8"))
        for x in (dumps(log["actor"]), "Run", dumps(body), T0, dumps(response), dumps({}))
    )


def measure(url: str, base: Engine) -> list[dict[str, Any]]:
    engine = base.spawn(open_store(url))
    engine.add_workflow(data_dir("examples") / "parcel-edit.yaml")
    engine.sync_workflows()
    engine.create_job("parcel-edit", "J1", now=T0)
    out = []
    try:
        for name, ids in bodies().items():
            body = json.dumps({"type": "Run", "stepIds": ids})
            start = stored_bytes(url)
            answer = engine.act("J1", body, BOB, T0)
            after = stored_bytes(url) - start
            log = {"actor": {"username": "bob", "groups": [], "privileges": []}}
            before = old_row_bytes(engine, ids, log)
            out.append(
                {
                    "store": "PostgreSQL" if url.startswith("postgresql") else "SQLite",
                    "body": name,
                    "bodyBytes": len(body),
                    "status": answer.status_code if answer.ok else f"{answer.status_code} {answer.error_type}",
                    "beforeBytes": before,
                    "afterBytes": after,
                }
            )
    finally:
        engine.store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pg-url", default=os.environ.get("STEPCHART_PG_URL"))
    args = p.parse_args(argv)
    base = Engine()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure(str(Path(tmp) / "amp.db"), base)
    if args.pg_url:
        import psycopg
        from bench_store import _schema_url  # one throwaway schema, as bench_store does

        schema = f"stepchart_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
            try:
                rows += measure(_schema_url(args.pg_url, schema), base)
            finally:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")
    print("| store | body | body bytes | answer | stored before | stored after | after / body |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        ratio = r["afterBytes"] / r["bodyBytes"]
        print(
            f"| {r['store']} | {r['body']} | {r['bodyBytes']:,} | {r['status']} | {r['beforeBytes']:,} "
            f"| {r['afterBytes']:,} | {ratio:.2f} |"
        )
    print(json.dumps({"amplification": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
