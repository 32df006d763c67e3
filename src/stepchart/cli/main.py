"""The ``stepchart`` command. Start-up stays light: each command imports what it needs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

COMMAND_MODULES = (
    "stepchart.cli.test",
    "stepchart.cli.demo",
    "stepchart.cli.check",
    "stepchart.cli.diagram",
    "stepchart.cli.run",
    "stepchart.cli.validate",
    "stepchart.cli.schema",
    "stepchart.cli.store",
    "stepchart.cli.jobs",
    "stepchart.cli.serve",
)
"""The modules that add their subcommands through ``register(subparsers)``, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The whole ``stepchart`` argument parser, every command registered."""
    parser = argparse.ArgumentParser(
        prog="stepchart",
        description="A declarative workflow-step engine: YAML lifecycles and rules, and the jobAction contract.",
    )
    parser.add_argument("--version", action="version", version="stepchart 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; its exit code (2 without a command)."""
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
    except Exception as exc:
        line = _one_line(args, exc)
        if line is None:
            raise
        print(f"stepchart {args.command}: error: {line}", file=sys.stderr)
        return 1
    return code


def _one_line(args: argparse.Namespace, exc: Exception) -> str | None:
    """The one located line of a refusal no command caught (a refused request, a damaged store, a date
    past year 9999), or None for a bug, which keeps its traceback."""
    from ..errors import DefinitionError, RequestError

    if isinstance(exc, DefinitionError):
        return str(exc.first)
    if isinstance(exc, RequestError):
        named = getattr(args, "workflow", None)
        return f"{named + ': ' if isinstance(named, str) else ''}{exc.type}: {exc.message}"
    if isinstance(exc, OverflowError):
        return f"a date would leave the years 1 to 9999 ({exc})"
    names = {c.__name__ for c in type(exc).__mro__}
    if "StoreError" in names or type(exc).__module__.startswith(("sqlite3", "psycopg")):
        target = getattr(args, "store", None) or getattr(args, "database", None) or "stepchart.db"
        where = "the PostgreSQL store" if str(target).startswith("postgres") else str(target)
        return f"{where}: the job store failed (damaged or unreachable): {type(exc).__name__}: {exc}"
    return None


if __name__ == "__main__":
    sys.exit(main())
