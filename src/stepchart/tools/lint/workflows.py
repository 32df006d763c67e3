"""Workflow findings: steps no path reaches or that never end, automatic loops, impossible paths and answers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ...errors import Problem
from ...io.yamldoc import Document
from ...model import PathDef, StepDef, StepType, Workflow
from ...model.definitions import STEP_GUARDS

__all__ = ["return_values", "self_finish_value", "workflow_problems"]


def return_values(step: StepDef, st: StepType) -> tuple[set[str], bool]:
    """The return values a step of this type can finish with, and whether any value is possible.

    Moves into a final state give their ``returnValue``; a respond gives one of the
    question's answers (any value without ``answers``); a complete gives the host's value.
    Guards are read against the step, so ``Skipped`` counts only for a ``canSkip`` step.
    """
    values: set[str] = set()
    anything = False
    for t in st.transitions:
        if not st.states[t.target].final or (t.guard is not None and not STEP_GUARDS[t.guard](step)):
            continue
        if t.return_value is not None:
            values.add(t.return_value)
        elif t.event == "respond" and step.answers is not None:
            values.update(step.answers)
        else:
            anything = True
    return values, anything


def self_finish_value(step: StepDef, st: StepType) -> str | None:
    """The return value an automatic step finishes with on the engine's Run, if it finishes at once (R2, R6)."""
    if not step.automatic:
        return None
    run = st.transition_for(st.initial, "run", step)
    if run is None:
        return None
    if st.states[run.target].final:
        return run.return_value if run.return_value is not None else "Success"
    if not step.proceed_next or st.asynchronous:
        return None
    finish = st.transition_for(run.target, "finish", step)
    if finish is None or not st.states[finish.target].final:
        return None
    return finish.return_value if finish.return_value is not None else "Success"


def _fmt_values(values: Iterable[str]) -> str:
    vs = sorted(values)
    return ", ".join(repr(v) for v in vs) if vs else "none"


def workflow_problems(wf: Workflow, doc: Document, step_types: Mapping[str, StepType]) -> list[Problem]:
    """The semantic findings of one loaded workflow, located in its document."""
    problems: list[Problem] = []
    index: dict[str, int] = {}
    for i, s in enumerate(doc.value.get("steps", [])):
        if isinstance(s, dict) and isinstance(s.get("id"), str):
            index.setdefault(s["id"], i)

    def at(step_id: str, *rest: str | int) -> tuple[str | int, ...]:
        return ("steps", index[step_id], *rest)

    produced: dict[str, tuple[set[str], bool]] = {}
    for sid, step in wf.steps.items():
        produced[sid] = return_values(step, step_types[step.type])

    def takeable(step: StepDef, path: PathDef) -> bool:
        values, anything = produced[step.id]
        return path.return_values is None or anything or any(v in values for v in path.return_values)

    edges: dict[str, list[str]] = {sid: [] for sid in wf.steps}
    back: dict[str, list[str]] = {sid: [] for sid in wf.steps}
    for sid, step in wf.steps.items():
        for path in step.paths:
            if takeable(step, path):
                edges[sid].append(path.next_step)
                back[path.next_step].append(sid)

    reached = _closure([wf.initial_step], edges)
    ends = [sid for sid, step in wf.steps.items() if not step.paths]
    finishing = _closure(ends, back)
    for sid in wf.steps:
        if sid not in reached:
            problems.append(
                doc.problem(
                    at(sid, "id"), "unreachable-step",
                    f"step {sid!r} is never reached from the initial step {wf.initial_step!r} by a path that can be "
                    "taken; only SetCurrentStep can make it current",
                    severity="warning",
                )
            )  # fmt: skip

    # Steps a job can reach but never leave for an end: reported once where a job falls in.
    trapped = reached - finishing
    inside = {k: [n for n in v if n in trapped] for k, v in edges.items()}
    for sid in wf.steps:
        if sid not in trapped:
            continue
        if sid != wf.initial_step and not any(p in reached and p not in trapped for p in back[sid]):
            continue
        region = [s for s in wf.steps if s in _closure([sid], inside)]
        shown = ", ".join(region[:6]) + (f" and {len(region) - 6} more" if len(region) > 6 else "")
        why = "it has no path that can be taken" if not edges[sid] else f"its paths stay among {shown}"
        problems.append(
            doc.problem(
                at(sid, "id"), "no-way-to-end",
                f"no path leads from step {sid!r} to a step that ends its branch ({why}): a job that reaches it "
                "never completes",
                severity="warning",
            )
        )  # fmt: skip

    # paths: impossible return values, duplicates; answers no path takes
    for sid, step in wf.steps.items():
        st = step_types[step.type]
        values, anything = produced[sid]
        seen: dict[tuple[str, frozenset[str] | None], int] = {}
        for j, path in enumerate(step.paths):
            key = (path.next_step, frozenset(path.return_values) if path.return_values is not None else None)
            if key in seen:
                cond = "no returnValue" if key[1] is None else f"returnValue {_fmt_values(key[1])}"
                problems.append(
                    doc.problem(
                        at(sid, "paths", j), "duplicate-path",
                        f"path {j + 1} of step {sid!r} repeats path {seen[key] + 1}: same condition ({cond}), "
                        f"same next step {path.next_step!r}",
                        severity="warning",
                    )
                )  # fmt: skip
            else:
                seen[key] = j
            if path.return_values is None or anything:
                continue
            bad = [v for v in path.return_values if v not in values]
            if not bad:
                continue
            raw = doc.value["steps"][index[sid]]["paths"][j].get("returnValue")
            where: tuple[str | int, ...] = at(sid, "paths", j, "returnValue")
            if isinstance(raw, list) and len(bad) < len(path.return_values):
                where = (*where, path.return_values.index(bad[0]))
            never = " (this path is never taken)" if len(bad) == len(path.return_values) else ""
            problems.append(
                doc.problem(
                    where, "impossible-return-value",
                    f"step {sid!r} ({st.id}) never returns {_fmt_values(bad)}; it returns {_fmt_values(values)}{never}",
                    severity="warning",
                )
            )  # fmt: skip
        if step.answers is not None and step.paths:
            for k, answer in enumerate(step.answers):
                if not any(p.matches(answer) for p in step.paths):
                    problems.append(
                        doc.problem(
                            at(sid, "answers", k), "unused-answer",
                            f"no path of step {sid!r} takes the answer {answer!r}: respond with it would be refused "
                            "(NoMatchingPaths)",
                        )
                    )  # fmt: skip

    problems.extend(_automatic_loops(wf, doc, step_types, at))
    return problems


def _closure(start: Iterable[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen = set(start)
    todo = list(seen)
    while todo:
        here = todo.pop()
        for nxt in edges.get(here, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _automatic_loops(
    wf: Workflow,
    doc: Document,
    step_types: Mapping[str, StepType],
    at: Callable[..., tuple[str | int, ...]],
) -> list[Problem]:
    """Cycles of steps the engine runs and finishes by itself, through paths their fixed return value takes."""
    value = {sid: self_finish_value(step, step_types[step.type]) for sid, step in wf.steps.items()}
    auto = {sid for sid, v in value.items() if v is not None}
    graph: dict[str, list[str]] = {}
    for sid in auto:
        rv = value[sid]
        graph[sid] = [p.next_step for p in wf.steps[sid].paths if p.matches(rv) and p.next_step in auto]
    order = list(wf.steps)
    problems: list[Problem] = []
    for comp in _sccs(order, graph):
        if len(comp) == 1 and comp[0] not in graph.get(comp[0], []):
            continue
        members = set(comp)
        start = min(comp, key=order.index)
        cycle = _cycle_from(start, graph, members)
        shown = " -> ".join([*cycle, start])
        problems.append(
            doc.problem(
                at(start, "id"), "automatic-loop",
                f"automatic steps {shown} finish themselves on Run and lead back to themselves: a job that reaches "
                f"them fails with InvalidRequest after {100} automatic moves (R6); add a question or a manual step, "
                "or drop automatic/proceedNext",
            )
        )  # fmt: skip
    return problems


def _sccs(order: list[str], graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), each in discovery order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in order:
        if root not in graph or root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(sorted(comp, key=order.index))
    return out


def _cycle_from(start: str, graph: Mapping[str, list[str]], members: set[str]) -> list[str]:
    """A shortest path start -> ... -> start inside the component (without the closing start)."""
    prev: dict[str, str] = {}
    todo = [start]
    seen = {start}
    while todo:
        nxt_todo: list[str] = []
        for node in todo:
            for nxt in graph.get(node, []):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return list(reversed(path))
                if nxt in members and nxt not in seen:
                    seen.add(nxt)
                    prev[nxt] = node
                    nxt_todo.append(nxt)
        todo = nxt_todo
    return [start]  # pragma: no cover - a component always has a cycle
