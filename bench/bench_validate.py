"""Benchmark (not a test): ``stepchart validate`` against ``check-jsonschema`` on 10,000 payload files.

Both tools get the same files and the same schema (the shipped payload schema) in one
command each, each through its console script as users run it; the figure is the wall
time of each whole command, the median of several rounds. Then every file's verdict
(valid or not) is compared: they must all agree.

The corpus (made fresh in a temporary folder, seeded, so every run sees the same files):
about 80% valid payloads of every action type, with date-times in every shape R10
accepts (``Z``/``z``, ``T``/``t``, offsets, fractions); the rest invalid: unknown keys,
wrong types, unknown action types, ``null`` values, a JSON array, truncated JSON, and
date-times R10 refuses (no zone, a day that does not exist, seconds 60, hour 24, a
space for ``T``). Cases where the two tools' date-time checks differ on purpose (R10 is
stricter: a ``,`` before the fraction, year 0000, a value outside years 1-9999 once in
UTC) are left out of the corpus and listed separately with each tool's verdict.

Each round also times the floor: one Python process that only reads and parses the same
files (``open().read()`` and ``json.loads``, nothing checked), and a tighter floor that
reads them as the command does (``os.open``/``os.read``, no file object), so the figures
say how far above the file system and the parser the command is; and ``stepchart
validate`` kept in one process (a large run on a machine with an idle second core is shared
with a forked helper that checks from the back: ``stepchart.tools.payload_split``). And then, in fresh
processes, where ``stepchart validate``'s time goes, step by step in one process:
interpreter start-up, imports, jsonschema-rs's import, the schema compile, the walk, the
reads, the strict scan, the verdict, the words of the invalid payloads (from
jsonschema-rs's errors, located in the text), and the output (``--phases N`` runs,
medians).

Where the time goes (10,000 files, 1,919 invalid; one process, fresh, on a day this
machine ran check-jsonschema in 1.7 s; figures in bench/TOOLS_FIGURES.md): about 70 ms
before the first file (the interpreter 20, the standard modules and the CLI 40,
jsonschema-rs's import 8 now that its build record no longer imports email.utils), 20 ms
walking the folder, 70 ms opening and reading the files (three system calls each), 45 ms
the strict scan, 25 ms the verdict, 80 ms wording and locating the 1,919 invalid payloads
(jsonschema-rs's error objects about a third of it), and 15 ms the JSON output. Shared
with the helper, the parent pays the start-up, the walk, half of the rest and the output.

    python bench/bench_validate.py                 # 10,000 files, 3 rounds
    python bench/bench_validate.py --files 2000 --rounds 1 --phases 1

Prints a table, then one JSON line (the last line of output). Needs ``check-jsonschema``
(see ``jsonschema_cli.check_jsonschema_exe``).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jsonschema_cli import ENV, children_cpu, run_check_jsonschema, stepchart_command

from stepchart.io.schemas import load_schema

FLOOR = """
import json, os, sys
folder = sys.argv[1]
for entry in sorted(os.scandir(folder), key=lambda e: e.name):
    with open(entry.path, "rb") as f:
        data = f.read()
    try:
        json.loads(data)
    except ValueError:
        pass
"""
"""The floor: read and parse every file, check nothing (the issue's "a ninth of check-jsonschema")."""

FLOOR_FD = """
import json, os, sys
folder = sys.argv[1]
flags = os.O_RDONLY | os.O_CLOEXEC
for name in sorted(e.name for e in os.scandir(folder)):
    fd = os.open(os.path.join(folder, name), flags)
    data = os.read(fd, 1 << 16)
    os.close(fd)
    try:
        json.loads(data)
    except ValueError:
        pass
"""
"""The tighter floor: the same with descriptors (``os.open``/``os.read``, as the command reads), no file objects."""

ONE_PROCESS = (
    "import sys; from stepchart.tools import validate; validate.can_split = lambda inputs: False; "
    "from stepchart.cli import main; sys.exit(main(sys.argv[1:]))"
)
"""``stepchart validate`` kept in one process (no helper forked): what one core does."""

PHASES = """
import time
t = [time.perf_counter()]
import sys, json
from stepchart.cli.main import build_parser
build_parser("stepchart.cli.validate")
import stepchart.tools.reporting
from stepchart.tools.validate import _scanned, _worded, _UNSURE, expand_inputs, read_bytes, validate_one
from stepchart.tools.payload_inputs import Payload
t.append(time.perf_counter())
from stepchart.io.rs_import import import_jsonschema_rs
import_jsonschema_rs()
t.append(time.perf_counter())
from stepchart.io.schemas import payload_is_valid
payload_is_valid({})
t.append(time.perf_counter())
files, _ = expand_inputs([sys.argv[1]])
t.append(time.perf_counter())
datas = [read_bytes(f) for f in files]
t.append(time.perf_counter())
scans = [_scanned(d) for d in datas]
t.append(time.perf_counter())
ok = [v is not _UNSURE and payload_is_valid(v) for v, _text in scans]
t.append(time.perf_counter())
errors = [e for f, d, (v, text), good in zip(files, datas, scans, ok) if not good
          for e in (_worded(Payload(f, None, d), v, text) if v is not _UNSURE else validate_one(Payload(f, None, d)))]
t.append(time.perf_counter())
sys.stdout.write(json.dumps({"errors": [e.to_dict() for e in errors]}))
sys.stdout.write("\\n")
sys.stdout.flush()
t.append(time.perf_counter())
names = ("imports", "jsonschema-rs import", "schema compile", "walk", "file reads", "parse", "verdict",
         "words", "output")
sys.stderr.write(json.dumps({n: t[i + 1] - t[i] for i, n in enumerate(names)}))
"""
"""The command's own steps, timed one after the other in a fresh process (its verdict code, not a copy)."""

"""Both tools run with their bytecode cached, as installed tools do (check-jsonschema's is
compiled at install; stepchart's is written by the warm-up run)."""

ACTIONS = ("Run", "Finish", "Stop", "SetCurrentStep", "Hold", "ReleaseHold", "RefreshStatus")
GOOD_TIMES = (
    "2026-03-01T10:00:00Z", "2026-03-01t10:00:00z", "2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00.125Z",
    "2024-02-29T23:59:59-05:30", "1999-12-31T00:00:00.5+00:00",
)  # fmt: skip
BAD_TIMES = (
    "2026-03-01T10:00:00", "2026-02-30T10:00:00Z", "2026-03-01T10:00:60Z", "2026-03-01T24:00:00Z",
    "2026-03-01 10:00:00Z", "2026-3-1T10:00:00Z", "2026-03-01T10:00:00+2:00", "tomorrow", "",
)  # fmt: skip
# Where the tools differ on purpose: R10 is stricter than check-jsonschema's RFC 3339 check.
DISAGREE_TIMES = ("2026-03-01T10:00:00,5Z", "0000-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00",
                  "9999-12-31T23:30:00-01:00")  # fmt: skip


def make_payload(rng: random.Random) -> tuple[str, bool]:
    """(file text, valid by construction)."""
    roll = rng.random()
    body: dict[str, Any] = {"type": rng.choice(ACTIONS)}
    if rng.random() < 0.7:
        body["stepIds"] = [f"step-{rng.randint(1, 40)}" for _ in range(rng.randint(0, 3))]
    if body["type"] == "Hold" and rng.random() < 0.6:
        body["holdScheduledRelease"] = rng.choice(GOOD_TIMES)
    if body["type"] in ("Hold", "ReleaseHold") and rng.random() < 0.3:
        body["dependentJobId"] = f"J{rng.randint(1, 999)}"
        if rng.random() < 0.5:
            body["dependentStepId"] = "review"
    if roll < 0.80:
        return json.dumps(body, indent=rng.choice((None, 2))), True
    kind = rng.randrange(8)
    if kind == 0:
        body["holdScheduledRelease"] = rng.choice(BAD_TIMES)
    elif kind == 1:
        body["stepIds"] = rng.choice(([1, 2], "edit", {"a": 1}, [None]))
    elif kind == 2:
        body["type"] = rng.choice(("run", "Start", "", "Skip"))
    elif kind == 3:
        body["comment"] = "not allowed"
    elif kind == 4:
        body["dependentJobId"] = None
    elif kind == 5:
        return json.dumps([body]), False
    elif kind == 6:
        return json.dumps(body)[: rng.randint(1, 12)], False
    else:
        del body["type"]
    return json.dumps(body), False


def make_corpus(folder: Path, n: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    files = []
    for i in range(n):
        text, _valid = make_payload(rng)
        p = folder / f"p{i:05d}.json"
        p.write_text(text, encoding="utf-8")
        files.append(p)
    return files


def run_stepchart(folder: Path, one_process: bool = False) -> tuple[float, set[str], dict[str, Any]]:
    command = [sys.executable, "-c", ONE_PROCESS] if one_process else stepchart_command()
    t0 = time.perf_counter()
    done = subprocess.run(
        [*command, "validate", str(folder), "--format", "json"],
        capture_output=True, text=True, check=False, env=ENV,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise SystemExit(f"stepchart validate failed: {done.stderr}")
    data = json.loads(done.stdout)
    return elapsed, {Path(e["file"]).name for e in data["errors"]}, data


def disagreements(schema: Path, folder: Path) -> list[dict[str, Any]]:
    """The date-times where the two tools differ on purpose, each tool's verdict shown."""
    rows = []
    for i, when in enumerate(DISAGREE_TIMES):
        p = folder / f"edge{i}.json"
        p.write_text(json.dumps({"type": "Hold", "holdScheduledRelease": when}), encoding="utf-8")
        _t, ours, _d = run_stepchart_one(p)
        _t2, theirs = run_check_jsonschema(schema, [p])
        rows.append({"value": when, "stepchart": "invalid" if ours else "valid",
                     "check-jsonschema": "invalid" if theirs else "valid"})  # fmt: skip
    return rows


def run_floor(folder: Path, script: str = FLOOR) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(folder)], check=True, env=ENV)
    return time.perf_counter() - t0


def profile_phases(folder: Path, runs: int) -> dict[str, float]:
    """Median seconds of each step of the command over ``runs`` fresh processes; start-up from ``-c pass``."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=ENV)
        samples.setdefault("interpreter start-up", []).append(time.perf_counter() - t0)
        done = subprocess.run(
            [sys.executable, "-c", PHASES, str(folder)], capture_output=True, text=True, check=True, env=ENV
        )  # fmt: skip
        for name, secs in json.loads(done.stderr).items():
            samples.setdefault(name, []).append(secs)
    return {name: statistics.median(v) for name, v in samples.items()}


def run_stepchart_one(path: Path) -> tuple[float, set[str], dict[str, Any]]:
    done = subprocess.run(
        [*stepchart_command(), "validate", str(path), "--format", "json"],
        capture_output=True, text=True, check=False, env=ENV,
    )  # fmt: skip
    data = json.loads(done.stdout)
    return 0.0, {Path(e["file"]).name for e in data["errors"]}, data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--phases", type=int, default=5, help="fresh processes timing each step (0: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="stepchart-bench-") as tmp:
        root = Path(tmp)
        corpus = root / "payloads"
        corpus.mkdir()
        files = make_corpus(corpus, args.files)
        schema = root / "payload.schema.json"
        schema.write_text(json.dumps(load_schema("payload")), encoding="utf-8")
        ours_t: list[float] = []
        theirs_t: list[float] = []
        ours_bad: set[str] = set()
        theirs_bad: set[str] = set()
        floor_t: list[float] = []
        floor_fd_t: list[float] = []
        one_t: list[float] = []
        one_bad: set[str] = set()
        summary: dict[str, Any] = {}
        run_stepchart(corpus)  # warm-up: bytecode and the page cache, for both tools
        run_stepchart(corpus, one_process=True)
        run_check_jsonschema(schema, files)
        run_floor(corpus)
        run_floor(corpus, FLOOR_FD)
        cpu: dict[str, list[float]] = {"stepchart": [], "check-jsonschema": [], "floor": [], "one process": []}
        for _ in range(args.rounds):
            c0 = children_cpu()
            t, ours_bad, summary = run_stepchart(corpus)
            ours_t.append(t)
            c1 = children_cpu()
            t2, theirs_bad = run_check_jsonschema(schema, files)
            theirs_t.append(t2)
            c2 = children_cpu()
            floor_t.append(run_floor(corpus))
            c3 = children_cpu()
            floor_fd_t.append(run_floor(corpus, FLOOR_FD))
            c4 = children_cpu()
            t3, one_bad, _s = run_stepchart(corpus, one_process=True)
            one_t.append(t3)
            c5 = children_cpu()
            cpu["stepchart"].append(c1 - c0)
            cpu["check-jsonschema"].append(c2 - c1)
            cpu["floor"].append(c3 - c2)
            cpu["one process"].append(c5 - c4)
        phases = profile_phases(corpus, args.phases) if args.phases else {}
        differ = sorted((ours_bad ^ theirs_bad) | (one_bad ^ theirs_bad))
        edge_dir = root / "edge"
        edge_dir.mkdir()
        edges = disagreements(schema, edge_dir)
    ours = statistics.median(ours_t)
    theirs = statistics.median(theirs_t)
    floor = statistics.median(floor_t)
    floor_fd = statistics.median(floor_fd_t)
    one = statistics.median(one_t)
    speedup = statistics.median(b / a for a, b in zip(ours_t, theirs_t, strict=True))  # per round: same load
    one_speedup = statistics.median(b / a for a, b in zip(one_t, theirs_t, strict=True))
    over_floor = statistics.median(a / c for a, c in zip(ours_t, floor_t, strict=True))
    floor_share = statistics.median(c / b for b, c in zip(theirs_t, floor_t, strict=True))
    floor_fd_speedup = statistics.median(b / c for b, c in zip(theirs_t, floor_fd_t, strict=True))
    print(f"{args.files} payload files, {args.rounds} rounds (median wall time of the whole command)")
    print(f"  stepchart validate       {ours:8.3f} s   {summary['invalid']} invalid")
    print(f"  check-jsonschema         {theirs:8.3f} s   {len(theirs_bad)} invalid")
    print(f"  read + parse only        {floor:8.3f} s   (the floor: 1/{1 / floor_share:.1f} of check-jsonschema)")
    print(f"  read + parse, by descr.  {floor_fd:8.3f} s   (the tighter floor: {floor_fd_speedup:.1f}x faster than it)")
    print(f"  stepchart, one process   {one:8.3f} s   ({one_speedup:.1f}x: no helper forked)")
    print(f"  speed-up                 {speedup:8.1f}x  (median of the rounds' ratios)")
    print(f"  stepchart / floor        {over_floor:8.2f}")
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    cpu_ratio = statistics.median(b / a for a, b in zip(cpu["stepchart"], cpu["check-jsonschema"], strict=True))
    print(f"  CPU time (user + system): stepchart {cpu_med['stepchart']:.3f} s (one process "
          f"{cpu_med['one process']:.3f} s), check-jsonschema {cpu_med['check-jsonschema']:.3f} s "
          f"({cpu_ratio:.1f}x), floor {cpu_med['floor']:.3f} s")  # fmt: skip
    if phases:
        print(f"  where stepchart's time goes (median of {args.phases} fresh processes, ms):")
        for name, secs in phases.items():
            print(f"    {name:<22} {1000 * secs:7.1f}")
        print(f"    {'sum':<22} {1000 * sum(phases.values()):7.1f}")
    print(f"  files with a different verdict: {len(differ)}{' ' + ', '.join(differ[:10]) if differ else ''}")
    print("  date-times the tools judge differently on purpose (R10 is stricter):")
    for row in edges:
        print(f"    {row['value']:<28} stepchart {row['stepchart']:<8} check-jsonschema {row['check-jsonschema']}")
    print(json.dumps({
        "bench": "validate", "files": args.files, "rounds": args.rounds,
        "stepchart_s": round(ours, 3), "check_jsonschema_s": round(theirs, 3), "floor_s": round(floor, 3),
        "floor_fd_s": round(floor_fd, 3), "one_process_s": round(one, 3), "one_process_speedup": round(one_speedup, 2),
        "floor_fd_speedup": round(floor_fd_speedup, 2),
        "speedup": round(speedup, 2), "stepchart_over_floor": round(over_floor, 2),
        "floor_share_of_check_jsonschema": round(floor_share, 3),
        "cpu_s": {k: round(v, 3) for k, v in cpu_med.items()}, "cpu_speedup": round(cpu_ratio, 2),
        "phases_ms": {k: round(1000 * v, 1) for k, v in phases.items()},
        "invalid": summary["invalid"], "verdicts_differ": len(differ),
        "edge_cases": edges, "python": platform.python_version(),
    }))  # fmt: skip
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    main()
