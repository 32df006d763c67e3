"""``stepchart diagram``: Mermaid ``stateDiagram-v2`` and Graphviz DOT for workflows and lifecycle charts.

Output is byte-stable: it depends only on the document (steps, states and paths in
their written order), never on dict order of a run, the clock or the file's location,
so diagrams can be committed and compared as golden files. SVG and PNG are rendered by
Graphviz's ``dot`` program when it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from ..load.workflows import ASSIGNEE_TYPES
from ..model import ChartTransition, Job, PathDef, StepDef, StepType, Workflow

__all__ = [
    "DiagramError",
    "JobView",
    "chart_dot",
    "chart_mermaid",
    "job_view",
    "render",
    "workflow_dot",
    "workflow_mermaid",
]

FORMATS = ("mermaid", "dot", "svg", "png")

# Fill colours of a current step by status (DOT), and the Mermaid class of each.
STATUS_FILL = {
    "Ready": "#dbeafe",
    "Running": "#fde68a",
    "WaitingForInfo": "#fed7aa",
    "Paused": "#e5e7eb",
    "Cancelled": "#fecaca",
    "Error": "#fca5a5",
}
OTHER_FILL = "#e9d5ff"
DONE_FILL = "#dcfce7"

_MERMAID_RESERVED = {
    "state", "note", "end", "as", "direction", "classDef", "class", "style", "click", "default",
    "fork", "join", "choice", "concurrent", "left", "right", "of", "hide_empty_description",
}  # fmt: skip


class DiagramError(Exception):
    """Rendering failed (Graphviz missing or refusing the input)."""


@dataclass(frozen=True)
class JobView:
    """What a diagram highlights of a job: its current steps (status, assignment) and return values."""

    current: dict[str, tuple[str, str]]  # step id -> (status, assignment text)
    returned: dict[str, str]
    job_id: str = ""
    closed: bool = False


def job_view(job: Job, workflow: Workflow, step_types: Mapping[str, StepType], *, is_new: bool = False) -> JobView:
    """The view of a loaded job; a new job (no ``currentSteps``) shows its initial step ``Ready``."""
    current: dict[str, tuple[str, str]] = {}
    if is_new:
        step = workflow.steps[workflow.initial_step]
        current[step.id] = (step_types[step.type].initial, _assignment(step.assigned_type, step.assigned_to))
    for cs in job.current_steps:
        current[cs.step_id] = (cs.status, _assignment(cs.assigned_type, cs.assigned_to))
    return JobView(current, dict(job.return_values), job.job_id, job.closed)


def _assignment(kind: str | None, to: str | None) -> str:
    if kind in ASSIGNEE_TYPES and to:
        return f"{kind} {to}"
    return "Unassigned" if kind == "Unassigned" else ""


# -- text helpers ---------------------------------------------------------------------------------


def _mermaid_ids(names: list[str]) -> dict[str, str]:
    """Mermaid-safe state ids: letters, digits and ``_``; reserved words and clashes get a suffix."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name) or "s"
        if base in _MERMAID_RESERVED or base[0].isdigit():
            base = f"s_{base}"
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}_{n}", n + 1
        used.add(candidate)
        out[name] = candidate
    return out


def _mtext(text: str) -> str:
    """Text safe inside a Mermaid label: entity codes for the characters its grammar reads."""
    repl = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "\n": " "}
    return "".join(repl.get(ch, ch) for ch in text)


def _yaml_text(text: str) -> str:
    """A YAML scalar for Mermaid's front matter: plain when that is safe, else double-quoted (JSON)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.,()/-]*", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _dq(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dlabel(lines: list[str]) -> str:
    """A multi-line DOT label (``\\n`` between lines, centred)."""
    return '"' + "\\n".join(x.replace("\\", "\\\\").replace('"', '\\"') for x in lines) + '"'


def _values(values: tuple[str, ...] | None) -> str:
    return "" if values is None else " or ".join(values)


def _path_label(path: PathDef) -> str:
    parts = []
    if path.return_values is not None:
        parts.append(_values(path.return_values))
    assign = _assignment(path.assigned_type, path.assigned_to)
    if assign:
        parts.append(f"/ {assign}{' (forced)' if path.force_group_assignment else ''}")
    return " ".join(parts)


def _step_lines(step: StepDef) -> list[str]:
    """The description lines of a step box: its id (under a name), type and marks, assignment, answers."""
    marks = [step.type]
    if step.automatic:
        marks.append("automatic")
    if step.proceed_next:
        marks.append("proceedNext")
    if step.can_skip:
        marks.append("canSkip")
    lines = [", ".join(marks)]
    if step.name and step.name != step.id:
        lines[0] = f"{step.id}: {lines[0]}"
    assign = _assignment(step.assigned_type, step.assigned_to)
    if assign:
        lines.append(assign)
    if step.answers is not None:
        lines.append("answers " + ", ".join(step.answers))
    return lines


def _job_lines(step: StepDef, job: JobView | None) -> list[str]:
    """The job's say on a step: its status (and its assignment where the job's differs), its return value."""
    if job is None:
        return []
    out = []
    step_id = step.id
    if step_id in job.current:
        status, assign = job.current[step_id]
        own = _assignment(step.assigned_type, step.assigned_to)
        out.append(f"current: {status}" + (f" ({assign})" if assign and assign != own else ""))
    if step_id in job.returned:
        out.append(f"returned: {job.returned[step_id]}")
    return out


def _title(kind: str, ident: str, name: str) -> str:
    return f"{name} ({kind} {ident})" if name and name != ident else f"{kind} {ident}"


# -- workflows ----------------------------------------------------------------------------------------


def workflow_mermaid(wf: Workflow, job: JobView | None = None) -> str:
    """A workflow as a Mermaid state diagram: steps, paths with their return values and assignments."""
    ids = _mermaid_ids(list(wf.steps))
    title = _title("workflow", wf.id, wf.name)
    if job is not None and job.job_id:
        title += f", job {job.job_id}{' (closed)' if job.closed else ''}"
    out = ["---", f"title: {_yaml_text(title)}", "---", "stateDiagram-v2"]
    for sid, step in wf.steps.items():
        label = step.name or sid
        if label != ids[sid]:
            out.append(f'    state "{_mtext(label)}" as {ids[sid]}')
        lines = _step_lines(step) + _job_lines(step, job)
        out.extend(f"    {ids[sid]} : {_mtext(line)}" for line in lines)
    out.append(f"    [*] --> {ids[wf.initial_step]}")
    for sid, step in wf.steps.items():
        if not step.paths:
            out.append(f"    {ids[sid]} --> [*]")
        for path in step.paths:
            label = _path_label(path)
            out.append(f"    {ids[sid]} --> {ids[path.next_step]}" + (f" : {_mtext(label)}" if label else ""))
    classes: dict[str, list[str]] = {}
    for sid, step in wf.steps.items():
        if step.automatic:
            classes.setdefault("automatic", []).append(ids[sid])
        if step.can_skip:
            classes.setdefault("skippable", []).append(ids[sid])
        if job is not None and sid in job.current:
            classes.setdefault(_status_class(job.current[sid][0]), []).append(ids[sid])
        elif job is not None and sid in job.returned:
            classes.setdefault("done", []).append(ids[sid])
    defs = {
        "automatic": "font-style:italic,stroke-width:3px",
        "skippable": "stroke-dasharray:5 5",
        "done": f"fill:{DONE_FILL}",
    }
    for status, fill in STATUS_FILL.items():
        defs[_status_class(status)] = f"fill:{fill},stroke-width:3px"
    defs["current"] = f"fill:{OTHER_FILL},stroke-width:3px"
    for name, members in classes.items():
        out.append(f"    classDef {name} {defs[name]}")
        out.append(f"    class {', '.join(members)} {name}")
    return "\n".join(out) + "\n"


def _status_class(status: str) -> str:
    return f"current{status}" if status in STATUS_FILL else "current"


def workflow_dot(wf: Workflow, job: JobView | None = None) -> str:
    """A workflow as a Graphviz digraph."""
    title = _title("workflow", wf.id, wf.name)
    if job is not None and job.job_id:
        title += f", job {job.job_id}{' (closed)' if job.closed else ''}"
    out = [
        f"digraph {_dq(wf.id)} {{",
        f'  graph [label={_dq(title)}, labelloc=t, fontname="Helvetica", rankdir=TB];',
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "__start" [shape=circle, style=filled, fillcolor=black, label="", width=0.2];',
    ]
    if any(not s.paths for s in wf.steps.values()):
        out.append('  "__end" [shape=doublecircle, style=filled, fillcolor=black, label="", width=0.15];')
    for sid, step in wf.steps.items():
        lines = [step.name or sid, *_step_lines(step), *_job_lines(step, job)]
        style = ["rounded"]
        if step.automatic:
            style.append("bold")
        if step.can_skip:
            style.append("dashed")
        attrs = [f"label={_dlabel(lines)}"]
        fill = None
        if job is not None and sid in job.current:
            fill = STATUS_FILL.get(job.current[sid][0], OTHER_FILL)
            attrs.append("penwidth=2.5")
        elif job is not None and sid in job.returned:
            fill = DONE_FILL
        if fill is not None:
            style.append("filled")
            attrs.append(f"fillcolor={_dq(fill)}")
        attrs.insert(1, f"style={_dq(','.join(style))}")
        out.append(f"  {_dq(sid)} [{', '.join(attrs)}];")
    out.append(f'  "__start" -> {_dq(wf.initial_step)};')
    for sid, step in wf.steps.items():
        if not step.paths:
            out.append(f'  {_dq(sid)} -> "__end";')
        for path in step.paths:
            label = _path_label(path)
            out.append(f"  {_dq(sid)} -> {_dq(path.next_step)}" + (f" [label={_dq(label)}]" if label else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


# -- lifecycle charts ---------------------------------------------------------------------------------


def _transition_label(t: ChartTransition) -> str:
    label = t.event
    if t.guard:
        label += f" [{t.guard}]"
    if t.return_value is not None:
        label += f" / {t.return_value}"
    return label


def _state_lines(st: StepType, sid: str) -> list[str]:
    s = st.states[sid]
    marks = [m for m, on in (("started", s.started), ("running", s.running), ("external", s.external)) if on]
    return [", ".join(marks)] if marks else []


def chart_mermaid(st: StepType) -> str:
    """A lifecycle chart as a Mermaid state diagram: states, events, guards by name."""
    ids = _mermaid_ids(list(st.states))
    kind = "lifecycle (asynchronous)" if st.asynchronous else "lifecycle"
    out = ["---", f"title: {_yaml_text(_title(kind, st.id, ''))}", "---", "stateDiagram-v2"]
    for sid in st.states:
        if ids[sid] != sid:
            out.append(f'    state "{_mtext(sid)}" as {ids[sid]}')
        out.extend(f"    {ids[sid]} : {_mtext(line)}" for line in _state_lines(st, sid))
    out.append(f"    [*] --> {ids[st.initial]}")
    for t in st.transitions:
        for src in t.sources:
            out.append(f"    {ids[src]} --> {ids[t.target]} : {_mtext(_transition_label(t))}")
    for sid, s in st.states.items():
        if s.final:
            out.append(f"    {ids[sid]} --> [*]")
    classes: dict[str, list[str]] = {}
    for sid, s in st.states.items():
        if s.running:
            classes.setdefault("running", []).append(ids[sid])
        elif s.started:
            classes.setdefault("started", []).append(ids[sid])
        if s.external:
            classes.setdefault("external", []).append(ids[sid])
    defs = {"running": "fill:#fde68a", "started": "fill:#e5e7eb", "external": "stroke-dasharray:5 5"}
    for name, members in classes.items():
        out.append(f"    classDef {name} {defs[name]}")
        out.append(f"    class {', '.join(members)} {name}")
    return "\n".join(out) + "\n"


def chart_dot(st: StepType) -> str:
    """A lifecycle chart as a Graphviz digraph."""
    kind = "lifecycle (asynchronous)" if st.asynchronous else "lifecycle"
    out = [
        f"digraph {_dq(st.id)} {{",
        f'  graph [label={_dq(_title(kind, st.id, ""))}, labelloc=t, fontname="Helvetica", rankdir=LR];',
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  "__start" [shape=circle, style=filled, fillcolor=black, label="", width=0.2];',
    ]
    for sid, s in st.states.items():
        lines = [sid, *_state_lines(st, sid)]
        style = ["rounded"]
        attrs = [f"label={_dlabel(lines)}"]
        if s.final:
            attrs.append("peripheries=2")
        if s.external:
            style.append("dashed")
        if s.running or s.started:
            style.append("filled")
            attrs.append(f"fillcolor={_dq('#fde68a' if s.running else '#e5e7eb')}")
        attrs.insert(1, f"style={_dq(','.join(style))}")
        out.append(f"  {_dq(sid)} [{', '.join(attrs)}];")
    out.append(f'  "__start" -> {_dq(st.initial)};')
    for t in st.transitions:
        for src in t.sources:
            out.append(f"  {_dq(src)} -> {_dq(t.target)} [label={_dq(_transition_label(t))}];")
    out.append("}")
    return "\n".join(out) + "\n"


# -- rendering ----------------------------------------------------------------------------------------


RENDERED = ("svg", "png", "pdf")
"""The formats :func:`render` draws through Graphviz."""


def dot_program() -> str | None:
    """The path of Graphviz's ``dot``, or None when it is not installed."""
    return shutil.which("dot")


def render(dot_source: str, fmt: str, *, timeout: float = 60.0) -> bytes:
    """SVG, PNG or PDF bytes from DOT text, through Graphviz's ``dot``; ``DiagramError`` if it cannot."""
    if fmt not in RENDERED:
        raise ValueError(f"render makes {', '.join(RENDERED)}, not {fmt!r}")
    program = dot_program()
    if program is None:
        raise DiagramError(
            f"--format {fmt} needs Graphviz's dot program, which is not installed "
            "(apt-get install graphviz, brew install graphviz); --format dot or mermaid need nothing"
        )
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"], input=dot_source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiagramError(f"dot failed: {exc}") from None
    if done.returncode != 0:
        raise DiagramError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout
