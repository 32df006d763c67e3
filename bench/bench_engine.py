"""Benchmark (not a test): the cost of ``Engine.act`` against raw python-statemachine.

What it measures, each as a median over several rounds (machines are noisy):

* ``act``: ``act(job, Run)`` then ``act(job, Finish)`` on a one-step job (one pre-created
  job per iteration, so the job is created outside the timed region);
* ``raw+bind``: on the same compiled chart (``engine.lifecycles["manual"].machine_class``),
  bind a fresh model (``machine_class(model=obj)``), ``send("run")``, ``send("finish")``.
  One record per job, so binding once per record is the honest equivalent of one act()
  pair on a new job: this ratio is the headline (target: within 1.2x);
* ``raw-bind``: the same two sends on a machine bound before the timer starts.

The three measurements are interleaved per iteration (rotating their order) to share noise.

Then the engine's own work per request beside one ``send``: each ``act()`` (Run, then
Finish: one lifecycle move each) is timed, and so is the time spent inside
python-statemachine's ``StateChart.send`` during it (a timing wrapper on the class);
the engine's own work is the difference. This runs in its own loop, after the headline,
so the wrapper never touches the headline figures.

Then load and start-up costs: ``Engine()`` (loads and compiles the shipped charts and
rules; warm, with a parse/compile/rules breakdown), adding the shipped example
workflows, and, in fresh subprocesses, ``import stepchart`` and ``from stepchart import
Engine`` (the package may import lazily), a first ``Engine()``, and ``stepchart --help``
(skipped when the CLI does not exist yet or fails).

Prints a small table, then one JSON line (the last line of output).

    python bench/bench_engine.py            # about 45-60 s
    python bench/bench_engine.py --quick    # about 10 s
    python bench/bench_engine.py --profile  # also cProfile act() and print the hot spots
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import importlib.util
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jsonschema_cli import stepchart_command

from stepchart import Actor, Engine, data_dir

NOW = "2026-01-01T00:00:00Z"
WORKFLOW: dict[str, Any] = {
    "workflow": "one",
    "initialStep": "a",
    "steps": [
        {"id": "a", "type": "manual", "assignedType": "User", "assignedTo": "alice", "paths": []},
    ],
}

perf_ns = time.perf_counter_ns


class Record:
    """The raw baseline's model: what a stored step record gives the machine."""

    def __init__(self) -> None:
        self.state = "Ready"
        self.guard_canSkip = False


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000.0


def _summary(per_round: list[float]) -> dict[str, float]:
    """Median of the round medians, and the spread of the round medians."""
    return {"median": statistics.median(per_round), "min": min(per_round), "max": max(per_round)}


# -- act() against raw python-statemachine ---------------------------------------------------


def _time_act(act: Callable[..., Any], jid: str, actor: Actor, out: list[int]) -> None:
    t0 = perf_ns()
    run = act(jid, {"type": "Run"}, actor, NOW)
    finish = act(jid, {"type": "Finish"}, actor, NOW)
    t1 = perf_ns()
    if run.status_code != 200 or finish.status_code != 200 or not finish.body["success"]:
        raise RuntimeError(f"act() did not succeed: {run.body} {finish.body}")
    out.append(t1 - t0)


def _time_raw_bind(machine_class: Any, out: list[int]) -> None:
    record = Record()
    t0 = perf_ns()
    machine = machine_class(model=record)
    machine.send("run")
    machine.send("finish")
    t1 = perf_ns()
    if record.state != "Finished":
        raise RuntimeError(f"raw machine ended in {record.state}")
    out.append(t1 - t0)


def _time_raw_nobind(machine_class: Any, out: list[int]) -> None:
    record = Record()
    machine = machine_class(model=record)
    t0 = perf_ns()
    machine.send("run")
    machine.send("finish")
    t1 = perf_ns()
    if record.state != "Finished":
        raise RuntimeError(f"raw machine ended in {record.state}")
    out.append(t1 - t0)


def bench_act_vs_raw(rounds: int, iterations: int, warmup: int) -> dict[str, Any]:
    actor = Actor.of("alice")
    per_round: dict[str, list[float]] = {"act": [], "raw_bind": [], "raw_nobind": []}
    ratios_bind: list[float] = []
    ratios_nobind: list[float] = []
    for r in range(rounds):
        engine = Engine(workflows=[copy.deepcopy(WORKFLOW)])  # a fresh store each round: no growth
        machine_class = engine.lifecycles["manual"].machine_class
        ids = [f"r{r}-{i}" for i in range(warmup + iterations)]
        for jid in ids:
            engine.create_job("one", jid, now=NOW)
        act = engine.act
        samples: dict[str, list[int]] = {"act": [], "raw_bind": [], "raw_nobind": []}
        gc.collect()
        for i, jid in enumerate(ids):
            keep = i >= warmup
            for k in range(3):  # rotate the order so no measurement always goes first
                which = (i + k) % 3
                if which == 0:
                    _time_act(act, jid, actor, samples["act"] if keep else [])
                elif which == 1:
                    _time_raw_bind(machine_class, samples["raw_bind"] if keep else [])
                else:
                    _time_raw_nobind(machine_class, samples["raw_nobind"] if keep else [])
        meds = {k: _median_us(v) for k, v in samples.items()}
        for k, v in meds.items():
            per_round[k].append(v)
        ratios_bind.append(meds["act"] / meds["raw_bind"])
        ratios_nobind.append(meds["act"] / meds["raw_nobind"])
        del engine
    out: dict[str, Any] = {k: _summary(v) for k, v in per_round.items()}
    out["ratio_bind"] = out["act"]["median"] / out["raw_bind"]["median"]
    out["ratio_nobind"] = out["act"]["median"] / out["raw_nobind"]["median"]
    out["ratio_bind_rounds"] = _summary(ratios_bind)
    out["ratio_nobind_rounds"] = _summary(ratios_nobind)
    out["rounds"], out["iterations"] = rounds, iterations
    return out


# -- the engine's own work beside one send --------------------------------------------------------


def bench_own_work(rounds: int, iterations: int, warmup: int) -> dict[str, Any]:
    """Per act() request: its time, the time inside ``send`` (one move), and the rest: the engine's own."""
    from statemachine import StateChart

    original = StateChart.send
    spent = [0]

    def timed_send(self: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = perf_ns()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent[0] += perf_ns() - t0

    actor = Actor.of("alice")
    per_round: dict[str, list[float]] = {"request": [], "send": [], "own": []}
    StateChart.send = timed_send  # type: ignore[method-assign]
    try:
        for r in range(rounds):
            engine = Engine(workflows=[copy.deepcopy(WORKFLOW)])
            ids = [f"o{r}-{i}" for i in range(warmup + iterations)]
            for jid in ids:
                engine.create_job("one", jid, now=NOW)
            samples: dict[str, list[int]] = {"request": [], "send": [], "own": []}
            gc.collect()
            for i, jid in enumerate(ids):
                for body in ({"type": "Run"}, {"type": "Finish"}):
                    spent[0] = 0
                    t0 = perf_ns()
                    result = engine.act(jid, body, actor, NOW)
                    t1 = perf_ns()
                    if not result.success:
                        raise RuntimeError(f"act() did not succeed: {result.body}")
                    if i >= warmup:
                        samples["request"].append(t1 - t0)
                        samples["send"].append(spent[0])
                        samples["own"].append(t1 - t0 - spent[0])
            for k, v in samples.items():
                per_round[k].append(_median_us(v))
    finally:
        StateChart.send = original  # type: ignore[method-assign]
    out: dict[str, Any] = {k: _summary(v) for k, v in per_round.items()}
    out["own_per_send"] = out["own"]["median"] / out["send"]["median"]
    out["rounds"], out["iterations"] = rounds, iterations
    return out


# -- loading and compiling ---------------------------------------------------------------------


def _examples() -> list[Path]:
    try:
        folder = data_dir("examples")
    except FileNotFoundError:
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def bench_load(reps: int) -> dict[str, Any]:
    """Warm in-process figures (the first Engine() of this process was built already)."""
    engine_ns: list[int] = []
    examples_ns: list[int] = []
    examples = _examples()
    for _ in range(reps):
        gc.collect()
        t0 = perf_ns()
        engine = Engine()
        t1 = perf_ns()
        for path in examples:
            engine.add_workflow(path)
        t2 = perf_ns()
        engine_ns.append(t1 - t0)
        examples_ns.append(t2 - t1)
    out: dict[str, Any] = {
        "engine_ms": statistics.median(engine_ns) / 1e6,
        "examples_ms": statistics.median(examples_ns) / 1e6,
        "examples": [p.name for p in examples],
        "reps": reps,
    }
    out.update(_load_breakdown(reps))
    return out


def _load_breakdown(reps: int) -> dict[str, Any]:
    """Engine() split into chart parsing, chart compiling and rules: internal API, best effort."""
    try:
        from stepchart.engine.lifecycle import Lifecycle
        from stepchart.load.charts import load_chart_dir
        from stepchart.rules import load_rules
    except ImportError as exc:  # pragma: no cover - the modules moved
        return {"breakdown": f"unavailable: {exc}"}
    parse, compile_, rules = [], [], []
    charts = data_dir("statecharts")
    rules_dir = data_dir("rules")
    n_charts = 0
    for _ in range(reps):
        t0 = perf_ns()
        types = load_chart_dir(charts)
        t1 = perf_ns()
        for st in types.values():
            Lifecycle(st)
        t2 = perf_ns()
        ruleset = load_rules(rules_dir)
        t3 = perf_ns()
        parse.append(t1 - t0)
        compile_.append(t2 - t1)
        rules.append(t3 - t2)
        n_charts = len(types)
    return {
        "charts_parse_ms": statistics.median(parse) / 1e6,
        "charts_compile_ms": statistics.median(compile_) / 1e6,
        "rules_ms": statistics.median(rules) / 1e6,
        "n_charts": n_charts,
        "n_rules": len(ruleset.rules),
    }


_CHILD = """
import json, time
t0 = time.perf_counter_ns()
import stepchart
t1 = time.perf_counter_ns()
Engine = stepchart.Engine  # the package may import its names lazily (PEP 562)
t2 = time.perf_counter_ns()
e = Engine()
t3 = time.perf_counter_ns()
for p in json.loads({examples!r}):
    e.add_workflow(p)
t4 = time.perf_counter_ns()
print(json.dumps({{"import_ns": t1 - t0, "engine_import_ns": t2 - t0, "engine_ns": t3 - t2,
                  "examples_ns": t4 - t3}}))
"""


def _wall(cmd: list[str]) -> tuple[int, subprocess.CompletedProcess[str]]:
    t0 = perf_ns()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return perf_ns() - t0, proc


def _cli_command() -> list[str] | None:
    if importlib.util.find_spec("stepchart.cli") is None:
        return None
    return [*stepchart_command(), "--help"]


def bench_startup(reps: int) -> dict[str, Any]:
    """Fresh processes: bare interpreter, import + first Engine() + examples, stepchart --help."""
    py = sys.executable
    child = _CHILD.format(examples=json.dumps([str(p) for p in _examples()]))
    _wall([py, "-c", child])  # warm the OS file cache and the .pyc files; not counted
    bare, wall, imp, eimp, eng, exa = [], [], [], [], [], []
    for _ in range(reps):
        ns, _proc = _wall([py, "-c", "pass"])
        bare.append(ns)
        ns, proc = _wall([py, "-c", child])
        if proc.returncode != 0:
            raise RuntimeError(f"child failed: {proc.stderr}")
        wall.append(ns)
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        imp.append(figures["import_ns"])
        eimp.append(figures["engine_import_ns"])
        eng.append(figures["engine_ns"])
        exa.append(figures["examples_ns"])
    out: dict[str, Any] = {
        "python_bare_ms": statistics.median(bare) / 1e6,
        "import_stepchart_ms": statistics.median(imp) / 1e6,
        "import_engine_ms": statistics.median(eimp) / 1e6,
        "first_engine_ms": statistics.median(eng) / 1e6,
        "first_examples_ms": statistics.median(exa) / 1e6,
        "process_import_engine_examples_wall_ms": statistics.median(wall) / 1e6,
        "reps": reps,
    }
    out["import_breakdown_ms"] = _import_breakdown()
    cmd = _cli_command()
    if cmd is None:
        out["cli_help"] = "skipped: stepchart.cli does not exist yet"
        return out
    _wall(cmd)
    cli: list[int] = []
    for _ in range(reps):
        ns, proc = _wall(cmd)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
            out["cli_help"] = f"skipped: `{' '.join(cmd)}` exited {proc.returncode}: {tail}"
            return out
        cli.append(ns)
    out["cli_help_wall_ms"] = statistics.median(cli) / 1e6
    return out


def _import_breakdown() -> dict[str, float]:
    """``python -X importtime``: the total (sum of self times) and the heavy dependencies."""
    cmd = [sys.executable, "-X", "importtime", "-c", "from stepchart import Engine"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wanted = ("jsonschema", "statemachine", "asyncio", "yaml")
    out: dict[str, float] = {"total": 0.0}
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        out["total"] += int(parts[0]) / 1000.0
        if parts[2] in wanted and parts[2] not in out:
            out[parts[2]] = int(parts[1]) / 1000.0
    return out


# -- profiling -------------------------------------------------------------------------------


def profile_act(pairs: int, top: int) -> str:
    engine = Engine(workflows=[copy.deepcopy(WORKFLOW)])
    actor = Actor.of("alice")
    ids = [f"p{i}" for i in range(pairs + 50)]
    for jid in ids:
        engine.create_job("one", jid, now=NOW)
    for jid in ids[:50]:
        engine.act(jid, {"type": "Run"}, actor, NOW)
        engine.act(jid, {"type": "Finish"}, actor, NOW)
    prof = cProfile.Profile()
    prof.enable()
    for jid in ids[50:]:
        engine.act(jid, {"type": "Run"}, actor, NOW)
        engine.act(jid, {"type": "Finish"}, actor, NOW)
    prof.disable()
    stats = pstats.Stats(prof)
    groups: dict[str, float] = {}
    total = 0.0
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, _line, _func), (_cc, _nc, tt, _ct, _callers) in entries:
        total += tt
        if "statemachine" in filename:
            key = "python-statemachine"
        elif "jsonschema" in filename or "referencing" in filename:
            key = "jsonschema"
        elif "stepchart" in filename:
            key = "stepchart"
        else:
            key = "other (stdlib, builtins)"
        groups[key] = groups.get(key, 0.0) + tt
    buf = io.StringIO()
    buf.write(f"cProfile of {pairs} act(Run)+act(Finish) pairs: own time by package\n")
    for key, tt in sorted(groups.items(), key=lambda kv: -kv[1]):
        share, per_pair = 100 * tt / total, 1e6 * tt / pairs
        buf.write(f"  {key:28s} {share:5.1f}%   {per_pair:8.1f} us/pair (under the profiler)\n")
    stats.stream = buf  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


# -- output ----------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python-statemachine": version("python-statemachine"),
        "stepchart": version("stepchart"),
    }


def _row(label: str, value: float, unit: str, digits: int = 1, note: str = "") -> None:
    print(f"  {label:40s} {value:9.{digits}f} {unit}{note}")


def print_table(res: dict[str, Any]) -> None:
    m = res["machine"]
    print(f"stepchart engine bench  {m['date']}  Python {m['python']}  {m['cpu']} x{m['cpus']}  "
          f"python-statemachine {m['python-statemachine']}")
    a = res["act_vs_raw"]
    print(f"\nRun + Finish on a one-step job ({a['rounds']} rounds x {a['iterations']} iterations; "
          "median of round medians, [min..max] of round medians)")
    for label, key in (("act(Run) + act(Finish)", "act"),
                       ("raw: bind + send run + send finish", "raw_bind"),
                       ("raw: send run + send finish (bound)", "raw_nobind")):
        s = a[key]
        _row(label, s["median"], "us", note=f"   [{s['min']:.1f}..{s['max']:.1f}]")
    verdict = "within" if a["ratio_bind"] <= 1.2 else "OVER"
    rb, rn = a["ratio_bind_rounds"], a["ratio_nobind_rounds"]
    _row("ratio act / raw+bind  (HEADLINE)", a["ratio_bind"], "x ", 2,
         f"   [{rb['min']:.2f}..{rb['max']:.2f}] per round; target 1.2x: {verdict}")
    _row("ratio act / raw, bind excluded", a["ratio_nobind"], "x ", 2,
         f"   [{rn['min']:.2f}..{rn['max']:.2f}] per round")
    o = res.get("own_work")
    if o:
        print(f"\nOne act() request (Run or Finish: one move each; {o['rounds']} rounds x {o['iterations']} jobs)")
        for label, key in (("act() request", "request"),
                           ("  inside python-statemachine send", "send"),
                           ("  the engine's own work", "own")):
            s = o[key]
            _row(label, s["median"], "us", note=f"   [{s['min']:.1f}..{s['max']:.1f}]")
        _row("engine's own work / one send", o["own_per_send"], "x ", 2)
    ld = res["load"]
    print(f"\nLoading, warm in-process (median of {ld['reps']})")
    _row("Engine() (shipped charts + rules)", ld["engine_ms"], "ms", 2)
    if "charts_parse_ms" in ld:
        n, r = ld["n_charts"], ld["n_rules"]
        _row(f"  parse + check {n} charts", ld["charts_parse_ms"], "ms", 2)
        _row(f"  compile {n} charts (python-statemachine)", ld["charts_compile_ms"], "ms", 2)
        _row(f"  load + compile {r} rules", ld["rules_ms"], "ms", 2)
    names = ", ".join(ld["examples"]) or "none"
    label = f"add {len(ld['examples'])} example workflows"
    _row(label, ld["examples_ms"], "ms", 2, f"   ({names})")
    st = res.get("startup")
    if st:
        print(f"\nFresh process (median of {st['reps']})")
        _row("bare `python -c pass` wall", st["python_bare_ms"], "ms")
        _row("import stepchart (timed in the child)", st["import_stepchart_ms"], "ms")
        _row("from stepchart import Engine (in child)", st["import_engine_ms"], "ms")
        _row("first Engine() (in the child)", st["first_engine_ms"], "ms")
        _row("first add examples (in the child)", st["first_examples_ms"], "ms")
        wall = st["process_import_engine_examples_wall_ms"]
        _row("child wall: import + Engine() + examples", wall, "ms")
        parts = ", ".join(f"{k} {v:.0f}" for k, v in st["import_breakdown_ms"].items())
        print(f"  -X importtime of `from stepchart import Engine` (ms, traced): {parts}")
        if "cli_help_wall_ms" in st:
            _row("`stepchart --help` wall", st["cli_help_wall_ms"], "ms")
        else:
            print(f"  stepchart --help: {st['cli_help']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="fewer rounds and iterations (about 10 s)")
    p.add_argument("--rounds", type=int, help="rounds of the act/raw comparison")
    p.add_argument("--iterations", type=int, help="timed iterations per round")
    p.add_argument("--no-startup", action="store_true", help="skip the subprocess start-up figures")
    p.add_argument("--profile", action="store_true",
                   help="also cProfile act() and print the hot spots")
    args = p.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 7)
    iterations = args.iterations or (500 if args.quick else 2000)
    warmup = 50 if args.quick else 200
    load_reps = 7 if args.quick else 25
    startup_reps = 3 if args.quick else 7

    started = perf_ns()
    res: dict[str, Any] = {"machine": machine_info()}
    res["act_vs_raw"] = bench_act_vs_raw(rounds, iterations, warmup)
    res["own_work"] = bench_own_work(rounds, iterations // 2, warmup)
    res["load"] = bench_load(load_reps)
    if not args.no_startup:
        res["startup"] = bench_startup(startup_reps)
    res["elapsed_s"] = (perf_ns() - started) / 1e9
    given = argv if argv is not None else sys.argv[1:]
    res["command"] = " ".join(["python", "bench/bench_engine.py", *given])
    print_table(res)
    if args.profile:
        print()
        print(profile_act(300 if args.quick else 2000, 25))
    print(f"\n(elapsed {res['elapsed_s']:.1f} s)")
    print(json.dumps(res, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
