"""Designer commands: check, diagram, explain, validate, run, new-job, schema; and the test command's CI options.

Only ``argparse`` is imported here: each handler imports what it needs when it runs, so
``stepchart --help`` stays fast. Exit codes everywhere: 0 fine, 1 problems found (or the
request refused), 2 usage (bad arguments, a path that does not exist).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.core import Engine
    from ..errors import Problem
    from ..model import Actor
    from ..tools.reporting import Style

__all__ = ["register"]

FORMAT_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg",
                   ".png": "png"}  # fmt: skip


class UsageError(Exception):
    """A bad argument: reported on standard error, exit 2."""


def register(sub: Any) -> None:
    """Add the designer commands to the ``stepchart`` parser's subcommands."""
    color = argparse.ArgumentParser(add_help=False)
    color.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto",
        help="colour the output: auto (a terminal without NO_COLOR), always, never",
    )  # fmt: skip
    context = argparse.ArgumentParser(add_help=False)
    context.add_argument("--charts", action="append", metavar="DIR", help="lifecycle chart folder (default: shipped)")
    context.add_argument("--rules", action="append", metavar="DIR", help="rules folder (default: shipped)")

    c = sub.add_parser(
        "check", parents=[color], help="lint workflows, lifecycle charts, rules and scenarios",
        description="Check files and folders: every load error, then semantic findings "
        "(unreachable steps, automatic loops, unused answers, impossible paths, unhandled events, "
        "rules that can never pass). Exit 1 when an error is found (or a warning, with --strict).",
    )  # fmt: skip
    c.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (folders: every *.yaml, *.yml)")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument(
        "--charts",
        action="append",
        metavar="DIR",
        help="charts the workflows use besides the checked ones (default: shipped)",
    )
    c.add_argument(
        "--rules",
        action="append",
        metavar="DIR",
        help="rules the charts are checked against (default: the checked rules files, else shipped)",
    )
    c.add_argument("--strict", action="store_true", help="warnings count as problems (exit 1)")
    c.add_argument("--codes", action="store_true", help="print the table of finding codes and exit")
    c.set_defaults(handler=_cmd_check)

    d = sub.add_parser(
        "diagram", help="draw a workflow or a lifecycle chart (Mermaid, Graphviz DOT, SVG, PNG)",
        description="Draw a workflow (steps, paths, return values, assignments; automatic and skippable steps "
        "marked) or a lifecycle chart (states, events, guards). SVG and PNG need Graphviz's dot.",
    )  # fmt: skip
    d.add_argument("file", metavar="FILE", help="a workflow or lifecycle chart (YAML)")
    d.add_argument("--format", choices=("mermaid", "dot", "svg", "png"), help="default: from -o's suffix, else mermaid")
    d.add_argument("--job", metavar="JOB", help="highlight this job's current steps and statuses (JSON or YAML)")
    d.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    d.add_argument("--charts", action="append", metavar="DIR", help="lifecycle chart folder (default: shipped)")
    d.set_defaults(handler=_cmd_diagram)

    job_args = argparse.ArgumentParser(add_help=False)
    job_args.add_argument("--job", required=True, metavar="JOB", help="the job document (JSON or YAML, SPEC 6.2)")
    job_args.add_argument(
        "--workflow",
        required=True,
        action="append",
        metavar="WORKFLOW",
        help="the workflow file (repeat for the workflows of --other-job)",
    )
    job_args.add_argument(
        "--other-job", action="append", default=[], metavar="JOB", help="another job document, for dependency holds"
    )
    job_args.add_argument(
        "--as",
        dest="username",
        default="system",
        metavar="USER",
        help="the acting user (default: system, the engine itself)",
    )
    job_args.add_argument("--groups", action="append", default=[], metavar="G[,G...]", help="the actor's groups")
    job_args.add_argument("--privilege", action="append", default=[], metavar="P[,P...]", help="the actor's privileges")
    job_args.add_argument("--now", metavar="TIME", help="the clock, RFC 3339 (default: now)")
    job_args.add_argument(
        "payload", metavar="PAYLOAD", help="the jobAction body: JSON text, a file, or - for standard input"
    )

    e = sub.add_parser(
        "explain", parents=[job_args, context, color], help="why a request would get its answer (changes nothing)",
        description="For each target step, every rule checked in order (name, pass or fail, the facts it read) "
        "and the status the request would give. Nothing is changed. Exit 0 if the request would succeed, "
        "1 if not.",
    )  # fmt: skip
    e.add_argument("--format", choices=("text", "json"), default="text")
    e.set_defaults(handler=_cmd_explain)

    r = sub.add_parser(
        "run", parents=[job_args, context, color], help="act on a job document file",
        description="Send a jobAction request to a job document and print the response. "
        "Exit 0 when every step answers Success, 1 otherwise.",
    )  # fmt: skip
    r.add_argument("--events", action="store_true", help="print the events the request caused")
    r.add_argument("--write", action="store_true", help="write the new job document back to the --job file")
    r.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the new job document here instead (YAML for .yaml/.yml, else JSON)",
    )
    r.add_argument("--format", choices=("text", "json"), default="text")
    r.set_defaults(handler=_cmd_run)

    n = sub.add_parser(
        "new-job", parents=[context], help="print a new job document of a workflow",
        description="Create a job of the workflow (its initial step current, automatic steps run) and print it.",
    )  # fmt: skip
    n.add_argument("workflow", metavar="WORKFLOW")
    n.add_argument("--job-id", default="J1", metavar="ID")
    n.add_argument("--now", metavar="TIME", help="the clock, RFC 3339 (default: now)")
    n.add_argument("-o", "--output", metavar="FILE", help="write here (YAML for .yaml/.yml) instead of printing")
    n.set_defaults(handler=_cmd_new_job)

    v = sub.add_parser(
        "validate", parents=[color], help="validate jobAction payloads offline",
        description="Check payloads against the jobAction contract (strict JSON, the shipped schema, R10's "
        "date-time). Folders: every *.json, *.jsonl, *.ndjson. Valid payloads are not listed; exit 1 if any "
        "is invalid.",
    )  # fmt: skip
    v.add_argument("paths", nargs="+", metavar="PAYLOAD", help="files, folders, or - for standard input")
    v.add_argument("--jsonl", action="store_true", help="every input is JSON Lines: one payload a line")
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    v.set_defaults(handler=_cmd_validate)

    s = sub.add_parser(
        "schema", help="print a shipped JSON Schema",
        description="Print one of the shipped JSON Schemas (without NAME: list them).",
    )  # fmt: skip
    s.add_argument(
        "name", nargs="?", metavar="NAME", help="payload, response, error, workflow, chart, rules, job or scenario"
    )
    s.add_argument("-o", "--output", metavar="FILE")
    s.set_defaults(handler=_cmd_schema)

    t = getattr(sub, "choices", {}).get("test")
    if t is not None:  # the test command is cli.py's; its CI options are added here, each once
        _add_once(
            t, "--coverage", action="store_true",
            help="report the transitions, rules (pass and fail) and paths exercised, and those never",
        )  # fmt: skip
        _add_once(t, "--junit-xml", metavar="FILE", help="also write a JUnit XML report")
        _add_once(t, "--format", choices=("text", "json"), default="text")
        _add_once(t, "--color", choices=("auto", "always", "never"), default="auto")


def _add_once(parser: argparse.ArgumentParser, flag: str, **kwargs: Any) -> None:
    if flag not in parser._option_string_actions:
        parser.add_argument(flag, **kwargs)


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _print_problems(problems: list[Problem], style: Style | None = None) -> None:
    from ..tools.reporting import Style as _Style

    st = style or _Style.for_stream(sys.stderr)
    for p in problems:
        print(_problem_text(p, st), file=sys.stderr)


def _problem_text(p: Problem, style: Style) -> str:
    where = style.bold(f"{_shown(p.file)}:{p.line}:{p.column}:")
    return f"{where} {style.severity(p.severity)}{style.dim(f'[{p.code}]')}: {p.message}"


def _shown(path: str) -> str:
    """An absolute path under the working folder as a relative one (the shipped charts load absolute)."""
    import os

    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


# -- check --------------------------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace) -> int:
    from ..tools.reporting import Style, dump_json

    out = sys.stdout
    if args.codes:
        from ..tools.lint import CODES

        if args.format == "json":
            dump_json([{"code": k, "severity": s, "meaning": m} for k, (s, m) in CODES.items()], out)
        else:
            width = max(len(k) for k in CODES)
            for k, (s, m) in CODES.items():
                print(f"{k.ljust(width)}  {s:<7}  {m}", file=out)
        return 0
    if not args.paths:
        _err("stepchart check: give files or folders to check (or --codes)")
        return 2
    from ..tools.lint import check_paths

    try:
        result = check_paths(args.paths, charts=args.charts, rules=args.rules)
    except FileNotFoundError as exc:
        _err(f"stepchart check: no such file or folder: {exc}")
        return 2
    failing = result.errors + (result.warnings if args.strict else 0)
    if args.format == "json":
        dump_json(result.to_dict(), out)
        return 1 if failing else 0
    style = Style.for_stream(out, args.color)
    for p in result.problems:
        print(_problem_text(p, style), file=out)
    checked = [f for f in result.files if not f.skipped]
    kinds: dict[str, int] = {}
    for f in checked:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    what = ", ".join(_count(n, k) for k, n in sorted(kinds.items()))
    skipped = len(result.files) - len(checked)
    tail = f"; {skipped} other file{'s' if skipped != 1 else ''} skipped" if skipped else ""
    e, w = result.errors, result.warnings
    summary = (
        f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''} in {len(checked)} "
        f"file{'s' if len(checked) != 1 else ''} ({what or 'none'}){tail}"
    )
    print(style.verdict(not failing, summary), file=out)
    return 1 if failing else 0


def _count(n: int, kind: str) -> str:
    one, many = {
        "chart": ("chart", "charts"),
        "rules": ("rules file", "rules files"),
        "scenario": ("scenario file", "scenario files"),
        "workflow": ("workflow", "workflows"),
        "job": ("job document", "job documents"),
        "invalid": ("invalid file", "invalid files"),
        "unknown": ("unknown file", "unknown files"),
    }.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"


# -- diagram ------------------------------------------------------------------------------------------


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
        _err(f"stepchart diagram: no such file: {args.file}")
        return 2
    if args.job and not Path(args.job).is_file():
        _err(f"stepchart diagram: no such file: {args.job}")
        return 2
    try:
        doc = read_yaml_file(args.file)
        kind = document_kind(doc.value)
        if kind == "chart":
            if args.job:
                _err("stepchart diagram: --job highlights a workflow's steps; this is a lifecycle chart")
                return 2
            st = parse_chart(doc)
            text = chart_mermaid(st) if fmt == "mermaid" else chart_dot(st)
        elif kind == "workflow":
            types = load_chart_dir(*(args.charts or [data_dir("statecharts")]))
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
            _err(f"{args.file}:1:1: error[unknown-document]: not a workflow or a lifecycle chart")
            return 1
    except DefinitionError as exc:
        _print_problems(exc.problems)
        return 1
    data = text.encode("utf-8")
    if fmt in ("svg", "png"):
        if fmt == "png" and not args.output and sys.stdout.isatty():
            _err("stepchart diagram: not writing PNG to a terminal; use -o FILE or redirect the output")
            return 2
        try:
            data = render(text, fmt)
        except DiagramError as exc:
            _err(f"stepchart diagram: {exc}")
            return 2
    return _write_bytes(data, args.output, "diagram")


def _write_bytes(data: bytes, output: str | None, command: str) -> int:
    if output:
        try:
            with open(output, "wb") as f:
                f.write(data)
        except OSError as exc:
            _err(f"stepchart {command}: cannot write {output}: {exc.strerror or exc}")
            return 2
        return 0
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


# -- explain, run, new-job --------------------------------------------------------------------------------


def _now(text: str | None) -> str:
    from datetime import UTC, datetime

    from ..model.times import format_datetime, parse_datetime

    if text is None:
        return format_datetime(datetime.now(UTC).replace(microsecond=0))
    try:
        return format_datetime(parse_datetime(text))
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None


def _actor(args: argparse.Namespace) -> Actor:
    from ..model import SYSTEM, Actor

    if args.username == "system" and not args.groups and not args.privilege:
        return SYSTEM

    def split(values: list[str]) -> list[str]:
        return [x.strip() for v in values for x in v.split(",") if x.strip()]

    return Actor.of(args.username, split(args.groups), split(args.privilege))


def _payload(arg: str) -> bytes:
    from pathlib import Path

    if arg == "-":
        return sys.stdin.buffer.read()
    path = Path(arg)
    if path.is_file():
        return path.read_bytes()
    if not arg.lstrip().startswith(("{", "[", '"')) and ("/" in arg or arg.endswith((".json", ".jsonl"))):
        raise UsageError(f"no such payload file: {arg}")
    return arg.encode("utf-8")  # JSON text (the engine answers InvalidJson if it is not)


def _engine(args: argparse.Namespace) -> Engine:
    from ..engine.core import Engine

    return Engine(args.charts, args.rules)


def _files_exist(*paths: str) -> None:
    from pathlib import Path

    for p in paths:
        if not Path(p).is_file():
            raise UsageError(f"no such file: {p}")


def _load_job_context(args: argparse.Namespace) -> tuple[Engine, str, str]:
    """An engine with the workflows and jobs loaded: (engine, job id, now)."""
    from pathlib import Path

    from ..io.yamldoc import read_yaml_file

    _files_exist(args.job, *args.workflow, *args.other_job)
    now = _now(args.now)
    engine = _engine(args)
    loaded = [engine.add_workflow(Path(w)) for w in args.workflow]
    for other in args.other_job:
        engine.load_job(_job_document(read_yaml_file(other), loaded), now=now)
    doc = _job_document(read_yaml_file(args.job), loaded)
    job = engine.load_job(doc, now=now)
    return engine, str(job["jobId"]), now


def _job_document(doc: Any, loaded: list[Any]) -> Any:
    """A job document naming its workflow: the single --workflow fills in a missing ``workflow``."""
    from ..errors import DefinitionError, Problem

    value = doc.value
    if not isinstance(value, dict):
        raise doc.error((), "not-a-mapping", "a job document is a mapping")
    if "workflow" not in value:
        if len(loaded) != 1:
            raise DefinitionError(
                [
                    Problem(
                        doc.file,
                        1,
                        1,
                        "missing-workflow",
                        "the job names no workflow: add workflow: ID, or give one --workflow",
                    )
                ]
            )
        value["workflow"] = loaded[0].id
    return doc


def _with_context(args: argparse.Namespace, command: str) -> tuple[Engine, str, str, bytes] | int:
    from ..errors import DefinitionError

    """The engine, job id and time of ``--job``, and the payload: what ``run`` and ``explain`` act on."""
    try:
        engine, job_id, now = _load_job_context(args)
        return engine, job_id, now, _payload(args.payload)
    except UsageError as exc:
        _err(f"stepchart {command}: {exc}")
        return 2
    except DefinitionError as exc:
        _print_problems(exc.problems)
        return 1
    except KeyError as exc:
        _err(f"stepchart {command}: {exc.args[0] if exc.args else exc}")
        return 1


def _cmd_explain(args: argparse.Namespace) -> int:
    from ..tools.explain import explain, render_text
    from ..tools.reporting import Style, dump_json

    ctx = _with_context(args, "explain")
    if isinstance(ctx, int):
        return ctx
    engine, job_id, now, body = ctx
    ex = explain(engine, job_id, body, _actor(args), now)
    if args.format == "json":
        dump_json(ex.to_dict(), sys.stdout)
    else:
        sys.stdout.write(render_text(ex, Style.for_stream(sys.stdout, args.color)))
    return 0 if ex.allowed else 1


def _cmd_run(args: argparse.Namespace) -> int:
    from ..tools.reporting import Style, dump_json

    ctx = _with_context(args, "run")
    if isinstance(ctx, int):
        return ctx
    engine, job_id, now, body = ctx
    result = engine.act(job_id, body, _actor(args), now)
    job = engine.job(job_id)
    written = None
    wants_write = args.write or args.output is not None
    if wants_write and result.ok:
        target = args.output or args.job
        code = _write_job(job, target, "run")
        if code:
            return code
        written = target
    if args.format == "json":
        doc: dict[str, Any] = {"statusCode": result.status_code, "response": result.body}
        if args.events:
            doc["events"] = result.events
        if written:
            doc["written"] = written
        dump_json(doc, sys.stdout)
    else:
        style = Style.for_stream(sys.stdout, args.color)
        _print_response(result.status_code, result.body, style)
        if args.events:
            print("events:" if result.events else "events: none", file=sys.stdout)
            for ev in result.events:
                extra = {k: v for k, v in ev.items() if k not in ("type", "jobId", "stepId", "date", "username")}
                tail = " " + " ".join(f"{k}={_short(v)}" for k, v in extra.items()) if extra else ""
                step = f" {ev['stepId']}" if "stepId" in ev else ""
                print(f"  {ev['type']}{step} by {ev['username']} at {ev['date']}{tail}", file=sys.stdout)
        if written:
            print(f"job {job_id} written to {written}", file=sys.stdout)
        elif wants_write:
            print(f"job {job_id} unchanged: not written", file=sys.stdout)
    return 0 if result.success else 1


def _short(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def _print_response(code: int, body: dict[str, Any], style: Style) -> None:
    if code != 200:
        err = body["error"]
        print(style.red(f"{code} {err['type']}") + f": {err['message']}", file=sys.stdout)
        for d in err.get("details", []):
            print(f"  {d}", file=sys.stdout)
        return
    ok = bool(body.get("success"))
    print(style.verdict(ok, f"{code} success: {str(ok).lower()}"), file=sys.stdout)
    width = max([len(r["stepId"]) for r in body["stepResponses"]] + [2])
    for r in body["stepResponses"]:
        status = r["status"]
        shown = style.green(status) if status == "Success" else style.red(status)
        print(f"  {(r['stepId'] or repr('')).ljust(width)}  {shown}  {style.dim(r['statusDescription'])}",
              file=sys.stdout)  # fmt: skip


def _write_job(job: dict[str, Any], target: str, command: str) -> int:
    try:
        with open(target, "w", encoding="utf-8") as f:
            f.write(_job_text(job, target))
    except OSError as exc:
        _err(f"stepchart {command}: cannot write {target}: {exc.strerror or exc}")
        return 2
    return 0


def _job_text(job: dict[str, Any], target: str | None) -> str:
    import json

    if target and target.endswith((".yaml", ".yml")):
        import yaml

        return str(yaml.safe_dump(job, sort_keys=False, allow_unicode=True))
    return json.dumps(job, indent=2, ensure_ascii=False) + "\n"


def _cmd_new_job(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..errors import DefinitionError

    try:
        _files_exist(args.workflow)
        now = _now(args.now)
        engine = _engine(args)
        wf = engine.add_workflow(Path(args.workflow))
        job = engine.create_job(wf.id, args.job_id, now=now)
    except UsageError as exc:
        _err(f"stepchart new-job: {exc}")
        return 2
    except DefinitionError as exc:
        _print_problems(exc.problems)
        return 1
    if args.output:
        return _write_job(job, args.output, "new-job")
    sys.stdout.write(_job_text(job, None))
    return 0


# -- validate -----------------------------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..tools.reporting import Progress, Style, dump_json
    from ..tools.validate import Payload, ValidationRun, expand_inputs, iter_payloads, validate_one

    files, missing = expand_inputs(args.paths)
    if missing:
        for m in missing:
            _err(f"stepchart validate: no such file or folder: {m}")
        return 2
    if args.paths.count("-") > 1:
        _err("stepchart validate: - (standard input) can be given once")
        return 2
    out = sys.stdout
    style = Style.for_stream(out, args.color) if args.format == "text" else Style(False)
    run = ValidationRun()
    total = None if args.jsonl or any(f == "-" or f.endswith((".jsonl", ".ndjson")) for f in files) else len(files)
    with Progress(total, "payloads", sys.stderr) as progress:
        for item in iter_payloads(files, jsonl=args.jsonl):
            problems = validate_one(item) if isinstance(item, Payload) else [item]
            run.add(problems)
            progress.advance()
            if args.format == "text" and problems:
                progress.close()
                for p in problems:
                    where = style.bold(f"{p.source}:{p.line}:{p.column}:")
                    print(f"{where} {style.cyan(p.path)}: {p.message}", file=out)
    if args.format == "json":
        dump_json(run.to_dict(), out, pretty=None)  # thousands of errors: compact unless on a terminal
    elif not args.quiet:
        summary = (
            f"{run.checked} payload{'s' if run.checked != 1 else ''} checked: {run.valid} valid, {run.invalid} invalid"
        )
        print(style.verdict(run.invalid == 0, summary), file=out)
    return 1 if run.invalid else 0


# -- schema -------------------------------------------------------------------------------------------------


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from ..io.schemas import SCHEMA_NAMES, load_schema

    if args.name is None:
        width = max(len(n) for n in SCHEMA_NAMES)
        for name in SCHEMA_NAMES:
            print(f"{name.ljust(width)}  {load_schema(name).get('title', '')}")
        return 0
    if args.name not in SCHEMA_NAMES:
        _err(f"stepchart schema: no schema {args.name!r}; schemas are: {', '.join(SCHEMA_NAMES)}")
        return 2
    text = json.dumps(load_schema(args.name), indent=2, ensure_ascii=False) + "\n"
    return _write_bytes(text.encode("utf-8"), args.output, "schema")
