"""A step type compiled to a python-statemachine class that chooses and makes every move of a step record.

Each chart compiles once per process. The chart's metadata (the :class:`ChartTransition`
with its history ``record``, ``emit`` events and ``returnValue``) rides on the compiled
transitions; the machine's own selection and ``cond`` guards (read from the step
definition through a small slot model) choose the move, and a listener reads the
chosen transition back. One machine instance per thread serves every record of a type:
its state lives on the record (``CurrentStep.status``) through the slot.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from statemachine import StateChart
from statemachine.io.class_factory import create_machine_class_from_definition

from ..load.charts import GUARDS, definition
from ..model import ChartTransition, CurrentStep, StepDef, StepType

__all__ = ["Admit", "Lifecycle", "Observe"]

CHART_ATTRIBUTE = "stepchart_move"
"""The attribute of a compiled ``Transition`` that holds the chart transition it was built from."""

Admit = Callable[[ChartTransition], bool]
"""Asked, before the chosen move changes anything, whether the engine lets it happen (R8)."""

Observe = Callable[[ChartTransition, str], None]
"""Told of each move made: the chart transition and the state it left."""


class _Declined(Exception):
    """Raised by the listener when the engine declines the move the machine chose (nothing moved)."""


class _Slot:
    """The model a compiled machine is bound to: it points at one step record at a time.

    Besides the record and its step definition (whose facts the ``cond`` guards read),
    it carries what the listener needs for the move under way: the engine's admission
    test, the observer, and the transition the machine chose.
    """

    __slots__ = ("admit", "chosen", "definition", "observe", "record")

    def __init__(self) -> None:
        self.record: CurrentStep | None = None
        self.definition: StepDef | None = None
        self.admit: Admit | None = None
        self.observe: Observe | None = None
        self.chosen: ChartTransition | None = None

    @property
    def state(self) -> str | None:
        return self.record.status if self.record is not None else None

    @state.setter
    def state(self, value: str) -> None:
        if self.record is not None:
            self.record.status = value

    def _guard(self, name: str) -> bool:
        return self.definition is not None and bool(GUARDS[name](self.definition))

    @property
    def guard_canSkip(self) -> bool:
        return self._guard("canSkip")

    @property
    def guard_notCanSkip(self) -> bool:
        return self._guard("notCanSkip")

    @property
    def guard_proceedNext(self) -> bool:
        return self._guard("proceedNext")

    @property
    def guard_automatic(self) -> bool:
        return self._guard("automatic")


class _Listener:
    """Reads the transition the machine chose back (python-statemachine's listener API).

    One callback, before the machine writes the new state: the engine's admission test
    may still decline the move (nothing has changed then); once admitted, the move is
    certain (the compiled charts have no entry or exit actions), so the observer hears
    of it here too.
    """

    __slots__ = ("slot",)

    def __init__(self, slot: _Slot) -> None:
        self.slot = slot

    def before_transition(self, transition: Any) -> None:
        slot = self.slot
        move: ChartTransition = getattr(transition, CHART_ATTRIBUTE)
        if slot.admit is not None and not slot.admit(move):
            raise _Declined
        slot.chosen = move
        if slot.observe is not None:
            slot.observe(move, transition.source.id)


class Lifecycle:
    """A step type compiled to a python-statemachine class, ready to move records."""

    def __init__(self, step_type: StepType) -> None:
        self.type = step_type
        self.machine_class: type[StateChart[Any]] = create_machine_class_from_definition(
            f"{step_type.id[:1].upper()}{step_type.id[1:]}Lifecycle",
            **copy.deepcopy(definition(step_type, with_final=False)),  # the factory consumes its dict
            allow_event_without_transition=False,
            catch_errors_as_events=False,
            validate_trap_states=False,
            validate_final_reachability=False,
            validate_disconnected_states=False,
        )
        _attach_chart(self.machine_class, step_type)
        self.final_states = frozenset(sid for sid, s in step_type.states.items() if s.final)
        self._accepts: dict[tuple[str, str, tuple[bool, ...]], bool] = {}
        self._local = threading.local()

    def _machine(self) -> tuple[StateChart[Any], _Slot]:
        pair: tuple[StateChart[Any], _Slot] | None = getattr(self._local, "pair", None)
        if pair is None:
            slot = _Slot()
            slot.record = CurrentStep("", self.type.initial)
            pair = (self.machine_class(model=slot, listeners=[_Listener(slot)]), slot)
            slot.record = None
            self._local.pair = pair
        return pair

    def fire(
        self,
        record: CurrentStep,
        event: str,
        step: StepDef,
        *,
        admit: Admit | None = None,
        observe: Observe | None = None,
    ) -> ChartTransition | None:
        """Send ``event`` for ``record``: the machine chooses the move and makes it; returns the chart transition.

        ``admit`` is asked about the chosen move before anything changes; when it says
        no, nothing moves and the answer is None. ``observe`` hears of the move made.
        A move the chart does not have raises ``TransitionNotAllowed`` (nothing moves).
        """
        machine, slot = self._machine()
        slot.record, slot.definition, slot.admit, slot.observe, slot.chosen = record, step, admit, observe, None
        try:
            machine.send(event)
        except _Declined:
            return None
        finally:
            slot.record, slot.definition, slot.admit, slot.observe = None, None, None, None
        return slot.chosen

    def accepts(self, status: str, event: str, step: StepDef) -> bool:
        """Whether the machine has a move for ``event`` from ``status`` for ``step`` (its guards read).

        The machine answers (``enabled_events``, evaluating its ``cond`` guards on a
        scratch record: nothing moves). The answer depends only on the status, the event
        and the guard values of the frozen step definition, so it is kept per such key.
        """
        key = (status, event, tuple(g(step) for g in GUARDS.values()))
        known = self._accepts.get(key)
        if known is None:
            machine, slot = self._machine()
            slot.record, slot.definition = CurrentStep("", status), step
            try:
                known = any(e.id == event for e in machine.enabled_events())
            finally:
                slot.record, slot.definition = None, None
            self._accepts[key] = known
        return known

    def is_final(self, status: str) -> bool:
        return status in self.final_states


def _attach_chart(machine_class: type[StateChart[Any]], step_type: StepType) -> None:
    """Put each chart transition on the compiled transitions built from it.

    The factory builds, for each source state, its transitions in the order of the
    definition (per event, in chart order), so the compiled transitions of one (source,
    event) pair line up with the chart's; the targets are checked as they are paired.
    """
    expected: dict[tuple[str, str], list[ChartTransition]] = {}
    for t in step_type.transitions:
        for src in t.sources:
            expected.setdefault((src, t.event), []).append(t)
    for (src, event), moves in expected.items():
        compiled = [c for c in machine_class.states_map[src].transitions.transitions if event in c.events]
        if len(compiled) != len(moves) or any(
            c.target is None or c.target.id != m.target for c, m in zip(compiled, moves, strict=True)
        ):
            raise RuntimeError(f"{step_type.id}: the compiled {event} moves from {src} do not match the chart")
        for c, m in zip(compiled, moves, strict=True):
            setattr(c, CHART_ATTRIBUTE, m)
