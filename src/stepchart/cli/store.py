"""The store commands of the ``stepchart`` CLI: replay, sweep, export, import.

:func:`register` adds them to the main parser's subcommands; each handler takes the
parsed arguments and returns the exit code (0 all well, 1 problems found, 2 usage:
a store that cannot be opened, a file that does not exist). Every command opens the
store given by ``--store`` (a SQLite path, ``sqlite:///relative.db``,
``sqlite:////absolute.db``, ``postgresql://...``, ``memory:``), else
``$STEPCHART_STORE``, else ``./stepchart.db``. ``replay`` and ``export`` (and ``jobs
list``, ``jobs events``) only read: they refuse a database that does not exist and open
it read-only.

Commands that run requests (sweep here; jobs close/reopen/delete/upgrade in
:mod:`.jobs`) build an engine on the store: the shipped charts and rules unless
``--charts``/``--rules`` say otherwise, every workflow version stored with the jobs,
and the ``--workflow`` given, which become the newest versions (a folder gives the
YAML documents below it whose top level is a workflow; see
:func:`.options.workflow_files`). They act as user ``system`` unless ``--as`` names a
user (with ``--group`` and ``--privilege``). The time of a request is ``--now``, else
the clock of this machine.

``--format json`` (replay, sweep, import; the jobs commands) prints one JSON document
on standard output with what the text says; ``export`` and ``jobs events`` write JSON
Lines whatever the format, as they stream records.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .options import add_format, add_now, add_store, add_store_engine, open_store, request_time, store_engine
from .output import Handler, answer_record, error, guarded

if TYPE_CHECKING:
    from ..model import Actor

__all__ = ["main", "register"]


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


@guarded
def cmd_replay(args: argparse.Namespace) -> int:
    """Replay each job's action log through a fresh engine and compare with the stored job."""
    from ..management.replay import verify_store
    from ..tools.reporting import dump_json

    store = open_store(args, read_only=True)
    try:
        engine = store_engine(args, store)
        actors = _actors_file(args.actors)
        if args.show:
            doc = engine.replay_job(args.show, actors)
            print(json.dumps(doc, indent=2, ensure_ascii=False))
            return 0
        ids = args.job or None
        bad = verify_store(engine, store, ids, actors=actors)
        checked = len(ids) if ids else len(set(store.job_ids()) | {e["jobId"] for e in store.log_entries()})
        if args.format == "json":
            differ = [
                {"jobId": m.job_id, "message": m.describe(), "error": m.error, "stored": m.stored,
                 "replayed": m.replayed}
                for m in bad
            ]  # fmt: skip
            dump_json({"checked": checked, "exact": checked - len(bad), "differ": differ}, sys.stdout)
            return 1 if bad else 0
        for m in bad:
            print(m.describe())
        print(f"{checked - len(bad)} jobs replay exactly, {len(bad)} differ")
        return 1 if bad else 0
    finally:
        store.close()


# -- sweep ----------------------------------------------------------------------------------


@guarded
def cmd_sweep(args: argparse.Namespace) -> int:
    """Release the holds whose time has come (and met dependencies); run the steps they blocked."""
    from ..tools.reporting import dump_json

    store = open_store(args)
    try:
        engine = store_engine(args, store)
        results = engine.sweep(request_time(args.now or None), limit=args.limit)
        if args.format == "json":
            jobs = [answer_record(job_id, result) for job_id, result in results]
            failed = sum(1 for _job_id, result in results if not result.ok)
            dump_json({"swept": len(results), "failed": failed, "jobs": jobs}, sys.stdout)
            return 1 if failed else 0
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


@guarded
def cmd_export(args: argparse.Namespace) -> int:
    """Write the store (or some jobs) as JSON lines: workflows, jobs, log entries with events."""
    from ..stores.records import refuse_unstorable

    store = open_store(args, read_only=True)
    out: TextIO = sys.stdout if args.output in (None, "-") else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        n = 0
        for record in store.export_records(args.job or None):
            refuse_unstorable(record, f"record {n + 1}", "the export is incomplete")
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
    import os

    from ..io.jsontext import parse_json_strict

    if path != "-" and os.path.exists(path) and not os.path.isfile(path):
        raise ValueError(f"{path}:1:1: not a regular file (a device, FIFO or folder is not read; - reads stdin)")

    src: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        for n, line in enumerate(src, 1):
            if line.strip():
                try:
                    yield parse_json_strict(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: not JSON: {exc}") from None
    finally:
        if src is not sys.stdin:
            src.close()


@guarded
def cmd_import(args: argparse.Namespace) -> int:
    """Add the jobs, logs and workflow versions of an export file to the store (one transaction)."""
    from ..stores import JobExistsError
    from ..tools.reporting import dump_json

    if args.file != "-" and not Path(args.file).exists():
        raise FileNotFoundError(f"{args.file}: no such file")
    store = open_store(args)
    try:
        try:
            report = store.import_records(_read_records(args.file), skip_existing=args.skip_existing)
        except JobExistsError as exc:
            message = (
                f"job {exc.args[0]!r} exists in the store; nothing imported (--skip-existing leaves such jobs alone)"
            )
            if args.format == "json":
                dump_json({"error": {"type": "JobExists", "jobId": exc.args[0], "message": message}}, sys.stdout)
            else:
                error("import", message)
            return 1
        if args.format == "json":
            counts = {"jobs": report.jobs, "logEntries": report.log_entries, "events": report.events,
                      "workflows": report.workflows, "comments": report.comments,
                      "skippedJobs": report.skipped_jobs}  # fmt: skip
            dump_json(counts, sys.stdout)
            return 0
        print(
            f"imported {report.jobs} jobs, {report.log_entries} log entries, {report.events} events, "
            f"{report.workflows} workflow versions, {report.comments} comments"
            + (f"; skipped existing jobs: {', '.join(report.skipped_jobs)}" if report.skipped_jobs else "")
        )
        return 0
    finally:
        store.close()


# -- registration ---------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``replay``, ``sweep``, ``export`` and ``import`` to the CLI's subcommands.

    Each parser sets ``handler``: a function of the parsed arguments returning the exit code.
    """
    p = sub.add_parser(
        "replay", help="replay each job's action log and compare with the stored job", description=cmd_replay.__doc__
    )
    add_store_engine(p)
    p.add_argument("--job", action="append", default=[], metavar="ID", help="only this job (repeat)")
    p.add_argument("--actors", metavar="FILE", help="YAML: user: {groups: [...], privileges: [...]}")
    p.add_argument("--show", metavar="ID", help="print the replayed job document instead of comparing")
    add_format(p)
    p.set_defaults(handler=cmd_replay)

    p = sub.add_parser(
        "sweep", help="release expired scheduled holds and run the steps they blocked", description=cmd_sweep.__doc__
    )
    add_store_engine(p)
    add_now(p, "the time to sweep at (default: now)", default=None)
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N jobs")
    add_format(p)
    p.set_defaults(handler=cmd_sweep)

    p = sub.add_parser(
        "export", help="write jobs, their logs and workflow versions as JSON lines", description=cmd_export.__doc__
    )
    add_store(p)
    p.add_argument("-o", "--output", default=None, metavar="FILE", help="file to write (default: standard output)")
    p.add_argument("--job", action="append", default=[], metavar="ID", help="only this job (repeat)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="add the contents of an export file to a store", description=cmd_import.__doc__)
    add_store(p)
    p.add_argument("file", metavar="FILE", help="an export file ('-' for standard input)")
    p.add_argument("--skip-existing", action="store_true", help="leave jobs that exist alone instead of failing")
    add_format(p)
    p.set_defaults(handler=cmd_import)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the store and jobs commands on their own (``python -m stepchart.cli.store``)."""
    from . import jobs

    parser = argparse.ArgumentParser(prog="stepchart", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    jobs.register(sub)
    args = parser.parse_args(argv)
    if hasattr(args, "no_project"):  # as stepchart.cli.main: the project file and the shipped folders
        from .options import apply_project

        if apply_project(args):
            return 2
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
