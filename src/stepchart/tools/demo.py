"""``stepchart demo``: walk one job of each example workflow to its end, printing every response.

The walk acts as each step's assignee would: Run, then Finish (or the first answer of a
question, or the host's ``complete`` for an asynchronous step), until the job closes.
``--format json`` prints one document instead: every walk with its requests and responses.
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
from .reporting import dump_json

__all__ = ["run_demo", "walk", "walk_record"]

MAX_STEPS = 50


def _assignee(cs: CurrentStep) -> Actor:
    if cs.assigned_type == "User" and cs.assigned_to:
        return Actor.of(cs.assigned_to)
    if cs.assigned_type == "Group" and cs.assigned_to:
        return Actor.of(f"{cs.assigned_to}-member", [cs.assigned_to])
    return SYSTEM


class _Walk:
    """One walk as it goes: each request and its response, printed as text to ``out`` (None: kept only)."""

    def __init__(self, out: TextIO | None) -> None:
        self.out = out
        self.requests: list[dict[str, Any]] = []

    def line(self, text: str) -> None:
        if self.out is not None:
            print(text, file=self.out)

    def show(self, what: str, result: ActionResult, **request: Any) -> None:
        self.requests.append({**request, "statusCode": result.status_code, "response": result.body})
        self.line(f"  {what}")
        self.line(f"    -> {result.status_code} {json.dumps(result.body)}")


def walk(engine: Engine, workflow_id: str, now_text: str, out: TextIO | None) -> dict[str, Any]:
    """Create a job of ``workflow_id`` and move it to its end; returns the final job document.

    The text goes to ``out`` (None: nothing printed); :func:`walk_record` also returns the requests.
    """
    final: dict[str, Any] = walk_record(engine, workflow_id, now_text, out)["job"]
    return final


def walk_record(engine: Engine, workflow_id: str, now_text: str, out: TextIO | None) -> dict[str, Any]:
    """:func:`walk`, returning ``{"workflow", "jobId", "requests", "job"}``: each request and the final job.

    A request is ``{"actor", "action", "stepId", ("answer"), "statusCode", "response"}``;
    ``action`` is Run, Finish, respond or complete (the host's answer to an asynchronous step).
    """
    now = parse_datetime(now_text)
    job = engine.create_job(workflow_id, now=now)
    job_id = job["jobId"]
    w = _Walk(out)
    w.line(f"job {job_id} of {workflow_id}: current {[c['stepId'] for c in job['currentSteps']]}")
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
            w.show(f"host completes {cs.step_id}", engine.complete(job_id, cs.step_id, "Success", now=now),
                   actor="host", action="complete", stepId=cs.step_id)  # fmt: skip
        elif cs.status == "WaitingForInfo" or (chart.is_running(cs.status) and step.answers):
            answer = step.answers[0] if step.answers else "yes"
            w.show(f"{who} answers {cs.step_id}: {answer}", engine.respond(job_id, cs.step_id, answer, actor, now),
                   actor=who, action="respond", stepId=cs.step_id, answer=answer)  # fmt: skip
        elif chart.is_started(cs.status):
            w.show(
                f"{who} finishes {cs.step_id}",
                engine.act(job_id, {"type": "Finish", "stepIds": [cs.step_id]}, actor, now),
                actor=who, action="Finish", stepId=cs.step_id,
            )  # fmt: skip
        else:
            result = engine.act(job_id, {"type": "Run", "stepIds": [cs.step_id]}, actor, now)
            w.show(f"{who} runs {cs.step_id}", result, actor=who, action="Run", stepId=cs.step_id)
            if not result.success:
                break
    final = engine.job(job_id)
    state = "closed" if final["closed"] else f"open at {[c['stepId'] for c in final['currentSteps']]}"
    w.line(f"job {job_id}: {state}; return values {json.dumps(final['returnValues'])}")
    return {"workflow": workflow_id, "jobId": job_id, "requests": w.requests, "job": final}


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
    at = format_datetime(parse_datetime(args.now))
    if getattr(args, "format", "text") == "json":
        walks = [walk_record(engine, wf.id, args.now, None) for wf in workflows]
        store = None if args.database == "memory:" else args.database
        dump_json({"store": store, "now": at, "walks": walks}, out)
        return 0 if all(w["job"]["closed"] for w in walks) else 1
    if args.database != "memory:":
        print(f"jobs are kept in {args.database}", file=out)
    ok = True
    for wf in workflows:
        final = walk(engine, wf.id, args.now, out)
        ok = ok and bool(final["closed"])
    print(f"walked {len(workflows)} workflow(s) at {at}", file=out)
    return 0 if ok else 1
