"""The facts a rule may ask about, each declared once with what tools need to know of it.

A :class:`Fact` carries its evaluator (what the engine computes on a request's
:class:`~stepchart.rules.context.Context`) and its metadata: its level, the kind of its
argument, its documentation, what it reads, how it is decided on a lifecycle chart
state (for ``stepchart check``), and how it depends on other facts (what it implies,
excludes, or is made of). The compiler, lint, the README's fact table and the editor
schema all read this registry; no tool keeps its own copy of what a fact means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from ..model import StepDef, StepType
from ..vocabulary import RuleLevel

if TYPE_CHECKING:
    from .context import Context

__all__ = ["FACTS", "NO_VALUE", "ArgumentKind", "ChartPoint", "Fact", "Subject", "Variable"]

ArgumentKind = Literal["none", "str", "strs", "int"]
"""A fact takes no argument, one name, a name or a list of names, or a whole number."""

Subject = Literal["actor", "job", "request", "now", "store", "record", "definition", "chart", "holds"]
"""What a fact reads: the acting user, the job, the request body, the clock, other jobs in the
store, the target's current-step record, its workflow step definition, its lifecycle chart, its holds."""

NO_VALUE: Final = "\x00none"
"""The value of a variable that has none (the status of a step that is not current)."""


@dataclass(frozen=True)
class ChartPoint:
    """Where ``check`` decides a step fact: a state of a chart, for one step definition."""

    step_type: StepType
    status: str
    step: StepDef


@dataclass(frozen=True)
class Variable:
    """A fact that asks which value a variable has: ``{step.status: [A, B]}`` is ``status in {A, B}``.

    ``present`` is the plain fact (name, argument) that holds exactly when the variable
    has a value other than ``empty`` (a step has a status exactly when it is current).
    """

    name: str
    empty: Any = None
    present: tuple[str, Any] | None = None


@dataclass(frozen=True)
class Fact:
    """One entry of the vocabulary: what a rule may ask about, and what tools know of it."""

    name: str
    level: RuleLevel
    """``request``: needs no target step; ``step``: about the target step."""
    arg: ArgumentKind
    fn: Callable[[Context, Any], bool]
    """The engine's evaluator: the context, and the argument (None, a name, a frozenset of names, a number)."""
    doc: str
    reads: frozenset[Subject] = frozenset()
    arg_doc: str = ""
    """What the argument is, in the docs (``field``, ``event``); by default from :attr:`arg`."""
    on_chart: Callable[[ChartPoint, Any], bool] | None = None
    """The fact's value on a chart state for a step definition; None where the chart does not decide it."""
    within: str | None = None
    """A plain fact that must hold for this one to hold (a record fact needs ``step.current``)."""
    implies: tuple[tuple[str, Any], ...] = ()
    """(fact, argument) atoms that hold whenever this fact holds."""
    implies_value: tuple[str, Any] | None = None
    """(variable, value) the variable has whenever this fact holds."""
    excludes: tuple[str, ...] = ()
    """Plain facts that cannot hold together with this one."""
    variable: Variable | None = None
    any_of: tuple[str, ...] = ()
    """The fact holds exactly when one of these plain facts holds."""
    any_of_each: str | None = None
    """The fact holds exactly when ``{any_of_each: name}`` holds for one name of its argument."""

    @property
    def argument_doc(self) -> str:
        if self.arg_doc:
            return self.arg_doc
        return {"none": "", "str": "name", "strs": "names", "int": "number"}[self.arg]


FACTS: dict[str, Fact] = {}
"""Every fact by name, in declaration order (the order of the docs)."""

Evaluator = Callable[["Context", Any], bool]


def _fact(name: str, level: RuleLevel, arg: ArgumentKind, doc: str, **meta: Any) -> Callable[[Evaluator], Evaluator]:
    def register(fn: Evaluator) -> Evaluator:
        FACTS[name] = Fact(name, level, arg, fn, doc, **meta)
        return fn

    return register


def _subjects(*names: Subject) -> frozenset[Subject]:
    return frozenset(names)


def _names(arg: Any) -> frozenset[str]:
    return arg if isinstance(arg, frozenset) else frozenset()


# --- facts about the actor, the job and the request ------------------------------------


@_fact("actor.isEngine", "request", "none",
       "the engine itself acts (user system): automatic moves, complete, fail, scenario operations without `as`",
       reads=_subjects("actor"))  # fmt: skip
def _actor_engine(c: Context, _: Any) -> bool:
    return c.actor.is_system


@_fact("actor.privilege", "request", "str", "the actor holds the privilege", reads=_subjects("actor"))
def _actor_priv(c: Context, name: str) -> bool:
    return name in c.actor.privileges


@_fact("actor.anyPrivilege", "request", "strs", "the actor holds one of the privileges",
       reads=_subjects("actor"), any_of_each="actor.privilege")  # fmt: skip
def _actor_any_priv(c: Context, names: Sequence[str]) -> bool:
    return any(n in c.actor.privileges for n in names)


@_fact("actor.inGroup", "request", "str", "the actor is a member of the group", reads=_subjects("actor"))
def _actor_group(c: Context, name: str) -> bool:
    return name in c.actor.groups


@_fact("actor.assigneeOfAnyCurrentStep", "request", "none", "some current step of the job is assigned to the actor",
       reads=_subjects("actor", "job"))  # fmt: skip
def _actor_assignee_any(c: Context, _: Any) -> bool:
    return any(c.is_assignee(cs) for cs in c.job.current_steps)


@_fact("job.closed", "request", "none", "the job is closed", reads=_subjects("job"))
def _job_closed(c: Context, _: Any) -> bool:
    return c.job.closed


@_fact("job.running", "request", "none", "some current step of the job is running (R1)",
       reads=_subjects("job", "chart"))  # fmt: skip
def _job_running(c: Context, _: Any) -> bool:
    return any(c.is_running(cs) for cs in c.job.current_steps)


@_fact("request.stepCount", "request", "int", "the de-duplicated `stepIds` of the request has that many ids",
       reads=_subjects("request"), variable=Variable("stepCount", 0, ("request.has", "stepIds")))  # fmt: skip
def _req_count(c: Context, n: int) -> bool:
    return len(c.request.step_ids) == n


@_fact("request.has", "request", "str",
       "the request gives the field (stepIds, holdScheduledRelease, dependentJobId, dependentStepId)",
       reads=_subjects("request"), arg_doc="field")  # fmt: skip
def _req_has(c: Context, name: str) -> bool:
    return c.request.has(name)


@_fact("request.releaseInFuture", "request", "none", "`holdScheduledRelease` is given and strictly after now (R18)",
       reads=_subjects("request", "now"), implies=(("request.has", "holdScheduledRelease"),))  # fmt: skip
def _req_future(c: Context, _: Any) -> bool:
    return c.request.hold_release is not None and c.request.hold_release > c.now


@_fact("request.dependentJobExists", "request", "none", "`dependentJobId` is given and names a stored job",
       reads=_subjects("request", "store"), implies=(("request.has", "dependentJobId"),))  # fmt: skip
def _req_dep_exists(c: Context, _: Any) -> bool:
    return c.request.dependent_job_id is not None and c.job_exists(c.request.dependent_job_id)


@_fact("request.assignedType", "request", "str", "assign: the new assignment is of this type (User, Group, Unassigned)",
       reads=_subjects("request"), arg_doc="type", variable=Variable("assignedType"))  # fmt: skip
def _req_assigned_type(c: Context, kind: str) -> bool:
    return c.request.assigned_type == kind


@_fact("request.assigneeIsActor", "request", "none", "assign: the new assignee is the acting user",
       reads=_subjects("request", "actor"), implies_value=("assignedType", "User"))  # fmt: skip
def _req_assignee_actor(c: Context, _: Any) -> bool:
    return c.request.assigned_type == "User" and c.request.assigned_to == c.actor.username


@_fact("request.assigneeIsActorGroup", "request", "none", "assign: the new assignee is one of the actor's groups",
       reads=_subjects("request", "actor"), implies_value=("assignedType", "Group"))  # fmt: skip
def _req_assignee_group(c: Context, _: Any) -> bool:
    return c.request.assigned_type == "Group" and c.request.assigned_to in c.actor.groups


# --- facts about the target step -------------------------------------------------------


def _always(_p: ChartPoint, _a: Any) -> bool:
    return True


@_fact("step.inDiagram", "step", "none", "the target is a step of the job's workflow",
       reads=_subjects("definition"), on_chart=_always)  # fmt: skip
def _step_in_diagram(c: Context, _: Any) -> bool:
    return c.step_def is not None


@_fact("step.current", "step", "none", "the target is one of the job's current steps",
       reads=_subjects("record"), on_chart=_always, within="step.inDiagram")  # fmt: skip
def _step_current(c: Context, _: Any) -> bool:
    return c.record is not None


@_fact("step.assignedToActor", "step", "none",
       "the current step is the actor's: their user, or one of their groups (R16)",
       reads=_subjects("record", "actor"), within="step.current",
       any_of=("step.assignedToActorUser", "step.assignedToActorGroup"))  # fmt: skip
def _step_assigned(c: Context, _: Any) -> bool:
    return c.record is not None and c.is_assignee(c.record)


@_fact("step.assignedToActorUser", "step", "none", "the current step is assigned to the acting user by name",
       reads=_subjects("record", "actor"), within="step.current", excludes=("step.assignedToActorGroup",))  # fmt: skip
def _step_assigned_user(c: Context, _: Any) -> bool:
    r = c.record
    return r is not None and r.assigned_type == "User" and r.assigned_to == c.actor.username


@_fact("step.assignedToActorGroup", "step", "none", "the current step is assigned to one of the actor's groups",
       reads=_subjects("record", "actor"), within="step.current", excludes=("step.assignedToActorUser",))  # fmt: skip
def _step_assigned_group(c: Context, _: Any) -> bool:
    r = c.record
    return r is not None and r.assigned_type == "Group" and r.assigned_to in c.actor.groups


@_fact("request.assigneeIsStepGroup", "step", "none",
       "assign: the new assignee is the group the step is assigned to now",
       reads=_subjects("record", "request"), within="step.current",
       implies_value=("assignedType", "Group"))  # fmt: skip
def _req_assignee_step_group(c: Context, _: Any) -> bool:
    r = c.record
    return (
        r is not None
        and r.assigned_type == "Group"
        and c.request.assigned_type == "Group"
        and c.request.assigned_to == r.assigned_to
    )


@_fact("step.held", "step", "none", "the step has an active hold (R19)", reads=_subjects("holds", "now", "store"))
def _step_held(c: Context, _: Any) -> bool:
    return c.has_active_hold(c.step_id)


@_fact("step.hasReleasableHold", "step", "none",
       "ReleaseHold: the step has an active hold this request would release (R20)",
       reads=_subjects("holds", "request", "now", "store"), implies=(("step.held", None),))  # fmt: skip
def _step_releasable(c: Context, _: Any) -> bool:
    return bool(c.releasable_holds(c.step_id))


@_fact("step.status", "step", "strs", "the current step's status is one of these",
       reads=_subjects("record"), within="step.current", variable=Variable("status", NO_VALUE, ("step.current", None)),
       on_chart=lambda p, arg: p.status in _names(arg))  # fmt: skip
def _step_status(c: Context, names: Sequence[str]) -> bool:
    return c.record is not None and c.record.status in names


@_fact("step.running", "step", "none", "the current step is in a running state of its chart (R1)",
       reads=_subjects("record", "chart"), within="step.current",
       on_chart=lambda p, _a: p.step_type.states[p.status].running)  # fmt: skip
def _step_running(c: Context, _: Any) -> bool:
    return c.record is not None and c.is_running(c.record)


@_fact("step.started", "step", "none", "the current step is in a started state of its chart (R1)",
       reads=_subjects("record", "chart"), within="step.current",
       on_chart=lambda p, _a: p.step_type.states[p.status].started)  # fmt: skip
def _step_started(c: Context, _: Any) -> bool:
    r = c.record
    st = c.step_type_of(r.step_id) if r is not None else None
    return r is not None and st is not None and st.is_started(r.status)


@_fact("step.canSkip", "step", "none", "the workflow says the step may be skipped",
       reads=_subjects("definition"), within="step.inDiagram", on_chart=lambda p, _a: p.step.can_skip)  # fmt: skip
def _step_can_skip(c: Context, _: Any) -> bool:
    return c.step_def is not None and c.step_def.can_skip


@_fact("step.asynchronous", "step", "none", "the step's type is asynchronous: the host finishes it (gp)",
       reads=_subjects("definition", "chart"), within="step.inDiagram",
       on_chart=lambda p, _a: p.step_type.asynchronous)  # fmt: skip
def _step_async(c: Context, _: Any) -> bool:
    st = c.step_type_of(c.step_id)
    return st is not None and st.asynchronous


@_fact("step.type", "step", "strs", "the step's type is one of these",
       reads=_subjects("definition"), within="step.inDiagram",
       variable=Variable("type", NO_VALUE, ("step.inDiagram", None)),
       on_chart=lambda p, arg: p.step_type.id in _names(arg))  # fmt: skip
def _step_type(c: Context, names: Sequence[str]) -> bool:
    return c.step_def is not None and c.step_def.type in names


def _accepts_on_chart(p: ChartPoint, event: Any) -> bool:
    return p.step_type.accepts(p.status, event, p.step)


@_fact("step.accepts", "step", "str", "the step's lifecycle chart has a move for the event from its status",
       reads=_subjects("record", "definition", "chart"), arg_doc="event", within="step.current",
       on_chart=_accepts_on_chart)  # fmt: skip
def _step_accepts(c: Context, event: str) -> bool:
    return c.record is not None and c.chart_accepts(c.record, event)


@_fact("step.answerDeclared", "step", "none",
       "respond: the value is one of the question's answers (or it declares none)",
       reads=_subjects("definition", "request"), within="step.inDiagram")  # fmt: skip
def _step_answer(c: Context, _: Any) -> bool:
    d = c.step_def
    return d is not None and (d.answers is None or c.request.value in d.answers)
