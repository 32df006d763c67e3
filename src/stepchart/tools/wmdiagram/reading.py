"""A Workflow Manager diagram read into a workflow document, with a located warning for all it cannot map.

Mapped: ids, names, descriptions, the initial step, ``automatic``/``proceedNext``/
``canSkip``, action types to step types, a question's responses to ``answers``, path
targets, assignments and ``forceGroupAssignment``, and return-value expressions to
``returnValue``. Layout (positions, shapes, colours, points, ports, path labels, the
grid) is not part of a workflow and is left out without a word. Everything else that
carries meaning (an unknown action type or field, an expression beyond return-value
comparisons, schedules, notifications, annotations, data sources, custom assignment
expressions, help texts) is a warning naming its JSON pointer: never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import DefinitionError, Problem
from ...io.yamldoc import Document
from .actions import action_types
from .expressions import parse_expression

__all__ = ["Imported", "from_diagram", "pointer"]

_LAYOUT = {
    "diagram": {"displayGrid", "initialStepName", "diagramVersion"},
    "step": {"position", "shape", "color", "outlineColor", "labelColor"},
    "path": {"label", "points", "ports", "lineColor", "labelColor"},
}
_KNOWN = {
    "diagram": {"diagramId", "diagramName", "description", "initialStepId", "steps", "annotations", "dataSources",
                "stepchart"},
    "step": {"id", "name", "description", "stepTemplateId", "automatic", "proceedNext", "canSkip", "action", "paths",
             "helpUrl", "helpText", "schedule", "stepchart"},
    "path": {"nextStep", "expression", "status", "assignedType", "assignedTo", "isAssignedToCustomExpression",
             "forceGroupAssignment", "notifications"},
}
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
At = tuple[str | int, ...]


def pointer(path: At) -> str:
    """``path`` as a JSON pointer (RFC 6901): ``/steps/2/action/actionType``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


@dataclass
class Imported:
    """The workflow document a diagram gives, and the warnings about what it could not carry over."""

    workflow: dict[str, Any]
    warnings: list[Problem] = field(default_factory=list)


class _Reader:
    def __init__(self, doc: Document, table: Mapping[str, str]) -> None:
        self.doc = doc
        self.table = table
        self.warnings: list[Problem] = []
        self.errors: list[Problem] = []

    def warn(self, at: At, code: str, message: str) -> None:
        self.warnings.append(self.doc.problem(at, code, f"{pointer(at)}: {message}", severity="warning"))

    def fail(self, at: At, code: str, message: str) -> None:
        self.errors.append(self.doc.problem(at, code, f"{pointer(at)}: {message}"))

    def take(self, node: Any, at: At, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        """``node[key]`` when it is of ``kind`` (None stands for absent), else an error and ``default``."""
        value = node.get(key)
        if value is None:
            return default
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.fail((*at, key), "wrong-type", f"{key} has the wrong type")
            return default
        return value

    def fields(self, node: Mapping[str, Any], at: At, kind: str) -> None:
        for key in node:
            if key not in _KNOWN[kind] and key not in _LAYOUT[kind]:
                message = f"the {kind} field {key!r} has no place in a workflow; left out"
                self.warn((*at, key), "unmapped-field", message)

    def nonempty(self, node: Mapping[str, Any], at: At, key: str, what: str, code: str = "unmapped-field") -> None:
        if node.get(key) not in (None, "", [], {}, False):
            self.warn((*at, key), code, f"{what} cannot be expressed in a workflow; left out")


def _safe_ids(steps: list[Any], reader: _Reader) -> dict[str, str]:
    """Each step's WM id to a workflow step id (ids that do not fit ours are renamed, with a warning)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for i, step in enumerate(steps):
        raw = step.get("id") if isinstance(step, dict) else None
        if not isinstance(raw, str) or not raw:
            continue
        new = raw if _ID.fullmatch(raw) else "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", raw)
        base, n = new, 2
        while new in used:
            new, n = f"{base}-{n}", n + 1
        if new != raw:
            message = f"the step id {raw!r} is not a workflow id; it becomes {new!r}"
            reader.warn(("steps", i, "id"), "renamed-id", message)
        used.add(new)
        out[raw] = new
    return out


def from_diagram(doc: Document, *, mapping: Mapping[str, str] | None = None) -> Imported:
    """The workflow ``doc`` (a parsed diagram) describes; ``mapping`` adds ``ACTIONTYPE -> step type`` pairs.

    Raises :class:`DefinitionError` when a diagram lacks what a workflow needs (an id,
    steps, the initial step, a step's id or action type, a path's target).
    """
    r = _Reader(doc, action_types(mapping))
    d = doc.value
    if not isinstance(d, dict):
        raise doc.error((), "not-a-mapping", "a diagram is a JSON object")
    r.fields(d, (), "diagram")
    r.nonempty(d, (), "annotations", "annotations", "unmapped-annotations")
    r.nonempty(d, (), "dataSources", "data sources", "unmapped-datasources")
    steps = r.take(d, (), "steps", list, [])
    if not steps:
        r.fail(("steps",), "missing-key", "a diagram needs steps")
    raw_id = r.take(d, (), "diagramId", str)
    if raw_id is None:
        r.fail(("diagramId",), "missing-key", "a diagram needs a diagramId")
    extra = r.take(d, (), "stepchart", dict, {})
    ids = _safe_ids(steps, r)
    wf: dict[str, Any] = {"workflow": _workflow_id(raw_id or "diagram", r)}
    name = r.take(d, (), "diagramName", str)
    if name and not extra.get("unnamed"):
        wf["name"] = name
    if desc := r.take(d, (), "description", str):
        wf["description"] = desc
    if extra.get("autoClose") is False:
        wf["autoClose"] = False
    initial = r.take(d, (), "initialStepId", str)
    if initial is None:
        r.fail(("initialStepId",), "missing-key", "a diagram needs an initialStepId")
    elif initial not in ids:
        r.fail(("initialStepId",), "unknown-step", f"the initial step {initial!r} is not a step of the diagram")
    wf["initialStep"] = ids.get(initial or "", initial)
    wf["steps"] = [_step(s, ("steps", i), ids, r) for i, s in enumerate(steps) if isinstance(s, dict)]
    if r.errors:
        raise DefinitionError(r.errors)
    return Imported(wf, r.warnings)


def _workflow_id(raw: str, r: _Reader) -> str:
    if _ID.fullmatch(raw):
        return raw
    new = "w-" + re.sub(r"[^A-Za-z0-9_-]", "-", raw)
    r.warn(("diagramId",), "renamed-id", f"the diagram id {raw!r} is not a workflow id; it becomes {new!r}")
    return new


def _step(s: dict[str, Any], at: At, ids: Mapping[str, str], r: _Reader) -> dict[str, Any]:
    r.fields(s, at, "step")
    r.nonempty(s, at, "schedule", "the step's schedule", "unmapped-schedule")
    for key in ("helpUrl", "helpText", "stepTemplateId"):
        r.nonempty(s, at, key, f"the step's {key}")
    extra = r.take(s, at, "stepchart", dict, {})
    raw_id = r.take(s, at, "id", str)
    if raw_id is None:
        r.fail((*at, "id"), "missing-key", "a step needs an id")
    out: dict[str, Any] = {"id": ids.get(raw_id or "", raw_id or "")}
    name = r.take(s, at, "name", str)
    if name and not extra.get("unnamed"):
        out["name"] = name
    if desc := r.take(s, at, "description", str):
        out["description"] = desc
    out["type"] = _type(s, at, extra, r)
    for key in ("canSkip", "proceedNext", "automatic"):
        if r.take(s, at, key, bool, False):
            out[key] = True
    for key in ("assignedType", "assignedTo"):
        if isinstance(extra.get(key), str):
            out[key] = extra[key]
    answers = _answers(s, at, out["type"], r)
    if answers is not None:
        out["answers"] = answers
    paths = r.take(s, at, "paths", list, [])
    out["paths"] = [_path(p, (*at, "paths", j), ids, r) for j, p in enumerate(paths) if isinstance(p, dict)]
    return out


def _type(s: dict[str, Any], at: At, extra: Mapping[str, Any], r: _Reader) -> str:
    action = r.take(s, at, "action", dict, {})
    action_type = r.take(action, (*at, "action"), "actionType", str)
    if isinstance(extra.get("type"), str):
        return str(extra["type"])
    if action_type is None:
        r.fail((*at, "action", "actionType"), "missing-key", "a step needs an action type")
        return "manual"
    if action_type in r.table:
        return r.table[action_type]
    r.warn(
        (*at, "action", "actionType"),
        "unmapped-action-type",
        f"no step type for the action type {action_type!r} (its args are not kept); the step becomes 'manual' "
        f"(--map {action_type}=STEPTYPE chooses one)",
    )
    return "manual"


def _answers(s: dict[str, Any], at: At, step_type: str, r: _Reader) -> list[Any] | None:
    action: dict[str, Any] = s["action"] if isinstance(s.get("action"), dict) else {}
    args: dict[str, Any] = action["args"] if isinstance(action.get("args"), dict) else {}
    args_at = (*at, "action", "args")
    key = "responses" if "responses" in args else "questionResponses"
    responses = args.get(key)
    others = sorted(k for k in args if k not in ("question", "responses", "questionResponses"))
    if others:
        r.warn(args_at, "unmapped-action-args", f"the action's args {', '.join(others)} are not kept")
    if responses is None:
        return None
    if not isinstance(responses, list):
        r.fail((*args_at, key), "wrong-type", f"{key} is a list")
        return None
    answers: list[Any] = []
    for k, resp in enumerate(responses):
        value = resp.get("value", resp.get("label", resp.get("name"))) if isinstance(resp, dict) else resp
        if isinstance(value, str | int | float | bool):
            answers.append(value)
        else:
            r.warn((*args_at, key, k), "unmapped-field", "a response without a value or label; left out")
    return answers or None


def _path(p: dict[str, Any], at: At, ids: Mapping[str, str], r: _Reader) -> dict[str, Any]:
    r.fields(p, at, "path")
    r.nonempty(p, at, "notifications", "the path's notifications", "unmapped-notifications")
    r.nonempty(p, at, "status", "the path's status")
    target = r.take(p, at, "nextStep", str)
    if target is None:
        r.fail((*at, "nextStep"), "missing-key", "a path needs a nextStep")
    elif target not in ids:
        r.fail((*at, "nextStep"), "unknown-step", f"the path leads to {target!r}, which is not a step of the diagram")
    out: dict[str, Any] = {"nextStep": ids.get(target or "", target or "")}
    expression = r.take(p, at, "expression", str, "")
    values = parse_expression(expression)
    if values is None:
        r.warn(
            (*at, "expression"),
            "unmapped-expression",
            f"the expression {expression!r} is not a comparison of the return value; "
            "the path is kept and always matches",
        )
    elif values:
        out["returnValue"] = values[0] if len(values) == 1 else values
    if r.take(p, at, "isAssignedToCustomExpression", bool, False):
        r.warn((*at, "assignedTo"), "unmapped-field", "a custom assignment expression is left out; the path keeps none")
        return out
    for key in ("assignedType", "assignedTo"):
        if (value := r.take(p, at, key, str)) is not None:
            out[key] = value
    if r.take(p, at, "forceGroupAssignment", bool, False):
        out["forceGroupAssignment"] = True
    return out
