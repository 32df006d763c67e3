"""Engine behaviour that a 6.3 scenario cannot express; each test cites its SPEC rule.

Response texts and error bodies (R13, R14), hold records (R18-R20), history (R23) and
events (R24), UTC output (R22), the host's status provider (R21), atomic storage (R12),
the automatic-move bound (R6), the explain / enabled-actions queries, and a designer's own
step type and rule added by YAML alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stepchart import Actor, DefinitionError, Engine, Execution, data_dir
from stepchart.io.schemas import validator

NOW = "2026-03-01T09:00:00Z"
LATER = "2026-03-01T11:00:00Z"
UTC_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

ALICE = Actor.of("alice", ["editors"], ["jobUpdateHolds", "workflowSetStepCurrent", "jobAssignAny", "adminBasic"])
BOB = Actor.of("bob", ["reviewers"])
DANA = Actor.of("dana")

FLOW: dict[str, Any] = {
    "workflow": "flow",
    "initialStep": "a",
    "steps": [
        {"id": "a", "type": "manual", "assignedType": "User", "assignedTo": "alice", "paths": [{"nextStep": "q"}]},
        {
            "id": "q",
            "type": "question",
            "answers": ["ok", "again"],
            "assignedType": "User",
            "assignedTo": "alice",
            "paths": [{"nextStep": "g", "returnValue": "ok"}, {"nextStep": "a", "returnValue": "again"}],
        },
        {
            "id": "g",
            "type": "gp",
            "assignedType": "Group",
            "assignedTo": "editors",
            "paths": [{"nextStep": "auto", "returnValue": "Success"}, {"nextStep": "a", "returnValue": "Redo"}],
        },
        {"id": "auto", "type": "manual", "automatic": True, "proceedNext": True, "paths": [{"nextStep": "end"}]},
        {"id": "end", "type": "manual", "assignedType": "Group", "assignedTo": "editors", "canSkip": True},
        {"id": "side", "type": "manual", "assignedType": "User", "assignedTo": "alice"},
    ],
}
OTHER: dict[str, Any] = {
    "workflow": "other",
    "initialStep": "first",
    "steps": [
        {
            "id": "first",
            "type": "manual",
            "assignedType": "User",
            "assignedTo": "dana",
            "paths": [{"nextStep": "last"}],
        },
        {"id": "last", "type": "manual", "assignedType": "User", "assignedTo": "dana"},
    ],
}


@pytest.fixture
def eng(engine: Engine) -> Engine:
    engine.add_workflow(FLOW)
    engine.add_workflow(OTHER)
    return engine


def _load(e: Engine, **doc: Any) -> dict[str, Any]:
    return e.load_job({"jobId": "J1", "workflow": "flow", **doc}, now=NOW)


def _stored(e: Engine, job_id: str = "J1") -> str:
    return json.dumps(e.job(job_id), sort_keys=True)


def _actions(e: Engine, job_id: str = "J1") -> list[tuple[str | None, str, str]]:
    return [(h["stepId"], h["action"], h["username"]) for h in e.job(job_id)["history"]]


# -- R13, R14: response and error bodies -------------------------------------------------------------


def test_r13_every_step_response_has_a_status_description(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "a"}, {"stepId": "side", "status": "Running"}])
    bodies = [
        eng.act("J1", {"type": "Run", "stepIds": ["a", "side", "nosuch", "end"]}, ALICE, NOW).body,
        eng.act("J1", {"type": "Finish", "stepIds": ["side"]}, BOB, NOW).body,
        eng.act("J1", {"type": "ReleaseHold"}, ALICE, NOW).body,
    ]
    eng.load_job({"jobId": "J2", "workflow": "flow", "currentSteps": []}, now=NOW)
    bodies.append(eng.act("J2", {"type": "Run"}, ALICE, NOW).body)
    for body in bodies:
        assert set(body) == {"success", "stepResponses"}
        for r in body["stepResponses"]:
            assert set(r) == {"stepId", "status", "statusDescription"}
            assert isinstance(r["statusDescription"], str) and r["statusDescription"].strip(), r
    assert bodies[-1]["stepResponses"] == [
        {
            "stepId": "",
            "status": "NoActiveStep",
            "statusDescription": bodies[-1]["stepResponses"][0]["statusDescription"],
        }
    ]


@pytest.mark.parametrize(
    ("job_id", "body", "actor", "error_type"),
    [
        ("J1", '{"type": "Run", "stepIds": NaN}', ALICE, "InvalidJson"),
        ("J1", {"type": "Run", "stepIds": "a"}, ALICE, "SchemaViolation"),
        ("NOPE", {"type": "Run"}, ALICE, "JobNotFound"),
        ("J1", {"type": "Hold"}, BOB, "InsufficientPrivileges"),
        ("J1", {"type": "SetCurrentStep", "stepIds": ["a", "q"]}, ALICE, "InvalidRequest"),
    ],
)
def test_r14_error_body_shape(eng: Engine, job_id: str, body: Any, actor: Actor, error_type: str) -> None:
    """R14: a 400 body is exactly {error: {message: str, type: str, details: [str]}}; events are beside it."""
    _load(eng, currentSteps=[{"stepId": "a"}])
    result = eng.act(job_id, body, actor, NOW)
    assert result.status_code == 400 and not result.ok
    assert set(result.body) == {"error"} and set(result.body["error"]) == {"message", "type", "details"}
    err = result.body["error"]
    assert err["type"] == error_type and isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], list) and all(isinstance(d, str) for d in err["details"])
    assert list(validator("error").iter_errors(result.body)) == []
    assert result.events == []


def test_r14_schema_violation_details_name_the_json_path_of_each_violation(eng: Engine) -> None:
    _load(eng)
    body = '{"type": "Run", "stepIds": ["a", 5], "colour": "red", "dependentJobId": null, "size": 1}'
    details = eng.act("J1", body, ALICE, NOW).body["error"]["details"]
    paths = sorted(d.split(":")[0] for d in details)
    assert paths == ["$.colour", "$.dependentJobId", "$.size", "$.stepIds[1]"], details
    details = eng.act("J1", {"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:00"}, ALICE, NOW).body
    assert details["error"]["details"][0].startswith("$.holdScheduledRelease:")
    assert eng.act("J1", "[]", ALICE, NOW).body["error"]["details"][0].startswith("$:")
    assert eng.act("J1", {"stepIds": []}, ALICE, NOW).body["error"]["details"] == ["$: 'type' is a required property"]


def test_r18_r14_the_400_checks_run_in_order_and_details_name_the_rule(eng: Engine) -> None:
    """R18: privilege, dependentStepId alone, time not in the future, unknown dependent job."""
    _load(eng, currentSteps=[{"stepId": "a"}])

    def rule(body: dict[str, Any], actor: Actor = ALICE) -> str:
        details = eng.act("J1", body, actor, NOW).body["error"]["details"]
        return next(d for d in details if d.startswith("rule: "))[6:]

    everything = {"type": "Hold", "dependentStepId": "x", "holdScheduledRelease": "2020-01-01T00:00:00Z"}
    assert rule(everything, BOB) == "hold-needs-privilege"
    assert rule(everything) == "hold-dependent-step-needs-job"
    assert rule({**everything, "dependentJobId": "NOPE"}) == "hold-release-in-future"
    assert rule({"type": "Hold", "dependentJobId": "NOPE"}) == "hold-dependent-job-exists"
    assert rule({"type": "ReleaseHold", "dependentStepId": "x"}) == "release-dependent-step-needs-job"


# -- R18, R19, R20: hold records ----------------------------------------------------------------------


def test_r18_hold_records_fields_and_ids_in_the_order_they_are_made(eng: Engine) -> None:
    eng.load_job({"jobId": "J2", "workflow": "other"}, now=NOW)
    _load(eng, currentSteps=[{"stepId": "a"}, {"stepId": "side"}])
    assert eng.act("J1", {"type": "Hold"}, ALICE, NOW).success
    assert eng.act(
        "J1",
        {
            "type": "Hold",
            "stepIds": ["side"],
            "holdScheduledRelease": "2026-03-01T12:00:00+02:00",
            "dependentJobId": "J2",
            "dependentStepId": "first",
        },
        ALICE,
        NOW,
    ).success
    holds = eng.job("J1")["holds"]
    assert [h["holdId"] for h in holds] == ["H1", "H2", "H3"]
    assert holds[0] == {
        "holdId": "H1",
        "stepId": "a",
        "setBy": "alice",
        "setDate": NOW,
        "scheduledRelease": None,
        "dependentJobId": None,
        "dependentStepId": None,
        "releasedBy": None,
        "releasedDate": None,
    }
    assert holds[1]["stepId"] == "side" and holds[1]["scheduledRelease"] is None
    assert holds[2] == {
        "holdId": "H3",
        "stepId": "side",
        "setBy": "alice",
        "setDate": NOW,
        "scheduledRelease": "2026-03-01T10:00:00Z",
        "dependentJobId": "J2",
        "dependentStepId": "first",
        "releasedBy": None,
        "releasedDate": None,
    }


def test_r18_new_hold_ids_never_repeat_one_of_a_loaded_job_document(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "a"}], holds=[{"holdId": "H2", "stepId": "a"}, {"holdId": "H3", "stepId": "q"}])
    assert eng.act("J1", {"type": "Hold"}, ALICE, NOW).success
    assert eng.act("J1", {"type": "Hold"}, ALICE, NOW).success
    ids = [h["holdId"] for h in eng.job("J1")["holds"]]
    assert ids == ["H2", "H3", "H4", "H5"]


def test_r19_an_expired_hold_is_released_by_system_at_its_scheduled_time(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "a"}])
    eng.act("J1", {"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:00Z"}, ALICE, NOW)
    result = eng.act("J1", {"type": "Run"}, ALICE, LATER)
    assert result.body["stepResponses"][0]["status"] == "Success"
    hold = eng.job("J1")["holds"][0]
    assert (hold["releasedBy"], hold["releasedDate"]) == ("system", "2026-03-01T10:00:00Z")
    released = [h for h in eng.job("J1")["history"] if h["action"] == "HoldReleased"]
    assert released == [
        {"date": "2026-03-01T10:00:00Z", "jobId": "J1", "stepId": "a", "username": "system", "action": "HoldReleased"}
    ]
    assert [e["type"] for e in result.events] == ["StepHoldReleased", "StepStarted"]


def test_r19_a_met_dependency_is_released_by_system_now_and_kept(eng: Engine) -> None:
    eng.load_job({"jobId": "J2", "workflow": "other", "currentSteps": [{"stepId": "last", "status": "Running"}]})
    _load(eng, currentSteps=[{"stepId": "a"}])
    eng.act("J1", {"type": "Hold", "dependentJobId": "J2"}, ALICE, NOW)
    assert eng.act("J2", {"type": "Finish"}, DANA, NOW).success
    assert eng.job("J2")["closed"]
    eng.act("J1", {"type": "Run"}, ALICE, LATER)
    holds = eng.job("J1")["holds"]
    assert len(holds) == 1
    assert (holds[0]["releasedBy"], holds[0]["releasedDate"]) == ("system", LATER)


def test_r20_a_hold_released_by_a_user_records_them_and_now(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "a"}])
    eng.act("J1", {"type": "Hold"}, ALICE, NOW)
    keeper = Actor.of("keeper", (), ["jobUpdateHolds"])
    result = eng.act("J1", {"type": "ReleaseHold"}, keeper, LATER)
    assert result.success
    hold = eng.job("J1")["holds"][0]
    assert (hold["setBy"], hold["releasedBy"], hold["releasedDate"]) == ("alice", "keeper", LATER)
    assert [(e["type"], e["username"], e["holdId"]) for e in result.events] == [("StepHoldReleased", "keeper", "H1")]


# -- R23: history -------------------------------------------------------------------------------------


def test_r23_history_of_a_walk_in_order_with_usernames(eng: Engine) -> None:
    eng.create_job("flow", "J1", now=NOW)
    eng.act("J1", {"type": "Run"}, ALICE, NOW)
    eng.act("J1", {"type": "Stop"}, ALICE, NOW)
    eng.act("J1", {"type": "Finish"}, ALICE, NOW)
    eng.act("J1", {"type": "Run"}, ALICE, NOW)
    eng.respond("J1", "q", "ok", ALICE, NOW)
    eng.act("J1", {"type": "Run"}, ALICE, NOW)
    eng.complete("J1", "g", now=NOW)
    eng.act("J1", {"type": "Finish"}, ALICE, NOW)
    assert eng.job("J1")["closed"]
    assert _actions(eng) == [
        ("a", "Activated", "system"),
        ("a", "Started", "alice"),
        ("a", "Paused", "alice"),
        ("a", "Finished", "alice"),
        ("q", "Activated", "alice"),
        ("q", "Started", "alice"),
        ("q", "Finished", "alice"),
        ("g", "Activated", "alice"),
        ("g", "Started", "alice"),
        ("g", "Finished", "system"),
        ("auto", "Activated", "system"),
        ("auto", "Started", "system"),
        ("auto", "Finished", "system"),
        ("end", "Activated", "system"),
        ("end", "Finished", "alice"),
        (None, "Closed", "alice"),
    ]
    for h in eng.job("J1")["history"]:
        assert set(h) == {"date", "jobId", "stepId", "username", "action"} and h["jobId"] == "J1"


def test_r23_set_current_step_deactivates_each_replaced_step(eng: Engine) -> None:
    _load(
        eng,
        currentSteps=[{"stepId": "side"}, {"stepId": "a", "status": "Paused"}],
        holds=[{"holdId": "H1", "stepId": "side"}],
    )
    assert eng.act("J1", {"type": "SetCurrentStep", "stepIds": ["end"]}, ALICE, NOW).success
    assert _actions(eng) == [
        ("side", "Deactivated", "alice"),
        ("a", "Deactivated", "alice"),
        ("end", "Activated", "alice"),
    ]
    assert eng.job("J1")["holds"][0]["releasedBy"] is None  # R17: holds on replaced steps stay


def test_r23_r24_reassign_hold_release_stop_cancel_error(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "side"}, {"stepId": "g", "status": "Running"}])
    r = eng.assign("J1", "side", "User", "bob", ALICE, NOW)
    assert r.success and r.events == [
        {
            "type": "StepReassigned",
            "jobId": "J1",
            "stepId": "side",
            "date": NOW,
            "username": "alice",
            "assignedType": "User",
            "assignedTo": "bob",
        }
    ]
    r = eng.act("J1", {"type": "Hold", "stepIds": ["side"]}, ALICE, NOW)
    assert [(e["type"], e["holdId"]) for e in r.events] == [("StepHeld", "H1")]
    eng.act("J1", {"type": "ReleaseHold"}, ALICE, NOW)
    stopper = Actor.of("boss", (), ["jobForceStop"])
    r = eng.act("J1", {"type": "Stop", "stepIds": ["g"]}, stopper, NOW)
    assert [e["type"] for e in r.events] == ["StepCancelled"]
    eng.act("J1", {"type": "Run", "stepIds": ["g"]}, ALICE, NOW)
    r = eng.fail("J1", "g", "out of memory", now=NOW)
    assert [(e["type"], e.get("message")) for e in r.events] == [("StepError", "out of memory")]
    eng.act("J1", {"type": "Run", "stepIds": ["side"]}, BOB, NOW)
    r = eng.act("J1", {"type": "Stop", "stepIds": ["side"]}, BOB, NOW)
    assert [e["type"] for e in r.events] == ["StepPaused"]
    assert _actions(eng) == [
        ("side", "Reassigned", "alice"),
        ("side", "Held", "alice"),
        ("side", "HoldReleased", "alice"),
        ("g", "Cancelled", "boss"),
        ("g", "Started", "alice"),
        ("g", "Error", "system"),
        ("side", "Started", "bob"),
        ("side", "Paused", "bob"),
    ]


# -- R24: events ----------------------------------------------------------------------------------------


def test_r24_a_question_run_emits_step_started_then_step_info_required(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "q"}])
    result = eng.act("J1", {"type": "Run"}, ALICE, NOW)
    assert [(e["type"], e["stepId"], e["username"]) for e in result.events] == [
        ("StepStarted", "q", "alice"),
        ("StepInfoRequired", "q", "alice"),
    ]
    assert "events" not in result.body


def test_r24_step_finished_carries_the_new_current_steps_and_job_closed_ends(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "side", "status": "Running"}, {"stepId": "g", "status": "Running"}])
    result = eng.complete("J1", "g", now=NOW)
    finished = [e for e in result.events if e["type"] == "StepFinished"]
    assert [(e["stepId"], e["returnValue"], e["currentSteps"]) for e in finished] == [
        ("g", "Success", ["side", "auto"]),
        ("auto", "Success", ["side", "end"]),
    ]
    assert [e["type"] for e in result.events] == ["StepFinished", "StepStarted", "StepFinished"]
    eng.act("J1", {"type": "Finish", "stepIds": ["side"]}, ALICE, NOW)
    result = eng.act("J1", {"type": "Finish", "stepIds": ["end"]}, ALICE, NOW)
    assert [e["type"] for e in result.events] == ["StepFinished", "JobClosed"]
    assert result.events[0]["currentSteps"] == []
    assert result.events[1] == {"type": "JobClosed", "jobId": "J1", "date": NOW, "username": "alice"}


def test_r24_events_are_kept_only_with_the_committed_request(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "auto"}, {"stepId": "a"}])
    store: Any = eng.store
    before = len(store.events)
    assert eng.act("J1", {"type": "Hold"}, BOB, NOW).status_code == 400
    assert len(store.events) == before
    result = eng.act("J1", {"type": "Run", "stepIds": ["a"]}, ALICE, NOW)
    assert [e["type"] for e in result.events] == ["StepStarted", "StepFinished", "StepStarted"]
    assert store.events[before:] == result.events


# -- R22: times ---------------------------------------------------------------------------------------


def _all_times(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [
            t
            for k, v in value.items()
            for t in (
                [v]
                if k in {"date", "setDate", "scheduledRelease", "releasedDate"} and isinstance(v, str)
                else _all_times(v)
            )
        ]
    if isinstance(value, list):
        return [t for v in value for t in _all_times(v)]
    return []


def test_r22_output_times_are_utc_with_z(eng: Engine) -> None:
    now = "2026-03-01T10:00:00+01:00"
    _load(
        eng,
        currentSteps=[{"stepId": "a"}, {"stepId": "side"}],
        holds=[
            {
                "holdId": "H1",
                "stepId": "side",
                "setDate": "2026-02-28T23:00:00-05:00",
                "scheduledRelease": "2026-03-01t09:30:00z",
            }
        ],
        history=[{"date": "2026-02-28T12:00:00+05:30", "action": "Activated", "stepId": "a"}],
    )
    events = eng.act(
        "J1", {"type": "Hold", "stepIds": ["a"], "holdScheduledRelease": "2026-03-02T00:00:00+09:00"}, ALICE, now
    ).events
    events += eng.act("J1", {"type": "Run", "stepIds": ["side"]}, ALICE, "2026-03-01T09:45:00.5-00:00").events
    job = eng.job("J1")
    times = _all_times(job) + [e["date"] for e in events]
    assert len(times) >= 8 and all(UTC_Z.match(t) for t in times), times
    assert job["holds"][0]["setDate"] == "2026-03-01T04:00:00Z"
    assert job["holds"][0]["releasedDate"] == "2026-03-01T09:30:00Z"
    assert job["holds"][1]["setDate"] == "2026-03-01T09:00:00Z"
    assert job["holds"][1]["scheduledRelease"] == "2026-03-01T15:00:00Z"
    assert job["history"][0]["date"] == "2026-02-28T06:30:00Z"
    assert job["history"][-1]["date"] == "2026-03-01T09:45:00.500000Z"


def test_r22_now_is_injected_never_read_from_the_clock(eng: Engine) -> None:
    _load(eng, currentSteps=[{"stepId": "a"}])
    with pytest.raises(ValueError, match="now"):
        eng.act("J1", {"type": "Run"}, ALICE, None)  # type: ignore[arg-type]
    from datetime import datetime

    with pytest.raises(ValueError, match="zone"):
        eng.act("J1", {"type": "Run"}, ALICE, datetime(2026, 3, 1, 9))  # a naive time is refused
    assert eng.act("J1", {"type": "Run"}, ALICE, "1999-01-01T00:00:00Z").success
    assert eng.job("J1")["history"][-1]["date"] == "1999-01-01T00:00:00Z"


# -- R21: the host's status provider -----------------------------------------------------------------


def _provider_engine(base: Engine, news: dict[tuple[str, str], Execution]) -> Engine:
    e = Engine(status_provider=lambda job_id, step_id: news.get((job_id, step_id)))
    e.add_workflow(FLOW)
    return e


def test_r21_refresh_applies_a_completed_execution_and_proceeds_as_system(base_engine: Engine) -> None:
    news: dict[tuple[str, str], Execution] = {}
    e = _provider_engine(base_engine, news)
    _load(e, currentSteps=[{"stepId": "g", "status": "Running"}, {"stepId": "side"}])
    r = e.act("J1", {"type": "RefreshStatus"}, ALICE, NOW)  # no news yet
    assert [x["status"] for x in r.body["stepResponses"]] == ["Success", "StepNotAuto"]
    assert e.job("J1")["currentSteps"][0]["status"] == "Running"
    news[("J1", "g")] = Execution("Running")
    assert e.act("J1", {"type": "RefreshStatus", "stepIds": ["g"]}, ALICE, NOW).success
    assert e.job("J1")["currentSteps"][0]["status"] == "Running"
    news[("J1", "g")] = Execution("Completed", "Success")
    r = e.act("J1", {"type": "RefreshStatus", "stepIds": ["g"]}, ALICE, NOW)
    assert r.success
    job = e.job("J1")
    assert [c["stepId"] for c in job["currentSteps"]] == ["side", "end"]  # auto ran (R6) and proceeded
    assert job["currentSteps"][1]["assignedType"] == "Group"  # the engine is no member of editors (R9a)
    assert job["returnValues"] == {"g": "Success", "auto": "Success"}
    assert ("g", "Finished", "system") in _actions(e)


def test_r21_refresh_applies_a_failed_execution(base_engine: Engine) -> None:
    e = _provider_engine(base_engine, {("J1", "g"): Execution("Failed", message="tool crashed")})
    _load(e, currentSteps=[{"stepId": "g", "status": "Running"}])
    r = e.act("J1", {"type": "RefreshStatus"}, ALICE, NOW)
    assert r.success and e.job("J1")["currentSteps"][0]["status"] == "Error"
    assert [(x["type"], x["message"], x["username"]) for x in r.events] == [("StepError", "tool crashed", "system")]


def test_r21_refresh_with_a_return_value_that_matches_no_path_answers_no_matching_paths(base_engine: Engine) -> None:
    e = _provider_engine(base_engine, {("J1", "g"): Execution("Completed", "Unexpected")})
    _load(e, currentSteps=[{"stepId": "g", "status": "Running"}])
    before = e.job("J1")
    r = e.act("J1", {"type": "RefreshStatus"}, ALICE, NOW)
    assert r.body["stepResponses"][0]["status"] == "NoMatchingPaths" and not r.success
    assert e.job("J1") == before
    e2 = _provider_engine(base_engine, {("J1", "g"): Execution("Completed", "Redo")})
    _load(e2, currentSteps=[{"stepId": "g", "status": "Running"}])
    assert e2.act("J1", {"type": "RefreshStatus"}, ALICE, NOW).success
    assert [c["stepId"] for c in e2.job("J1")["currentSteps"]] == ["a"]


def test_r21_step_not_auto_even_with_a_provider_and_changed_holds(base_engine: Engine) -> None:
    asked: list[tuple[str, str]] = []

    def provider(job_id: str, step_id: str) -> Execution | None:
        asked.append((job_id, step_id))
        return Execution("Completed")

    e = Engine(status_provider=provider)
    e.add_workflow(FLOW)
    _load(
        e,
        currentSteps=[{"stepId": "side"}],
        holds=[{"holdId": "H1", "stepId": "side", "scheduledRelease": "2026-03-01T10:00:00Z"}],
    )
    r = e.act("J1", {"type": "RefreshStatus"}, ALICE, LATER)
    assert r.status_code == 200 and r.body["stepResponses"][0]["status"] == "StepNotAuto"
    assert e.job("J1")["holds"][0]["releasedBy"] == "system"  # the re-evaluated hold is kept
    assert asked == []  # only asynchronous steps are asked about


# -- R12: atomic storage ----------------------------------------------------------------------------------


LOOP: dict[str, Any] = {
    "workflow": "loop",
    "initialStep": "start",
    "steps": [
        {
            "id": "start",
            "type": "manual",
            "assignedType": "User",
            "assignedTo": "alice",
            "paths": [{"nextStep": "ping"}],
        },
        {"id": "ping", "type": "manual", "automatic": True, "proceedNext": True, "paths": [{"nextStep": "pong"}]},
        {"id": "pong", "type": "manual", "automatic": True, "proceedNext": True, "paths": [{"nextStep": "ping"}]},
        {"id": "side", "type": "manual", "assignedType": "User", "assignedTo": "alice"},
    ],
}


@pytest.mark.parametrize(
    "request_",
    [
        lambda e: e.act("J1", {"type": "Hold"}, BOB, LATER),
        lambda e: e.act("J1", {"type": "SetCurrentStep", "stepIds": ["a", "q"]}, ALICE, LATER),
        lambda e: e.act("J1", '{"type": "Run", "type": "Run"}', ALICE, LATER),
        lambda e: e.respond("J1", "q", "nope", ALICE, LATER),
        lambda e: e.complete("J1", "side", now=LATER),
        lambda e: e.fail("J1", "side", now=LATER),
        lambda e: e.assign("J1", "side", "User", "bob", BOB, LATER),
    ],
)
def test_r12_a_400_leaves_the_stored_job_byte_identical_even_when_the_pre_pass_would_change_it(
    eng: Engine, request_: Callable[[Engine], Any]
) -> None:
    # At LATER the hold on auto has expired and auto would run, proceed and make end current.
    _load(
        eng,
        currentSteps=[{"stepId": "auto"}, {"stepId": "side"}],
        holds=[{"holdId": "H1", "stepId": "auto", "scheduledRelease": "2026-03-01T10:00:00Z"}],
    )
    store: Any = eng.store
    before, events, log = _stored(eng), len(store.events), len(store.log)
    assert request_(eng).status_code == 400
    assert _stored(eng) == before
    assert (len(store.events), len(store.log)) == (events, log)
    assert eng.act("J1", {"type": "Run", "stepIds": ["side"]}, ALICE, LATER).success  # the pre-pass, now kept
    assert [c["stepId"] for c in eng.job("J1")["currentSteps"]] == ["side", "end"]


def test_r12_r6_a_400_in_a_later_target_keeps_nothing_of_the_earlier_ones(engine: Engine) -> None:
    engine.add_workflow(LOOP)
    engine.load_job(
        {
            "jobId": "J1",
            "workflow": "loop",
            "currentSteps": [{"stepId": "side", "status": "Running"}, {"stepId": "start", "status": "Running"}],
        }
    )
    before = _stored(engine)
    result = engine.act("J1", {"type": "Finish", "stepIds": ["side", "start"]}, ALICE, NOW)
    assert result.error_type == "InvalidRequest" and result.events == []
    assert _stored(engine) == before


def _chain(n: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {"id": "start", "type": "manual", "assignedType": "User", "assignedTo": "alice", "paths": [{"nextStep": "s1"}]}
    ]
    for i in range(1, n + 1):
        nxt = [{"nextStep": f"s{i + 1}"}] if i < n else [{"nextStep": "end"}]
        steps.append({"id": f"s{i}", "type": "manual", "automatic": True, "proceedNext": True, "paths": nxt})
    steps.append({"id": "end", "type": "manual", "assignedType": "User", "assignedTo": "alice"})
    return {"workflow": f"chain{n}", "initialStep": "start", "steps": steps}


@pytest.mark.parametrize(("n", "ok"), [(100, True), (101, False)])
def test_r6_the_101st_automatic_move_of_one_request_fails_it(engine: Engine, n: int, ok: bool) -> None:
    engine.add_workflow(_chain(n))
    engine.load_job(
        {"jobId": "J1", "workflow": f"chain{n}", "currentSteps": [{"stepId": "start", "status": "Running"}]}
    )
    before = _stored(engine)
    result = engine.act("J1", {"type": "Finish"}, ALICE, NOW)
    if ok:
        assert result.success and [c["stepId"] for c in engine.job("J1")["currentSteps"]] == ["end"]
    else:
        assert result.error_type == "InvalidRequest" and _stored(engine) == before


def test_r6_the_pre_pass_counts_toward_the_bound(base_engine: Engine) -> None:
    e = Engine(max_automatic_moves=3)
    e.add_workflow(_chain(2))
    e.load_job({"jobId": "J1", "workflow": "chain2", "currentSteps": [{"stepId": "s1"}, {"stepId": "start"}]})
    e.load_job({"jobId": "J2", "workflow": "chain2", "currentSteps": [{"stepId": "s1"}, {"stepId": "start"}]})
    assert e.act("J1", {"type": "Run", "stepIds": ["start"]}, ALICE, NOW).success  # 2 moves in the pre-pass
    assert e.spawn().max_automatic_moves == 3
    e.add_workflow(_chain(3))
    e.load_job({"jobId": "J3", "workflow": "chain3", "currentSteps": [{"stepId": "s1"}, {"stepId": "start"}]})
    assert e.act("J3", {"type": "Run", "stepIds": ["start"]}, ALICE, NOW).success  # 3 moves: at the bound
    e.load_job(
        {
            "jobId": "J4",
            "workflow": "chain2",
            "currentSteps": [{"stepId": "s1"}, {"stepId": "start", "status": "Running"}],
        }
    )
    r = e.act("J4", {"type": "Finish", "stepIds": ["start"]}, ALICE, NOW)  # 2 in the pre-pass + 2 after
    assert r.error_type == "InvalidRequest"


# -- explain and enabled actions ----------------------------------------------------------------------------


def test_enabled_actions_and_explain_give_the_refusing_rule_and_change_nothing(eng: Engine) -> None:
    _load(
        eng,
        currentSteps=[{"stepId": "a"}, {"stepId": "q", "status": "WaitingForInfo"}],
        holds=[{"holdId": "H1", "stepId": "a"}],
    )
    before = _stored(eng)
    enabled = eng.enabled_actions("J1", BOB, NOW)
    assert enabled["a"]["Run"] == {
        "allowed": False,
        "status": "AssignedToDifferentUser",
        "rule": "run-finish-by-assignee",
        "message": enabled["a"]["Run"]["message"],
    }
    assert enabled["a"]["Hold"]["rule"] == "hold-needs-privilege"
    assert enabled["a"]["Hold"]["status"] == "InsufficientPrivileges"
    mine = eng.enabled_actions("J1", ALICE, NOW)
    assert mine["a"]["Run"]["rule"] == "not-held" and mine["a"]["Run"]["status"] == "Held"
    assert mine["a"]["ReleaseHold"] == {"allowed": True}
    assert mine["q"]["Stop"] == {"allowed": True}
    assert mine["q"]["Finish"]["rule"] == "finish-not-waiting-for-info"
    assert mine["q"]["SetCurrentStep"]["rule"] == "set-current-job-not-running"
    assert mine["q"]["RefreshStatus"]["rule"] == "refresh-asynchronous"
    result, checks = eng.explain("J1", {"type": "Run", "stepIds": ["a", "nosuch"]}, ALICE, NOW)
    assert [r["status"] for r in result.body["stepResponses"]] == ["Held", "StepNotInDiagram"]
    assert [(c.rule, c.passed) for c in checks["a"]] == [
        ("job-not-closed", True),
        ("step-in-diagram", True),
        ("step-is-current", True),
        ("run-finish-by-assignee", True),
        ("not-held", False),
    ]
    assert checks["nosuch"][-1].rule == "step-in-diagram" and not checks["nosuch"][-1].passed
    assert any(f[0] == "step.held" and f[2] is True for f in checks["a"][-1].facts)
    result, checks = eng.explain("J1", {"type": "Hold"}, BOB, NOW)
    assert result.error_type == "InsufficientPrivileges" and checks["(request)"][-1].rule == "hold-needs-privilege"
    assert _stored(eng) == before


# -- section 2: statuses a chart does not have ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "status"),
    [
        ("a", "WaitingForInfo"),
        ("g", "Paused"),
        ("g", "WaitingForInfo"),
        ("q", "Running"),
        ("q", "Paused"),
        ("a", "Finished"),
        ("a", "Done"),
    ],
)
def test_section2_a_job_document_cannot_put_a_step_in_a_status_its_chart_lacks(
    eng: Engine, step: str, status: str
) -> None:
    """The table's cells that a type cannot reach (a question is never Running, gp never Paused) do not load."""
    with pytest.raises(DefinitionError) as exc:
        _load(eng, currentSteps=[{"stepId": step, "status": status}])
    assert exc.value.code == "unknown-status"


# -- a designer's own step type and rules, by YAML alone -------------------------------------------------------


REVIEW_CHART = """\
stepType: review
description: A review with an extra state - Suspended - and its own return value.
asynchronous: false
initial: Ready
states:
  Ready: {description: "Not started."}
  Reviewing: {started: true, running: true}
  Suspended: {started: true, description: "Put aside; Run resumes it."}
  Cancelled: {external: true}
  Error: {external: true}
  Finished: {final: true}
transitions:
  - {event: run, from: [Ready, Suspended, Cancelled, Error], to: Reviewing, record: Started, emit: [StepStarted]}
  - {event: stop, from: Reviewing, to: Suspended, record: Paused, emit: [StepPaused]}
  - {event: finish, from: Reviewing, to: Finished, returnValue: Approved}
  - {event: finish, from: Suspended, to: Finished, returnValue: Partial}
  - {event: finish, from: [Ready, Cancelled, Error], to: Finished, guard: canSkip, returnValue: Skipped}
"""
REVIEW_FLOW: dict[str, Any] = {
    "workflow": "reviewed",
    "initialStep": "check",
    "steps": [
        {
            "id": "check",
            "type": "review",
            "assignedType": "User",
            "assignedTo": "alice",
            "paths": [{"nextStep": "ok", "returnValue": "Approved"}, {"nextStep": "redo", "returnValue": "Partial"}],
        },
        {"id": "ok", "type": "manual"},
        {"id": "redo", "type": "manual"},
    ],
}


def test_designer_adds_a_step_type_with_one_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "review.yaml").write_text(REVIEW_CHART)
    e = Engine(charts=[data_dir("statecharts"), tmp_path])
    assert set(e.step_types) == {"manual", "openApp", "question", "gp", "review"}
    e.add_workflow(REVIEW_FLOW)
    e.create_job("reviewed", "J1", now=NOW)

    def status(body: dict[str, Any], actor: Actor = ALICE) -> str:
        return str(e.act("J1", body, actor, NOW).body["stepResponses"][0]["status"])

    assert status({"type": "Finish"}) == "NoStartedStep"
    assert status({"type": "Stop"}) == "NotRunning"
    assert status({"type": "Run"}) == "Success"
    assert e.job("J1")["currentSteps"][0]["status"] == "Reviewing"
    assert status({"type": "Run"}) == "AlreadyExecuting"  # the chart's running flag (R1)
    assert status({"type": "Hold"}) == "AlreadyExecuting"
    assert status({"type": "SetCurrentStep", "stepIds": ["ok"]}) == "AlreadyExecuting"
    assert status({"type": "RefreshStatus"}) == "StepNotAuto"
    assert status({"type": "Stop"}) == "Success"
    assert e.job("J1")["currentSteps"][0]["status"] == "Suspended"
    assert status({"type": "Stop"}) == "NotRunning"
    assert status({"type": "Finish"}) == "Success"
    job = e.job("J1")
    assert job["returnValues"] == {"check": "Partial"} and job["currentSteps"][0]["stepId"] == "redo"
    assert ("check", "Paused", "alice") in _actions(e)
    with pytest.raises(DefinitionError):
        e.load_job({"jobId": "J2", "workflow": "reviewed", "currentSteps": [{"stepId": "check", "status": "Paused"}]})


GP_PRIVILEGE_RULE = """\
rules:
  - name: run-gp-needs-privilege
    description: Running a geoprocessing step needs the runGeoprocessing privilege.
    actions: [Run]
    require: {any: [actor.isEngine, {not: {step.type: gp}}, {actor.privilege: runGeoprocessing}]}
    yields: InsufficientPrivileges
"""


@pytest.mark.parametrize("placement", ["before", "appended"])
def test_designer_changes_a_rule_by_yaml_only(tmp_path: Path, placement: str) -> None:
    """A new rules file: Run of a gp step needs runGeoprocessing, else the request error InsufficientPrivileges."""
    text = GP_PRIVILEGE_RULE + ("    before: run-finish-by-assignee\n" if placement == "before" else "")
    (tmp_path / "90-gp.yaml").write_text(text)
    shipped = Engine()
    custom = Engine(rules=[data_dir("rules"), tmp_path])
    names = [r.name for r in custom.rules.for_action("step", "Run")]
    at = names.index("run-gp-needs-privilege")
    assert (names[at + 1] == "run-finish-by-assignee") if placement == "before" else (at == len(names) - 1)
    alice = Actor.of("alice", ["editors"])
    geo = Actor.of("alice", ["editors"], ["runGeoprocessing"])
    answers: dict[str, list[str]] = {}
    for label, e in (("shipped", shipped), ("custom", custom)):
        e.add_workflow(FLOW)
        e.load_job({"jobId": "J1", "workflow": "flow", "currentSteps": [{"stepId": "g"}, {"stepId": "a"}]})
        got = []
        for actor, body in (
            (BOB, {"type": "Run", "stepIds": ["g"]}),
            (alice, {"type": "Run", "stepIds": ["g"]}),
            (alice, {"type": "Run", "stepIds": ["a"]}),
            (geo, {"type": "Run", "stepIds": ["g"]}),
        ):
            r = e.act("J1", body, actor, NOW)
            got.append(r.error_type or r.body["stepResponses"][0]["status"])
            if r.success:
                e.act("J1", {"type": "Stop", "stepIds": body["stepIds"]}, actor, NOW)
        answers[label] = got
    assert answers["shipped"] == ["AssignedToDifferentUser", "Success", "Success", "Success"]
    first = "InsufficientPrivileges" if placement == "before" else "AssignedToDifferentUser"
    assert answers["custom"] == [first, "InsufficientPrivileges", "Success", "Success"]
    # The engine itself is let through: an automatic gp step still runs (R6).
    auto = {"workflow": "auto-gp", "initialStep": "g", "steps": [{"id": "g", "type": "gp", "automatic": True}]}
    custom.add_workflow(auto)
    assert custom.create_job("auto-gp", "J9", now=NOW)["currentSteps"][0]["status"] == "Running"


def test_r14_a_designer_request_level_rule_applies_to_respond_complete_fail_and_assign(tmp_path: Path) -> None:
    (tmp_path / "90-ops.yaml").write_text(
        "rules:\n"
        "  - name: answers-need-privilege\n"
        "    level: request\n"
        "    actions: [Respond, Assign]\n"
        "    require: {any: [actor.isEngine, {actor.privilege: answerQuestions}]}\n"
        "    yields: InsufficientPrivileges\n"
    )
    e = Engine(rules=[data_dir("rules"), tmp_path])
    e.add_workflow(FLOW)
    _load(e, currentSteps=[{"stepId": "q", "status": "WaitingForInfo"}])
    r = e.respond("J1", "q", "ok", ALICE, NOW)
    assert r.error_type == "InsufficientPrivileges" and "rule: answers-need-privilege" in r.body["error"]["details"]
    assert e.assign("J1", "q", "User", "bob", ALICE, NOW).error_type == "InsufficientPrivileges"
    r = e.respond("J1", "q", "ok", Actor.of("alice", (), ["answerQuestions"]), NOW)
    assert r.success
