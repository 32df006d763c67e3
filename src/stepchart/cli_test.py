"""``stepchart test``: find scenario files, run them, report, exit 0 / 1 / 2."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from .engine import Engine
from .errors import DefinitionError
from .scenarios import ScenarioResult, discover, load_file, run_scenario

__all__ = ["run_tests"]


def run_tests(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    files, missing = discover(args.paths)
    if missing:
        for m in missing:
            print(f"stepchart test: no such file or folder: {m}", file=sys.stderr)
        return 2
    try:
        base = Engine(args.charts, args.rules)
    except DefinitionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    results: list[ScenarioResult] = []
    for f in files:
        loaded = load_file(f)
        if isinstance(loaded, ScenarioResult):
            results.append(loaded)
            _report(loaded, out, args.verbose)
            continue
        for scenario in loaded:
            if args.keyword and args.keyword not in scenario.name:
                continue
            result = run_scenario(scenario, base)
            results.append(result)
            _report(result, out, args.verbose)
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed", file=out)
    return 0 if passed == len(results) else 1


def _report(result: ScenarioResult, out: TextIO, verbose: bool) -> None:
    if result.passed:
        if verbose:
            print(f"PASS {result.file}: {result.name}", file=out)
        return
    print(f"FAIL {result.file}:{result.line}: {result.name}: {result.message}", file=out)
