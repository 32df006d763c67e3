"""What an operation must give: ``expect:`` checked against the response and the job after it.

The first unmet expectation raises :class:`ScenarioFailure` with a message naming the
operation, the field, the expected and the actual value.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...load.workflows import as_text
from ...model import SYSTEM, Job, Request
from .documents import ScenarioFailure, unknown_key

if TYPE_CHECKING:
    from ...engine.core import ActionResult, Engine

__all__ = ["EXPECT_KEYS", "check"]

EXPECT_KEYS = {"success", "stepResponses", "error", "job"}
JOB_EXPECT_KEYS = {"closed", "currentSteps", "returnValues", "activeHolds"}
CURRENT_STEP_KEYS = {"stepId", "status", "assignedType", "assignedTo"}


def check(
    where: str,
    expect: Any,
    result: ActionResult | None,
    engine: Engine,
    job_id: str,
    now: datetime,
    *,
    expected: bool = True,
) -> None:
    """Check one operation's ``expect:`` (``where`` labels it) against its result and job ``job_id``.

    ``expected`` is false for an operation with no ``expect`` at all: then every step
    response must be ``Success`` (SPEC 6.3), so a refusal cannot pass unnoticed.
    """
    if expect is None:
        expect = {}
    if not isinstance(expect, dict):
        raise ScenarioFailure(f"{where}: expect is a mapping")
    bad = unknown_key(where, expect, EXPECT_KEYS, "expect")
    if bad:
        raise ScenarioFailure(bad)
    if result is not None and not result.ok and "error" not in expect:
        err = result.body["error"]
        raise ScenarioFailure(
            f"{where}: unexpected request error {err['type']}: {err['message']}"
            + (f" ({'; '.join(err['details'])})" if err.get("details") else "")
        )
    if not expected and result is not None and result.ok:
        for r in result.body.get("stepResponses", []):
            if r["status"] != "Success":
                step = repr(r["stepId"]) if r["stepId"] else "(no step)"
                raise ScenarioFailure(
                    f"{where}: step {step} answered {r['status']} ({r['statusDescription']}); an operation "
                    "without expect must succeed (SPEC 6.3): add expect: {stepResponses: [...]} if this is meant"
                )
    if "error" in expect:
        want = expect["error"] or {}
        got = result.body.get("error") if result is not None else None
        if got is None:
            raise ScenarioFailure(
                f"{where}: error: expected a request error {want.get('type', '')}, got "
                f"{'no request' if result is None else 'a 200 response'}"
            )
        if "type" in want and want["type"] != got["type"]:
            raise ScenarioFailure(
                f"{where}: error.type: expected {want['type']!r}, got {got['type']!r} ({got['message']})"
            )
    if "success" in expect:
        got_s = result.body.get("success") if result is not None else None
        if got_s != expect["success"]:
            raise ScenarioFailure(f"{where}: success: expected {_show(expect['success'])}, got {_show(got_s)}")
    if "stepResponses" in expect:
        _check_responses(where, expect["stepResponses"], result)
    if "job" in expect:
        _check_job(where, expect["job"], engine, job_id, now)


def _check_responses(where: str, want: Any, result: ActionResult | None) -> None:
    got = result.body.get("stepResponses") if result is not None else None
    if got is None:
        raise ScenarioFailure(f"{where}: stepResponses: expected {len(want)} responses, got none")
    if not isinstance(want, list) or len(want) != len(got):
        raise ScenarioFailure(
            f"{where}: stepResponses: expected {len(want) if isinstance(want, list) else want} "
            f"responses, got {len(got)}: {_brief(got)}"
        )
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        if not isinstance(w, dict):
            raise ScenarioFailure(f"{where}: stepResponses[{i}]: expected a mapping")
        for key in ("stepId", "status"):
            if key in w and as_text(w[key]) != g[key]:
                raise ScenarioFailure(
                    f"{where}: stepResponses[{i}].{key}: expected {w[key]!r}, got {g[key]!r}"
                    + (f" ({g['statusDescription']})" if key == "status" else "")
                )


def _check_job(where: str, want: Any, engine: Engine, job_id: str, now: datetime) -> None:
    if not isinstance(want, dict):
        raise ScenarioFailure(f"{where}: job: expected a mapping")
    bad = unknown_key(where, want, JOB_EXPECT_KEYS, "expect.job")
    if bad:
        raise ScenarioFailure(bad)
    job = engine.store.get(job_id)
    if job is None:
        raise ScenarioFailure(f"{where}: job: there is no job {job_id!r}")
    doc = job.to_doc()
    if "closed" in want and want["closed"] != doc["closed"]:
        raise ScenarioFailure(f"{where}: job.closed: expected {_show(want['closed'])}, got {_show(doc['closed'])}")
    if "currentSteps" in want:
        _check_current(where, want["currentSteps"], doc["currentSteps"])
    if "returnValues" in want:
        rv = want["returnValues"] or {}
        for key, value in rv.items():
            got = doc["returnValues"].get(key)
            if got is None or as_text(value) != got:
                raise ScenarioFailure(f"{where}: job.returnValues.{key}: expected {as_text(value)!r}, got {got!r}")
    if "activeHolds" in want:
        got_n = _active_holds(engine, job, now)
        if want["activeHolds"] != got_n:
            raise ScenarioFailure(f"{where}: job.activeHolds: expected {want['activeHolds']}, got {got_n}")


def _check_current(where: str, want: Any, got: list[dict[str, Any]]) -> None:
    if not isinstance(want, list):
        raise ScenarioFailure(f"{where}: job.currentSteps: expected a list")
    want_ids = [str(w.get("stepId")) if isinstance(w, dict) else str(w) for w in want]
    got_ids = [g["stepId"] for g in got]
    if sorted(want_ids) != sorted(got_ids):
        raise ScenarioFailure(f"{where}: job.currentSteps: expected steps {want_ids}, got {got_ids}")
    by_id = {g["stepId"]: g for g in got}
    for w in want:
        if not isinstance(w, dict):
            continue
        bad = unknown_key(where, w, CURRENT_STEP_KEYS, "expect.job.currentSteps")
        if bad:
            raise ScenarioFailure(bad)
        g = by_id[str(w["stepId"])]
        for key in ("status", "assignedType", "assignedTo"):
            if key in w and (g.get(key) is None or as_text(w[key]) != g.get(key)):
                raise ScenarioFailure(
                    f"{where}: job.currentSteps[{w['stepId']}].{key}: expected {w[key]!r}, got {g.get(key)!r}"
                )


def _active_holds(engine: Engine, job: Job, now: datetime) -> int:
    """Holds not released as of the scenario clock, counting expiries and met dependencies."""
    ctx = engine.context(job, SYSTEM, Request("Expect"), now)
    return sum(1 for h in job.holds if ctx.hold_active(h))


def _show(value: Any) -> str:
    return json.dumps(value) if value is None or isinstance(value, bool) else repr(value)


def _brief(responses: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['stepId'] or repr('')}: {r['status']}" for r in responses) or "none"
