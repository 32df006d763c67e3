"""Verify's state set is the engine's: every state it reports is reached by replaying its trace through
``Engine.act`` (and respond, complete, fail, assign) on an ordinary engine, and no state a random walk of
requests reaches is missing from it. Random small workflows: any step types, flags, assignments, paths.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepchart import Engine
from stepchart.tools.verify import Cast, Move, explore, trace_to

NOW = "2026-01-01T00:00:00Z"
TYPES = ["manual", "openApp", "question", "gp"]
ASSIGNMENTS: list[dict[str, str]] = [
    {},
    {"assignedType": "User", "assignedTo": "ann"},
    {"assignedType": "User", "assignedTo": "ben"},
    {"assignedType": "Group", "assignedTo": "crew"},
    {"assignedType": "Unassigned"},
]
VALUES = ["Success", "Skipped", "yes", "no", "Failure"]
BASE = Engine()


@st.composite
def workflows(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 4))
    ids = [f"s{i}" for i in range(n)]
    steps = []
    for sid in ids:
        kind = draw(st.sampled_from(TYPES))
        step: dict[str, Any] = {"id": sid, "type": kind, **draw(st.sampled_from(ASSIGNMENTS))}
        if kind == "question":
            step["answers"] = ["yes", "no"]
        for flag in ("canSkip", "proceedNext", "automatic"):
            if draw(st.booleans()):
                step[flag] = True
        paths = []
        for _ in range(draw(st.integers(0, 2))):
            path: dict[str, Any] = {"nextStep": draw(st.sampled_from(ids))}
            if draw(st.booleans()):
                path["returnValue"] = draw(st.sampled_from(VALUES))
            path.update(draw(st.sampled_from(ASSIGNMENTS[:4])))
            paths.append(path)
        step["paths"] = paths
        steps.append(step)
    return {"workflow": "random", "autoClose": draw(st.booleans()), "initialStep": ids[0], "steps": steps}


def key_of(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The state key read from the engine's 6.2 job document (not from verify's own code)."""
    steps = tuple((c["stepId"], c["status"], c["assignedType"], c.get("assignedTo")) for c in doc["currentSteps"])
    held = frozenset(h["stepId"] for h in doc["holds"] if h["releasedBy"] is None and h["releasedDate"] is None)
    return doc["closed"], steps, held


def send(engine: Engine, cast: Cast, m: Move) -> Any:
    actor = cast.actor(m.actor)
    if m.operation == "act":
        return engine.act("J1", {"type": m.action, "stepIds": [m.step_id]}, actor, NOW)
    if m.operation == "respond":
        return engine.respond("J1", m.step_id, m.value, actor, NOW)
    if m.operation == "complete":
        return engine.complete("J1", m.step_id, m.value, now=NOW)
    if m.operation == "fail":
        return engine.fail("J1", m.step_id, "boom", now=NOW)
    return engine.assign("J1", m.step_id, "User", m.value, actor, NOW)


def fresh(wf: dict[str, Any]) -> Engine | None:
    engine = Engine(definitions=BASE.definitions.fresh(), workflows=[wf])
    try:
        engine.create_job("random", "J1", now=NOW)
    except Exception:  # the new job's automatic steps loop (R6): verify reports a livelock, no state
        return None
    return engine


FLAGS = st.sampled_from([(False, False), (True, False), (False, True), (True, True)])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wf=workflows(), flags=FLAGS)
def test_every_reported_state_is_reached_by_replaying_its_trace(wf: dict[str, Any], flags: tuple[bool, bool]) -> None:
    admin, holds = flags
    loaded = BASE.spawn().add_workflow(wf)
    ex = explore(BASE, loaded, admin=admin, holds=holds)
    if fresh(wf) is None:
        assert ex.states == [] and list(ex.livelocks) == [("", "", None)]
        return
    assert ex.complete
    for s in ex.states:
        engine = fresh(wf)
        assert engine is not None
        for m in trace_to(ex, s.index):
            r = send(engine, ex.cast, m)
            assert r.success, (m, r.body)
        assert key_of(engine.job("J1")) == s.key
        assert len(trace_to(ex, s.index)) == s.depth


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wf=workflows(), flags=FLAGS, data=st.data())
def test_no_state_a_random_walk_reaches_is_missing(
    wf: dict[str, Any], flags: tuple[bool, bool], data: st.DataObject
) -> None:
    admin, holds = flags
    engine = fresh(wf)
    if engine is None:
        return
    loaded = BASE.spawn().add_workflow(wf)
    ex = explore(BASE, loaded, admin=admin, holds=holds)
    known = {s.key: s.depth for s in ex.states}
    cast = ex.cast
    people = sorted(n for n in cast.actors if (n != cast.admin or admin) and (n != cast.holder or holds))
    step_ids = [s["id"] for s in wf["steps"]]
    assert key_of(engine.job("J1")) in known
    made = 0  # the moves the walk has made: breadth-first depth is never more (the traces are shortest)
    for _ in range(data.draw(st.integers(1, 25))):
        own = ["act", "act", "act", "respond", "assign"] if people else []  # a participant's requests
        op = data.draw(st.sampled_from([*own, "complete", "fail"]))  # and the host's (R4)
        who = cast.actor(data.draw(st.sampled_from(people))) if people else None
        step = data.draw(st.sampled_from(step_ids))
        if op == "act":
            kinds = [
                "Run",
                "Finish",
                "Stop",
                *(["SetCurrentStep"] if admin else []),
                *(["Hold", "ReleaseHold"] if holds else []),
            ]
            body: dict[str, Any] = {"type": data.draw(st.sampled_from(kinds))}
            if body["type"] == "SetCurrentStep" or data.draw(st.booleans()):
                body["stepIds"] = [step]  # else R11: every current step, in order
            r = engine.act("J1", body, who, NOW)
        elif op == "respond":
            r = engine.respond("J1", step, data.draw(st.sampled_from(["yes", "no", "maybe"])), who, NOW)
        elif op == "complete":
            r = engine.complete("J1", step, data.draw(st.sampled_from([*VALUES, "Other"])), now=NOW)
        elif op == "fail":
            r = engine.fail("J1", step, "boom", now=NOW)
        elif admin and cast.admin is not None:
            r = engine.assign("J1", step, "User", cast.admin, cast.actor(cast.admin), NOW)
        else:
            continue
        if r.ok:
            made += sum(1 for x in r.body["stepResponses"] if x["status"] == "Success")
        key = key_of(engine.job("J1"))
        assert key in known, (op, engine.job("J1"))
        assert known[key] <= made
