"""A job's history in Workflow Manager's record shape (issue 9), from what the store keeps.

A WM record is ``{date, jobId, stepId, username, action, result, startDate, endDate,
durationSeconds}``. It is built from three sources, merged by date (the creation first):

- the job's R23 records: our action names are WM's (Activated, Deactivated, Started,
  Paused, Cancelled, Finished, Error, Held, HoldReleased, Reassigned, Closed, Reopened),
  so they are kept as they are. A Started record carries ``startDate``; the Finished,
  Error, Paused or Cancelled record that ends it carries ``startDate``, ``endDate`` and
  ``durationSeconds``; the last Finished record of a step carries its return value as
  ``result``;
- the action log, for what R23 does not record: ``Create`` (``Created``), ``Upgrade``
  (``Upgraded``, ``result`` "FROM -> TO") and ``Update`` (``Updated``);
- the job's comments (``Commented``, with ``commentId`` and the text as ``result``).

Fields WM's record lacks are kept where a source has them (``commentId``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ..model import Job
from ..model.times import parse_datetime

__all__ = ["LOGGED_ACTIONS", "wm_history"]

LOGGED_ACTIONS = {"Create": "Created", "Upgrade": "Upgraded", "Update": "Updated"}
"""Logged requests that write no R23 record, and their WM history action."""

_ENDS = ("Finished", "Error", "Paused", "Cancelled")


def _record(job_id: str, date: str | None, step: str | None, user: str, action: str, **rest: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"date": date, "jobId": job_id, "stepId": step, "username": user, "action": action,
                           "result": None, "startDate": None, "endDate": None, "durationSeconds": None}  # fmt: skip
    out.update(rest)
    return out


def _seconds(start: str, end: str) -> float:
    return (parse_datetime(end) - parse_datetime(start)).total_seconds()


def _from_r23(job: Job) -> list[dict[str, Any]]:
    started: dict[str | None, str] = {}
    last_finish = {r.get("stepId"): i for i, r in enumerate(job.history) if r["action"] == "Finished"}
    out = []
    for i, r in enumerate(job.history):
        step, action, date = r.get("stepId"), r["action"], r["date"]
        rec = _record(job.job_id, date, step, r.get("username") or "", action)
        if action == "Started":
            started[step] = date
            rec["startDate"] = date
        elif action in _ENDS and step in started:
            begun = started.pop(step)
            rec.update(startDate=begun, endDate=date, durationSeconds=_seconds(begun, date))
        if action == "Finished" and last_finish.get(step) == i and step is not None:
            rec["result"] = job.return_values.get(step)
        out.append(rec)
    return out


def _from_log(job_id: str, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        action = LOGGED_ACTIONS.get(str(e.get("action")))
        if action is None:
            continue
        user = (e.get("actor") or {}).get("username") or ""
        response = e.get("response") or {}
        result = None
        if action == "Upgraded" and isinstance(response, Mapping) and "workflowVersion" in response:
            result = f"{response.get('previousVersion')} -> {response['workflowVersion']}"
        out.append(_record(job_id, e.get("now"), None, user, action, result=result))
    return out


def _key(rec: Mapping[str, Any]) -> tuple[int, datetime]:
    date = rec.get("date")
    if rec["action"] == "Created" or not date:
        return (0, datetime.min)
    return (1, parse_datetime(date).replace(tzinfo=None))


def wm_history(
    job: Job, log: Sequence[Mapping[str, Any]], comments: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The job's WM history records, oldest first (a stable merge: same-time records keep their source order)."""
    records = _from_r23(job) + _from_log(job.job_id, log)
    records += [
        _record(job.job_id, c["createdDate"], None, c["createdBy"], "Commented", result=c["comment"],
                commentId=c["commentId"])
        for c in comments
    ]  # fmt: skip
    return sorted(records, key=_key)
