"""A workflow document written as Workflow Manager diagram JSON (WM-REST.md, "Diagram JSON").

WM has no field for a step's own type name (beyond its action type), a step's own
assignment, or a workflow's ``autoClose``: those travel in a ``stepchart`` member of the
step and of the diagram, which WM ignores and :func:`~.reading.from_diagram` reads, so a
round trip loses nothing. Layout (positions, colours) is generated: a column of boxes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...load.workflows import as_text
from .actions import action_type_of
from .expressions import render_expression

__all__ = ["to_diagram"]

_BOX_W, _BOX_H, _GAP = 160, 60, 60


def to_diagram(workflow: Mapping[str, Any], *, version: int = 1) -> dict[str, Any]:
    """The diagram of ``workflow`` (a loaded workflow's source document) as diagram version ``version``."""
    steps = list(workflow["steps"])
    names = {s["id"]: s.get("name") or s["id"] for s in steps}
    extra: dict[str, Any] = {}
    if workflow.get("autoClose") is False:
        extra["autoClose"] = False
    diagram: dict[str, Any] = {
        "diagramId": workflow["workflow"],
        "diagramVersion": version,
        "diagramName": workflow.get("name") or workflow["workflow"],
        "description": workflow.get("description", ""),
        "initialStepId": workflow["initialStep"],
        "initialStepName": names.get(workflow["initialStep"], workflow["initialStep"]),
        "steps": [_step(s, i) for i, s in enumerate(steps)],
        "annotations": [],
        "dataSources": [],
        "displayGrid": True,
    }
    if workflow.get("name") is None:
        extra["unnamed"] = True
    if extra:
        diagram["stepchart"] = extra
    return diagram


def _step(step: Mapping[str, Any], index: int) -> dict[str, Any]:
    extra: dict[str, Any] = {"type": step["type"]}
    for key in ("assignedType", "assignedTo"):
        if key in step:
            extra[key] = step[key]
    if "name" not in step:
        extra["unnamed"] = True
    args: dict[str, Any] = {}
    if "answers" in step:
        args = {
            "question": step.get("name") or step["id"],
            "responses": [{"label": as_text(a), "value": a} for a in step["answers"]],
        }
    return {
        "id": step["id"],
        "name": step.get("name") or step["id"],
        "description": step.get("description", ""),
        "stepTemplateId": None,
        "automatic": bool(step.get("automatic", False)),
        "proceedNext": bool(step.get("proceedNext", False)),
        "canSkip": bool(step.get("canSkip", False)),
        "action": {"actionType": action_type_of(step["type"]), "args": args},
        "paths": [_path(p) for p in step.get("paths", [])],
        "position": f"100,{100 + index * (_BOX_H + _GAP)},{_BOX_W},{_BOX_H}",
        "shape": "Rectangle",
        "color": "#ffffff",
        "outlineColor": "#000000",
        "labelColor": "#000000",
        "helpUrl": "",
        "helpText": "",
        "schedule": None,
        "stepchart": extra,
    }


def _path(path: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nextStep": path["nextStep"],
        "expression": render_expression(path.get("returnValue")),
        "label": "",
        "assignedType": path.get("assignedType"),
        "assignedTo": path.get("assignedTo"),
        "isAssignedToCustomExpression": False,
        "forceGroupAssignment": bool(path.get("forceGroupAssignment", False)),
        "notifications": [],
        "points": [],
        "ports": [],
        "lineColor": "#000000",
        "labelColor": "#000000",
    }
