"""Workflow Manager's notification messages, built from our R24 events and jobs (pure: no I/O).

The notification WebSocket (:mod:`.notifications`) sends what Esri's client reads
(docs/wm-client-notes.md §3.5): ``{"msgType": NAME, "message": {"jobId": ..., ...},
"timestamp": ...}``. Here are the frames' contents: the greeting, a ``JobState`` snapshot
of a job, an ``Error``, and the messages one request's events become
(:func:`request_messages`). The client ends ``job.run()`` on StepFinished, StepStopped,
StepError or StepInfoRequired, ``job.stop()`` on StepPaused, StepStopped, StepError or
StepCancelled, and ``job.finish()`` on StepStarted, StepError or StepFinished; so a Run
that leaves a step waiting for a person (a synchronous step started and not finished by
the same request) is followed by a ``StepInfoRequired`` saying so, or ``run().result()``
would wait until someone finishes the step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..model import Job
from ..vocabulary import EVENTS

__all__ = [
    "FINISH_ENDS",
    "GREETING",
    "RUN_ENDS",
    "STOP_ENDS",
    "StepFacts",
    "error_message",
    "job_state",
    "request_messages",
]

GREETING: dict[str, Any] = {"connected": True}
"""The first frame: a truthy ``connected`` and no ``msgType`` (the client waits for it, §3.3)."""

RUN_ENDS = frozenset({"StepFinished", "StepStopped", "StepError", "StepInfoRequired"})
STOP_ENDS = frozenset({"StepPaused", "StepStopped", "StepError", "StepCancelled"})
FINISH_ENDS = frozenset({"StepStarted", "StepError", "StepFinished"})
"""The messages that end the client's wait on each action (WM:4618)."""

_PASSED_AS_IS = ("StepPaused", "StepCancelled", "StepHeld", "StepHoldReleased", "StepReassigned")
_JOB_UPDATES = {"JobClosed": "Closed", "JobReopened": "Open", "JobDeleted": "Deleted", "JobUpgraded": None}
"""Job-wide events, sent as ``JobUpdated`` (WM has no JobClosed message) with the job status they leave."""

WAITING_CODE = "StepWaitingForFinish"
QUESTION_CODE = "StepQuestion"
ERROR_CODE = "StepFailed"


@dataclass(frozen=True)
class StepFacts:
    """What the messages say of a workflow step: its name, canSkip, whether the host runs it, its answers."""

    name: str
    can_skip: bool = False
    asynchronous: bool = False
    answers: tuple[str, ...] | None = None


StepLookup = Callable[[str, str], StepFacts | None]
"""``lookup(job_id, step_id)``: the step of the job's workflow version, or None if unknown."""


def error_message(msg: str, code: str, timestamp: str, *, job_id: str | None = None) -> dict[str, Any]:
    """An ``Error`` frame: ``msg`` for people, ``msgCode`` for programs (and the job it is about)."""
    body: dict[str, Any] = {"msg": msg, "msgCode": code}
    if job_id is not None:
        body["jobId"] = job_id
    return {"msgType": "Error", "message": body, "timestamp": timestamp}


def job_status(job: Job, doc: dict[str, Any]) -> str:
    """The job's ``jobStatus``: the stored one where the job has it, else Closed or Open."""
    status = doc.get("jobStatus")
    return status if isinstance(status, str) and status else "Closed" if job.closed else "Open"


def job_state(job: Job, lookup: StepLookup, timestamp: str) -> dict[str, Any]:
    """The ``JobState`` snapshot a subscribe is answered with (WM-REST.md's fields that exist here)."""
    doc = job.to_doc()
    steps = []
    for current in job.current_steps:
        facts = lookup(job.job_id, current.step_id)
        steps.append(
            {
                "stepId": current.step_id,
                "stepName": facts.name if facts is not None else current.step_id,
                "assignedTo": current.assigned_to,
                "assignedType": current.assigned_type,
                "canSkip": facts.can_skip if facts is not None else False,
                "status": current.status,
                "messageDetails": None,
            }
        )
    message = {
        "jobId": job.job_id,
        "jobStatus": job_status(job, doc),
        "jobTemplateName": doc.get("jobTemplateName", job.workflow),
        "diagramId": job.workflow,
        "diagramVersion": job.workflow_version,
        "percentComplete": doc.get("percentComplete", 100 if job.closed else 0),
        "closed": job.closed,
        "stepStates": steps,
    }
    return {"msgType": "JobState", "message": message, "timestamp": timestamp}


def request_messages(events: Sequence[dict[str, Any]], lookup: StepLookup) -> list[dict[str, Any]]:
    """The messages of one request's events (one job, one action-log entry), in the events' order.

    Every event gives one message, except a Run that leaves a synchronous step started
    (StepStarted, and no StepFinished, StepInfoRequired or StepError of that step in
    the same request), which gives a second one: ``StepInfoRequired`` with Finish and
    Stop allowed. ``StepFinished`` carries ``jobStatus`` Closed when the same request
    closed the job.
    """
    closes = any(e.get("type") == "JobClosed" for e in events)
    ended = {(e.get("type"), e.get("stepId")) for e in events}
    out: list[dict[str, Any]] = []
    for event in events:
        out.extend(_messages(event, lookup, closes, ended))
    return out


def _messages(
    event: dict[str, Any], lookup: StepLookup, closes: bool, ended: set[tuple[Any, Any]]
) -> Iterable[dict[str, Any]]:
    kind, job_id, step_id = event.get("type"), str(event.get("jobId")), event.get("stepId")
    stamp = str(event.get("date", ""))

    def frame(name: str, **fields: Any) -> dict[str, Any]:
        return {"msgType": name, "message": {"jobId": job_id, **fields}, "timestamp": stamp}

    facts = lookup(job_id, step_id) if isinstance(step_id, str) else None
    if kind == "StepStarted":
        yield frame("StepStarted", stepIds=[step_id], username=event.get("username"))
        settled = any((name, step_id) in ended for name in ("StepFinished", "StepInfoRequired", "StepError"))
        if not settled and facts is not None and not facts.asynchronous:
            yield frame(
                "StepInfoRequired",
                stepId=step_id,
                msg=f"The step {facts.name or step_id} is running: it waits for a person to finish it.",
                msgCode=WAITING_CODE,
                allowedActions=["Finish", "Stop"],
                questionResponses=[],
            )
    elif kind == "StepFinished":
        yield frame(
            "StepFinished",
            stepIds=[step_id],
            currentSteps=list(event.get("currentSteps", [])),
            jobStatus="Closed" if closes else "Open",
            returnValue=event.get("returnValue"),
        )
    elif kind == "StepError":
        yield frame("StepError", stepId=step_id, msg=event.get("message") or "The step failed.", msgCode=ERROR_CODE)
    elif kind == "StepInfoRequired":
        answers = list(facts.answers or ()) if facts is not None else []
        yield frame(
            "StepInfoRequired",
            stepId=step_id,
            msg=f"The step {facts.name if facts is not None and facts.name else step_id} waits for an answer.",
            msgCode=QUESTION_CODE,
            allowedActions=["Respond", "Stop"],
            questionResponses=[{"value": a, "label": a} for a in answers],
        )
    elif kind in _PASSED_AS_IS:
        extra = {k: v for k, v in event.items() if k not in ("type", "jobId", "stepId", "date", "sequence")}
        yield frame(str(kind), stepId=step_id, stepIds=[step_id], **extra)
    elif kind in _JOB_UPDATES:
        status = _JOB_UPDATES[str(kind)]
        fields: dict[str, Any] = {"event": kind, "username": event.get("username")}
        if status is not None:
            fields["jobStatus"] = status
        yield frame("JobUpdated", **fields)
    elif isinstance(kind, str) and kind not in EVENTS:  # an event kind added later: the job changed
        yield frame("JobUpdated", event=kind, username=event.get("username"))
