"""Every Run, Stop and Finish the engine answers with success ends the waiting client (issue 9).

Esri's client ends ``job.run()``, ``job.stop()`` and ``job.finish()`` only on some
messages (docs/wm-client-notes.md §3.5; the sets are written out here, not imported).
For every shipped step type, every short sequence of those actions is played on a real
engine; the R24 events (SPEC R24) of each successful request, turned into messages by
:func:`stepchart.http.wm_messages.request_messages`, must hold one that ends the wait of
the action. The one exception is Run of an asynchronous step: it ends when the host
finishes or fails the step (R4), which is checked too.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from stepchart import Engine
from stepchart.http.wm_messages import StepFacts, request_messages
from stepchart.model import Actor

ENDS = {
    "Run": {"STEPFINISHED", "STEPSTOPPED", "STEPERROR", "STEPINFOREQUIRED"},
    "Stop": {"STEPPAUSED", "STEPSTOPPED", "STEPERROR", "STEPCANCELLED"},
    "Finish": {"STEPSTARTED", "STEPERROR", "STEPFINISHED"},
}
NOW = "2026-03-01T09:00:00Z"
ALICE = Actor.of("alice", ["editors"], ["jobCreate"])
STEP_TYPES = sorted(Engine().lifecycles)


def _engine(step_type: str, base_engine: Engine) -> Engine:
    eng = base_engine.spawn()
    eng.add_workflow(
        {
            "workflow": "w",
            "initialStep": "a",
            "steps": [
                {
                    "id": "a",
                    "name": "Step A",
                    "type": step_type,
                    "canSkip": True,
                    "assignedType": "User",
                    "assignedTo": "alice",
                    **({"answers": ["yes", "no"]} if step_type == "question" else {}),
                    "paths": [{"nextStep": "b"}],
                },
                {"id": "b", "type": "manual", "assignedType": "User", "assignedTo": "alice", "paths": []},
            ],
        }
    )
    return eng


def _lookup(eng: Engine) -> Any:
    wf = eng.workflow("w")
    assert wf is not None

    def lookup(job_id: str, step_id: str) -> StepFacts | None:
        step = wf.steps.get(step_id)
        if step is None:
            return None
        return StepFacts(step.name, step.can_skip, eng.lifecycles[step.type].type.asynchronous, step.answers)

    return lookup


def test_the_shipped_step_types_are_all_checked() -> None:
    assert {"manual", "gp", "question", "openApp"} <= set(STEP_TYPES)


@pytest.mark.parametrize("step_type", STEP_TYPES)
def test_every_successful_action_ends_the_wait(step_type: str, base_engine: Engine) -> None:
    eng = _engine(step_type, base_engine)
    lookup = _lookup(eng)
    asynchronous = eng.lifecycles[step_type].type.asynchronous
    successes = 0
    for n, plan in enumerate(p for k in (1, 2, 3) for p in itertools.product(ENDS, repeat=k)):
        job_id = f"J{n}"
        eng.create_job("w", job_id, now=NOW, actor=ALICE)
        for action in plan:
            result = eng.act(job_id, {"type": action, "stepIds": ["a"]}, ALICE, NOW)
            if not result.success:
                assert result.events == []  # a refused request says nothing on the socket
                continue
            successes += 1
            kinds = [m["msgType"].upper() for m in request_messages(result.events, lookup)]
            if action == "Run" and asynchronous and "STEPFINISHED" not in kinds:
                assert kinds == ["STEPSTARTED"], (plan, kinds)
                continue
            assert ENDS[action] & set(kinds), (step_type, plan, action, kinds)
    assert successes > 10


@pytest.mark.parametrize("outcome", ["complete", "fail"])
def test_the_host_ends_the_run_of_an_asynchronous_step(outcome: str, base_engine: Engine) -> None:
    eng = _engine("gp", base_engine)
    eng.create_job("w", "J1", now=NOW, actor=ALICE)
    assert eng.act("J1", {"type": "Run", "stepIds": ["a"]}, ALICE, NOW).success
    result = eng.complete("J1", "a", now=NOW) if outcome == "complete" else eng.fail("J1", "a", "boom", now=NOW)
    kinds = [m["msgType"].upper() for m in request_messages(result.events, _lookup(eng))]
    assert ENDS["Run"] & set(kinds), kinds


def test_a_closing_request_says_closed_in_step_finished_and_job_updated(base_engine: Engine) -> None:
    eng = _engine("manual", base_engine)
    eng.create_job("w", "J1", now=NOW, actor=ALICE)
    eng.act("J1", {"type": "Finish", "stepIds": ["a"]}, ALICE, NOW)  # canSkip: a is skipped
    result = eng.act("J1", {"type": "Run", "stepIds": ["b"]}, ALICE, NOW)
    result = eng.act("J1", {"type": "Finish", "stepIds": ["b"]}, ALICE, NOW)
    messages = request_messages(result.events, _lookup(eng))
    assert [(m["msgType"], m["message"].get("jobStatus")) for m in messages] == [
        ("StepFinished", "Closed"),
        ("JobUpdated", "Closed"),
    ]
    assert all(m["timestamp"] == NOW and m["message"]["jobId"] == "J1" for m in messages)
