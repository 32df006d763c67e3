"""Frozen definitions: lifecycle charts (step types) and workflows with their steps and paths."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NoReturn, TypeVar

from ..vocabulary import AssignmentType

__all__ = [
    "STEP_GUARDS",
    "ChartState",
    "ChartTransition",
    "PathDef",
    "ReadOnlyDict",
    "StepDef",
    "StepType",
    "Workflow",
]

K = TypeVar("K")
V = TypeVar("V")


class ReadOnlyDict(dict[K, V]):
    """A dict that refuses to change: the mappings of the frozen definitions below.

    A dict subclass rather than :class:`types.MappingProxyType`, so reads stay as fast
    as a dict's (``states`` is read on every request), it encodes as JSON, compares
    equal to a dict, and copies and pickles (a mapping proxy does neither).
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (dict(self),)

    def __copy__(self) -> ReadOnlyDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ReadOnlyDict[K, V]:
        import copy

        return type(self)({k: copy.deepcopy(v, memo) for k, v in self.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


@dataclass(frozen=True)
class ChartState:
    id: str
    started: bool = False
    running: bool = False
    final: bool = False
    description: str = ""
    line: int = 0
    external: bool = False


@dataclass(frozen=True)
class ChartTransition:
    event: str
    sources: tuple[str, ...]
    target: str
    guard: str | None = None
    return_value: str | None = None
    record: str | None = None
    emit: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class StepType:
    """A lifecycle chart: the states and moves of one kind of step."""

    id: str
    initial: str
    states: Mapping[str, ChartState]
    """Read-only (a dict given is copied into a :class:`ReadOnlyDict`)."""
    transitions: tuple[ChartTransition, ...]
    asynchronous: bool = False
    description: str = ""
    file: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", ReadOnlyDict(self.states))

    def is_started(self, status: str) -> bool:
        s = self.states.get(status)
        return bool(s and s.started)

    def is_running(self, status: str) -> bool:
        s = self.states.get(status)
        return bool(s and s.running)

    def is_final(self, status: str) -> bool:
        s = self.states.get(status)
        return bool(s and s.final)

    def transition_for(self, status: str, event: str, step: StepDef) -> ChartTransition | None:
        """The move ``event`` makes from ``status`` for ``step`` (its guards read), or None.

        A model-level query for lint, verify and the ``step.accepts`` fact; on the request
        path the compiled machine chooses the move itself.
        """
        for t in self._moves.get((event, status), ()):
            if t.guard is None or STEP_GUARDS[t.guard](step):
                return t
        return None

    @cached_property
    def _moves(self) -> dict[tuple[str, str], tuple[ChartTransition, ...]]:
        """The moves by (event, source state), in chart order: one look-up per query, not a scan
        of every move (a scan made checking a chart of n states take n squared)."""
        index: dict[tuple[str, str], list[ChartTransition]] = {}
        for t in self.transitions:
            for src in t.sources:
                index.setdefault((t.event, src), []).append(t)
        return {key: tuple(moves) for key, moves in index.items()}

    def accepts(self, status: str, event: str, step: StepDef) -> bool:
        return self.transition_for(status, event, step) is not None


@dataclass(frozen=True)
class PathDef:
    next_step: str
    return_values: tuple[str, ...] | None = None
    assigned_type: AssignmentType | None = None
    assigned_to: str | None = None
    force_group_assignment: bool = False
    line: int = 0

    def matches(self, value: str | None) -> bool:
        return self.return_values is None or (value is not None and value in self.return_values)


@dataclass(frozen=True)
class StepDef:
    id: str
    type: str
    name: str = ""
    can_skip: bool = False
    proceed_next: bool = False
    automatic: bool = False
    assigned_type: AssignmentType | None = None
    assigned_to: str | None = None
    answers: tuple[str, ...] | None = None
    paths: tuple[PathDef, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Workflow:
    """A workflow version: its steps by id, and the source mapping it was loaded from.

    ``steps`` and ``source`` are read-only (dicts given are copied into
    :class:`ReadOnlyDict`; the values inside ``source`` are the loader's own).
    """

    id: str
    initial_step: str
    steps: Mapping[str, StepDef]
    name: str = ""
    auto_close: bool = True
    version: str = ""
    file: str = ""
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", ReadOnlyDict(self.steps))
        object.__setattr__(self, "source", ReadOnlyDict(self.source))


STEP_GUARDS: dict[str, Callable[[StepDef], bool]] = {
    "canSkip": lambda d: d.can_skip,
    "notCanSkip": lambda d: not d.can_skip,
    "proceedNext": lambda d: d.proceed_next,
    "automatic": lambda d: d.automatic,
}
"""The guards a chart transition may name (``vocabulary.GUARDS``): facts of the step definition."""
