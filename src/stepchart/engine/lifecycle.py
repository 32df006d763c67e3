"""A step type compiled to a python-statemachine class that moves step records.

Each chart compiles once per process. The compiled class executes every lifecycle
move; its state lives on the step record (``CurrentStep.status``) through a small
slot model, so one machine instance per thread serves every record of a type.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from statemachine import StateChart
from statemachine.io.class_factory import create_machine_class_from_definition

from ..load.charts import GUARDS, definition
from ..model import ChartTransition, CurrentStep, StepDef, StepType

__all__ = ["Lifecycle"]


class _Slot:
    """The model a compiled machine is bound to: it points at one step record at a time."""

    __slots__ = ("definition", "record")

    def __init__(self) -> None:
        self.record: CurrentStep | None = None
        self.definition: StepDef | None = None

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


class Lifecycle:
    """A step type compiled to a python-statemachine class, ready to move records."""

    def __init__(self, step_type: StepType) -> None:
        self.type = step_type
        self.machine_class: type[StateChart[Any]] = create_machine_class_from_definition(
            f"{step_type.id[:1].upper()}{step_type.id[1:]}Lifecycle",
            **copy.deepcopy(definition(step_type, with_final=False)),
            allow_event_without_transition=False,
            catch_errors_as_events=False,
            validate_trap_states=False,
            validate_final_reachability=False,
            validate_disconnected_states=False,
        )
        self._local = threading.local()

    def _machine(self) -> tuple[StateChart[Any], _Slot]:
        pair: tuple[StateChart[Any], _Slot] | None = getattr(self._local, "pair", None)
        if pair is None:
            slot = _Slot()
            slot.record = CurrentStep("", self.type.initial)
            pair = (self.machine_class(model=slot), slot)
            self._local.pair = pair
        return pair

    def transition_for(self, status: str, event: str, step: StepDef) -> ChartTransition | None:
        """The move ``event`` would make from ``status``, without making it."""
        for t in self.type.transitions:
            if t.event == event and status in t.sources and (t.guard is None or GUARDS[t.guard](step)):
                return t
        return None

    def accepts(self, status: str, event: str, step: StepDef) -> bool:
        return self.transition_for(status, event, step) is not None

    def fire(self, record: CurrentStep, event: str, step: StepDef) -> ChartTransition:
        """Move ``record`` by ``event`` through the compiled machine; refusals raise."""
        expected = self.transition_for(record.status, event, step)
        machine, slot = self._machine()
        slot.record, slot.definition = record, step
        try:
            machine.send(event)
        finally:
            slot.record, slot.definition = None, None
        if expected is None or record.status != expected.target:  # pragma: no cover - they agree by construction
            raise RuntimeError(f"{self.type.id}: the compiled machine and the chart disagree on {event}")
        return expected

    def is_final(self, status: str) -> bool:
        s = self.type.states.get(status)
        return bool(s and s.final)
