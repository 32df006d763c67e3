"""The four findings of ``stepchart verify``, read off an :class:`~.explore.Exploration`.

* ``stuck``: a reachable state, not complete, from which no sequence of moves completes
  the job (found by walking the move graph backwards from the complete states);
* ``dead-step``: a step current in no reachable state (nor made current inside a request,
  as automatic steps are);
* ``refused-result``: a result a step can produce is refused because no path matches;
* ``livelock``: a move after which the automatic steps exceed the cascade bound (R6).

Each finding sits at the file, line and column of its step in the workflow document and
carries the shortest trace that shows it. Stuck states are reported where a stuck job
ends up (each bottom component of the stuck states, once per set of steps it can never
leave), at its first state breadth-first, so with the shortest trace.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ...errors import Problem
from ...io.yamldoc import Document
from .explore import Exploration, Incident, trace_to
from .moves import Move
from .states import StateKey, current_text, is_complete

__all__ = ["Finding", "find"]


@dataclass
class Finding:
    """One located finding with its trace and what a scenario should expect at its end."""

    code: str
    problem: Problem
    step_id: str
    trace: list[Move] = field(default_factory=list)
    last: Move | None = None
    """The move that shows the finding (refused-result, livelock); None when the trace's end state does."""
    answer: str = ""
    """The engine's answer to :attr:`last` (a step status or an error type)."""
    state: StateKey | None = None
    """The state the trace ends in (before :attr:`last`)."""

    def to_dict(self) -> dict[str, Any]:
        d = self.problem.to_dict()
        d["stepId"] = self.step_id
        d["trace"] = [m.to_dict() for m in self.trace]
        if self.last is not None:
            d["refusedMove"] = {**self.last.to_dict(), "answer": self.answer}
        return d


class _Locator:
    """Places in the workflow document: a step's id, its paths, one of its answers."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.index: dict[str, int] = {}
        for i, s in enumerate(doc.value.get("steps", []) if isinstance(doc.value, dict) else []):
            if isinstance(s, dict) and isinstance(s.get("id"), str):
                self.index.setdefault(s["id"], i)

    def problem(self, step_id: str, code: str, message: str, *rest: str | int) -> Problem:
        i = self.index.get(step_id)
        path: tuple[str | int, ...] = ("steps", i, *rest) if i is not None else ()
        if rest and i is not None and path not in self.doc.marks:
            path = ("steps", i, "id")
        return self.doc.problem(path, code, message)


def _can_complete(ex: Exploration) -> set[int]:
    """The states from which some sequence of moves reaches a complete state."""
    back: list[list[int]] = [[] for _ in ex.states]
    for i, succ in enumerate(ex.successors):
        for j in succ:
            back[j].append(i)
    good = {s.index for s in ex.states if is_complete(s.job)}
    queue = deque(good)
    while queue:
        for i in back[queue.popleft()]:
            if i not in good:
                good.add(i)
                queue.append(i)
    return good


def _bottoms(ex: Exploration, stuck: set[int]) -> list[list[int]]:
    """The bottom strongly connected components of the stuck states: where a stuck job ends up.

    Every successor of a stuck state is stuck, so each stuck state leads into at least one
    bottom component (one with no move out of it). Iterative Tarjan, states in index order.
    """
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    on: set[int] = set()
    stack: list[int] = []
    comps: list[list[int]] = []
    for root in sorted(stuck):
        if root in order:
            continue
        work = [(root, iter(sorted(ex.successors[root])))]
        order[root] = low[root] = len(order)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in order:
                    order[w] = low[w] = len(order)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(ex.successors[w]))))
                elif w in on:
                    low[v] = min(low[v], order[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == order[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                members = set(comp)
                if all(j in members for c in comp for j in ex.successors[c]):
                    comps.append(sorted(comp))
    return sorted(comps)


def _stuck(ex: Exploration, at: _Locator) -> list[Finding]:
    good = _can_complete(ex)
    stuck = {s.index for s in ex.states} - good
    out: list[Finding] = []
    seen: set[frozenset[str]] = set()
    for comp in _bottoms(ex, stuck):  # by their first state: breadth-first, so the shortest trace first
        first = ex.states[comp[0]]
        keys = [ex.states[i].key for i in comp]
        always = set.intersection(*({c[0] for c in k[1]} for k in keys))
        stays = [c for c in first.key[1] if c[0] in always]
        steps = [c[0] for c in stays] or list(dict.fromkeys(c[0] for k in keys for c in k[1]))
        culprits = frozenset(steps)
        if culprits in seen:
            continue
        seen.add(culprits)
        names = ", ".join(f"'{x}'" for x in steps)
        if stays:
            hints = [f"'{c[0]}' is Unassigned: nobody may run it" for c in stays if c[2] == "Unassigned"]
            fate = f"{names} {'stays' if len(stays) == 1 else 'stay'} current for good" + (
                f" ({'; '.join(hints)})" if hints else ""
            )
        else:
            fate = f"the job goes round {names} and never leaves them"
        message = f"the job gets stuck at {current_text(first.key)}: no moves complete it; {fate}"
        out.append(
            Finding(
                "stuck",
                at.problem(steps[0], "stuck", message, "id"),
                steps[0],
                trace_to(ex, first.index),
                state=first.key,
            )
        )
    return out


def _dead(ex: Exploration, at: _Locator) -> list[Finding]:
    current = {c[0] for s in ex.states for c in s.key[1]} | ex.activated
    current.update(x for i in ex.livelocks.values() for x in i.steps)  # reported as the livelock
    out = []
    for step_id in ex.workflow.steps:
        if step_id not in current:
            message = (
                f"step '{step_id}' is current in none of the {len(ex.states)} reachable states: no job ever reaches it"
            )
            out.append(Finding("dead-step", at.problem(step_id, "dead-step", message, "id"), step_id))
    return out


def _refused(ex: Exploration, at: _Locator, incident: Incident) -> Finding:
    move = incident.move
    assert move is not None and incident.state is not None
    step = ex.workflow.steps[move.step_id]
    where: tuple[str | int, ...] = ("paths",)
    if move.operation == "respond" and step.answers is not None and move.value in step.answers:
        where = ("answers", step.answers.index(move.value))
    what = {
        "act": f"{move.action} of step '{move.step_id}'",
        "respond": f"the answer '{move.value}' to step '{move.step_id}'",
        "complete": f"the host's result '{move.value}' for step '{move.step_id}'",
    }.get(move.operation, f"{move.operation} of step '{move.step_id}'")
    message = f"{what} is refused: no path matches its return value ({incident.answer}: {move.text()})"
    state = ex.states[incident.state]
    return Finding(
        "refused-result",
        at.problem(move.step_id, "refused-result", message, *where),
        move.step_id,
        trace_to(ex, incident.state),
        move,
        incident.answer,
        state.key,
    )


def _livelock(ex: Exploration, at: _Locator, incident: Incident) -> Finding:
    bound = "the bound on automatic moves (R6)"
    loop = ", ".join(f"'{s}'" for s in incident.steps) or "none"
    if incident.move is None:
        step_id = incident.steps[0] if incident.steps else ex.workflow.initial_step
        message = f"a new job cannot be created: its automatic steps exceed {bound}; steps looping: {loop}"
        return Finding("livelock", at.problem(step_id, "livelock", message, "id"), step_id, answer=incident.answer)
    assert incident.state is not None
    step_id = incident.steps[0] if incident.steps else incident.move.step_id
    message = f"after {incident.move.text()} the automatic steps exceed {bound}; steps looping: {loop}"
    return Finding(
        "livelock",
        at.problem(step_id, "livelock", message, "id"),
        step_id,
        trace_to(ex, incident.state),
        incident.move,
        incident.answer,
        ex.states[incident.state].key,
    )


def find(ex: Exploration, doc: Document) -> list[Finding]:
    """Every finding of one exploration; stuck and dead-step only when the search was complete."""
    at = _Locator(doc)
    out = [_livelock(ex, at, i) for i in ex.livelocks.values()]
    out += [_refused(ex, at, i) for i in ex.refused.values()]
    if ex.complete and ex.states:
        out += _stuck(ex, at) + _dead(ex, at)
    return out
