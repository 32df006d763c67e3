"""``stepchart diagram``: draw a workflow or a lifecycle chart as Mermaid, Graphviz DOT, SVG or PNG."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import add_definitions
from .output import err, print_problems, write_bytes

__all__ = ["FORMAT_SUFFIXES", "register"]

FORMAT_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg",
                   ".png": "png"}  # fmt: skip
"""The format ``-o FILE`` asks for by its suffix, when ``--format`` is not given."""


def register(sub: Any) -> None:
    """Add ``diagram`` to the ``stepchart`` parser's subcommands."""
    d = sub.add_parser(
        "diagram", help="draw a workflow or a lifecycle chart (Mermaid, Graphviz DOT, SVG, PNG)",
        description="Draw a workflow (steps, paths, return values, assignments; automatic and skippable steps "
        "marked) or a lifecycle chart (states, events, guards). SVG and PNG need Graphviz's dot.",
    )  # fmt: skip
    d.add_argument("file", metavar="FILE", help="a workflow or lifecycle chart (YAML)")
    d.add_argument("--format", choices=("mermaid", "dot", "svg", "png"), help="default: from -o's suffix, else mermaid")
    d.add_argument("--job", metavar="JOB", help="highlight this job's current steps and statuses (JSON or YAML)")
    d.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    add_definitions(d, rules_help=None)
    d.set_defaults(handler=_cmd_diagram)


def _cmd_diagram(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import DefinitionError
    from ..io.files import data_dir
    from ..io.yamldoc import read_yaml_file
    from ..load.charts import load_chart_dir, parse_chart
    from ..load.jobs import parse_job
    from ..load.workflows import parse_workflow
    from ..tools.diagram import DiagramError, chart_dot, chart_mermaid, job_view, render, workflow_dot, workflow_mermaid
    from ..tools.lint import document_kind

    fmt = args.format
    if fmt is None:
        fmt = FORMAT_SUFFIXES.get(Path(args.output).suffix.lower(), "mermaid") if args.output else "mermaid"
    if not Path(args.file).is_file():
        err(f"stepchart diagram: no such file: {args.file}")
        return 2
    if args.job and not Path(args.job).is_file():
        err(f"stepchart diagram: no such file: {args.job}")
        return 2
    try:
        doc = read_yaml_file(args.file)
        kind = document_kind(doc.value)
        if kind == "chart":
            if args.job:
                err("stepchart diagram: --job highlights a workflow's steps; this is a lifecycle chart")
                return 2
            st = parse_chart(doc)
            text = chart_mermaid(st) if fmt == "mermaid" else chart_dot(st)
        elif kind == "workflow":
            types = load_chart_dir(*(args.charts if args.charts is not None else [data_dir("statecharts")]))
            wf = parse_workflow(doc, types)
            view = None
            if args.job:
                job_doc = read_yaml_file(args.job)
                if not isinstance(job_doc.value, dict):
                    raise job_doc.error((), "not-a-mapping", "a job document is a mapping")
                named = job_doc.value.get("workflow")
                if isinstance(named, str) and named != wf.id:
                    raise job_doc.error(("workflow",), "unknown-workflow",
                                        f"the job is of workflow {named!r}, not {wf.id!r}")  # fmt: skip
                job, is_new = parse_job(job_doc, lambda _w: wf, types, workflow=wf)
                view = job_view(job, wf, types, is_new=is_new)
            text = workflow_mermaid(wf, view) if fmt == "mermaid" else workflow_dot(wf, view)
        else:
            err(f"{args.file}:1:1: error[unknown-document]: not a workflow or a lifecycle chart")
            return 1
    except DefinitionError as exc:
        print_problems(exc.problems)
        return 1
    data = text.encode("utf-8")
    if fmt in ("svg", "png"):
        if fmt == "png" and not args.output and sys.stdout.isatty():
            err("stepchart diagram: not writing PNG to a terminal; use -o FILE or redirect the output")
            return 2
        try:
            data = render(text, fmt)
        except DiagramError as exc:
            err(f"stepchart diagram: {exc}")
            return 2
    return write_bytes(data, args.output, "diagram")
