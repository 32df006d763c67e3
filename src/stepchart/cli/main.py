"""The ``stepchart`` command. Start-up stays light: each command imports what it needs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

# Modules that add their own subcommands through ``register(subparsers)``.
COMMAND_MODULES = ("stepchart.cli.tools", "stepchart.cli.store", "stepchart.cli.serve")


def _cmd_test(args: argparse.Namespace) -> int:
    from .test import run_tests

    return run_tests(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..tools.demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepchart",
        description="A declarative workflow-step engine: YAML lifecycles and rules, and the jobAction contract.",
    )
    parser.add_argument("--version", action="version", version="stepchart 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("test", help="run scenario files (SPEC 6.3)", description="Run scenario files or folders.")
    t.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    t.add_argument("--charts", action="append", metavar="DIR", help="lifecycle chart folder (default: shipped)")
    t.add_argument("--rules", action="append", metavar="DIR", help="rules folder (default: shipped)")
    t.add_argument("-k", dest="keyword", metavar="TEXT", help="run only scenarios whose name contains TEXT")
    t.add_argument("-v", "--verbose", action="store_true", help="list every scenario, not only failures")
    t.set_defaults(handler=_cmd_test)

    d = sub.add_parser("demo", help="walk a job of each example workflow through its steps, printing each response")
    d.add_argument("workflows", nargs="*", metavar="WORKFLOW", help="workflow files (default: the shipped examples)")
    d.add_argument("--now", default="2026-01-01T09:00:00Z", help="the clock (RFC 3339)")
    d.add_argument(
        "--database",
        "--store",
        dest="database",
        default="stepchart.db",
        metavar="URL",
        help="where jobs are kept: a SQLite file (default ./stepchart.db), postgresql://..., or memory:",
    )
    d.set_defaults(handler=_cmd_demo)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        code: int = handler(args)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
