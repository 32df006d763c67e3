"""``stepchart demo``: walk one job of each example workflow to its end, printing every response.

The walk acts as each step's assignee would: Run, then Finish (or the first answer of a
question, or the host's ``complete`` for an asynchronous step), until the job closes.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from ..bootstrap import Engine, open_engine
from ..engine.core import ActionResult
from ..errors import DefinitionError
from ..io.files import data_dir, walk_files
from ..model import SYSTEM, Actor, CurrentStep
from ..model.times import format_datetime, parse_datetime
from ..stores import StoreError

__all__ = ["run_demo", "walk"]

MAX_STEPS = 50


def _assignee(cs: CurrentStep) -> Actor:
    if cs.assigned_type == "User" and cs.assigned_to:
        return Actor.of(cs.assigned_to)
    if cs.assigned_type == "Group" and cs.assigned_to:
        return Actor.of(f"{cs.assigned_to}-member", [cs.assigned_to])
    return SYSTEM


def _show(out: TextIO, what: str, result: ActionResult) -> None:
    print(f"  {what}", file=out)
    print(f"    -> {result.status_code} {json.dumps(result.body)}", file=out)


def walk(engine: Engine, workflow_id: str, now_text: str, out: TextIO) -> dict[str, Any]:
    """Create a job of ``workflow_id`` and move it to its end; returns the final job document."""
    now = parse_datetime(now_text)
    job = engine.create_job(workflow_id, now=now)
    job_id = job["jobId"]
    print(f"job {job_id} of {workflow_id}: current {[c['stepId'] for c in job['currentSteps']]}", file=out)
    wf = engine.workflows[workflow_id]
    for _ in range(MAX_STEPS):
        doc = engine.job(job_id)
        if doc["closed"] or not doc["currentSteps"]:
            break
        c = doc["currentSteps"][0]
        cs = CurrentStep(c["stepId"], c["status"], c["assignedType"], c.get("assignedTo"))
        actor = _assignee(cs)
        step = wf.steps[cs.step_id]
        chart = engine.step_types[step.type]
        now += timedelta(minutes=5)
        who = actor.username
        if chart.is_running(cs.status) and chart.asynchronous:
            _show(out, f"host completes {cs.step_id}", engine.complete(job_id, cs.step_id, "Success", now=now))
        elif cs.status == "WaitingForInfo" or (chart.is_running(cs.status) and step.answers):
            answer = step.answers[0] if step.answers else "yes"
            _show(out, f"{who} answers {cs.step_id}: {answer}", engine.respond(job_id, cs.step_id, answer, actor, now))
        elif chart.is_started(cs.status):
            _show(
                out,
                f"{who} finishes {cs.step_id}",
                engine.act(job_id, {"type": "Finish", "stepIds": [cs.step_id]}, actor, now),
            )
        else:
            result = engine.act(job_id, {"type": "Run", "stepIds": [cs.step_id]}, actor, now)
            _show(out, f"{who} runs {cs.step_id}", result)
            if not result.success:
                break
    final = engine.job(job_id)
    state = "closed" if final["closed"] else f"open at {[c['stepId'] for c in final['currentSteps']]}"
    print(f"job {job_id}: {state}; return values {json.dumps(final['returnValues'])}", file=out)
    return final


def run_demo(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    files = [Path(p) for p in args.workflows] or [
        f.path for f in walk_files([data_dir("examples")], recursive=False)[0]
    ]
    try:
        parse_datetime(args.now)
        try:
            engine = open_engine(args.database)
        except StoreError as exc:
            print(f"stepchart demo: error: {exc}", file=sys.stderr)
            return 2
        workflows = [engine.add_workflow(f) for f in files]
        engine.sync_workflows()
    except DefinitionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"stepchart demo: error: --now: {exc}", file=sys.stderr)
        return 2
    if args.database != "memory:":
        print(f"jobs are kept in {args.database}", file=out)
    ok = True
    for wf in workflows:
        final = walk(engine, wf.id, args.now, out)
        ok = ok and bool(final["closed"])
    print(f"walked {len(workflows)} workflow(s) at {format_datetime(parse_datetime(args.now))}", file=out)
    return 0 if ok else 1
