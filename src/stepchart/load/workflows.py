"""Workflow documents (SPEC 6.1): YAML -> checked :class:`Workflow`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ..errors import DefinitionError, Problem
from ..io.schemas import check_document
from ..io.yamldoc import Document, as_document
from ..model import PathDef, StepDef, StepType, Workflow
from ..vocabulary import ASSIGNMENT_TYPES, AssignmentType

__all__ = ["ASSIGNEE_TYPES", "as_text", "load_workflow", "parse_workflow", "workflow_version"]

ASSIGNEE_TYPES: Final[tuple[AssignmentType, ...]] = tuple(t for t in ASSIGNMENT_TYPES if t != "Unassigned")
"""The assignment types that name an assignee in ``assignedTo`` (User, Group)."""


def as_text(value: Any) -> str:
    """Return values compare as strings (R5): ``true`` and ``5`` read as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def workflow_version(value: Any) -> str:
    """The content hash that identifies one version of a workflow."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def parse_workflow(doc: Document, step_types: Mapping[str, StepType]) -> Workflow:
    """Check a parsed workflow against the schema and the known step types."""
    problems = check_document(doc, "workflow")
    if problems:
        raise DefinitionError(problems)
    v = doc.value
    steps: dict[str, StepDef] = {}
    for i, s in enumerate(v["steps"]):
        at = ("steps", i)
        if s["id"] in steps:
            problems.append(doc.problem((*at, "id"), "duplicate-step", f"step id {s['id']!r} is used twice"))
        st = step_types.get(s["type"])
        if st is None:
            problems.append(
                doc.problem(
                    (*at, "type"),
                    "unknown-step-type",
                    f"unknown step type {s['type']!r}; types are: {', '.join(sorted(step_types))}",
                )
            )
        elif "answers" in s and not any(t.event == "respond" for t in st.transitions):
            problems.append(
                doc.problem(
                    (*at, "answers"),
                    "answers-not-allowed",
                    f"answers belong to steps answered by respond; type {s['type']!r} is not",
                )
            )
        problems.extend(_assignment_problems(doc, at, s))
        paths = []
        for j, p in enumerate(s.get("paths", [])):
            problems.extend(_assignment_problems(doc, (*at, "paths", j), p))
            rv = p.get("returnValue")
            values = None if rv is None else tuple(as_text(x) for x in (rv if isinstance(rv, list) else [rv]))
            paths.append(
                PathDef(
                    p["nextStep"],
                    values,
                    p.get("assignedType"),
                    p.get("assignedTo"),
                    bool(p.get("forceGroupAssignment", False)),
                    doc.mark((*at, "paths", j))[0],
                )
            )
        answers = s.get("answers")
        steps.setdefault(
            s["id"],
            StepDef(
                s["id"],
                s["type"],
                s.get("name", ""),
                bool(s.get("canSkip", False)),
                bool(s.get("proceedNext", False)),
                bool(s.get("automatic", False)),
                s.get("assignedType"),
                s.get("assignedTo"),
                None if answers is None else tuple(as_text(a) for a in answers),
                tuple(paths),
                doc.mark(at)[0],
            ),
        )
    if v["initialStep"] not in steps:
        problems.append(
            doc.problem(
                ("initialStep",),
                "unknown-initial-step",
                f"initial step {v['initialStep']!r} is not a step; steps are: {', '.join(steps)}",
            )
        )
    for i, s in enumerate(v["steps"]):
        for j, p in enumerate(s.get("paths", [])):
            if p["nextStep"] not in steps:
                problems.append(
                    doc.problem(
                        ("steps", i, "paths", j, "nextStep"),
                        "unknown-step",
                        f"path of step {s['id']!r} leads to {p['nextStep']!r}; steps are: {', '.join(sorted(steps))}",
                    )
                )
    if problems:
        raise DefinitionError(problems)
    return Workflow(
        v["workflow"],
        v["initialStep"],
        steps,
        v.get("name", ""),
        bool(v.get("autoClose", True)),
        workflow_version(v),
        doc.file,
        v,
    )


def _assignment_problems(doc: Document, at: tuple[str | int, ...], node: Mapping[str, Any]) -> list[Problem]:
    kind, to = node.get("assignedType"), node.get("assignedTo")
    if kind in ASSIGNEE_TYPES and not to:
        return [doc.problem((*at, "assignedType"), "missing-assignee", f"assignedType {kind} needs assignedTo")]
    if to is not None and kind not in ASSIGNEE_TYPES:  # no type, or Unassigned (the schema allows no other)
        return [
            doc.problem((*at, "assignedTo"), "assignee-without-type", "assignedTo needs assignedType User or Group")
        ]
    return []


def load_workflow(
    source: str | Path | Mapping[str, Any] | Document, step_types: Mapping[str, StepType], *, file: str | None = None
) -> Workflow:
    """Load a workflow from a file path, YAML text, a parsed document or a mapping."""
    return parse_workflow(as_document(source, file or "<workflow>", kind="workflow"), step_types)
