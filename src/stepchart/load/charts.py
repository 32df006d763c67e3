"""Lifecycle charts: YAML -> a checked :class:`StepType`, and the python-statemachine definition built from it."""

from __future__ import annotations

import copy
import keyword
from pathlib import Path
from typing import Any

from statemachine import StateChart
from statemachine.exceptions import StateMachineError
from statemachine.io.class_factory import create_machine_class_from_definition

from ..errors import DefinitionError, Problem
from ..io.files import YAML_SUFFIXES, walk_files
from ..io.schemas import check_document
from ..io.yamldoc import Document, parse_yaml, read_yaml_file
from ..model import ChartState, ChartTransition, StepType
from ..model.definitions import STEP_GUARDS
from ..vocabulary import LIFECYCLE_EVENTS

__all__ = ["EVENTS", "GUARDS", "definition", "load_chart", "load_chart_dir", "parse_chart"]

EVENTS = LIFECYCLE_EVENTS
"""The operations the engine sends to a lifecycle: a closed set (``vocabulary.LIFECYCLE_EVENTS``)."""

GUARDS = STEP_GUARDS
"""Named guards a chart transition may use: facts of the step definition."""

_MACHINE_NAMES = {
    "model", "state_field", "start_value", "history_values", "listeners", "listeners_inherit",
    "initial_state", "final_states", "states_map",
}  # fmt: skip
"""Names python-statemachine sets on a machine class or instance that ``dir(StateChart)`` does not show."""

_RESERVED = (
    set(dir(StateChart))
    | set(dir(type(StateChart)))
    | _MACHINE_NAMES
    | set(EVENTS)  # state and event ids share the class namespace of a python-statemachine machine
    | {"state", "step", "slot"}
    | set(keyword.kwlist)
)
_VALUE_EVENTS = {"respond", "complete"}


def parse_chart(doc: Document) -> StepType:
    """Check a parsed chart document and build its :class:`StepType`."""
    problems = check_document(doc, "chart")
    if problems:
        raise DefinitionError(problems)
    v = doc.value
    states: dict[str, ChartState] = {}
    for sid, sdef in v["states"].items():
        line = doc.mark(("states", sid), key=True)[0]
        if sid in _RESERVED or sid.lower() in {n.lower() for n in ("model", "send", "states", "events")}:
            problems.append(
                doc.problem(
                    ("states", sid),
                    "reserved-name",
                    f"state id {sid!r} clashes with a python-statemachine name or a lifecycle event "
                    "(reserved: send, model, states, events, configuration, run, stop, finish, ...); "
                    "choose another",
                    key=True,
                )
            )
        states[sid] = ChartState(
            sid,
            bool(sdef.get("started", False)),
            bool(sdef.get("running", False)),
            bool(sdef.get("final", False)),
            sdef.get("description", ""),
            line,
            bool(sdef.get("external", False)),
        )
    if v["initial"] not in states:
        problems.append(
            doc.problem(
                ("initial",),
                "unknown-state",
                f"initial state {v['initial']!r} is not a state; states are: {', '.join(states)}",
            )
        )
    elif states[v["initial"]].final:
        problems.append(doc.problem(("initial",), "final-initial", "the initial state cannot be final"))
    if not any(s.final for s in states.values()):
        problems.append(
            doc.problem(("states",), "no-final-state", "a lifecycle needs a final state (the step finishes)")
        )
    transitions: list[ChartTransition] = []
    for i, t in enumerate(v["transitions"]):
        sources = (t["from"],) if isinstance(t["from"], str) else tuple(t["from"])
        for j, src in enumerate(sources):
            p = ("transitions", i, "from") if isinstance(t["from"], str) else ("transitions", i, "from", j)
            if src not in states:
                problems.append(
                    doc.problem(p, "unknown-state", f"{src!r} is not a state; states are: {', '.join(states)}")
                )
            elif states[src].final:
                problems.append(doc.problem(p, "move-from-final", f"final state {src!r} cannot have outgoing moves"))
        target = t["to"]
        if target not in states:
            problems.append(
                doc.problem(
                    ("transitions", i, "to"),
                    "unknown-state",
                    f"{target!r} is not a state; states are: {', '.join(states)}",
                )
            )
        else:
            final = states[target].final
            if "returnValue" in t and not final:
                problems.append(
                    doc.problem(
                        ("transitions", i, "returnValue"),
                        "return-value-not-final",
                        "only a move into a final state gives a return value",
                    )
                )
            if final and "returnValue" not in t and t["event"] not in _VALUE_EVENTS:
                problems.append(
                    doc.problem(
                        ("transitions", i),
                        "missing-return-value",
                        f"a {t['event']} move into a final state must say its returnValue",
                    )
                )
        transitions.append(
            ChartTransition(
                t["event"],
                sources,
                target,
                t.get("guard"),
                t.get("returnValue"),
                t.get("record"),
                tuple(t.get("emit", ())),
                doc.mark(("transitions", i))[0],
            )
        )
    problems.extend(_unreachable(v["initial"], states, transitions, doc))
    if problems:
        raise DefinitionError(problems)
    step_type = StepType(
        v["stepType"],
        v["initial"],
        states,
        tuple(transitions),
        bool(v.get("asynchronous", False)),
        v.get("description", ""),
        doc.file,
    )
    _validate_with_statemachine(step_type, doc)
    return step_type


def _unreachable(
    initial: str, states: dict[str, ChartState], transitions: list[ChartTransition], doc: Document
) -> list[Problem]:
    out_of: dict[str, set[str]] = {}  # one pass over the moves, so the walk is linear
    for t in transitions:
        for src in t.sources:
            out_of.setdefault(src, set()).add(t.target)
    seen = {initial} | {sid for sid, s in states.items() if s.external}
    todo = list(seen)
    while todo:
        for target in out_of.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return [
        doc.problem(
            ("states", sid),
            "unreachable-state",
            f"state {sid!r} is never reached from {initial!r}; mark it external: true if only "
            "job documents or the host put steps there",
            key=True,
        )
        for sid in states
        if sid not in seen
    ]


def definition(step_type: StepType, *, with_final: bool) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for sid, s in step_type.states.items():
        entry: dict[str, Any] = {"initial": sid == step_type.initial}
        if with_final and s.final:
            entry["final"] = True
        states[sid] = entry
    for t in step_type.transitions:
        for src in t.sources:
            move: dict[str, Any] = {"target": t.target}
            if t.guard:
                move["cond"] = f"guard_{t.guard}"
            states[src].setdefault("on", {}).setdefault(t.event, []).append(move)
    return {"states": states}


def _validate_with_statemachine(step_type: StepType, doc: Document) -> None:
    """python-statemachine's own checks (reachability, trap states), located at the chart."""
    try:
        create_machine_class_from_definition(
            f"{step_type.id}Check",
            **copy.deepcopy(definition(step_type, with_final=True)),
            validate_disconnected_states=False,  # reachability is ours: external states count as entries
            validate_final_reachability=False,  # ours too: the library's walk is quadratic in the states
        )
    except (StateMachineError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise doc.error(("states",), "invalid-lifecycle", f"python-statemachine refuses the chart: {exc}") from None
    stuck = _without_path_to_final(step_type)
    if stuck:
        raise doc.error(
            ("states",),
            "invalid-lifecycle",
            f"every non-final state needs a path to a final state; these have none: {stuck!r}",
        )


def _without_path_to_final(step_type: StepType) -> list[str]:
    """The non-final states from which no move (guards ignored) leads to a final state, in chart order.

    One backward walk from the final states: linear in states and moves.
    """
    into: dict[str, set[str]] = {}
    for t in step_type.transitions:
        for src in t.sources:
            into.setdefault(t.target, set()).add(src)
    reach = [sid for sid, s in step_type.states.items() if s.final]
    seen = set(reach)
    while reach:
        for src in into.get(reach.pop(), ()):
            if src not in seen:
                seen.add(src)
                reach.append(src)
    return [sid for sid in step_type.states if sid not in seen]


def load_chart(path: str | Path) -> StepType:
    return parse_chart(read_yaml_file(path))


def load_chart_text(text: str, file: str = "<string>") -> StepType:
    return parse_chart(parse_yaml(text, file))


def load_chart_dir(*dirs: str | Path) -> dict[str, StepType]:
    """Every ``*.yaml``/``*.yml`` chart of the folders (or files); a later one may add types, never redefine one.

    A chart whose document is the same as the one already loaded for its type (a copy of a
    shipped chart) counts once; any difference is a ``duplicate-step-type``.

    A folder is read one level deep by :func:`stepchart.io.files.walk_files` (name order,
    hidden files skipped). A path that is not a folder is read as a chart file, so a
    missing one is a located ``DefinitionError`` (``unreadable``) as in
    :func:`stepchart.rules.load_rules`.
    """
    types: dict[str, StepType] = {}
    sources: dict[str, Any] = {}
    problems: list[Problem] = []
    for d in dirs:
        found, missing = walk_files([d], YAML_SUFFIXES, recursive=False)
        files = [f.path for f in found] + [Path(m) for m in missing]
        for f in files:
            try:
                doc = read_yaml_file(f)
                st = parse_chart(doc)
            except DefinitionError as exc:
                problems.extend(exc.problems)
                continue
            if st.id in types and sources[st.id] == doc.value:
                continue  # the same chart twice (a copy of a shipped one, as the repository's is of the installed)
            if st.id in types:
                problems.append(
                    Problem(
                        str(f),
                        1,
                        1,
                        "duplicate-step-type",
                        f"step type {st.id!r} is already defined in {types[st.id].file}",
                    )
                )
                continue
            types[st.id] = st
            sources[st.id] = doc.value
    if problems:
        raise DefinitionError(problems)
    return types
