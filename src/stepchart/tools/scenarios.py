"""Executable scenarios (SPEC 6.3): a designer's examples, run by ``stepchart test``.

A scenario is a start state, a list of operations and what each must give. The runner
finds scenario files, runs each scenario on a fresh engine (sharing the compiled charts
and rules), and stops a scenario at its first unmet expectation with a message naming
the scenario, the operation, the field, the expected and the actual value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..engine.core import ActionResult, Engine
from ..errors import DefinitionError, RequestError
from ..io.yamldoc import Document, read_yaml_file
from ..load.workflows import as_text
from ..model import SYSTEM, Actor, Job
from ..model.times import parse_datetime, parse_duration

__all__ = ["Scenario", "ScenarioResult", "discover", "load_file", "run_scenario"]

DEFAULT_NOW = "2026-01-01T00:00:00Z"
TOP_KEYS = {"name", "workflow", "job", "jobs", "now", "actors", "do"}
OPERATIONS = ("act", "respond", "complete", "fail", "assign", "advance")
OP_KEYS = {*OPERATIONS, "as", "job", "expect"}
EXPECT_KEYS = {"success", "stepResponses", "error", "job"}
JOB_EXPECT_KEYS = {"closed", "currentSteps", "returnValues", "activeHolds"}
CURRENT_STEP_KEYS = {"stepId", "status", "assignedType", "assignedTo"}


class ScenarioFailure(Exception):
    """A scenario stops here; the message says where and why."""


@dataclass
class Scenario:
    """One scenario as found in a file: its document (positions kept) and where it came from."""

    name: str
    file: Path
    doc: Document
    index: int | None = None  # position under ``scenarios:``


@dataclass
class ScenarioResult:
    name: str
    file: str
    passed: bool
    message: str = ""
    operations: int = 0
    line: int = 1
    observations: list[dict[str, Any]] = field(default_factory=list)


def is_scenario_value(value: Any) -> bool:
    return isinstance(value, dict) and ("do" in value or "scenarios" in value)


def _quick_looks_like_scenario(path: Path) -> bool:
    """For a file that does not parse: does a top-level line start with do: or scenarios:?"""
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith(("do:", "scenarios:")) for line in text.splitlines())


def discover(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Scenario files under the given paths, and the paths that do not exist.

    A file named directly is always taken; in a folder, only ``.yaml``/``.yml`` files
    whose top level has ``do:`` or ``scenarios:`` (the rest, workflows and charts, are
    passed over).
    """
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            missing.append(str(raw))
        elif p.is_file():
            files.append(p)
        else:
            for f in sorted(p.rglob("*")):
                if f.suffix in (".yaml", ".yml") and f.is_file() and _is_scenario_file(f):
                    files.append(f)
    return files, missing


def _is_scenario_file(path: Path) -> bool:
    try:
        return is_scenario_value(read_yaml_file(path).value)
    except DefinitionError:
        return _quick_looks_like_scenario(path)


def load_file(path: Path) -> list[Scenario] | ScenarioResult:
    """The scenarios of one file, or a failed result saying why the file cannot run."""
    try:
        doc = read_yaml_file(path)
    except DefinitionError as exc:
        return ScenarioResult(path.name, str(path), False, f"cannot read the file: {exc.first}", line=exc.line)
    value = doc.value
    if not is_scenario_value(value):
        return ScenarioResult(path.name, str(path), False, "not a scenario: the top level needs do: or scenarios:")
    if "scenarios" in value:
        extra = set(value) - {"scenarios"}
        items = value["scenarios"]
        if extra or not isinstance(items, list):
            why = f"unknown key {sorted(extra)[0]!r} beside scenarios:" if extra else "scenarios: takes a list"
            return ScenarioResult(path.name, str(path), False, why)
        out = []
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            out.append(Scenario(str(name) if name else f"{path.name}[{i}]", path, doc.sub(("scenarios", i)), i))
        return out
    name = value.get("name")
    return [Scenario(str(name) if name else path.name, path, doc)]


@dataclass
class _Op:
    index: int
    kind: str
    label: str
    node: dict[str, Any]


class _Run:
    """The state of one running scenario: its engine, clock, actors and default job."""

    def __init__(self, scenario: Scenario, base: Engine, observe: Callable[[Engine], None] | None) -> None:
        self.scenario = scenario
        self.doc = scenario.doc
        self.engine = base.spawn()
        if observe is not None:
            observe(self.engine)
        self.actors: dict[str, Actor] = {}
        self.now: datetime = parse_datetime(DEFAULT_NOW)
        self.job_id = "J1"

    def fail(self, message: str) -> ScenarioFailure:
        return ScenarioFailure(message)

    # -- set-up -------------------------------------------------------------------------
    def setup(self) -> None:
        v = self.doc.value
        if not isinstance(v, dict):
            raise self.fail("a scenario is a mapping")
        unknown = sorted(set(v) - TOP_KEYS)
        if unknown:
            raise self.fail(f"unknown key {unknown[0]!r}; scenario keys are: {', '.join(sorted(TOP_KEYS))}")
        if "workflow" not in v:
            raise self.fail("the scenario needs workflow: (a path or a mapping)")
        if not isinstance(v.get("do"), list):
            raise self.fail("do: takes a list of operations")
        if "now" in v:
            try:
                self.now = parse_datetime(v["now"])
            except ValueError as exc:
                raise self.fail(f"now: {exc}") from None
        for name, spec in (v.get("actors") or {}).items():
            if spec is None:
                spec = {}
            if not isinstance(spec, dict) or set(spec) - {"groups", "privileges"}:
                raise self.fail(f"actor {name!r}: an actor is {{groups: [...], privileges: [...]}}")
            groups, privileges = spec.get("groups") or [], spec.get("privileges") or []
            if not all(isinstance(x, str) for x in [*groups, *privileges]):
                raise self.fail(f"actor {name!r}: groups and privileges are lists of names")
            self.actors[str(name)] = Actor.of(str(name), groups, privileges)
        main_wf = self._workflow(("workflow",))
        for i, other in enumerate(v.get("jobs") or []):
            if not isinstance(other, dict) or "workflow" not in other:
                raise self.fail(f"jobs[{i}]: a job document with its workflow (a path or a mapping)")
            wf = self._workflow(("jobs", i, "workflow"))
            sub = self.doc.sub(("jobs", i))
            sub.value = {k: x for k, x in other.items() if k != "workflow"}
            self._load_job(sub, wf.id)
        if "job" in v:
            sub = self.doc.sub(("job",))
            if not isinstance(sub.value, dict):
                raise self.fail("job: a job document (SPEC 6.2) without workflow")
            if "workflow" in sub.value:
                raise self.fail("job: leave out workflow; the scenario's workflow: is the job's")
            sub.value = {"jobId": "J1", **sub.value}
            self.job_id = str(sub.value["jobId"])
            self._load_job(sub, main_wf.id)
        else:
            try:
                self.engine.create_job(main_wf.id, "J1", now=self.now)
            except KeyError as exc:
                raise self.fail(f"job J1: {exc}") from None
            except RequestError as exc:  # e.g. R6: the new job's automatic steps loop
                raise self.fail(f"job J1 cannot be created: {exc.type}: {exc.message}") from None

    def _workflow(self, at: tuple[str | int, ...]) -> Any:
        node = self.doc.sub(at)
        try:
            if isinstance(node.value, str):
                path = self.scenario.file.parent / node.value
                if not path.is_file():
                    raise self.fail(f"workflow {node.value!r}: no such file ({path})")
                return self.engine.add_workflow(path)
            if isinstance(node.value, dict):
                return self.engine.add_workflow(node)
        except DefinitionError as exc:
            raise self.fail(f"the workflow does not load: {exc.first}") from None
        raise self.fail("workflow: a path (relative to the scenario file) or a workflow mapping")

    def _load_job(self, sub: Document, workflow_id: str) -> None:
        try:
            self.engine.load_job(sub, now=self.now, workflow=workflow_id)
        except DefinitionError as exc:
            raise self.fail(f"the job does not load: {exc.first}") from None
        except RequestError as exc:  # a new job's automatic steps loop (R6)
            raise self.fail(f"the job cannot be created: {exc.type}: {exc.message}") from None

    # -- operations -----------------------------------------------------------------------
    def operations(self) -> Iterator[_Op]:
        for i, node in enumerate(self.doc.value["do"]):
            if not isinstance(node, dict):
                raise self.fail(f"operation {i + 1}: an operation is a mapping")
            unknown = sorted(set(node) - OP_KEYS)
            kinds = [k for k in OPERATIONS if k in node]
            label = f"operation {i + 1}"
            if unknown:
                raise self.fail(
                    f"{label}: unknown key {unknown[0]!r}; operation keys are: {', '.join(sorted(OP_KEYS))}"
                )
            if len(kinds) > 1:
                raise self.fail(f"{label}: one operation per item, found {', '.join(kinds)}")
            if not kinds and "expect" not in node:
                raise self.fail(f"{label}: no operation ({', '.join(OPERATIONS)}) and no expect")
            kind = kinds[0] if kinds else "expect"
            yield _Op(i, kind, f"{label} ({_describe(kind, node)})", node)

    def actor(self, op: _Op) -> Actor:
        name = op.node.get("as")
        if name is None or name == "system":
            return SYSTEM
        if not isinstance(name, str) or name not in self.actors:
            known = ", ".join(sorted(self.actors)) or "none"
            raise self.fail(f"{op.label}: unknown actor {name!r}; actors are: {known} (or system)")
        return self.actors[name]

    def perform(self, op: _Op) -> tuple[ActionResult | None, str]:
        node, e = op.node, self.engine
        job_id = str(node.get("job", self.job_id))
        if op.kind == "expect":
            return None, job_id
        if op.kind == "advance":
            try:
                self.now += parse_duration(node["advance"])
            except ValueError as exc:
                raise self.fail(f"{op.label}: {exc}") from None
            return None, job_id
        actor = self.actor(op)
        arg = node[op.kind]
        if op.kind == "act":
            if isinstance(arg, str):
                return e.act(job_id, arg, actor, self.now), job_id
            return e.act(job_id, json.dumps(arg), actor, self.now), job_id
        if not isinstance(arg, dict) or not isinstance(arg.get("stepId"), str):
            raise self.fail(f"{op.label}: {op.kind} takes a mapping with stepId")
        step = arg["stepId"]
        allowed = {
            "respond": {"stepId", "value"},
            "complete": {"stepId", "returnValue"},
            "fail": {"stepId", "message"},
            "assign": {"stepId", "assignedType", "assignedTo"},
        }[op.kind]
        extra = sorted(set(arg) - allowed)
        if extra:
            raise self.fail(f"{op.label}: unknown key {extra[0]!r} in {op.kind}; allowed: {', '.join(sorted(allowed))}")
        if op.kind == "respond":
            if "value" not in arg:
                raise self.fail(f"{op.label}: respond needs value")
            return e.respond(job_id, step, arg["value"], actor, self.now), job_id
        if op.kind == "complete":
            return e.complete(job_id, step, arg.get("returnValue", "Success"), now=self.now), job_id
        if op.kind == "fail":
            return e.fail(job_id, step, str(arg.get("message", "")), now=self.now), job_id
        return e.assign(job_id, step, str(arg.get("assignedType", "")), arg.get("assignedTo"), actor, self.now), job_id

    # -- expectations ---------------------------------------------------------------------
    def check(self, op: _Op, result: ActionResult | None, job_id: str) -> None:
        expect = op.node.get("expect")
        if expect is None:
            expect = {}
        if not isinstance(expect, dict):
            raise self.fail(f"{op.label}: expect is a mapping")
        unknown = sorted(set(expect) - EXPECT_KEYS)
        if unknown:
            raise self.fail(
                f"{op.label}: unknown key {unknown[0]!r} in expect; allowed: {', '.join(sorted(EXPECT_KEYS))}"
            )
        where = f"{op.label}"
        if result is not None and not result.ok and "error" not in expect:
            err = result.body["error"]
            raise self.fail(
                f"{where}: unexpected request error {err['type']}: {err['message']}"
                + (f" ({'; '.join(err['details'])})" if err.get("details") else "")
            )
        if "error" in expect:
            want = expect["error"] or {}
            got = result.body.get("error") if result is not None else None
            if got is None:
                raise self.fail(
                    f"{where}: error: expected a request error {want.get('type', '')}, got "
                    f"{'no request' if result is None else 'a 200 response'}"
                )
            if "type" in want and want["type"] != got["type"]:
                raise self.fail(
                    f"{where}: error.type: expected {want['type']!r}, got {got['type']!r} ({got['message']})"
                )
        if "success" in expect:
            got_s = result.body.get("success") if result is not None else None
            if got_s != expect["success"]:
                raise self.fail(f"{where}: success: expected {_show(expect['success'])}, got {_show(got_s)}")
        if "stepResponses" in expect:
            self._check_responses(where, expect["stepResponses"], result)
        if "job" in expect:
            self._check_job(where, expect["job"], job_id)

    def _check_responses(self, where: str, want: Any, result: ActionResult | None) -> None:
        got = result.body.get("stepResponses") if result is not None else None
        if got is None:
            raise self.fail(f"{where}: stepResponses: expected {len(want)} responses, got none")
        if not isinstance(want, list) or len(want) != len(got):
            raise self.fail(
                f"{where}: stepResponses: expected {len(want) if isinstance(want, list) else want} "
                f"responses, got {len(got)}: {_brief(got)}"
            )
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            if not isinstance(w, dict):
                raise self.fail(f"{where}: stepResponses[{i}]: expected a mapping")
            for key in ("stepId", "status"):
                if key in w and as_text(w[key]) != g[key]:
                    raise self.fail(
                        f"{where}: stepResponses[{i}].{key}: expected {w[key]!r}, got {g[key]!r}"
                        + (f" ({g['statusDescription']})" if key == "status" else "")
                    )

    def _check_job(self, where: str, want: Any, job_id: str) -> None:
        if not isinstance(want, dict):
            raise self.fail(f"{where}: job: expected a mapping")
        unknown = sorted(set(want) - JOB_EXPECT_KEYS)
        if unknown:
            raise self.fail(
                f"{where}: unknown key {unknown[0]!r} in expect.job; allowed: {', '.join(sorted(JOB_EXPECT_KEYS))}"
            )
        job = self.engine.store.get(job_id)
        if job is None:
            raise self.fail(f"{where}: job: there is no job {job_id!r}")
        doc = job.to_doc()
        if "closed" in want and want["closed"] != doc["closed"]:
            raise self.fail(f"{where}: job.closed: expected {_show(want['closed'])}, got {_show(doc['closed'])}")
        if "currentSteps" in want:
            self._check_current(where, want["currentSteps"], doc["currentSteps"])
        if "returnValues" in want:
            rv = want["returnValues"] or {}
            for key, value in rv.items():
                got = doc["returnValues"].get(key)
                if got is None or as_text(value) != got:
                    raise self.fail(f"{where}: job.returnValues.{key}: expected {as_text(value)!r}, got {got!r}")
        if "activeHolds" in want:
            got_n = self._active_holds(job)
            if want["activeHolds"] != got_n:
                raise self.fail(f"{where}: job.activeHolds: expected {want['activeHolds']}, got {got_n}")

    def _check_current(self, where: str, want: Any, got: list[dict[str, Any]]) -> None:
        if not isinstance(want, list):
            raise self.fail(f"{where}: job.currentSteps: expected a list")
        want_ids = [str(w.get("stepId")) if isinstance(w, dict) else str(w) for w in want]
        got_ids = [g["stepId"] for g in got]
        if sorted(want_ids) != sorted(got_ids):
            raise self.fail(f"{where}: job.currentSteps: expected steps {want_ids}, got {got_ids}")
        by_id = {g["stepId"]: g for g in got}
        for w in want:
            if not isinstance(w, dict):
                continue
            extra = sorted(set(w) - CURRENT_STEP_KEYS)
            if extra:
                raise self.fail(
                    f"{where}: unknown key {extra[0]!r} in expect.job.currentSteps; allowed: "
                    f"{', '.join(sorted(CURRENT_STEP_KEYS))}"
                )
            g = by_id[str(w["stepId"])]
            for key in ("status", "assignedType", "assignedTo"):
                if key in w and (g.get(key) is None or as_text(w[key]) != g.get(key)):
                    raise self.fail(
                        f"{where}: job.currentSteps[{w['stepId']}].{key}: expected {w[key]!r}, got {g.get(key)!r}"
                    )

    def _active_holds(self, job: Job) -> int:
        """Holds not released as of the scenario clock, counting expiries and met dependencies."""
        from ..model import Request
        from ..rules.context import Context

        wf = self.engine.workflow(job.workflow, job.workflow_version) or self.engine.workflow(job.workflow)
        assert wf is not None
        e = self.engine
        ctx = Context(job, wf, SYSTEM, Request("Expect"), self.now, step_types=e.step_types, read_job=e.store.get)
        return sum(1 for h in job.holds if ctx.hold_active(h))


def _describe(kind: str, node: dict[str, Any]) -> str:
    arg = node.get(kind)
    who = f" as {node['as']}" if "as" in node else ""
    on = f" on {node['job']}" if "job" in node else ""
    if kind == "act":
        text = arg.get("type", "?") if isinstance(arg, dict) else "raw " + (arg[:30] if isinstance(arg, str) else "?")
        steps = arg.get("stepIds") if isinstance(arg, dict) else None
        return f"act {text}{' ' + str(steps) if steps else ''}{who}{on}"
    if kind in ("respond", "complete", "fail", "assign"):
        step = arg.get("stepId", "?") if isinstance(arg, dict) else "?"
        return f"{kind} {step}{who}{on}"
    if kind == "advance":
        return f"advance {arg}"
    return f"expect{on}"


def _show(value: Any) -> str:
    return json.dumps(value) if value is None or isinstance(value, bool) else repr(value)


def _brief(responses: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['stepId'] or repr('')}: {r['status']}" for r in responses) or "none"


def run_scenario(
    scenario: Scenario, base: Engine, *, observe: Callable[[Engine], None] | None = None
) -> ScenarioResult:
    """Run one scenario on a fresh engine spawned from ``base``; never raises for a bad scenario."""
    run = _Run(scenario, base, observe)
    result = ScenarioResult(scenario.name, str(scenario.file), False, line=scenario.doc.mark(())[0])
    try:
        run.setup()
        for op in run.operations():
            outcome, job_id = run.perform(op)
            result.operations += 1
            run.check(op, outcome, job_id)
    except ScenarioFailure as exc:
        result.message = str(exc)
        return result
    except DefinitionError as exc:
        result.message = f"cannot run: {exc.first}"
        return result
    result.passed = True
    return result
