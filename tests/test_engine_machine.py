"""python-statemachine decides and makes every lifecycle move of a request; the engine only reads it back.

A spy on the compiled machines' ``send`` sees every move a whole scenario run makes, the
chart's own table scan (``StepType.transition_for``) is never asked on the request path,
the chart metadata rides on the compiled transitions, and R8 (no matching path) is the
machine's move declined before it changes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from statemachine import StateChart

from stepchart import SYSTEM, Actor, Engine
from stepchart.engine.lifecycle import CHART_ATTRIBUTE
from stepchart.model import ChartTransition, PathDef, StepDef, StepType, Workflow
from stepchart.tools.scenarios import ScenarioResult, discover, load_file, run_scenario
from stepchart.trace import Tracer

ROOT = Path(__file__).resolve().parent.parent
SUITES = [p for p in (ROOT / "tests" / "scenarios", ROOT / "examples" / "scenarios") if p.is_dir()]
NOW = "2026-03-01T09:00:00Z"
ALICE = Actor.of("alice", ["editors"])


class Moves(Tracer):
    """Every move and path the engine reports."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, str, str, str, str]] = []
        self.paths: list[tuple[str, str]] = []

    def moved(self, step_type: StepType, transition: ChartTransition, source: str, step_id: str) -> None:
        self.moves.append((step_type.id, transition.event, source, transition.target, step_id))

    def path_taken(self, workflow: Workflow, step: StepDef, path: PathDef) -> None:
        self.paths.append((step.id, path.next_step))


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str, str]]]:
    """(machine class, event, state before, state after) of every ``send`` to a compiled lifecycle."""
    seen: list[tuple[str, str, str, str]] = []
    original = StateChart.send

    def spy(self: Any, event: str, *args: Any, **kwargs: Any) -> Any:
        before = self.model.state
        try:
            return original(self, event, *args, **kwargs)
        finally:
            seen.append((type(self).__name__, event, before, self.model.state))

    monkeypatch.setattr(StateChart, "send", spy)
    yield seen


@pytest.fixture
def no_table_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart table's own answers are for lint and verify: the request path must not ask them."""

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("StepType.transition_for was asked on the request path")

    monkeypatch.setattr(StepType, "transition_for", refuse)
    monkeypatch.setattr(StepType, "accepts", refuse)


def _scenarios() -> list[Any]:
    files, _ = discover(SUITES)
    out = []
    for f in files:
        loaded = load_file(f)
        assert not isinstance(loaded, ScenarioResult), loaded.message
        out.extend(loaded)
    return out


def test_every_compiled_transition_carries_its_chart_transition(base_engine: Engine) -> None:
    for lc in base_engine.lifecycles.values():
        chart = {(src, t.event, t.target) for t in lc.type.transitions for src in t.sources}
        compiled = {
            (s.id, getattr(t, CHART_ATTRIBUTE).event, t.target.id)
            for s in lc.machine_class.states
            for t in s.transitions
        }
        assert compiled == chart
        for s in lc.machine_class.states:
            for t in s.transitions:
                move = getattr(t, CHART_ATTRIBUTE)
                assert s.id in move.sources and t.target.id == move.target


@pytest.mark.skipif(not SUITES, reason="no scenario suites")
def test_the_machine_makes_every_move_of_the_scenarios_and_the_table_is_never_scanned(
    base_engine: Engine, sends: list[tuple[str, str, str, str]], no_table_scan: None
) -> None:
    """Every scenario of the project passes with the table scan refused; each reported move is one send."""
    tracer = Moves()
    failed = []
    for scenario in _scenarios():
        result = run_scenario(scenario, base_engine, observe=lambda e: setattr(e, "tracer", tracer))
        if not result.passed:
            failed.append(f"{result.file}: {result.name}: {result.message}")
    assert failed == []
    assert tracer.moves, "the scenarios make moves"
    moved = [(event, before, after) for _cls, event, before, after in sends if before != after]
    assert moved == [(event, source, target) for _t, event, source, target, _s in tracer.moves]


def test_the_examples_run_end_to_end_through_act_on_the_machine(
    base_engine: Engine, sends: list[tuple[str, str, str, str]], no_table_scan: None
) -> None:
    engine = base_engine.spawn(tracer=Moves())
    engine.add_workflow(ROOT / "examples" / "parcel-edit.yaml")
    engine.create_job("parcel-edit", "J1", now=NOW)
    for body in ({"type": "Run"}, {"type": "Stop"}, {"type": "Run"}, {"type": "Finish"}):
        result = engine.act("J1", body, ALICE, NOW)
        assert result.ok, result.body
    tracer = engine.tracer
    assert isinstance(tracer, Moves)
    # start runs and finishes by itself (automatic, proceedNext); then alice's four moves on edit
    made = [("run", "Ready"), ("finish", "Running"), ("run", "Ready"), ("stop", "Running"), ("run", "Paused")]
    made.append(("finish", "Running"))
    assert [(e, s) for _t, e, s, _x, _s in tracer.moves] == made
    assert [(event, before) for _c, event, before, after in sends if before != after] == made
    assert [s for *_m, s in tracer.moves] == ["start", "start", "edit", "edit", "edit", "edit"]
    assert tracer.paths == [("start", "edit"), ("edit", "review")]


def test_no_matching_path_is_the_machine_move_declined_before_anything_changes(
    base_engine: Engine, sends: list[tuple[str, str, str, str]]
) -> None:
    """R8: the machine chooses the finish; the engine declines it; the record stays Running, no move reported."""
    engine = base_engine.spawn(tracer=Moves())
    engine.add_workflow(
        {
            "workflow": "w",
            "initialStep": "a",
            "steps": [
                {
                    "id": "a",
                    "type": "manual",
                    "assignedType": "User",
                    "assignedTo": "alice",
                    "paths": [{"nextStep": "b", "returnValue": "Nope"}],
                },
                {"id": "b", "type": "manual"},
            ],
        }
    )
    engine.create_job("w", "J1", now=NOW)
    assert engine.act("J1", {"type": "Run"}, "alice", NOW).success
    sends.clear()
    result = engine.act("J1", {"type": "Finish"}, "alice", NOW)
    assert result.body["stepResponses"][0]["status"] == "NoMatchingPaths"
    assert engine.job("J1")["currentSteps"][0]["status"] == "Running"
    assert [(event, before, after) for _c, event, before, after in sends] == [("finish", "Running", "Running")]
    tracer = engine.tracer
    assert isinstance(tracer, Moves) and [m[1] for m in tracer.moves] == ["run"] and tracer.paths == []


def test_accepts_is_the_machines_answer_with_its_guards(base_engine: Engine) -> None:
    lc = base_engine.lifecycles["manual"]
    assert lc.accepts("Ready", "run", StepDef("s", "manual"))
    assert not lc.accepts("Ready", "finish", StepDef("s", "manual", can_skip=False))
    assert lc.accepts("Ready", "finish", StepDef("s", "manual", can_skip=True))
    for st in base_engine.step_types.values():
        lc = base_engine.lifecycles[st.id]
        for status in st.states:
            for event in {t.event for t in st.transitions}:
                for skip in (False, True):
                    step = StepDef("s", st.id, can_skip=skip, proceed_next=skip)
                    assert lc.accepts(status, event, step) == st.accepts(status, event, step)


def test_a_user_named_system_is_not_the_engine() -> None:
    from stepchart import SYSTEM
    from stepchart.engine.inputs import as_actor

    assert SYSTEM.is_system and as_actor(SYSTEM) is SYSTEM and not as_actor("system").is_system
    assert not Actor("system").is_system
    assert not Actor.of("system", ["admins"]).is_system


def test_operation_log_bodies_are_camel_case(base_engine: Engine) -> None:
    from stepchart.stores import open_store

    engine = base_engine.spawn(open_store("memory:"))
    engine.add_workflow(ROOT / "examples" / "parcel-edit.yaml")
    engine.create_job("parcel-edit", "J1", now=NOW)
    assert engine.assign("J1", "edit", "User", "carol", SYSTEM, NOW).success
    log = engine.store.log_entries("J1")  # type: ignore[attr-defined]
    assert log[-1]["body"] == {
        "operation": "Assign",
        "stepIds": ["edit"],
        "assignedType": "User",
        "assignedTo": "carol",
    }


def test_every_action_has_one_handler_by_name() -> None:
    from stepchart.engine.actions import ACTION_TABLE
    from stepchart.engine.dispatch import JOB_ACTION_HANDLERS, OPERATION_HANDLERS
    from stepchart.vocabulary import ACTION_TYPES, OPERATIONS

    assert tuple(JOB_ACTION_HANDLERS) == ACTION_TYPES
    assert tuple(OPERATION_HANDLERS) == OPERATIONS
    assert all(ACTION_TABLE[name].kind == "jobAction" for name in JOB_ACTION_HANDLERS)
    assert all(ACTION_TABLE[name].kind == "operation" for name in OPERATION_HANDLERS)


def test_a_context_needs_no_engine_and_traces_facts_and_rules(base_engine: Engine) -> None:
    """What a rule sees: step types, a job reader, and a tracer; the rules report to it."""
    from stepchart.model import Job, Request
    from stepchart.model.times import parse_datetime
    from stepchart.rules.context import Context

    engine = base_engine.spawn()
    engine.add_workflow(ROOT / "examples" / "parcel-edit.yaml")
    engine.create_job("parcel-edit", "J1", now=NOW)
    job = engine.store.get("J1")
    assert job is not None
    seen: list[tuple[str, Any]] = []

    class Spy(Tracer):
        def fact_read(self, name: str, argument: Any, value: bool) -> None:
            seen.append(("fact", name))

        def rule_checked(self, rule: Any, action: str, step_id: str | None, passed: bool) -> None:
            seen.append(("rule", (rule.name, action, step_id, passed)))

    others: dict[str, Job] = {}
    ctx = Context(
        job,
        engine.workflow_for(job),
        Actor.of("bob"),
        Request("Run", ["edit"]),
        parse_datetime(NOW),
        step_types=engine.step_types,
        read_job=others.get,
        tracer=Spy(),
    )
    ctx.set_target("edit")
    assert not ctx.job_exists("J9") and ctx.chart_accepts(ctx.record, "run")  # type: ignore[arg-type]
    refused = engine.rules.first_failure(ctx, "step", "Run")
    assert refused is not None and ("rule", (refused.name, "Run", "edit", False)) in seen
    assert any(kind == "fact" for kind, _ in seen)
    assert not hasattr(ctx, "engine") and not hasattr(ctx, "as_system") and not hasattr(ctx, "lifecycle_of")
