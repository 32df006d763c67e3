"""``stepchart check``: lint workflows, lifecycle charts, rules and scenarios; exit 1 on an error."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import add_color, add_definitions
from .output import err, problem_text

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``check`` to the ``stepchart`` parser's subcommands."""
    c = sub.add_parser(
        "check", help="lint workflows, lifecycle charts, rules and scenarios",
        description="Check files and folders: every load error, then semantic findings "
        "(unreachable steps, automatic loops, unused answers, impossible paths, unhandled events, "
        "rules that can never pass). Exit 1 when an error is found (or a warning, with --strict).",
    )  # fmt: skip
    add_color(c)
    c.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (folders: every *.yaml, *.yml); - reads standard input",
    )
    c.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="text (default), json, github (GitHub Actions workflow commands) or sarif (SARIF 2.1.0)",
    )
    add_definitions(
        c,
        charts_help="charts the workflows use besides the shipped and the checked ones (repeat)",
        rules_help="rules the charts are checked against besides the shipped and the checked ones (repeat)",
    )
    c.add_argument("--strict", action="store_true", help="warnings count as problems (exit 1)")
    c.add_argument(
        "--skip-unknown", action="store_true", help="skip (and count) named files that are no stepchart document"
    )
    c.add_argument("--codes", action="store_true", help="print the table of finding codes and exit")
    c.set_defaults(handler=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from ..tools.reporting import Style, dump_json

    out = sys.stdout
    if args.codes:
        from ..tools.lint import CODES

        if args.format == "json":
            dump_json([{"code": k, "severity": s, "meaning": m} for k, (s, m) in CODES.items()], out)
        else:
            width = max(len(k) for k in CODES)
            for k, (s, m) in CODES.items():
                print(f"{k.ljust(width)}  {s:<7}  {m}", file=out)
        return 0
    if not args.paths:
        err("stepchart check: give files or folders to check (or --codes)")
        return 2
    from ..errors import DefinitionError
    from ..io.yamldoc import Document, parse_yaml
    from ..tools.lint import check_paths

    stdin: Document | DefinitionError | None = None
    if "-" in args.paths:
        if args.paths.count("-") > 1:
            err("stepchart check: standard input (-) can be read once")
            return 2
        try:
            stdin = parse_yaml(sys.stdin.buffer.read(), "<stdin>")
        except DefinitionError as exc:
            stdin = exc
    try:
        result = check_paths(
            args.paths, charts=args.charts, rules=args.rules, skip_unknown=args.skip_unknown, stdin=stdin
        )
    except FileNotFoundError as exc:
        err(f"stepchart check: no such file or folder: {exc}")
        return 2
    failing = result.errors + (result.warnings if args.strict else 0)
    if args.format == "json":
        dump_json(result.to_dict(), out)
        return 1 if failing else 0
    if args.format == "sarif":
        from .. import __version__
        from ..tools.lint import CODES
        from ..tools.reporting import sarif_log

        dump_json(sarif_log(result.problems, CODES, version=__version__), out)
        return 1 if failing else 0
    style = Style.for_stream(out, args.color) if args.format == "text" else Style(False)
    for p in result.problems:
        if args.format == "github":
            from ..tools.reporting import github_annotation

            print(github_annotation(p), file=out)
        else:
            print(problem_text(p, style), file=out)
    checked = [f for f in result.files if not f.skipped]
    kinds: dict[str, int] = {}
    for f in checked:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    what = ", ".join(_count(n, k) for k, n in sorted(kinds.items()))
    skipped = len(result.files) - len(checked)
    tail = f"; {skipped} other file{'s' if skipped != 1 else ''} skipped" if skipped else ""
    e, w = result.errors, result.warnings
    summary = (
        f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''} in {len(checked)} "
        f"file{'s' if len(checked) != 1 else ''} ({what or 'none'}){tail}"
    )
    print(style.verdict(not failing, summary), file=out)
    return 1 if failing else 0


def _count(n: int, kind: str) -> str:
    one, many = {
        "chart": ("chart", "charts"),
        "rules": ("rules file", "rules files"),
        "scenario": ("scenario file", "scenario files"),
        "workflow": ("workflow", "workflows"),
        "job": ("job document", "job documents"),
        "project": ("project file", "project files"),
        "invalid": ("invalid file", "invalid files"),
        "unknown": ("unknown file", "unknown files"),
    }.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"
