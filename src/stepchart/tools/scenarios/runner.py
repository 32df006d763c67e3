"""Running one scenario: set up its engine, clock, actors and jobs, then perform each operation.

Each scenario runs on a fresh engine spawned from the base (sharing the compiled charts
and rules). Step operations (``respond``, ``complete``, ``fail``, ``assign``) are read
from the action table, :mod:`stepchart.engine.actions`: its row gives the operation's
fields and whether it acts as the engine itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from ...engine.actions import ACTION_TABLE, Action, operation_for
from ...errors import DefinitionError, RequestError
from ...io.yamldoc import Document
from ...model import SYSTEM, Actor, Workflow
from ...model.times import parse_datetime, parse_duration
from .documents import Scenario, ScenarioFailure, ScenarioResult, unknown_key, workflow_refusal
from .expectations import check

if TYPE_CHECKING:
    from ...engine.core import ActionResult, Engine

__all__ = ["OPERATIONS", "ScenarioRun", "run_scenario"]

DEFAULT_NOW = "2026-01-01T00:00:00Z"
TOP_KEYS = {"name", "workflow", "job", "jobs", "now", "actors", "do"}
STEP_OPERATIONS: Final = tuple(a.operation for a in ACTION_TABLE.values() if a.operation is not None)
"""The scenario keys of the step operations beside jobAction, in the action table's order."""
OPERATIONS: Final = ("act", *STEP_OPERATIONS, "advance")
OP_KEYS = {*OPERATIONS, "as", "job", "expect"}

_FIELD_DEFAULTS: Final[dict[str, Any]] = {
    "returnValue": "Success",
    "message": "",
    "assignedType": "",
    "assignedTo": None,
}
"""What an operation's field is when the scenario leaves it out; a field without a default is required."""
_TEXT_FIELDS: Final = frozenset({"message", "assignedType"})
"""Fields the engine takes as text whatever the YAML value is."""


@dataclass
class Op:
    """One operation of ``do:``: its index, kind (an OPERATIONS key or ``expect``), label and mapping."""

    index: int
    kind: str
    label: str
    node: dict[str, Any]


class ScenarioRun:
    """The state of one scenario: its engine, clock, actors and default job.

    ``stepchart test`` runs it; ``stepchart check`` uses the same checks without an
    engine (:meth:`read_top`, :meth:`operations`, :meth:`actor`, :meth:`duration`), so
    both refuse the same scenarios with the same codes.
    """

    def __init__(self, scenario: Scenario, engine: Engine | None = None) -> None:
        self.scenario = scenario
        self.doc = scenario.doc
        self._engine = engine
        self.actors: dict[str, Actor] = {}
        self.now: datetime = parse_datetime(DEFAULT_NOW)
        self.job_id = "J1"

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "a scenario run without an engine only checks"
        return self._engine

    def fail(self, message: str, at: tuple[str | int, ...] | None = None, code: str | None = None) -> ScenarioFailure:
        return ScenarioFailure(message, at, code)

    # -- set-up -------------------------------------------------------------------------
    def read_top(self) -> None:
        """The scenario's own keys, clock and actors: what needs no engine."""
        v = self.doc.value
        if not isinstance(v, dict):
            raise self.fail("a scenario is a mapping")
        unknown = sorted(set(v) - TOP_KEYS)
        if unknown:
            keys = ", ".join(sorted(TOP_KEYS))
            raise self.fail(f"unknown key {unknown[0]!r}; scenario keys are: {keys}", (unknown[0],))
        if "workflow" not in v:
            raise self.fail("the scenario needs workflow: (a path or a mapping)")
        if not isinstance(v.get("do"), list):
            raise self.fail("do: takes a list of operations")
        if "now" in v:
            try:
                self.now = parse_datetime(v["now"])
            except ValueError as exc:
                raise self.fail(f"now: {exc}", ("now",)) from None
        for name, spec in (v.get("actors") or {}).items():
            if spec is None:
                spec = {}
            if not isinstance(spec, dict) or set(spec) - {"groups", "privileges"}:
                raise self.fail(f"actor {name!r}: an actor is {{groups: [...], privileges: [...]}}", ("actors", name))
            groups, privileges = spec.get("groups") or [], spec.get("privileges") or []
            if not all(isinstance(x, str) for x in [*groups, *privileges]):
                raise self.fail(f"actor {name!r}: groups and privileges are lists of names", ("actors", name))
            self.actors[str(name)] = Actor.of(str(name), groups, privileges)

    def setup(self) -> None:
        """:meth:`read_top`, then the workflows and jobs loaded into the engine."""
        self.read_top()
        v = self.doc.value
        main_wf = self._workflow(("workflow",))
        for i, other in enumerate(v.get("jobs") or []):
            if not isinstance(other, dict) or "workflow" not in other:
                raise self.fail(f"jobs[{i}]: a job document with its workflow (a path or a mapping)", ("jobs", i))
            wf = self._workflow(("jobs", i, "workflow"))
            sub = self.doc.sub(("jobs", i))
            sub.value = {k: x for k, x in other.items() if k != "workflow"}
            self._load_job(sub, wf.id, ("jobs", i))
        if "job" in v:
            sub = self.doc.sub(("job",))
            if not isinstance(sub.value, dict):
                raise self.fail("job: a job document (SPEC 6.2) without workflow", ("job",))
            if "workflow" in sub.value:
                raise self.fail("job: leave out workflow; the scenario's workflow: is the job's", ("job", "workflow"))
            sub.value = {"jobId": "J1", **sub.value}
            self.job_id = str(sub.value["jobId"])
            self._load_job(sub, main_wf.id, ("job",))
        else:
            try:
                self.engine.create_job(main_wf.id, "J1", now=self.now)
            except KeyError as exc:
                raise self.fail(f"job J1: {exc}") from None
            except RequestError as exc:  # e.g. R6: the new job's automatic steps loop
                raise self.fail(f"job J1 cannot be created: {exc.type}: {exc.message}") from None

    def _workflow(self, at: tuple[str | int, ...]) -> Workflow:
        node = self.doc.sub(at)
        try:
            if isinstance(node.value, str):
                path = self.scenario.file.parent / node.value
                if not path.is_file():
                    raise self.fail(f"workflow {node.value!r}: no such file ({path})", at)
                try:
                    return self.engine.add_workflow(path)
                except DefinitionError as exc:
                    raise self.fail(workflow_refusal(exc, path)[1], at) from None
            if isinstance(node.value, dict):
                return self.engine.add_workflow(node)
        except DefinitionError as exc:
            raise self.fail(f"the workflow does not load: {exc.first}", at) from None
        raise self.fail("workflow: a path (relative to the scenario file) or a workflow mapping", at)

    def _load_job(self, sub: Document, workflow_id: str, at: tuple[str | int, ...]) -> None:
        try:
            self.engine.load_job(sub, now=self.now, workflow=workflow_id)
        except DefinitionError as exc:
            raise self.fail(f"the job does not load: {exc.first}", at) from None
        except RequestError as exc:  # a new job's automatic steps loop (R6)
            raise self.fail(f"the job cannot be created: {exc.type}: {exc.message}", at) from None

    # -- operations -----------------------------------------------------------------------
    def operations(self) -> Iterator[Op]:
        for i, node in enumerate(self.doc.value["do"]):
            if not isinstance(node, dict):
                raise self.fail(f"operation {i + 1}: an operation is a mapping", ("do", i))
            unknown = sorted(set(node) - OP_KEYS)
            kinds = [k for k in OPERATIONS if k in node]
            label = f"operation {i + 1}"
            if unknown:
                raise self.fail(
                    f"{label}: unknown key {unknown[0]!r}; operation keys are: {', '.join(sorted(OP_KEYS))}",
                    ("do", i, unknown[0]),
                )
            if len(kinds) > 1:
                raise self.fail(f"{label}: one operation per item, found {', '.join(kinds)}", ("do", i))
            if not kinds and "expect" not in node:
                raise self.fail(f"{label}: no operation ({', '.join(OPERATIONS)}) and no expect", ("do", i))
            kind = kinds[0] if kinds else "expect"
            yield Op(i, kind, f"{label} ({_describe(kind, node)})", node)

    def actor(self, op: Op) -> Actor:
        """The actor of ``as:``; without it, or with ``as: system``, the engine itself (``SYSTEM``)."""
        name = op.node.get("as")
        if name is None or name == "system":
            return SYSTEM
        if not isinstance(name, str) or name not in self.actors:
            known = ", ".join(sorted(self.actors)) or "none"
            raise self.fail(
                f"{op.label}: unknown actor {name!r}; actors are: {known} (or system)",
                ("do", op.index, "as"),
                "unknown-actor",
            )
        return self.actors[name]

    def duration(self, op: Op) -> timedelta:
        """The clock move of an ``advance:`` operation (ISO 8601)."""
        try:
            return parse_duration(op.node["advance"])
        except ValueError as exc:
            raise self.fail(f"{op.label}: {exc}", ("do", op.index, "advance"), "bad-duration") from None

    def perform(self, op: Op) -> tuple[ActionResult | None, str]:
        node, e = op.node, self.engine
        job_id = str(node.get("job", self.job_id))
        if op.kind == "expect":
            return None, job_id
        if op.kind == "advance":
            try:
                self.now += self.duration(op)
            except OverflowError:
                message = f"{op.label}: the clock would leave the years 1 to 9999"
                raise self.fail(message, ("do", op.index, "advance"), "bad-duration") from None
            return None, job_id
        actor = self.actor(op)
        arg = node[op.kind]
        if op.kind == "act":
            if isinstance(arg, str):
                return e.act(job_id, arg, actor, self.now), job_id
            return e.act(job_id, json.dumps(arg), actor, self.now), job_id
        row = operation_for(op.kind)
        assert row is not None, op.kind  # operations() yields only the keys of OPERATIONS
        return self._step_operation(op, row, arg, actor, job_id), job_id

    def _step_operation(self, op: Op, row: Action, arg: Any, actor: Actor, job_id: str) -> ActionResult:
        """A step operation beside jobAction: its fields are the row's; the engine method is named by its key."""
        if not isinstance(arg, dict) or not isinstance(arg.get("stepId"), str):
            raise self.fail(f"{op.label}: {op.kind} takes a mapping with stepId")
        bad = unknown_key(op.label, arg, row.fields, op.kind)
        if bad:
            raise self.fail(bad)
        values: list[Any] = []
        for name in row.fields[1:]:  # stepId first
            if name in arg:
                value = arg[name]
            elif name in _FIELD_DEFAULTS:
                value = _FIELD_DEFAULTS[name]
            else:
                raise self.fail(f"{op.label}: {op.kind} needs {name}")
            values.append(str(value) if name in _TEXT_FIELDS else value)
        call: Callable[..., ActionResult] = getattr(self.engine, str(row.operation))
        if row.as_engine:  # the host's results (R4): the engine acts as itself
            return call(job_id, arg["stepId"], *values, now=self.now)
        return call(job_id, arg["stepId"], *values, actor, self.now)


def _describe(kind: str, node: dict[str, Any]) -> str:
    arg = node.get(kind)
    who = f" as {node['as']}" if "as" in node else ""
    on = f" on {node['job']}" if "job" in node else ""
    if kind == "act":
        text = arg.get("type", "?") if isinstance(arg, dict) else "raw " + (arg[:30] if isinstance(arg, str) else "?")
        steps = arg.get("stepIds") if isinstance(arg, dict) else None
        return f"act {text}{' ' + str(steps) if steps else ''}{who}{on}"
    if kind in STEP_OPERATIONS:
        step = arg.get("stepId", "?") if isinstance(arg, dict) else "?"
        return f"{kind} {step}{who}{on}"
    if kind == "advance":
        return f"advance {arg}"
    return f"expect{on}"


def run_scenario(
    scenario: Scenario, base: Engine, *, observe: Callable[[Engine], None] | None = None
) -> ScenarioResult:
    """Run one scenario on a fresh engine spawned from ``base``; never raises for a bad scenario.

    A failure's line is where it happened: the operation's own line (or the key it
    names), else the scenario's first line.
    """
    engine = base.spawn()
    if observe is not None:
        observe(engine)
    run = ScenarioRun(scenario, engine)
    result = ScenarioResult(scenario.name, str(scenario.file), False, line=scenario.doc.mark(())[0])
    current: Op | None = None
    try:
        run.setup()
        for op in run.operations():
            current = op
            outcome, job_id = run.perform(op)
            result.operations += 1
            check(op.label, op.node.get("expect"), outcome, run.engine, job_id, run.now, expected="expect" in op.node)
    except ScenarioFailure as exc:
        result.message = str(exc)
        at = exc.at if exc.at is not None else (("do", current.index) if current is not None else ())
        result.line = scenario.doc.mark(at)[0]
        return result
    except DefinitionError as exc:
        result.message = f"cannot run: {exc.first}"
        return result
    result.passed = True
    return result
