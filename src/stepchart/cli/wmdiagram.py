"""``stepchart import-diagram`` and ``export-diagram``: Workflow Manager diagram JSON to workflow YAML and back."""

from __future__ import annotations

import argparse
from typing import Any

from .options import add_definitions, existing_path
from .output import UsageError, print_problems, write_bytes

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``import-diagram`` and ``export-diagram`` to the ``stepchart`` parser's subcommands."""
    i = sub.add_parser(
        "import-diagram",
        help="turn a Workflow Manager diagram (JSON) into workflow YAML",
        description="Read a Workflow Manager diagram and write the workflow it describes. Whatever cannot be "
        "mapped (an unknown action type, an expression beyond return-value comparisons, schedules, "
        "notifications, ...) is a warning naming its JSON pointer. Exit 1 when the result is not a valid "
        "workflow (or on a warning, with --strict).",
    )
    i.add_argument(
        "file", metavar="DIAGRAM", type=existing_path, help="a diagram JSON file (as GET /diagrams/{id} answers)"
    )
    i.add_argument("-o", "--output", metavar="FILE", help="write the workflow YAML here (default: standard output)")
    i.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="ACTIONTYPE=STEPTYPE",
        help="the step type for an action type (repeat); adds to or overrides the built-in table",
    )
    i.add_argument("--strict", action="store_true", help="warnings count as problems (exit 1)")
    add_definitions(i, rules_help=None)
    i.set_defaults(handler=_cmd_import)
    e = sub.add_parser(
        "export-diagram",
        help="write a workflow as Workflow Manager diagram JSON",
        description="Write a workflow (YAML) as the diagram JSON Workflow Manager's clients read.",
    )
    e.add_argument("file", metavar="WORKFLOW", type=existing_path, help="a workflow YAML file")
    e.add_argument("-o", "--output", metavar="FILE", help="write the JSON here (default: standard output)")
    e.add_argument("--diagram-version", type=int, default=1, metavar="N", help="the diagramVersion to write (1)")
    add_definitions(e, rules_help=None)
    e.set_defaults(handler=_cmd_export)


def _mapping(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        action, sep, step_type = pair.partition("=")
        if not sep or not action or not step_type:
            raise UsageError(f"--map takes ACTIONTYPE=STEPTYPE, not {pair!r}")
        out[action] = step_type
    return out


def _cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from ..errors import DefinitionError
    from ..io.files import data_dir
    from ..io.yamldoc import Document, read_yaml_file
    from ..load.charts import load_chart_dir
    from ..load.workflows import parse_workflow
    from ..tools.wmdiagram import from_diagram

    mapping = _mapping(args.map)
    try:
        imported = from_diagram(read_yaml_file(args.file), mapping=mapping)
        print_problems(imported.warnings)
        types = load_chart_dir(*(args.charts or [data_dir("statecharts")]))
        name = args.output or "<imported workflow>"
        parse_workflow(Document(imported.workflow, name), types)
    except DefinitionError as exc:
        print_problems(exc.problems)
        return 1
    text = f"# imported from {Path(args.file).name} by stepchart import-diagram\n" + yaml.safe_dump(
        imported.workflow, sort_keys=False, allow_unicode=True, width=100
    )
    code = write_bytes(text.encode("utf-8"), args.output, "import-diagram")
    return code or (1 if args.strict and imported.warnings else 0)


def _cmd_export(args: argparse.Namespace) -> int:
    import json

    from ..errors import DefinitionError
    from ..io.files import data_dir
    from ..io.yamldoc import read_yaml_file
    from ..load.charts import load_chart_dir
    from ..load.workflows import parse_workflow
    from ..tools.wmdiagram import to_diagram

    try:
        doc = read_yaml_file(args.file)
        types = load_chart_dir(*(args.charts or [data_dir("statecharts")]))
        parse_workflow(doc, types)
    except DefinitionError as exc:
        print_problems(exc.problems)
        return 1
    text = json.dumps(to_diagram(doc.value, version=args.diagram_version), indent=2, ensure_ascii=False) + "\n"
    return write_bytes(text.encode("utf-8"), args.output, "export-diagram")
