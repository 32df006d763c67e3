"""Job documents (SPEC 6.2): JSON or YAML -> a checked :class:`Job`, and back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import DefinitionError
from ..io.schemas import check_document
from ..io.yamldoc import Document
from ..model import CurrentStep, Hold, Job, StepDef, StepType, Workflow
from ..model.times import format_datetime, parse_datetime
from ..vocabulary import AssignmentType
from .workflows import ASSIGNEE_TYPES, as_text

__all__ = ["initial_assignment", "parse_job"]


def initial_assignment(step: StepDef) -> tuple[AssignmentType, str | None]:
    """A step's own assignment, or Unassigned (R9a)."""
    for kind in ASSIGNEE_TYPES:
        if step.assigned_type == kind:
            return kind, step.assigned_to
    return "Unassigned", None


def _norm_time(value: str | None) -> str | None:
    return None if value is None else format_datetime(parse_datetime(value))


def parse_job(
    doc: Document,
    find_workflow: Callable[[str], Workflow | None],
    step_types: Mapping[str, StepType],
    *,
    workflow: Workflow | None = None,
) -> tuple[Job, bool]:
    """Check a job document; returns the job and whether it is new (no ``currentSteps``).

    ``workflow`` overrides the document's ``workflow`` field (scenarios give it apart).
    Every status must be a state of the step's chart, so a bogus stored state is
    refused here rather than failing inside python-statemachine later.
    """
    problems = check_document(doc, "job")
    if problems:
        raise DefinitionError(problems)
    v: dict[str, Any] = doc.value
    if workflow is None:
        wid = v.get("workflow")
        if not isinstance(wid, str):
            raise doc.error(("workflow",), "missing-workflow", "a job document names its workflow by id")
        workflow = find_workflow(wid)
        if workflow is None:
            raise doc.error(("workflow",), "unknown-workflow", f"no workflow {wid!r} is loaded")
    job = Job(v["jobId"], workflow.id, workflow.version, bool(v.get("closed", False)))
    is_new = "currentSteps" not in v
    seen: set[str] = set()
    for i, c in enumerate(v.get("currentSteps", [])):
        at = ("currentSteps", i)
        step = workflow.steps.get(c["stepId"])
        if step is None:
            problems.append(
                doc.problem(
                    (*at, "stepId"), "unknown-step", f"{c['stepId']!r} is not a step of workflow {workflow.id!r}"
                )
            )
            continue
        if c["stepId"] in seen:
            problems.append(
                doc.problem(
                    (*at, "stepId"),
                    "duplicate-current-step",
                    f"{c['stepId']!r} is current twice; a step is current at most once",
                )
            )
        seen.add(c["stepId"])
        st = step_types[step.type]
        status = c.get("status", st.initial)
        if status not in st.states or st.states[status].final:
            allowed = [s for s, d in st.states.items() if not d.final]
            problems.append(
                doc.problem(
                    (*at, "status"),
                    "unknown-status",
                    f"{status!r} is not a status of a current {step.type} step; allowed: {', '.join(allowed)}",
                )
            )
            continue
        if "assignedType" in c or "assignedTo" in c:
            kind: AssignmentType = c.get("assignedType", "Unassigned")
            to = c.get("assignedTo")
            if kind in ASSIGNEE_TYPES and not to:
                problems.append(
                    doc.problem((*at, "assignedType"), "missing-assignee", f"assignedType {kind} needs assignedTo")
                )
            if kind == "Unassigned":
                to = None
        else:
            kind, to = initial_assignment(step)
        job.current_steps.append(CurrentStep(c["stepId"], status, kind, to))
    hold_ids: set[str] = set()
    for i, h in enumerate(v.get("holds", [])):
        if h["holdId"] in hold_ids:
            problems.append(
                doc.problem(("holds", i, "holdId"), "duplicate-hold", f"hold id {h['holdId']!r} is used twice")
            )
        hold_ids.add(h["holdId"])
        job.holds.append(
            Hold(
                h["holdId"],
                h["stepId"],
                h.get("setBy"),
                _norm_time(h.get("setDate")),
                _norm_time(h.get("scheduledRelease")),
                h.get("dependentJobId"),
                h.get("dependentStepId"),
                h.get("releasedBy"),
                _norm_time(h.get("releasedDate")),
            )
        )
    job.return_values = {k: as_text(x) for k, x in v.get("returnValues", {}).items()}
    for h in v.get("history", []):
        rec = {
            "date": _norm_time(h["date"]),
            "jobId": h.get("jobId", job.job_id),
            "stepId": h.get("stepId"),
            "username": h.get("username", "system"),
            "action": h["action"],
        }
        job.history.append(rec)
    if problems:
        raise DefinitionError(problems)
    return job, is_new
