"""Lifecycle charts compile into python-statemachine classes that make every move (SPEC section 2)."""

from __future__ import annotations

import pytest
from statemachine import StateChart
from statemachine.exceptions import TransitionNotAllowed

from stepchart import DefinitionError, Engine
from stepchart.engine.lifecycle import Lifecycle
from stepchart.load.charts import load_chart_text
from stepchart.model import CurrentStep, StepDef

MINI = """
stepType: mini
initial: Ready
states:
  Ready: {}
  Running: {started: true, running: true}
  Done: {final: true}
transitions:
  - {event: run, from: Ready, to: Running}
  - {event: finish, from: Running, to: Done, returnValue: Success}
"""


def test_shipped_charts_compile_to_statecharts(base_engine: Engine) -> None:
    assert set(base_engine.step_types) >= {"manual", "openApp", "question", "gp"}
    for lc in base_engine.lifecycles.values():
        assert issubclass(lc.machine_class, StateChart)


def test_r1_started_and_running_are_declared_by_the_chart(base_engine: Engine) -> None:
    """R1: running in Running and WaitingForInfo; started in Running, Paused and WaitingForInfo."""
    running = {(t, s) for t, st in base_engine.step_types.items() for s in st.states if st.is_running(s)}
    started = {(t, s) for t, st in base_engine.step_types.items() for s in st.states if st.is_started(s)}
    assert running == {("manual", "Running"), ("openApp", "Running"), ("gp", "Running"), ("question", "WaitingForInfo")}
    assert started == running | {("manual", "Paused"), ("openApp", "Paused")}
    assert [t for t, st in base_engine.step_types.items() if st.asynchronous] == ["gp"]


def test_the_compiled_machine_moves_the_record_and_refuses_loudly() -> None:
    lc = Lifecycle(load_chart_text(MINI))
    step = StepDef("s", "mini")
    rec = CurrentStep("s", "Ready")
    assert lc.fire(rec, "run", step).target == "Running"
    assert rec.status == "Running"
    with pytest.raises(TransitionNotAllowed):
        lc.fire(rec, "run", step)
    assert rec.status == "Running"
    assert lc.fire(rec, "finish", step).return_value == "Success"
    assert rec.status == "Done"
    # The same compiled machine serves any other record afterwards.
    other = CurrentStep("t", "Ready")
    lc.fire(other, "run", step)
    assert other.status == "Running"


def test_guards_read_the_step_definition(base_engine: Engine) -> None:
    lc = base_engine.lifecycles["manual"]
    with pytest.raises(TransitionNotAllowed):
        lc.fire(CurrentStep("s", "Ready"), "finish", StepDef("s", "manual", can_skip=False))
    move = lc.fire(CurrentStep("s", "Ready"), "finish", StepDef("s", "manual", can_skip=True))
    assert move.return_value == "Skipped"


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (("Running: {started: true, running: true}", "send: {started: true, running: true}"), "reserved-name"),
        (("Running: {started: true, running: true}", "model: {started: true, running: true}"), "reserved-name"),
        (("to: Running}", "to: Nowhere}"), "unknown-state"),
        (("initial: Ready", "initial: Done"), "final-initial"),
        (("Done: {final: true}", "Done: {}\n  Lost: {final: true}"), "unreachable-state"),
        (("returnValue: Success", "record: Finished"), "missing-return-value"),
        (("event: run", "event: jump"), "bad-value"),
    ],
)
def test_bad_charts_are_refused_at_their_line(edit: tuple[str, str], code: str) -> None:
    text = MINI.replace(*edit)
    with pytest.raises(DefinitionError) as info:
        load_chart_text(text, "mini.yaml")
    assert code in {p.code for p in info.value.problems}
    assert all(p.file == "mini.yaml" and p.line >= 1 for p in info.value.problems)


def test_python_statemachine_refusals_are_reported_at_the_chart() -> None:
    trap = MINI.replace(
        "  - {event: finish, from: Running, to: Done, returnValue: Success}\n",
        "  - {event: finish, from: Ready, to: Done, returnValue: Success}\n",
    )
    with pytest.raises(DefinitionError) as info:
        load_chart_text(trap, "trap.yaml")
    assert info.value.code == "invalid-lifecycle"
    assert "trap.yaml" in str(info.value)
