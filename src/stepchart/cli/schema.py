"""``stepchart schema``: print one of the shipped JSON Schemas, or list them."""

from __future__ import annotations

import argparse
from typing import Any

from .output import err, write_bytes

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``schema`` to the ``stepchart`` parser's subcommands."""
    s = sub.add_parser(
        "schema", help="print a shipped JSON Schema",
        description="Print one of the shipped JSON Schemas (without NAME: list them).",
    )  # fmt: skip
    s.add_argument(
        "name", nargs="?", metavar="NAME", help="payload, response, error, workflow, chart, rules, job or scenario"
    )
    s.add_argument("-o", "--output", metavar="FILE")
    s.set_defaults(handler=_cmd_schema)


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from ..io.schemas import SCHEMA_NAMES, load_schema

    if args.name is None:
        width = max(len(n) for n in SCHEMA_NAMES)
        for name in SCHEMA_NAMES:
            print(f"{name.ljust(width)}  {load_schema(name).get('title', '')}")
        return 0
    if args.name not in SCHEMA_NAMES:
        err(f"stepchart schema: no schema {args.name!r}; schemas are: {', '.join(SCHEMA_NAMES)}")
        return 2
    text = json.dumps(load_schema(args.name), indent=2, ensure_ascii=False) + "\n"
    return write_bytes(text.encode("utf-8"), args.output, "schema")
