"""``stepchart explain``, ``run`` and ``new-job``: one request on a job document file, or a new job.

The job document, its workflow (and other jobs, for dependency holds) are loaded into an
engine in memory; ``explain`` says why the request would get its answer and changes
nothing, ``run`` sends it and can write the new job back, ``new-job`` prints a new job.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .options import (
    acting_user,
    add_actor,
    add_color,
    add_definitions,
    add_format,
    add_now,
    add_option,
    definitions_engine,
    request_time,
)
from .output import UsageError, error, print_problems

if TYPE_CHECKING:
    from ..bootstrap import Engine
    from ..tools.reporting import Style

__all__ = ["register"]


def _add_job_options(p: argparse.ArgumentParser) -> None:
    """The job, its workflows, the actor, the time and the payload of ``explain`` and ``run``."""
    p.add_argument("--job", required=True, metavar="JOB", help="the job document (JSON or YAML, SPEC 6.2)")
    add_option(p, "--workflow", "--workflows", action="append", default=[], metavar="WORKFLOW",
               help="the workflow file, required (repeat for the workflows of --other-job)")  # fmt: skip
    p.add_argument(
        "--other-job", action="append", default=[], metavar="JOB", help="another job document, for dependency holds"
    )
    add_actor(p)
    add_now(p)
    p.add_argument("payload", metavar="PAYLOAD", help="the jobAction body: JSON text, a file, or - for standard input")
    add_definitions(p)
    add_color(p)


def register(sub: Any) -> None:
    """Add ``explain``, ``run`` and ``new-job`` to the ``stepchart`` parser's subcommands."""
    e = sub.add_parser(
        "explain", help="why a request would get its answer (changes nothing)",
        description="For each target step, every rule checked in order (name, pass or fail, the facts it read) "
        "and the status the request would give. Nothing is changed. Exit 0 if the request would succeed, "
        "1 if not.",
    )  # fmt: skip
    _add_job_options(e)
    add_format(e)
    e.set_defaults(handler=_cmd_explain)

    r = sub.add_parser(
        "run", help="act on a job document file",
        description="Send a jobAction request to a job document and print the response. "
        "Exit 0 when every step answers Success, 1 otherwise.",
    )  # fmt: skip
    _add_job_options(r)
    r.add_argument("--events", action="store_true", help="print the events the request caused")
    r.add_argument("--write", action="store_true", help="write the new job document back to the --job file")
    r.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the new job document here instead (YAML for .yaml/.yml, else JSON)",
    )
    add_format(r)
    r.set_defaults(handler=_cmd_run)

    n = sub.add_parser(
        "new-job", help="print a new job document of a workflow",
        description="Create a job of the workflow (its initial step current, automatic steps run) and print it.",
    )  # fmt: skip
    add_definitions(n)
    n.add_argument("workflow", metavar="WORKFLOW")
    n.add_argument("--job-id", default="J1", metavar="ID")
    add_now(n)
    n.add_argument("-o", "--output", metavar="FILE", help="write here (YAML for .yaml/.yml) instead of printing")
    n.set_defaults(handler=_cmd_new_job)


# -- loading the job ----------------------------------------------------------------------------


def _now(text: str | None) -> str:
    """``--now`` as RFC 3339 text (the clock in whole seconds by default); a bad time is a usage error."""
    from ..model.times import format_datetime

    try:
        return format_datetime(request_time(text, whole_seconds=True))
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None


def _payload(arg: str) -> bytes:
    from pathlib import Path

    if arg == "-":
        return sys.stdin.buffer.read()
    path = Path(arg)
    if path.is_file():
        return path.read_bytes()
    if not arg.lstrip().startswith(("{", "[", '"')) and ("/" in arg or arg.endswith((".json", ".jsonl"))):
        raise UsageError(f"no such payload file: {arg}", usage=False)
    return arg.encode("utf-8")  # JSON text (the engine answers InvalidJson if it is not)


def _files_exist(*paths: str) -> None:
    from pathlib import Path

    for p in paths:
        if not Path(p).is_file():
            raise UsageError(f"no such file: {p}", usage=False)


def _load_job_context(args: argparse.Namespace) -> tuple[Engine, str, str]:
    """An engine with the workflows and jobs loaded: (engine, job id, now)."""
    from pathlib import Path

    from ..io.yamldoc import read_yaml_file

    if not args.workflow:
        raise UsageError("the following arguments are required: --workflow")
    _files_exist(args.job, *args.workflow, *args.other_job)
    now = _now(args.now)
    engine = definitions_engine(args)
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
    """The engine, job id and time of ``--job``, and the payload: what ``run`` and ``explain`` act on."""
    from ..errors import DefinitionError

    try:
        engine, job_id, now = _load_job_context(args)
        return engine, job_id, now, _payload(args.payload)
    except DefinitionError as exc:
        print_problems(exc.problems)
        return 1
    except KeyError as exc:
        error(command, str(exc.args[0] if exc.args else exc))
        return 1


# -- the commands -------------------------------------------------------------------------------


def _cmd_explain(args: argparse.Namespace) -> int:
    from ..tools.explain import explain, render_text
    from ..tools.reporting import Style, dump_json

    ctx = _with_context(args, "explain")
    if isinstance(ctx, int):
        return ctx
    engine, job_id, now, body = ctx
    ex = explain(engine, job_id, body, acting_user(args), now)
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
    result = engine.act(job_id, body, acting_user(args), now)
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
        error = body["error"]
        print(style.red(f"{code} {error['type']}") + f": {error['message']}", file=sys.stdout)
        for d in error.get("details", []):
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
        error(command, f"cannot write {target}: {exc.strerror or exc}")
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
        engine = definitions_engine(args)
        wf = engine.add_workflow(Path(args.workflow))
        job = engine.create_job(wf.id, args.job_id, now=now)
    except DefinitionError as exc:
        print_problems(exc.problems)
        return 1
    if args.output:
        return _write_job(job, args.output, "new-job")
    sys.stdout.write(_job_text(job, None))
    return 0
