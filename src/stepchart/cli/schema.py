"""``stepchart schema``: print one of the shipped JSON Schemas, list them, or write them all to a folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .output import err, write_bytes

__all__ = ["register", "write_all_schemas"]


def register(sub: Any) -> None:
    """Add ``schema`` to the ``stepchart`` parser's subcommands."""
    s = sub.add_parser(
        "schema", help="print a shipped JSON Schema",
        description="Print one of the shipped JSON Schemas (without NAME: list them). "
        "With --all -o DIR, write every shipped schema file (the HTTP ones too) into DIR, creating it.",
    )  # fmt: skip
    s.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help="payload, response, error, workflow, chart, rules, job, scenario or project",
    )
    s.add_argument("-o", "--output", metavar="FILE", help="write here instead of printing (with --all: a folder)")
    s.add_argument("--all", action="store_true", help="every schema file, as NAME.schema.json into the -o folder")
    s.set_defaults(handler=_cmd_schema)


def write_all_schemas(folder: str | Path) -> list[Path]:
    """Write every shipped schema file into ``folder`` (created with its parents); the files written.

    The files are copied byte for byte, so their relative ``$ref``\\ s (``job.schema.json``)
    resolve inside the folder as they do in the package.
    """
    from ..io.schemas import schema_files

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in schema_files().items():
        target = out / name
        target.write_bytes(data)
        written.append(target)
    return written


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from ..io.schemas import SCHEMA_NAMES, load_schema

    if args.all:
        if args.name is not None or not args.output:
            err("stepchart schema: --all writes every schema into a folder: stepchart schema --all -o DIR")
            return 2
        try:
            written = write_all_schemas(args.output)
        except OSError as exc:
            err(f"stepchart schema: cannot write {args.output}: {exc.strerror or exc}")
            return 2
        print(f"wrote {len(written)} schemas to {args.output}")
        return 0
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
