"""Charts against rules: states where the rules allow an action whose lifecycle event the chart cannot take."""

from __future__ import annotations

import itertools

from ...engine.actions import ACTION_TABLE
from ...errors import Problem
from ...io.yamldoc import Document
from ...model import StepDef, StepType
from ...rules import RuleSet
from ...rules.conditions import FactRef, Tri, evaluate
from ...rules.facts import ChartPoint
from ...vocabulary import LIFECYCLE_EVENTS

__all__ = ["EVENT_ACTIONS", "chart_event_problems"]

EVENT_ACTIONS: tuple[tuple[str, str], ...] = tuple(
    (a.name, event) for event in LIFECYCLE_EVENTS for a in ACTION_TABLE.values() if a.event == event
)
"""(action, lifecycle event) for every action that sends one, in the order of the events."""


def chart_event_problems(st: StepType, doc: Document, ruleset: RuleSet) -> list[Problem]:
    """States where the step rules may allow an action whose event the chart has no move for.

    The step's definition flags (canSkip, proceedNext, automatic) are tried both ways;
    what a chart state decides (each fact's ``on_chart``: status, running, started,
    asynchronous, type, the moves it accepts) is known, everything else (actor, holds,
    request) is unknown.
    """
    problems: list[Problem] = []
    flags = [StepDef("x", st.id, can_skip=a, proceed_next=b, automatic=c)
             for a, b, c in itertools.product((False, True), repeat=3)]  # fmt: skip
    for sid, state in st.states.items():
        if state.final:
            continue
        allowed: list[tuple[str, str]] = []
        for action, event in EVENT_ACTIONS:
            rules = ruleset.for_action("step", action)
            for step in flags:
                if st.accepts(sid, event, step):
                    continue
                point = ChartPoint(st, sid, step)

                def fact(ref: FactRef, point: ChartPoint = point) -> Tri:
                    on_chart = ref.fact.on_chart
                    return None if on_chart is None else on_chart(point, ref.argument)

                if all(evaluate(r.condition, fact) is not False for r in rules):
                    cond = f" (canSkip: {str(step.can_skip).lower()})" if _depends_on_flags(st, sid, event) else ""
                    allowed.append((f"{action}{cond}", event))
                    break
        if allowed:
            events = ", ".join(event for _, event in allowed)
            problems.append(
                doc.problem(
                    ("states", sid), "unhandled-event",
                    f"the rules allow {', '.join(a for a, _ in allowed)} on a {st.id} step in {sid}, but the chart "
                    f"has no {events} move from {sid}: the engine would answer InvalidRequest; add the moves, or "
                    "rules that refuse them (e.g. require {step.accepts: EVENT})",
                    key=True,
                )
            )  # fmt: skip
    return problems


def _depends_on_flags(st: StepType, status: str, event: str) -> bool:
    return any(t.event == event and status in t.sources and t.guard is not None for t in st.transitions)
