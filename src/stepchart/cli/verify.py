"""``stepchart verify``: explore every state a job can reach; report stuck jobs, dead steps, refusals, livelocks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .options import add_color, add_definitions, workflow_files
from .output import UsageError, err, print_problems, problem_text

if TYPE_CHECKING:
    from ..tools.reporting import Style
    from ..tools.verify import WorkflowReport

__all__ = ["register"]


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def register(sub: Any) -> None:
    """Add ``verify`` to the ``stepchart`` parser's subcommands."""
    c = sub.add_parser(
        "verify", help="prove a workflow cannot get stuck (or show the shortest trace when it can)",
        description="Explore every state a new job of each workflow can reach, through the real engine: "
        "every request of the workflow's own participants. Report stuck states, dead steps, results "
        "refused for want of a path and automatic livelocks, each with its shortest trace. "
        "Exit 0 when nothing is found, 1 on findings or an incomplete search, 2 on usage errors.",
    )  # fmt: skip
    add_color(c)
    c.add_argument(
        "paths", nargs="*", metavar="WORKFLOW_OR_FOLDER", help="workflow files or folders (default: the project's)"
    )
    add_definitions(c)
    c.add_argument(
        "--admin", action="store_true", help="add a user with every privilege (SetCurrentStep, assign, force stop)"
    )
    c.add_argument("--holds", action="store_true", help="add a manual hold and its release on each current step")
    c.add_argument(
        "--max-states", type=_positive, default=None, metavar="N",
        help="stop after N states with an incomplete result, exit 1 (default 100000)",
    )  # fmt: skip
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--scenarios", metavar="DIR", help="write each finding's trace as a scenario into DIR")
    c.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace) -> int:
    from ..errors import DefinitionError
    from ..tools.reporting import Style, dump_json
    from ..tools.verify import DEFAULT_MAX_STATES, verify_files

    if not args.paths:
        raise UsageError("give workflow files or folders (or work in a project whose stepchart.yaml names workflows:)")
    try:
        files = workflow_files(args.paths)
    except FileNotFoundError as exc:
        raise UsageError(f"no such file or folder: {str(exc).split(':')[0]}", usage=False) from None
    if not files:
        raise UsageError("no workflow found in " + ", ".join(args.paths), usage=False)
    folder = Path(args.scenarios) if args.scenarios else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise UsageError(f"--scenarios {args.scenarios}: not a folder", usage=False)
    try:
        result = verify_files(
            files, charts=args.charts, rules=args.rules, admin=args.admin, holds=args.holds,
            max_states=args.max_states or DEFAULT_MAX_STATES, scenarios=folder,
        )  # fmt: skip
    except DefinitionError as exc:
        print_problems(exc.problems)
        err("stepchart verify: error: fix the load errors first (stepchart check shows them all)")
        return 2
    except OSError as exc:  # --scenarios DIR cannot be made or written
        err(f"stepchart verify: error: --scenarios {args.scenarios}: {exc.strerror or exc}")
        return 2
    code = 0 if result.ok else 1
    if args.format == "json":
        dump_json(result.to_dict(), sys.stdout)
        return code
    style = Style.for_stream(sys.stdout, args.color)
    for report in result.reports:
        _print_report(report, style)
    s = result.to_dict()["summary"]
    n, inc = s["findings"], s["incomplete"]
    tail = f", {inc} search{'es' if inc != 1 else ''} incomplete" if inc else ""
    summary = (
        f"{n} finding{'s' if n != 1 else ''} in {s['workflows']} workflow{'s' if s['workflows'] != 1 else ''}{tail}"
    )
    print(style.verdict(result.ok, summary))
    return code


def _print_report(report: WorkflowReport, style: Style) -> None:
    ex = report.exploration
    for f in report.findings:
        print(problem_text(f.problem, style))
        if f.trace or f.last is not None:
            print("  trace from a new job:" if f.trace else "  in a new job:")
            for i, m in enumerate(f.trace, 1):
                print(f"    {i}. {m.text()}")
            if f.last is not None:
                print(f"    {len(f.trace) + 1}. {f.last.text()} -> {f.answer}")
    if not ex.complete:
        print(
            style.yellow(
                f"{report.file}: incomplete: stopped at --max-states {ex.max_states}; "
                "stuck and dead-step are not decided"
            )
        )
    for path in report.scenarios:
        print(f"  wrote {path}")
    rate = ex.moves / ex.seconds if ex.seconds > 0 else 0.0
    print(
        style.dim(
            f"{report.file}: {report.workflow}: {len(ex.states)} states, {ex.moves} moves in "
            f"{ex.seconds:.2f}s ({rate:,.0f} moves/s), {len(report.findings)} finding"
            f"{'s' if len(report.findings) != 1 else ''}"
        )
    )
