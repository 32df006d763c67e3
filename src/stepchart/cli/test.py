"""``stepchart test``: find scenario files, run them, report, exit 0 / 1 / 2, or 5 when none was selected.

Text (the default) lists failures (every scenario with ``-v``), then the coverage table
with ``--coverage``, and always ends with the line ``N passed, N failed``. ``--format
json`` prints one JSON document instead; ``--junit-xml FILE`` writes a JUnit report
beside either. A long run shows a progress line on a terminal, none when piped.

This module holds the whole command: its options (:func:`register`) and its run
(:func:`run_tests`). It imports the engine only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from .options import add_color, add_definitions, add_format, definitions_engine
from .output import UsageError, error

if TYPE_CHECKING:
    from ..tools.scenarios import ScenarioResult

__all__ = ["NO_SCENARIO", "register", "run_tests"]

NO_SCENARIO = 5
"""The exit code of a run that selected no scenario (pytest's "no tests collected")."""


def register(sub: Any) -> None:
    """Add ``test`` to the ``stepchart`` parser's subcommands."""
    t = sub.add_parser("test", help="run scenario files (SPEC 6.3)", description="Run scenario files or folders.")
    t.add_argument("paths", nargs="*", metavar="FILE_OR_DIR", help="scenario files or folders (default: the project's)")
    add_definitions(t)
    t.add_argument("-k", dest="keyword", metavar="TEXT", help="run only scenarios whose name contains TEXT")
    t.add_argument("-v", "--verbose", action="store_true", help="list every scenario, not only failures")
    t.add_argument(
        "--coverage",
        action="store_true",
        help="report the transitions, rules (pass and fail) and paths exercised, and those never",
    )
    t.add_argument("--junit-xml", metavar="FILE", help="also write a JUnit XML report")
    add_format(t)
    add_color(t, help=None)
    t.set_defaults(handler=run_tests)


def run_tests(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the scenarios of ``args.paths`` and report them; the exit code: 0 all passed, 1 failed, 2 usage,
    5 (:data:`NO_SCENARIO`) when the paths and ``-k`` select no scenario."""
    from ..errors import DefinitionError
    from ..tools.reporting import JUnitCase, Progress, Style, dump_json, write_junit
    from ..tools.scenarios import ScenarioResult, discover, load_file, run_scenario

    out = out or sys.stdout
    fmt = getattr(args, "format", "text") or "text"
    style = Style.for_stream(out, getattr(args, "color", "auto") or "auto") if fmt == "text" else Style(False)
    if not args.paths:
        print("stepchart test: give scenario files or folders (or a stepchart.yaml naming scenarios:)", file=sys.stderr)
        return 2
    files, missing = discover(args.paths)
    if missing:
        raise UsageError("; ".join(f"no such file or folder: {m}" for m in missing), usage=False)
    try:
        base = definitions_engine(args)
    except DefinitionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    recorder = None
    if getattr(args, "coverage", False):
        from ..tools.coverage import CoverageRecorder

        recorder = CoverageRecorder(base)
    observe = recorder.observe if recorder is not None else None
    keyword = getattr(args, "keyword", None)
    verbose = bool(getattr(args, "verbose", False))

    results: list[tuple[ScenarioResult, float]] = []
    found = 0
    with Progress(None, "scenarios", sys.stderr) as progress:
        for f in files:
            loaded = load_file(f)
            if isinstance(loaded, ScenarioResult):  # a file that cannot run fails, whatever -k says
                results.append((loaded, 0.0))
                if fmt == "text":
                    _report(loaded, out, verbose, style, progress)
                continue
            found += len(loaded)
            for scenario in loaded:
                if keyword and keyword not in scenario.name:
                    continue
                started = time.perf_counter()
                result = run_scenario(scenario, base, observe=observe)
                results.append((result, time.perf_counter() - started))
                progress.advance()
                if fmt == "text":
                    _report(result, out, verbose, style, progress)

    passed = sum(r.passed for r, _ in results)
    failed = len(results) - passed
    junit = getattr(args, "junit_xml", None)
    if junit:
        cases = [
            JUnitCase(r.name, r.file, t, None if r.passed else r.message or "failed", r.file, r.line)
            for r, t in results
        ]
        try:
            write_junit(junit, cases, "stepchart scenarios")
        except OSError as exc:
            error("test", f"cannot write {junit}: {exc.strerror or exc}")
            return 2
    report = recorder.report() if recorder is not None else None
    if fmt == "json":
        doc: dict[str, Any] = {
            "passed": passed,
            "failed": failed,
            "scenarios": [
                {"name": r.name, "file": r.file, "line": r.line, "passed": r.passed, "message": r.message,
                 "operations": r.operations, "seconds": round(t, 6)}
                for r, t in results
            ],
        }  # fmt: skip
        if report is not None:
            doc["coverage"] = report.to_dict()
        dump_json(doc, out)
    else:
        if report is not None:
            out.write(report.text())
        summary = f"{passed} passed, {failed} failed"
        print(style.verdict(failed == 0, summary) if results else summary, file=out)
    if not results:
        where = f"{found} scenario{'s' if found != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''}"
        picked = f" matches -k {keyword!r}" if keyword and found else " was found"
        error("test", f"no scenario{picked} ({where})")
        return NO_SCENARIO
    return 0 if failed == 0 else 1


def _report(result: ScenarioResult, out: TextIO, verbose: bool, style: Any, progress: Any) -> None:
    if result.passed and not verbose:
        return
    progress.close()
    if result.passed:
        print(f"{style.green('PASS')} {result.file}: {result.name}", file=out)
        return
    print(f"{style.red('FAIL')} {result.file}:{result.line}: {result.name}: {result.message}", file=out)
