"""``stepchart demo``: walk a job of each example workflow through its steps, printing each response."""

from __future__ import annotations

import argparse
from typing import Any

from .options import add_now, add_store, existing_path

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``demo`` to the ``stepchart`` parser's subcommands."""
    d = sub.add_parser("demo", help="walk a job of each example workflow through its steps, printing each response")
    d.add_argument(
        "workflows", nargs="*", metavar="WORKFLOW", type=existing_path,
        help="workflow files (default: the shipped examples)",
    )  # fmt: skip
    add_now(d, "the clock (RFC 3339; default 2026-01-01T09:00:00Z)", default="2026-01-01T09:00:00Z")
    add_store(
        d,
        dest="database",
        default="stepchart.db",
        help="where jobs are kept: a SQLite file (default ./stepchart.db), postgresql://..., or memory:",
    )
    d.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..tools.demo import run_demo

    return run_demo(args)
