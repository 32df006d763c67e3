"""Who can act on a job, and every request they can make: the moves verify tries in each state.

The cast is read from the workflow: each user it names; one member of each group it
names (a user of that group only: R16 makes a Group step any member's, R9a then hands
the next Group step to that member); the host, for the step operations the action table
says act as the engine (``complete``, ``fail``); with ``--admin`` a user holding every
privilege; with ``--holds`` a user who may place and release holds. Moves are real
engine requests (:meth:`Engine.act`, ``respond``, ``complete``, ``fail``, ``assign``):
the engine decides what each answers, verify only lists what to ask.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...engine.actions import ACTION_TABLE
from ...engine.core import ActionResult, Engine
from ...model import SYSTEM, Actor, CurrentStep, Job, StepDef, StepType, Workflow
from ...vocabulary import PRIVILEGES
from .states import JOB_ID

__all__ = ["Cast", "Move", "Outcome", "moves_for", "outcome_of", "perform", "result_values"]

STEP_ACTIONS = ("Run", "Finish", "Stop")
"""The jobAction types a step's assignee sends."""
FAIL_MESSAGE = "reported by stepchart verify"


@dataclass(frozen=True)
class Move:
    """One request: who (a cast name; None for the host, i.e. the engine itself), what, on which step."""

    actor: str | None
    operation: str
    """``act`` or a step operation's scenario key (``respond``, ``complete``, ``fail``, ``assign``)."""
    step_id: str
    action: str
    """The jobAction type for ``act``; the action table's name otherwise (``Respond``, ...)."""
    value: str | None = None
    """The answer, the return value, or the assignee of ``assign``."""

    def text(self) -> str:
        """``editors-member: Run edit``, ``host: complete publish Success``."""
        who = self.actor if self.actor is not None else "host"
        what = self.action if self.operation == "act" else self.operation
        tail = f" {self.value}" if self.value is not None and self.operation != "fail" else ""
        return f"{who}: {what} {self.step_id}{tail}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"actor": self.actor, "operation": self.operation, "stepId": self.step_id}
        if self.operation == "act":
            d["type"] = self.action
        if self.value is not None:
            d["value"] = self.value
        return d

    def scenario_operation(self) -> dict[str, Any]:
        """The move as a SPEC 6.3 scenario operation (without ``expect``)."""
        if self.operation == "act":
            op: dict[str, Any] = {"act": {"type": self.action, "stepIds": [self.step_id]}}
        elif self.operation == "respond":
            op = {"respond": {"stepId": self.step_id, "value": self.value}}
        elif self.operation == "complete":
            op = {"complete": {"stepId": self.step_id, "returnValue": self.value}}
        elif self.operation == "fail":
            op = {"fail": {"stepId": self.step_id, "message": FAIL_MESSAGE}}
        else:
            op = {"assign": {"stepId": self.step_id, "assignedType": "User", "assignedTo": self.value}}
        if self.actor is not None:
            op["as"] = self.actor
        return op


def _named(wf: Workflow, kind: str) -> list[str]:
    names: list[str] = []
    for step in wf.steps.values():
        for t, to in [(step.assigned_type, step.assigned_to), *((p.assigned_type, p.assigned_to) for p in step.paths)]:
            if t == kind and to is not None and to not in names:
                names.append(to)
    return names


class Cast:
    """The actors of one workflow, by username (see the module docstring)."""

    def __init__(self, wf: Workflow, *, admin: bool = False, holds: bool = False) -> None:
        users, groups = _named(wf, "User"), _named(wf, "Group")
        taken = set(users) | set(groups)

        def fresh(base: str) -> str:
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}-{n}"
            taken.add(name)
            return name

        self.actors: dict[str, Actor] = {u: Actor(u) for u in users}
        self.members: dict[str, str] = {}
        for g in groups:
            self.members[g] = fresh(f"{g}-member")
            self.actors[self.members[g]] = Actor.of(self.members[g], [g])
        self.admin = fresh("admin") if admin else None
        if self.admin is not None:
            self.actors[self.admin] = Actor.of(self.admin, (), PRIVILEGES)
        self.holder = fresh("holder") if holds else None
        if self.holder is not None:
            self.actors[self.holder] = Actor.of(self.holder, (), ["jobUpdateHolds"])

    def actor(self, name: str | None) -> Actor:
        """The actor of a cast name (None: the engine itself); a user only the job names is a plain user."""
        if name is None:
            return SYSTEM
        found = self.actors.get(name)
        return found if found is not None else Actor(name)

    def owner(self, cs: CurrentStep) -> str | None:
        """Who may run the step (R16): the user it is assigned to, a member of its group; nobody when Unassigned."""
        if cs.assigned_type == "User":
            return cs.assigned_to
        if cs.assigned_type == "Group" and cs.assigned_to is not None:
            return self.members.get(cs.assigned_to) or f"{cs.assigned_to}-member"
        return None

    def to_scenario(self, names: set[str]) -> dict[str, dict[str, list[str]]]:
        """The ``actors:`` of a scenario using ``names``."""
        out: dict[str, dict[str, list[str]]] = {}
        for name in sorted(names):
            a = self.actor(name)
            spec: dict[str, list[str]] = {}
            if a.groups:
                spec["groups"] = sorted(a.groups)
            if a.privileges:
                spec["privileges"] = [p for p in PRIVILEGES if p in a.privileges]
            out[name] = spec
        return out


def unnamed_value(step: StepDef) -> str:
    """A return value no path of the step names (``Failure`` unless a path names it)."""
    named = {v for p in step.paths for v in (p.return_values or ())}
    value, n = "Failure", 1
    while value in named:
        n += 1
        value = f"Failure{n}"
    return value


def result_values(step: StepDef) -> list[str]:
    """The values a step operation that carries its own result is tried with: ``Success``, each value a
    path names, one value no path names; a question's declared answers instead, when it declares them."""
    if step.answers is not None:
        return list(step.answers)
    values = ["Success"]
    for p in step.paths:
        values.extend(v for v in (p.return_values or ()) if v not in values)
    values.append(unnamed_value(step))
    return values


def _step_moves(cast: Cast, cs: CurrentStep, step: StepDef, st: StepType, held: bool) -> Iterator[Move]:
    events = {t.event for t in st.transitions}
    owner = cast.owner(cs)
    if owner is not None:
        for a in STEP_ACTIONS:
            yield Move(owner, "act", cs.step_id, a)
    for row in ACTION_TABLE.values():
        if row.kind != "operation" or row.event is None or row.event not in events or row.operation is None:
            continue
        who = None if row.as_engine else owner
        if who is None and not row.as_engine:
            continue
        if row.name == "Fail":
            yield Move(who, row.operation, cs.step_id, row.name)
        else:
            for v in result_values(step):
                yield Move(who, row.operation, cs.step_id, row.name, v)
    if cast.admin is not None and owner != cast.admin:
        yield Move(cast.admin, "assign", cs.step_id, "Assign", cast.admin)
        yield Move(cast.admin, "act", cs.step_id, "Stop")
    if cast.holder is not None:
        yield Move(cast.holder, "act", cs.step_id, "ReleaseHold" if held else "Hold")


def moves_for(job: Job, wf: Workflow, step_types: Mapping[str, StepType], cast: Cast) -> Iterator[Move]:
    """Every move of the cast in this state, in a fixed order (so traces are reproducible)."""
    if job.closed:
        return  # every action on a closed job answers JobClosed (R15)
    held = {h.step_id for h in job.holds if not h.released}
    for cs in job.current_steps:
        step = wf.steps.get(cs.step_id)
        if step is not None:
            yield from _step_moves(cast, cs, step, step_types[step.type], cs.step_id in held)
    if cast.admin is not None:
        for step_id in wf.steps:
            yield Move(cast.admin, "act", step_id, "SetCurrentStep")


def perform(engine: Engine, cast: Cast, move: Move, now: datetime) -> ActionResult:
    """Send the move to the engine, on its job ``J1``."""
    actor = cast.actor(move.actor)
    if move.operation == "act":
        return engine.act(JOB_ID, {"type": move.action, "stepIds": [move.step_id]}, actor, now)
    if move.operation == "respond":
        return engine.respond(JOB_ID, move.step_id, move.value, actor, now)
    if move.operation == "complete":
        return engine.complete(JOB_ID, move.step_id, move.value, now=now)
    if move.operation == "fail":
        return engine.fail(JOB_ID, move.step_id, FAIL_MESSAGE, now=now)
    return engine.assign(JOB_ID, move.step_id, "User", move.value, actor, now)


Outcome = str
"""``moved`` (answered Success), ``refused-result`` (no path matches the result), ``livelock``
(the R6 cascade bound), or ``refused`` (anything else: nothing changes)."""


def outcome_of(result: ActionResult) -> tuple[Outcome, str]:
    """What a move's answer means to verify, and the answer in a word (a step status or an error type)."""
    if result.ok:
        statuses = [r["status"] for r in result.body.get("stepResponses", [])]
        if statuses and all(s == "Success" for s in statuses):
            return "moved", "Success"
        word = next((s for s in statuses if s != "Success"), "NoActiveStep")
        return ("refused-result" if word == "NoMatchingPaths" else "refused"), word
    error = result.body.get("error", {})
    details = [str(d) for d in error.get("details", [])]
    kind = str(error.get("type", "InvalidRequest"))
    if any(d.startswith("automatic moves:") for d in details):
        return "livelock", kind
    if "status: NoMatchingPaths" in details:
        return "refused-result", kind
    return "refused", kind
