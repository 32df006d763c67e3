"""The store commands of the ``stepchart`` CLI: replay, sweep, export, import, jobs.

:func:`register` adds them to the main parser's subcommands; each handler takes the
parsed arguments and returns the exit code (0 all well, 1 problems found, 2 usage:
a store that cannot be opened, a file that does not exist). Every command opens the
store given by ``--store`` (a SQLite path, ``sqlite:///path``, ``postgresql://...``,
``memory:``), else ``$STEPCHART_STORE``, else ``./stepchart.db``.

Commands that run requests (sweep, jobs close/reopen/delete/upgrade) build an engine
on the store: the shipped charts and rules unless ``--charts``/``--rules`` say
otherwise, every workflow version stored with the jobs, and the ``--workflows``
given (files, or folders of workflow YAML), which become the newest versions.
They act as user ``system`` unless ``--as`` names a user (with ``--group`` and
``--privilege``). The time of a request is ``--now``, else the clock of this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import DefinitionError
from ..stores import DEFAULT_STORE

if TYPE_CHECKING:
    from ..bootstrap import Engine
    from ..engine.core import ActionResult
    from ..model import Actor
    from ..stores import ManagedStore

__all__ = ["main", "register"]

Handler = Callable[[argparse.Namespace], int]


def _store_url(args: argparse.Namespace) -> str:
    return str(getattr(args, "store", None) or os.environ.get("STEPCHART_STORE") or DEFAULT_STORE)


def _add_store(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=argparse.SUPPRESS,
        metavar="URL",
        help=f"SQLite path or URL, postgresql://..., or memory: (default $STEPCHART_STORE or {DEFAULT_STORE})",
    )


def _add_engine(p: argparse.ArgumentParser) -> None:
    _add_store(p)
    p.add_argument(
        "--workflows",
        action="append",
        default=[],
        metavar="PATH",
        help="a workflow YAML file or folder (repeat); they become the newest versions",
    )
    p.add_argument(
        "--charts",
        action="append",
        default=None,
        metavar="PATH",
        help="a folder or file of step type charts (repeat; default: shipped)",
    )
    p.add_argument(
        "--rules",
        action="append",
        default=None,
        metavar="PATH",
        help="a folder or file of rules (repeat; default: shipped)",
    )


def _add_actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="as_user", default="system", metavar="USER", help="act as this user (default system)")
    p.add_argument("--group", action="append", default=[], metavar="NAME", help="a group of the user (repeat)")
    p.add_argument("--privilege", action="append", default=[], metavar="NAME", help="a privilege of the user (repeat)")
    p.add_argument("--now", default=None, metavar="TIME", help="time of the request (RFC 3339; default: now)")


def _workflow_files(paths: Sequence[str]) -> Iterator[Path]:
    """Files named, and in folders the YAML files whose top level is a workflow."""
    from ..io.yamldoc import read_yaml_file

    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in (".yaml", ".yml") and f.is_file():
                    try:
                        doc = read_yaml_file(f)
                    except DefinitionError:
                        continue
                    if isinstance(doc.value, dict) and "workflow" in doc.value and "steps" in doc.value:
                        yield f
        elif p.exists():
            yield p
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")


def _engine(args: argparse.Namespace, store: ManagedStore) -> Engine:
    from ..bootstrap import Engine

    files = list(_workflow_files(getattr(args, "workflows", [])))
    engine = Engine(getattr(args, "charts", None), getattr(args, "rules", None), workflows=files, store=store)
    for problem in engine.sync_workflows():
        print(f"warning: {problem}", file=sys.stderr)
    return engine


def _actor(args: argparse.Namespace) -> Actor:
    from ..model import SYSTEM, Actor

    if args.as_user == "system":
        return SYSTEM
    return Actor.of(args.as_user, args.group, args.privilege)


def _now(args: argparse.Namespace) -> datetime:
    from ..model.times import parse_datetime

    return parse_datetime(args.now) if getattr(args, "now", None) else datetime.now(UTC)


def _guard(fn: Handler) -> Handler:
    """Turn the expected failures (store, files, documents) into a message and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        from ..stores import StoreError

        try:
            return fn(args)
        except (StoreError, FileNotFoundError, DefinitionError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    run.__doc__ = fn.__doc__
    return run


def _open(args: argparse.Namespace) -> ManagedStore:
    from ..stores import open_store

    return open_store(_store_url(args))


# -- replay ---------------------------------------------------------------------------------


def _actors_file(path: str | None) -> dict[str, Actor]:
    from ..io.yamldoc import read_yaml_file
    from ..model import Actor

    if not path:
        return {}
    value = read_yaml_file(path).value
    if not isinstance(value, dict):
        raise ValueError(f"{path}: actors are a mapping name: {{groups: [...], privileges: [...]}}")
    return {
        str(name): Actor.of(str(name), (spec or {}).get("groups", ()), (spec or {}).get("privileges", ()))
        for name, spec in value.items()
    }


@_guard
def cmd_replay(args: argparse.Namespace) -> int:
    """Replay each job's action log through a fresh engine and compare with the stored job."""
    from ..management.replay import verify_store

    store = _open(args)
    try:
        engine = _engine(args, store)
        actors = _actors_file(args.actors)
        if args.show:
            doc = engine.replay_job(args.show, actors)
            print(json.dumps(doc, indent=2, ensure_ascii=False))
            return 0
        ids = args.job or None
        bad = verify_store(engine, store, ids, actors=actors)
        checked = len(ids) if ids else len(set(store.job_ids()) | {e["jobId"] for e in store.log_entries()})
        for m in bad:
            print(m.describe())
        print(f"{checked - len(bad)} jobs replay exactly, {len(bad)} differ")
        return 1 if bad else 0
    finally:
        store.close()


# -- sweep ----------------------------------------------------------------------------------


@_guard
def cmd_sweep(args: argparse.Namespace) -> int:
    """Release the holds whose time has come (and met dependencies); run the steps they blocked."""
    store = _open(args)
    try:
        engine = _engine(args, store)
        results = engine.sweep(_now(args), limit=args.limit)
        failed = 0
        for job_id, result in results:
            if result.ok:
                print(f"{job_id}: holds released")
            else:
                failed += 1
                print(f"{job_id}: {result.error_type}: {result.body['error']['message']}")
        print(f"{len(results)} jobs swept, {failed} failed")
        return 1 if failed else 0
    finally:
        store.close()


# -- export / import ------------------------------------------------------------------------


@_guard
def cmd_export(args: argparse.Namespace) -> int:
    """Write the store (or some jobs) as JSON lines: workflows, jobs, log entries with events."""
    store = _open(args)
    out: TextIO = sys.stdout if args.output in (None, "-") else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        n = 0
        for record in store.export_records(args.job or None):
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            n += 1
        if out is not sys.stdout:
            print(f"{n} records written to {args.output}", file=sys.stderr)
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
        store.close()


def _read_records(path: str) -> Iterator[dict[str, Any]]:
    src: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for n, line in enumerate(src, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON: {exc}") from None
    finally:
        if src is not sys.stdin:
            src.close()


@_guard
def cmd_import(args: argparse.Namespace) -> int:
    """Add the jobs, logs and workflow versions of an export file to the store (one transaction)."""
    from ..stores import JobExistsError

    if args.file != "-" and not Path(args.file).exists():
        raise FileNotFoundError(f"{args.file}: no such file")
    store = _open(args)
    try:
        try:
            report = store.import_records(_read_records(args.file), skip_existing=args.skip_existing)
        except JobExistsError as exc:
            print(
                f"error: job {exc.args[0]!r} exists in the store; nothing imported "
                "(--skip-existing leaves such jobs alone)",
                file=sys.stderr,
            )
            return 1
        print(
            f"imported {report.jobs} jobs, {report.log_entries} log entries, {report.events} events, "
            f"{report.workflows} workflow versions"
            + (f"; skipped existing jobs: {', '.join(report.skipped_jobs)}" if report.skipped_jobs else "")
        )
        return 0
    finally:
        store.close()


# -- jobs -----------------------------------------------------------------------------------


def _describe_step(c: dict[str, Any]) -> str:
    who = c.get("assignedTo")
    assigned = f"{c.get('assignedType')} {who}" if who else c.get("assignedType", "Unassigned")
    return f"{c['stepId']} ({c['status']}, {assigned})"


@_guard
def cmd_jobs_list(args: argparse.Namespace) -> int:
    """List jobs: open or closed, of a workflow, assigned to someone, at a step."""
    from ..stores import JobFilter

    store = _open(args)
    try:
        flt = JobFilter(
            closed=args.closed,
            workflow=args.workflow,
            assignees=tuple(args.assignee),
            step=args.step,
            after=args.after,
            limit=args.limit,
        )
        jobs = store.search(flt)
        if args.json:
            print(json.dumps(jobs, indent=2, ensure_ascii=False))
            return 0
        for j in jobs:
            steps = ", ".join(_describe_step(c) for c in j["currentSteps"]) or "no current step"
            print(f"{j['jobId']}\t{j['workflow']}\t{'closed' if j['closed'] else 'open'}\t{steps}")
        print(f"{len(jobs)} jobs", file=sys.stderr)
        return 0
    finally:
        store.close()


def _each_job(op: Callable[[Engine, str, Actor, datetime, argparse.Namespace], ActionResult]) -> Handler:
    """A handler that applies ``op`` to every job id given; exit 1 if any is refused."""

    @_guard
    def run(args: argparse.Namespace) -> int:
        store = _open(args)
        try:
            engine = _engine(args, store)
            actor, now = _actor(args), _now(args)
            refused = 0
            for job_id in args.job_ids:
                result = op(engine, job_id, actor, now, args)
                if result.ok:
                    print(f"{job_id}: {json.dumps(result.body, ensure_ascii=False)}")
                else:
                    refused += 1
                    err = result.body["error"]
                    print(f"{job_id}: {err['type']}: {err['message']}", file=sys.stderr)
            return 1 if refused else 0
        finally:
            store.close()

    run.__doc__ = op.__doc__
    return run


def _close(engine: Engine, job_id: str, actor: Actor, now: datetime, args: argparse.Namespace) -> ActionResult:
    """Close jobs (jobClose)."""
    return engine.close_job(job_id, actor, now)


def _reopen(engine: Engine, job_id: str, actor: Actor, now: datetime, args: argparse.Namespace) -> ActionResult:
    """Reopen closed jobs (jobReopenClosed)."""
    return engine.reopen_job(job_id, actor, now)


def _delete(engine: Engine, job_id: str, actor: Actor, now: datetime, args: argparse.Namespace) -> ActionResult:
    """Delete jobs (jobDelete); their log stays."""
    return engine.delete_job(job_id, actor, now)


def _upgrade(engine: Engine, job_id: str, actor: Actor, now: datetime, args: argparse.Namespace) -> ActionResult:
    """Move jobs to the newest version of their workflow (or --version)."""
    return engine.upgrade_job(job_id, actor, now, args.version)


@_guard
def cmd_jobs_events(args: argparse.Namespace) -> int:
    """Print the events feed after a sequence number, one JSON object a line."""
    store = _open(args)
    try:
        for event in store.events_after(args.after, args.job, args.limit):
            print(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        return 0
    finally:
        store.close()


# -- registration ---------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``replay``, ``sweep``, ``export``, ``import`` and ``jobs ...`` to the CLI's subcommands.

    Each parser sets ``handler``: a function of the parsed arguments returning the exit code.
    """
    p = sub.add_parser(
        "replay", help="replay each job's action log and compare with the stored job", description=cmd_replay.__doc__
    )
    _add_engine(p)
    p.add_argument("--job", action="append", default=[], metavar="ID", help="only this job (repeat)")
    p.add_argument("--actors", metavar="FILE", help="YAML: user: {groups: [...], privileges: [...]}")
    p.add_argument("--show", metavar="ID", help="print the replayed job document instead of comparing")
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser(
        "sweep", help="release expired scheduled holds and run the steps they blocked", description=cmd_sweep.__doc__
    )
    _add_engine(p)
    p.add_argument("--now", default=None, metavar="TIME", help="the time to sweep at (default: now)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N jobs")
    p.set_defaults(handler=cmd_sweep)

    p = sub.add_parser(
        "export", help="write jobs, their logs and workflow versions as JSON lines", description=cmd_export.__doc__
    )
    _add_store(p)
    p.add_argument("-o", "--output", default=None, metavar="FILE", help="file to write (default: standard output)")
    p.add_argument("--job", action="append", default=[], metavar="ID", help="only this job (repeat)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="add the contents of an export file to a store", description=cmd_import.__doc__)
    _add_store(p)
    p.add_argument("file", metavar="FILE", help="an export file ('-' for standard input)")
    p.add_argument("--skip-existing", action="store_true", help="leave jobs that exist alone instead of failing")
    p.set_defaults(handler=cmd_import)

    jobs = sub.add_parser("jobs", help="list, close, reopen, delete and upgrade jobs; the events feed")
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)

    p = jsub.add_parser("list", help="list jobs", description=cmd_jobs_list.__doc__)
    _add_store(p)
    state = p.add_mutually_exclusive_group()
    state.add_argument("--open", dest="closed", action="store_const", const=False, default=None, help="open jobs only")
    state.add_argument("--closed", dest="closed", action="store_const", const=True, help="closed jobs only")
    p.add_argument("--workflow", default=None, metavar="ID", help="jobs of this workflow")
    p.add_argument(
        "--assignee",
        action="append",
        default=[],
        metavar="NAME",
        help="jobs with a current step assigned to this user or group (repeat)",
    )
    p.add_argument("--step", default=None, metavar="ID", help="jobs where this step is current")
    p.add_argument("--after", default=None, metavar="ID", help="jobs created after this one (paging)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N jobs")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_jobs_list)

    for name, op, text in (
        ("close", _close, "close jobs (privilege jobClose)"),
        ("reopen", _reopen, "reopen closed jobs (privilege jobReopenClosed)"),
        ("delete", _delete, "delete jobs (privilege jobDelete)"),
        ("upgrade", _upgrade, "move jobs to a newer workflow version (privilege adminAdvanced)"),
    ):
        p = jsub.add_parser(name, help=text, description=op.__doc__)
        _add_engine(p)
        _add_actor(p)
        p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
        if name == "upgrade":
            p.add_argument("--version", default=None, help="the version to move to (default: the newest)")
        p.set_defaults(handler=_each_job(op))

    p = jsub.add_parser("events", help="the events feed after a sequence number", description=cmd_jobs_events.__doc__)
    _add_store(p)
    p.add_argument("--after", type=int, default=0, metavar="N", help="after the event numbered N (default 0)")
    p.add_argument("--job", default=None, metavar="ID", help="events of this job only")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N events")
    p.set_defaults(handler=cmd_jobs_events)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the store commands on their own (``python -m stepchart.cli_store``)."""
    parser = argparse.ArgumentParser(prog="stepchart", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
