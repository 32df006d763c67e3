"""Benchmark (not a test): ``stepchart verify``'s exploration against the engine moves it makes.

For generated workflows of growing size (a split into B parallel branches of L manual
steps each, rejoining at a last step; one user per branch), each round:

* **verify**: :func:`stepchart.tools.verify.explore` from a new job, timed whole (every
  request, the canonical keys, the breadth-first bookkeeping): states/s and moves/s;
* **baseline**: the very same moves (each state's moves, in verify's order) sent to an
  ordinary in-memory engine (``Engine()`` on its ``MemoryStore``), one ``act()`` (or
  respond/complete/fail) per move, each on a stored copy of its state; only the
  requests are timed, the set-up of each job is not.

The ratio verify / baseline says what exploring costs beyond the engine moves it makes
(aim: at most 1.5x). The two sides alternate within each round; figures are medians.

    python bench/bench_verify.py                 # sizes 1x4 .. 3x4, 3 rounds
    python bench/bench_verify.py --rounds 1 --sizes 1x4,2x4

Prints a table, then one JSON line (the last line of output).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from stepchart import Engine
from stepchart.model import Workflow
from stepchart.model.times import parse_datetime
from stepchart.stores import MemoryStore
from stepchart.tools.verify import Move, explore, moves_for

NOW = parse_datetime("2026-01-01T00:00:00Z")


def make_workflow(branches: int, length: int) -> dict[str, Any]:
    """A split into ``branches`` chains of ``length`` manual steps that rejoin at ``join``."""
    steps: list[dict[str, Any]] = [
        {
            "id": "split",
            "type": "manual",
            "assignedType": "User",
            "assignedTo": "lead",
            "paths": [{"nextStep": f"b{b}s0"} for b in range(branches)],
        }
    ]
    for b in range(branches):
        for i in range(length):
            nxt = f"b{b}s{i + 1}" if i + 1 < length else "join"
            steps.append(
                {
                    "id": f"b{b}s{i}",
                    "type": "manual",
                    "assignedType": "User",
                    "assignedTo": f"user{b}",
                    "paths": [
                        {"nextStep": nxt, "assignedType": "User", "assignedTo": "lead"}
                        if nxt == "join"
                        else {"nextStep": nxt}
                    ],
                }
            )
    steps.append({"id": "join", "type": "manual", "assignedType": "User", "assignedTo": "lead", "paths": []})
    return {"workflow": f"par-{branches}x{length}", "initialStep": "split", "steps": steps}


def time_verify(base: Engine, wf: Workflow) -> tuple[float, int, int, list[tuple[Any, Move]], Any]:
    started = time.perf_counter()
    ex = explore(base, wf)
    seconds = time.perf_counter() - started
    assert ex.complete
    pairs = [(s.job, m) for s in ex.states for m in moves_for(s.job, wf, base.step_types, ex.cast)]
    assert len(pairs) == ex.moves, (len(pairs), ex.moves)
    return seconds, len(ex.states), ex.moves, pairs, ex.cast


def time_baseline(base: Engine, source: dict[str, Any], pairs: list[tuple[Any, Move]], cast: Any) -> float:
    """The same moves through an ordinary engine on a memory store: the sum of the request times."""
    store = MemoryStore()
    engine = base.spawn(store)
    engine.add_workflow(source)
    total = 0.0
    for n, (job, m) in enumerate(pairs):
        copy = job.copy()
        copy.job_id = f"J{n}"
        store.add(copy)
        actor = cast.actor(m.actor)
        jid = copy.job_id
        t0 = time.perf_counter()
        if m.operation == "act":
            engine.act(jid, {"type": m.action, "stepIds": [m.step_id]}, actor, NOW)
        elif m.operation == "respond":
            engine.respond(jid, m.step_id, m.value, actor, NOW)
        elif m.operation == "complete":
            engine.complete(jid, m.step_id, m.value, now=NOW)
        elif m.operation == "fail":
            engine.fail(jid, m.step_id, "x", now=NOW)
        else:
            engine.assign(jid, m.step_id, "User", m.value, actor, NOW)
        total += time.perf_counter() - t0
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1x4,1x16,2x4,2x8,3x3,3x4", help="BxL list: branches x steps per branch")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    started = time.perf_counter()
    base = Engine()
    rows: list[dict[str, Any]] = []
    print(
        f"{'workflow':<10} {'steps':>5} {'states':>7} {'moves':>7} {'verify s':>9} {'states/s':>9} "
        f"{'moves/s':>8} {'act us':>7} {'ratio':>6}"
    )
    for size in args.sizes.split(","):
        b, length = (int(x) for x in size.split("x"))
        source = make_workflow(b, length)
        wf = base.spawn().add_workflow(source)
        v_times, a_times, ratios = [], [], []
        time_verify(base, wf)  # warm-up: first-use costs (the compiled machines per thread) stay out
        states = moves = 0
        for _ in range(args.rounds):
            seconds, states, moves, pairs, cast = time_verify(base, wf)
            baseline = time_baseline(base, source, pairs, cast)
            v_times.append(seconds)
            a_times.append(baseline)
            ratios.append(seconds / baseline)
        v, a, r = statistics.median(v_times), statistics.median(a_times), statistics.median(ratios)
        row = {
            "workflow": wf.id,
            "steps": len(wf.steps),
            "states": states,
            "moves": moves,
            "verify_s": round(v, 4),
            "states_per_s": round(states / v),
            "moves_per_s": round(moves / v),
            "act_us": round(a / moves * 1e6, 1),
            "ratio": round(r, 3),
            "ratio_rounds": {"min": round(min(ratios), 3), "max": round(max(ratios), 3)},
        }
        rows.append(row)
        print(
            f"{row['workflow']:<10} {row['steps']:>5} {states:>7} {moves:>7} {v:>9.3f} {row['states_per_s']:>9} "
            f"{row['moves_per_s']:>8} {row['act_us']:>7} {r:>6.2f}"
        )
    info = {
        "command": "python bench/bench_verify.py " + " ".join(sys.argv[1:]),
        "rounds": args.rounds,
        "rows": rows,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }
    print(json.dumps(info, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
