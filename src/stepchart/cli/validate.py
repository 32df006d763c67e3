"""``stepchart validate``: check jobAction payloads offline against the contract; exit 1 if any is invalid."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING, Any

from .options import add_color
from .output import UsageError

if TYPE_CHECKING:
    from ..tools.payload_split import Helper

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``validate`` to the ``stepchart`` parser's subcommands."""
    v = sub.add_parser(
        "validate", help="validate jobAction payloads offline",
        description="Check payloads against the jobAction contract (strict JSON, the shipped schema, R10's "
        "date-time). Folders: every *.json, *.jsonl, *.ndjson. Valid payloads are not listed; exit 1 if any "
        "is invalid.",
    )  # fmt: skip
    add_color(v)
    v.add_argument("paths", nargs="+", metavar="PAYLOAD", help="files, folders, or - for standard input")
    v.add_argument("--jsonl", action="store_true", help="every input is JSON Lines: one payload a line")
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    v.add_argument(
        "--skip-unknown", action="store_true", help="skip (and count) JSON that is no object with a type: key"
    )
    v.set_defaults(handler=_cmd_validate, quick_exit=True)  # opens nothing that needs closing: see cli.main


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..tools.payload_split import dismiss
    from ..tools.validate import start_helper

    collecting = gc.isenabled()
    gc.disable()  # a run makes no reference cycles (each payload is freed as it goes): the collector only costs
    helper = start_helper(args.paths, jsonl=args.jsonl, skip_unknown=args.skip_unknown)  # warms while we walk
    try:
        return _report(args, helper)
    finally:
        if helper is not None:
            dismiss(helper)  # nothing once the run has reaped it
        if collecting:
            gc.enable()


def _report(args: argparse.Namespace, helper: Helper | None) -> int:
    from ..tools.reporting import Progress, Style, dump_json
    from ..tools.validate import PayloadError, check_payloads, expand_inputs, one_payload_each

    files, missing = expand_inputs(args.paths)
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}", usage=False)
    if args.paths.count("-") > 1:
        raise UsageError("- (standard input) can be given once")
    out = sys.stdout
    style = Style.for_stream(out, args.color) if args.format == "text" else Style(False)
    total = len(files) if one_payload_each(files, jsonl=args.jsonl) else None  # known: a bar with an end
    with Progress(total, "payloads", sys.stderr) as progress:

        def show(problems: list[PayloadError]) -> None:
            progress.close()
            for p in problems:
                out.write(f"{style.bold(f'{p.source}:{p.line}:{p.column}:')} {style.cyan(p.path)}: {p.message}\n")

        run = check_payloads(
            files, jsonl=args.jsonl, skip_unknown=args.skip_unknown,
            on_problems=show if args.format == "text" else None, on_progress=progress.advance, helper=helper,
        )  # fmt: skip
    if args.format == "json":
        doc = run.to_dict()
        if args.skip_unknown:
            doc["skipped"] = run.skipped
        dump_json(doc, out, pretty=None)  # thousands of errors: compact unless on a terminal
    elif not args.quiet:
        summary = (
            f"{run.checked} payload{'s' if run.checked != 1 else ''} checked: {run.valid} valid, {run.invalid} invalid"
        )
        if run.skipped:
            summary += f"; {run.skipped} other document{'s' if run.skipped != 1 else ''} skipped"
        print(style.verdict(run.invalid == 0, summary), file=out)
    return 1 if run.invalid else 0
