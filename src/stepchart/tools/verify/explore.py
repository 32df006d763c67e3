"""The breadth-first search over every state a job of one workflow can reach, through the real engine.

Each state is a job as the engine left it; each move is an engine request on a copy of
it (:class:`~.states.OneJobStore`), so a successor is exactly what ``act`` would make.
States are deduplicated by :func:`~.states.state_key`; breadth-first order makes each
state's recorded parent move the last step of a shortest trace from the new job.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ...engine.core import Engine
from ...errors import RequestError
from ...model import Job, Workflow
from ...model.times import parse_datetime
from ...trace import Tracer
from .moves import Cast, Move, moves_for, outcome_of, perform
from .states import JOB_ID, OneJobStore, StateKey, state_key

__all__ = ["DEFAULT_MAX_STATES", "NOW", "Exploration", "Incident", "State", "explore", "trace_to"]

DEFAULT_MAX_STATES = 100_000
NOW = "2026-01-01T00:00:00Z"
"""The clock of every move (a scenario's default ``now``); verify places no timed holds."""


@dataclass
class State:
    """One reachable state: its key, the job, and how breadth-first search first reached it."""

    index: int
    key: StateKey
    job: Job
    parent: int | None = None
    move: Move | None = None
    depth: int = 0


@dataclass
class Incident:
    """A move that showed a flaw: its state, the move, the engine's answer in a word, the steps it involved."""

    state: int | None
    move: Move | None
    answer: str
    steps: tuple[str, ...] = ()


@dataclass
class Exploration:
    """What the search found for one workflow."""

    workflow: Workflow
    cast: Cast
    states: list[State] = field(default_factory=list)
    successors: list[set[int]] = field(default_factory=list)
    refused: dict[tuple[str, str, str | None], Incident] = field(default_factory=dict)
    """The first (shortest) refusal of each result (step, action, value) because no path matches."""
    livelocks: dict[tuple[str, str, str | None], Incident] = field(default_factory=dict)
    """The first move of each kind that exceeded the automatic-move bound (R6); key ``("", "", None)``: creation."""
    moves: int = 0
    complete: bool = True
    """False when ``max_states`` stopped the search: stuck and dead-step are then undecided."""
    max_states: int = DEFAULT_MAX_STATES
    seconds: float = 0.0
    activated: set[str] = field(default_factory=set)
    """Every step some move made current (automatic steps too, current only inside a request)."""


class _StepsSeen(Tracer):
    """Records the steps the engine moved during one request (to place a livelock)."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    def moved(self, step_type: object, transition: object, source: str, step_id: str) -> None:
        self.steps.append(step_id)


def _looping_steps(engine: Engine, run: Callable[[], object]) -> tuple[str, ...]:
    """The steps that moved in a request that hit the cascade bound, most moved first."""
    seen = _StepsSeen()
    engine.tracer = seen
    try:
        run()
    except RequestError:
        pass
    finally:
        engine.tracer = None
    counts: dict[str, int] = {}
    for s in seen.steps:
        counts[s] = counts.get(s, 0) + 1
    looping = [s for s in counts if counts[s] > 1] or list(counts)
    return tuple(sorted(looping, key=lambda s: -counts[s]))


def explore(
    base: Engine,
    wf: Workflow,
    *,
    admin: bool = False,
    holds: bool = False,
    max_states: int = DEFAULT_MAX_STATES,
    now: datetime | str = NOW,
) -> Exploration:
    """Every state a new job of ``wf`` reaches, with the moves between them; ``base`` lends its charts and rules."""
    started = time.perf_counter()
    at = parse_datetime(now) if isinstance(now, str) else now
    store = OneJobStore()
    engine = base.spawn(store)
    engine.register_version(wf, newest=True)
    cast = Cast(wf, admin=admin, holds=holds)
    out = Exploration(wf, cast, max_states=max_states)
    try:
        engine.create_job(wf.id, JOB_ID, now=at)
    except RequestError as exc:
        steps = _looping_steps(engine, lambda: engine.create_job(wf.id, JOB_ID, now=at))
        out.livelocks[("", "", None)] = Incident(None, None, exc.type, steps)
        out.seconds = time.perf_counter() - started
        return out
    assert store.result is not None
    first = store.result
    index: dict[StateKey, int] = {state_key(first): 0}
    out.states.append(State(0, state_key(first), first))
    out.successors.append(set())
    queue = deque([0])
    step_types = engine.step_types
    while queue and out.complete:
        here = out.states[queue.popleft()]
        for move in moves_for(here.job, wf, step_types, cast):
            store.job = here.job
            result = perform(engine, cast, move, at)
            out.moves += 1
            outcome, answer = outcome_of(result)
            if outcome == "moved":
                assert store.result is not None
                key = state_key(store.result)
                found = index.get(key)
                if found is None:
                    if len(out.states) >= max_states:
                        out.complete = False
                        break
                    found = index[key] = len(out.states)
                    out.states.append(State(found, key, store.result, here.index, move, here.depth + 1))
                    out.successors.append(set())
                    queue.append(found)
                if found != here.index:
                    out.successors[here.index].add(found)
            elif outcome == "refused-result":
                out.refused.setdefault((move.step_id, move.action, move.value), Incident(here.index, move, answer))
            elif outcome == "livelock":
                what = (move.step_id, move.action, move.value)
                if what not in out.livelocks:
                    job = here.job

                    def again(job: Job = job, move: Move = move) -> object:
                        store.job = job
                        return perform(engine, cast, move, at)

                    out.livelocks[what] = Incident(here.index, move, answer, _looping_steps(engine, again))
    out.activated = store.activated
    out.seconds = time.perf_counter() - started
    return out


def trace_to(ex: Exploration, index: int | None) -> list[Move]:
    """The shortest list of moves from the new job to state ``index`` (breadth-first parents)."""
    moves: list[Move] = []
    while index is not None:
        s = ex.states[index]
        if s.move is not None:
            moves.append(s.move)
        index = s.parent
    moves.reverse()
    return moves
