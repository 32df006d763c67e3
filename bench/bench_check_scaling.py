"""Benchmark (not a test): how ``stepchart check`` of one lifecycle chart grows with its states.

A generated chart of N states (a chain of run/stop/finish moves ending in a final state,
every other state running, and one shortcut from the first state to the end) is checked
in-process with :func:`stepchart.tools.lint.check_paths`, for N = 500, 1000, 2000, 4000.
The figure is the median wall time of several rounds per size, and the ratio of each
size's median to the one before: about 2 per doubling is linear, about 4 quadratic
(issue 11: 4,000 states took 57.6 s before the move index and the linear walks).

    python bench/bench_check_scaling.py              # 500..4000 states, 3 rounds
    python bench/bench_check_scaling.py --sizes 250 500 1000 --rounds 5

Prints a table, then one JSON line (the last line of output).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from stepchart.tools.lint import check_paths

EVENTS = ("run", "stop", "finish")


def make_chart(n: int) -> str:
    """A valid chart of ``n`` states, the last one final."""
    lines = ["stepType: big", "description: generated", "asynchronous: false", "initial: S0", "states:"]
    for i in range(n - 1):
        lines.append(f"  S{i}: {{started: true, running: true}}" if i % 2 else f"  S{i}: {{}}")
    lines.append(f"  S{n - 1}: {{final: true}}")
    lines.append("transitions:")
    for i in range(n - 1):
        value = ", returnValue: Success" if i + 1 == n - 1 else ""
        lines.append(f"  - {{event: {EVENTS[i % 3]}, from: S{i}, to: S{i + 1}{value}}}")
    lines.append(f"  - {{event: finish, from: [S0], to: S{n - 1}, returnValue: Success}}")
    return "\n".join(lines) + "\n"


def time_check(path: Path, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        result = check_paths([path])
        times.append(time.perf_counter() - start)
        errors = [p for f in result.files for p in f.problems if p.severity == "error"]
        assert not errors, errors[:3]  # the chart is valid: every check ran
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        check_paths([])  # warm up: the shipped charts and rules compiled once
        for n in args.sizes:
            path = Path(tmp) / f"big{n}.yaml"
            path.write_text(make_chart(n))
            rows.append({"states": n, "median_s": time_check(path, args.rounds)})
    print(f"{'states':>8} {'median s':>10} {'ratio to previous':>18}")
    for prev, row in zip([None, *rows], rows, strict=False):
        ratio = row["median_s"] / prev["median_s"] if prev else None
        row["ratio"] = ratio
        print(f"{row['states']:>8} {row['median_s']:>10.3f} {'' if ratio is None else format(ratio, '.2f'):>18}")
    print(json.dumps({"bench": "check_scaling", "rounds": args.rounds, "rows": rows}))


if __name__ == "__main__":
    main()
