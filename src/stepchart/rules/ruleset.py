"""Guard rules: a closed vocabulary of facts, compiled from YAML into named predicates.

A condition is a fact name (``step.current``), a fact with its argument
(``{actor.privilege: jobForceStop}``), a combinator (``all``, ``any``, ``not``) or a
literal ``true``/``false``. Nothing in a rules file names Python: every fact is looked
up in :data:`FACTS`, so a document can only combine what the engine offers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DefinitionError, Problem
from ..io.schemas import check_document
from ..io.yamldoc import Document, read_yaml_file

if TYPE_CHECKING:
    from .context import Context

__all__ = [
    "ACTIONS",
    "ERROR_TYPES",
    "FACTS",
    "STEP_STATUSES",
    "Fact",
    "Rule",
    "RuleSet",
    "load_rules",
    "order_rules",
    "parse_rules",
]

ACTION_TYPES = ("Run", "Finish", "Stop", "SetCurrentStep", "Hold", "ReleaseHold", "RefreshStatus")
ACTIONS = (*ACTION_TYPES, "Respond", "Complete", "Fail", "Assign", "Close", "Reopen", "Delete", "Upgrade")
STEP_STATUSES = (
    "Success",
    "NoActiveStep",
    "AlreadyExecuting",
    "AssignedToDifferentUser",
    "JobClosed",
    "StepNotCurrent",
    "NoStartedStep",
    "NoMatchingPaths",
    "NotRunning",
    "WaitingForInfo",
    "Held",
    "NotHeld",
    "StepNotInDiagram",
    "StepNotAuto",
)
ERROR_TYPES = ("InvalidJson", "SchemaViolation", "JobNotFound", "InsufficientPrivileges", "InvalidRequest")

Predicate = Callable[["Context"], bool]


@dataclass(frozen=True)
class Fact:
    """One entry of the vocabulary: what a rule may ask about."""

    name: str
    level: str  # "request": needs no target step; "step": about the target step
    arg: str  # "none", "str", "strs" or "int"
    fn: Callable[[Context, Any], bool]
    doc: str


FACTS: dict[str, Fact] = {}


def _fact(
    name: str, level: str, arg: str, doc: str
) -> Callable[[Callable[[Context, Any], bool]], Callable[[Context, Any], bool]]:
    def register(fn: Callable[[Context, Any], bool]) -> Callable[[Context, Any], bool]:
        FACTS[name] = Fact(name, level, arg, fn, doc)
        return fn

    return register


# --- facts about the actor, the job and the request ------------------------------------


@_fact("actor.isEngine", "request", "none", "the engine itself acts (user system): automatic moves, complete, fail")
def _actor_engine(c: Context, _: Any) -> bool:
    return c.actor.is_system


@_fact("actor.privilege", "request", "str", "the actor holds this privilege")
def _actor_priv(c: Context, name: str) -> bool:
    return name in c.actor.privileges


@_fact("actor.anyPrivilege", "request", "strs", "the actor holds one of these privileges")
def _actor_any_priv(c: Context, names: Sequence[str]) -> bool:
    return any(n in c.actor.privileges for n in names)


@_fact("actor.inGroup", "request", "str", "the actor is a member of this group")
def _actor_group(c: Context, name: str) -> bool:
    return name in c.actor.groups


@_fact("actor.assigneeOfAnyCurrentStep", "request", "none", "some current step of the job is assigned to the actor")
def _actor_assignee_any(c: Context, _: Any) -> bool:
    return any(c.is_assignee(cs) for cs in c.job.current_steps)


@_fact("job.closed", "request", "none", "the job is closed")
def _job_closed(c: Context, _: Any) -> bool:
    return c.job.closed


@_fact("job.running", "request", "none", "some current step of the job is running (R1)")
def _job_running(c: Context, _: Any) -> bool:
    return any(c.is_running(cs) for cs in c.job.current_steps)


@_fact("request.stepCount", "request", "int", "the request names exactly this many step ids, once de-duplicated")
def _req_count(c: Context, n: int) -> bool:
    return len(c.request.step_ids) == n


@_fact(
    "request.has",
    "request",
    "str",
    "the request gives this field (stepIds, holdScheduledRelease, dependentJobId, dependentStepId)",
)
def _req_has(c: Context, name: str) -> bool:
    return c.request.has(name)


@_fact("request.releaseInFuture", "request", "none", "holdScheduledRelease is given and strictly after now (R18)")
def _req_future(c: Context, _: Any) -> bool:
    return c.request.hold_release is not None and c.request.hold_release > c.now


@_fact("request.dependentJobExists", "request", "none", "dependentJobId is given and names a job in the store")
def _req_dep_exists(c: Context, _: Any) -> bool:
    return c.request.dependent_job_id is not None and c.job_exists(c.request.dependent_job_id)


@_fact("request.assignedType", "request", "str", "Assign: the new assignment is of this type (User, Group, Unassigned)")
def _req_assigned_type(c: Context, kind: str) -> bool:
    return c.request.assigned_type == kind


@_fact("request.assigneeIsActor", "request", "none", "Assign: the new assignee is the acting user")
def _req_assignee_actor(c: Context, _: Any) -> bool:
    return c.request.assigned_type == "User" and c.request.assigned_to == c.actor.username


@_fact("request.assigneeIsActorGroup", "request", "none", "Assign: the new assignee is one of the actor's groups")
def _req_assignee_group(c: Context, _: Any) -> bool:
    return c.request.assigned_type == "Group" and c.request.assigned_to in c.actor.groups


# --- facts about the target step -------------------------------------------------------


@_fact("step.inDiagram", "step", "none", "the step is a step of the job's workflow")
def _step_in_diagram(c: Context, _: Any) -> bool:
    return c.step_def is not None


@_fact("step.current", "step", "none", "the step is one of the job's current steps")
def _step_current(c: Context, _: Any) -> bool:
    return c.record is not None


@_fact(
    "step.assignedToActor", "step", "none", "the current step is the actor's: their user, or one of their groups (R16)"
)
def _step_assigned(c: Context, _: Any) -> bool:
    return c.record is not None and c.is_assignee(c.record)


@_fact("step.assignedToActorUser", "step", "none", "the current step is assigned to the acting user by name")
def _step_assigned_user(c: Context, _: Any) -> bool:
    r = c.record
    return r is not None and r.assigned_type == "User" and r.assigned_to == c.actor.username


@_fact("step.assignedToActorGroup", "step", "none", "the current step is assigned to one of the actor's groups")
def _step_assigned_group(c: Context, _: Any) -> bool:
    r = c.record
    return r is not None and r.assigned_type == "Group" and r.assigned_to in c.actor.groups


@_fact(
    "request.assigneeIsStepGroup", "step", "none", "Assign: the new assignee is the group the step is assigned to now"
)
def _req_assignee_step_group(c: Context, _: Any) -> bool:
    r = c.record
    return (
        r is not None
        and r.assigned_type == "Group"
        and c.request.assigned_type == "Group"
        and c.request.assigned_to == r.assigned_to
    )


@_fact("step.held", "step", "none", "the step has an active hold (R19)")
def _step_held(c: Context, _: Any) -> bool:
    return c.has_active_hold(c.step_id)


@_fact(
    "step.hasReleasableHold",
    "step",
    "none",
    "ReleaseHold: the step has an active hold this request would release (R20)",
)
def _step_releasable(c: Context, _: Any) -> bool:
    return bool(c.releasable_holds(c.step_id))


@_fact("step.status", "step", "strs", "the current step's status is one of these")
def _step_status(c: Context, names: Sequence[str]) -> bool:
    return c.record is not None and c.record.status in names


@_fact("step.running", "step", "none", "the current step is in a running state of its chart (R1)")
def _step_running(c: Context, _: Any) -> bool:
    return c.record is not None and c.is_running(c.record)


@_fact("step.started", "step", "none", "the current step is in a started state of its chart (R1)")
def _step_started(c: Context, _: Any) -> bool:
    r = c.record
    return r is not None and c.step_type_of(r.step_id) is not None and c.step_type_of(r.step_id).is_started(r.status)  # type: ignore[union-attr]


@_fact("step.canSkip", "step", "none", "the workflow says the step may be skipped")
def _step_can_skip(c: Context, _: Any) -> bool:
    return c.step_def is not None and c.step_def.can_skip


@_fact("step.asynchronous", "step", "none", "the step's type is asynchronous: the host finishes it (gp)")
def _step_async(c: Context, _: Any) -> bool:
    st = c.step_type_of(c.step_id)
    return st is not None and st.asynchronous


@_fact("step.type", "step", "strs", "the step's type is one of these")
def _step_type(c: Context, names: Sequence[str]) -> bool:
    return c.step_def is not None and c.step_def.type in names


@_fact("step.accepts", "step", "str", "the step's lifecycle chart has a move for this event from its status")
def _step_accepts(c: Context, event: str) -> bool:
    return c.record is not None and c.chart_accepts(c.record, event)


@_fact(
    "step.answerDeclared", "step", "none", "Respond: the value is one of the question's answers (or it declares none)"
)
def _step_answer(c: Context, _: Any) -> bool:
    d = c.step_def
    return d is not None and (d.answers is None or c.request.value in d.answers)


# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A named precondition: when ``require`` is false the action yields ``yields``."""

    name: str
    actions: frozenset[str]
    level: str
    yields: str
    predicate: Predicate = field(compare=False)
    require: Any = None
    description: str = ""
    before: str | None = None
    file: str = ""
    line: int = 0
    facts: frozenset[str] = frozenset()

    def passes(self, ctx: Context) -> bool:
        return self.predicate(ctx)


class RuleSet:
    """Rules in checking order, indexed by level and action.

    The jsonschema triad: :meth:`iter_failures` lists every failing rule,
    :meth:`first_failure` gives the one that decides, :meth:`allows` just answers.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._index: dict[tuple[str, str], tuple[Rule, ...]] = {}
        for level in ("request", "step"):
            for action in ACTIONS:
                self._index[(level, action)] = tuple(r for r in self.rules if r.level == level and action in r.actions)

    def for_action(self, level: str, action: str) -> tuple[Rule, ...]:
        return self._index[(level, action)]

    def iter_failures(self, ctx: Context, level: str, action: str) -> Iterator[Rule]:
        for rule in self._index[(level, action)]:
            if not rule.predicate(ctx):
                yield rule

    def first_failure(self, ctx: Context, level: str, action: str) -> Rule | None:
        tracer = ctx.tracer
        for rule in self._index[(level, action)]:
            passed = rule.predicate(ctx)
            if tracer is not None:
                tracer.rule_checked(rule, action, ctx.step_id if level == "step" else None, passed)
            if not passed:
                return rule
        return None

    def allows(self, ctx: Context, level: str, action: str) -> bool:
        return self.first_failure(ctx, level, action) is None

    def by_name(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


def _compile(
    node: Any, path: tuple[str | int, ...], doc: Document, level: str, problems: list[Problem], used: set[str]
) -> Predicate:
    """Compile one condition; problems are collected, and a constant stands in for bad parts."""

    def bad(code: str, message: str) -> Predicate:
        problems.append(doc.problem(path, code, message))
        return lambda _c: False

    if isinstance(node, bool):
        value = node
        return lambda _c: value
    if isinstance(node, str):
        return _compile_fact(node, None, path, doc, level, problems, used, bare=True)
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                return bad("bad-condition", f"{key} takes a non-empty list of conditions")
            parts = [_compile(x, (*path, key, i), doc, level, problems, used) for i, x in enumerate(arg)]
            if key == "all":
                return lambda c: all(p(c) for p in parts)
            return lambda c: any(p(c) for p in parts)
        if key == "not":
            inner = _compile(arg, (*path, "not"), doc, level, problems, used)
            return lambda c: not inner(c)
        return _compile_fact(key, arg, (*path, key), doc, level, problems, used, bare=False)
    return bad(
        "bad-condition",
        "a condition is a fact name, {fact: argument}, {all: [...]}, {any: [...]}, {not: ...}, true or false",
    )


def _compile_fact(
    name: str,
    arg: Any,
    path: tuple[str | int, ...],
    doc: Document,
    level: str,
    problems: list[Problem],
    used: set[str],
    *,
    bare: bool,
) -> Predicate:
    fact = FACTS.get(name)
    if fact is None:
        close = [n for n in FACTS if n.split(".")[0] == name.split(".")[0]] or list(FACTS)
        problems.append(
            doc.problem(
                path, "unknown-fact", f"unknown fact {name!r}; known facts: {', '.join(sorted(close))}", key=not bare
            )
        )
        return lambda _c: False
    if fact.level == "step" and level == "request":
        problems.append(
            doc.problem(
                path,
                "step-fact-in-request-rule",
                f"{name} is about a target step; a request-level rule cannot use it",
                key=not bare,
            )
        )
    used.add(name)
    if fact.arg == "none":
        if not bare and arg is not True:
            problems.append(doc.problem(path, "bad-argument", f"{name} takes no argument; write it as a plain name"))
        value: Any = None
    elif bare:
        problems.append(
            doc.problem(path, "missing-argument", f"{name} needs an argument: {{{name}: ...}} ({fact.arg})")
        )
        return lambda _c: False
    elif fact.arg == "int":
        if not isinstance(arg, int) or isinstance(arg, bool):
            problems.append(doc.problem(path, "bad-argument", f"{name} takes a whole number"))
        value = arg
    elif fact.arg == "str":
        if not isinstance(arg, str):
            problems.append(doc.problem(path, "bad-argument", f"{name} takes one name"))
        value = arg
    else:
        items = [arg] if isinstance(arg, str) else arg
        if not isinstance(items, list) or not items or not all(isinstance(x, str) for x in items):
            problems.append(doc.problem(path, "bad-argument", f"{name} takes a name or a list of names"))
            items = []
        value = frozenset(items)
    fn = fact.fn

    def predicate(c: Context) -> bool:
        result = fn(c, value)
        if c.tracer is not None:
            c.tracer.fact_read(name, value, result)
        return result

    return predicate


def parse_rules(doc: Document) -> list[Rule]:
    """Check a parsed rules document and compile each rule."""
    problems = check_document(doc, "rules")
    if problems:
        raise DefinitionError(problems)
    rules: list[Rule] = []
    for i, r in enumerate(doc.value["rules"]):
        level = r.get("level", "step")
        used: set[str] = set()
        pred = _compile(r["require"], ("rules", i, "require"), doc, level, problems, used)
        if level == "request" and r["yields"] in STEP_STATUSES:
            problems.append(
                doc.problem(
                    ("rules", i, "yields"),
                    "status-in-request-rule",
                    f"a request-level rule yields a request error type ({', '.join(ERROR_TYPES[2:])}), "
                    f"not the step status {r['yields']!r}",
                )
            )
        rules.append(
            Rule(
                r["name"],
                frozenset(r["actions"]),
                level,
                r["yields"],
                pred,
                r["require"],
                r.get("description", ""),
                r.get("before"),
                doc.file,
                doc.mark(("rules", i))[0],
                frozenset(used),
            )
        )
    if problems:
        raise DefinitionError(problems)
    return rules


def order_rules(rules: Sequence[Rule], unknown_hint: str = "") -> tuple[list[Problem], list[Rule]]:
    """Refuse duplicate names and place every ``before:`` rule; returns (problems, checking order)."""
    problems: list[Problem] = []
    seen: dict[str, Rule] = {}
    for r in rules:
        if r.name in seen:
            where = f"{seen[r.name].file}:{seen[r.name].line}"
            problems.append(
                Problem(r.file, r.line, 1, "duplicate-rule", f"rule {r.name!r} is already defined at {where}")
            )
        seen[r.name] = r
    ordered = [r for r in rules if r.before is None]
    for r in rules:
        if r.before is None:
            continue
        at = next((i for i, x in enumerate(ordered) if x.name == r.before), None)
        if at is None:
            message = f"rule {r.name!r} goes before {r.before!r}, which is not a rule{unknown_hint}"
            problems.append(Problem(r.file, r.line, 1, "unknown-rule", message))
            continue
        ordered.insert(at, r)
    return problems, ordered


def load_rules(*dirs_or_files: str | Path) -> RuleSet:
    """Load rules files (folders: every ``*.yaml``/``*.yml`` in name order) into one ordered set.

    File order then position is checking order; a rule with ``before: NAME`` moves just
    before the named rule, so a designer's own file can slot a check in anywhere.
    """
    problems: list[Problem] = []
    rules: list[Rule] = []
    for entry in dirs_or_files:
        p = Path(entry)
        files = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file()) if p.is_dir() else [p]
        for f in files:
            try:
                rules.extend(parse_rules(read_yaml_file(f)))
            except DefinitionError as exc:
                problems.extend(exc.problems)
    order_problems, ordered = order_rules(rules)
    problems.extend(order_problems)
    if problems:
        raise DefinitionError(problems)
    return RuleSet(ordered)
