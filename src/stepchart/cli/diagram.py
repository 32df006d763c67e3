"""``stepchart diagram``: draw a workflow or a lifecycle chart as Mermaid, Graphviz DOT, SVG, PNG or PDF.

The suffix of ``-o FILE`` decides the format; ``--format`` says it for standard output and
must agree with the suffix when both are given.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import add_definitions
from .output import UsageError, err, print_problems, write_bytes

__all__ = ["FORMATS", "FORMAT_SUFFIXES", "output_format", "register"]

FORMATS = ("mermaid", "dot", "svg", "png", "pdf")
FORMAT_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".dot": "dot", ".gv": "dot",
                   ".svg": "svg", ".png": "png", ".pdf": "pdf"}  # fmt: skip
"""The format of ``-o FILE``, by its suffix (``.md``: Mermaid in a fenced block, as Markdown renders it)."""


def register(sub: Any) -> None:
    """Add ``diagram`` to the ``stepchart`` parser's subcommands."""
    d = sub.add_parser(
        "diagram", help="draw a workflow or a lifecycle chart (Mermaid, Graphviz DOT, SVG, PNG, PDF)",
        description="Draw a workflow (steps, paths, return values, assignments; automatic and skippable steps "
        "marked) or a lifecycle chart (states, events, guards). The suffix of -o FILE decides the format "
        f"({', '.join(FORMAT_SUFFIXES)}). SVG, PNG and PDF need Graphviz's dot.",
    )  # fmt: skip
    d.add_argument("file", metavar="FILE", help="a workflow or lifecycle chart (YAML)")
    d.add_argument("--format", choices=FORMATS, help="default: from -o's suffix, else mermaid")
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
    from ..tools.diagram import (
        RENDERED,
        DiagramError,
        chart_dot,
        chart_mermaid,
        job_view,
        render,
        workflow_dot,
        workflow_mermaid,
    )
    from ..tools.lint import document_kind

    fmt = output_format(args.format, args.output)
    for path in (args.file, args.job):
        if path and not Path(path).is_file():
            raise UsageError(f"no such file: {path}", usage=False)
    try:
        doc = read_yaml_file(args.file)
        kind = document_kind(doc.value)
        if kind == "chart":
            if args.job:
                raise UsageError("--job highlights a workflow's steps; this is a lifecycle chart")
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
    if args.output and Path(args.output).suffix.lower() == ".md":
        text = f"```mermaid\n{text}```\n"
    data = text.encode("utf-8")
    if fmt in RENDERED:
        if fmt != "svg" and not args.output and sys.stdout.isatty():
            raise UsageError(f"not writing {fmt.upper()} to a terminal; use -o FILE or redirect the output")
        try:
            data = render(text, fmt)
        except DiagramError as exc:
            raise UsageError(str(exc), usage=False) from None
    return write_bytes(data, args.output, "diagram")


def output_format(given: str | None, output: str | None) -> str:
    """The format to write: ``-o``'s suffix decides, ``--format`` must agree with it; else ``--format``, else mermaid.

    Raises :class:`~.output.UsageError` for a suffix that names no format, or a ``--format``
    that contradicts it.
    """
    from pathlib import Path

    suffix = Path(output).suffix.lower() if output else ""
    if not suffix:  # standard output, or a file named without a suffix
        return given or "mermaid"
    by_suffix = FORMAT_SUFFIXES.get(suffix)
    if by_suffix is None:
        known = ", ".join(FORMAT_SUFFIXES)
        raise UsageError(f"-o {output}: the suffix {suffix} names no format; give one of {known}")
    if given is not None and given != by_suffix:
        raise UsageError(f"--format {given} contradicts -o {output}, which is {by_suffix}")
    return by_suffix
