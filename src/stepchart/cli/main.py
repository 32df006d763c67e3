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
    "stepchart.cli.verify",
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
    return code


if __name__ == "__main__":
    sys.exit(main())
