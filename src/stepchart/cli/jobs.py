"""``stepchart jobs``: list, close, reopen, delete and upgrade the jobs of a store; its events feed.

The options and the engine are those of the store commands (:mod:`.store`): ``--store``,
and for the requests ``--workflow``/``--charts``/``--rules``, ``--as`` with ``--group``
and ``--privilege``, and ``--now``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .options import (
    acting_user,
    add_actor,
    add_format,
    add_now,
    add_store,
    add_store_engine,
    open_store,
    request_time,
    store_engine,
)
from .output import Handler, guarded

if TYPE_CHECKING:
    from ..bootstrap import Engine
    from ..engine.core import ActionResult
    from ..model import Actor

__all__ = ["cmd_jobs_events", "cmd_jobs_list", "register"]

JobOperation = Callable[["Engine", str, "Actor", datetime, argparse.Namespace], "ActionResult"]
"""What ``jobs close``, ``reopen``, ``delete`` and ``upgrade`` do to one job."""


def _describe_step(c: dict[str, Any]) -> str:
    who = c.get("assignedTo")
    assigned = f"{c.get('assignedType')} {who}" if who else c.get("assignedType", "Unassigned")
    return f"{c['stepId']} ({c['status']}, {assigned})"


@guarded
def cmd_jobs_list(args: argparse.Namespace) -> int:
    """List jobs: open or closed, of a workflow, assigned to someone, at a step."""
    from ..stores import JobFilter

    store = open_store(args, read_only=True)
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
        if args.format == "json":
            print(json.dumps(jobs, indent=2, ensure_ascii=False))
            return 0
        for j in jobs:
            steps = ", ".join(_describe_step(c) for c in j["currentSteps"]) or "no current step"
            print(f"{j['jobId']}\t{j['workflow']}\t{'closed' if j['closed'] else 'open'}\t{steps}")
        print(f"{len(jobs)} jobs", file=sys.stderr)
        return 0
    finally:
        store.close()


def _each_job(op: JobOperation) -> Handler:
    """A handler that applies ``op`` to every job id given; exit 1 if any is refused."""

    @guarded
    def run(args: argparse.Namespace) -> int:
        store = open_store(args)
        try:
            engine = store_engine(args, store)
            actor, now = acting_user(args), request_time(args.now or None)
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


@guarded
def cmd_jobs_events(args: argparse.Namespace) -> int:
    """Print the events feed after a sequence number, one JSON object a line."""
    store = open_store(args, read_only=True)
    try:
        for event in store.events_after(args.after, args.job, args.limit):
            print(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        return 0
    finally:
        store.close()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``jobs list|close|reopen|delete|upgrade|events`` to the CLI's subcommands."""
    jobs = sub.add_parser("jobs", help="list, close, reopen, delete and upgrade jobs; the events feed")
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="COMMAND", required=True)

    p = jsub.add_parser("list", help="list jobs", description=cmd_jobs_list.__doc__)
    add_store(p)
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
    add_format(p, "--json")
    p.set_defaults(handler=cmd_jobs_list)

    operations: tuple[tuple[str, JobOperation, str], ...] = (
        ("close", _close, "close jobs (privilege jobClose)"),
        ("reopen", _reopen, "reopen closed jobs (privilege jobReopenClosed)"),
        ("delete", _delete, "delete jobs (privilege jobDelete)"),
        ("upgrade", _upgrade, "move jobs to a newer workflow version (privilege adminAdvanced)"),
    )
    for name, op, text in operations:
        p = jsub.add_parser(name, help=text, description=op.__doc__)
        add_store_engine(p)
        add_actor(p)
        add_now(p, "time of the request (RFC 3339; default: now)", default=None)
        p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
        if name == "upgrade":
            p.add_argument("--version", default=None, help="the version to move to (default: the newest)")
        p.set_defaults(handler=_each_job(op))

    p = jsub.add_parser("events", help="the events feed after a sequence number", description=cmd_jobs_events.__doc__)
    add_store(p)
    p.add_argument("--after", type=int, default=0, metavar="N", help="after the event numbered N (default 0)")
    p.add_argument("--job", default=None, metavar="ID", help="events of this job only")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N events")
    p.set_defaults(handler=cmd_jobs_events)
