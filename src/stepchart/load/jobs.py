"""Job documents (SPEC 6.2): JSON or YAML -> a checked :class:`Job`, and back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import DefinitionError, Problem
from ..io.schemas import check_document
from ..io.yamldoc import Document
from ..model import CurrentStep, Hold, Job, JobProperties, StepDef, StepType, Workflow
from ..model.times import format_datetime, parse_datetime
from ..vocabulary import AssignmentType
from .workflows import ASSIGNEE_TYPES, as_text

__all__ = ["initial_assignment", "parse_job", "upgrade_blockers"]

VersionLookup = Callable[[str, str], Workflow | None]
"""``lookup(workflow_id, version)``: a loaded workflow version, or None."""


def initial_assignment(step: StepDef) -> tuple[AssignmentType, str | None]:
    """A step's own assignment, or Unassigned (R9a)."""
    for kind in ASSIGNEE_TYPES:
        if step.assigned_type == kind:
            return kind, step.assigned_to
    return "Unassigned", None


def _norm_time(value: str | None) -> str | None:
    return None if value is None else format_datetime(parse_datetime(value))


def upgrade_blockers(job: Job, target: Workflow, step_types: Mapping[str, StepType]) -> list[str]:
    """The current steps that keep ``job`` from moving to ``target``: missing from it, or in a status
    its step's lifecycle does not have (the preconditions of ``upgrade_job``)."""
    out = []
    for cs in job.current_steps:
        step = target.steps.get(cs.step_id)
        st = step_types.get(step.type) if step is not None else None
        if st is None or cs.status not in st.states or st.states[cs.status].final:
            out.append(cs.step_id)
    return out


def _version(
    doc: Document, workflow: Workflow, find_version: VersionLookup | None, upgrade: bool
) -> tuple[Workflow, str | None]:
    """The workflow version the document's job is on, and the version it is upgraded from (or None).

    A document's ``workflowVersion`` is kept: the job runs on that version when it is
    loaded; another version is refused with both hashes unless ``upgrade`` asks for it.
    """
    wanted = doc.value.get("workflowVersion")
    if not wanted or wanted == workflow.version:
        return workflow, None
    own = find_version(workflow.id, wanted) if find_version is not None else None
    if own is not None:
        return own, None
    if upgrade:
        return workflow, wanted
    raise doc.error(
        ("workflowVersion",),
        "version-mismatch",
        f"the job is on version {wanted} of workflow {workflow.id!r}, but version {workflow.version} is "
        "loaded; load its own version, or ask for the upgrade (--upgrade, upgrade=True)",
    )


def parse_job(
    doc: Document,
    find_workflow: Callable[[str], Workflow | None],
    step_types: Mapping[str, StepType],
    *,
    workflow: Workflow | None = None,
    find_version: VersionLookup | None = None,
    upgrade: bool = False,
) -> tuple[Job, bool]:
    """Check a job document; returns the job and whether it is new (no ``currentSteps``).

    ``workflow`` overrides the document's ``workflow`` field (scenarios give it apart).
    Every status must be a state of the step's chart, so a bogus stored state is
    refused here rather than failing inside python-statemachine later. A document that
    contradicts its workflow (a current step twice or not in it, a hold or a return
    value for a step not in it) is refused with the location of each contradiction.

    A ``workflowVersion`` other than the workflow's is looked up with ``find_version``;
    if that version is not loaded, the document is refused (``version-mismatch``, both
    hashes named) unless ``upgrade`` is true, in which case the job moves to the loaded
    version when the upgrade's preconditions hold (no step running, every current step
    in the new version with a status its lifecycle has).
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
    workflow, upgraded_from = _version(doc, workflow, find_version, upgrade)
    job = Job(v["jobId"], workflow.id, workflow.version, bool(v.get("closed", False)))
    job.properties = JobProperties.from_doc(v)  # the schema checked their kinds and dates
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
        if h["stepId"] not in workflow.steps:
            problems.append(
                doc.problem(
                    ("holds", i, "stepId"),
                    "unknown-step",
                    f"hold {h['holdId']!r} is on {h['stepId']!r}, not a step of workflow {workflow.id!r}",
                )
            )
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
    for k in v.get("returnValues", {}):
        if k not in workflow.steps:
            problems.append(
                doc.problem(
                    ("returnValues", k),
                    "unknown-step",
                    f"a return value for {k!r}, not a step of workflow {workflow.id!r}",
                    key=True,
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
    if upgraded_from is not None and not problems:
        problems.extend(_upgrade_problems(doc, job, workflow, step_types, upgraded_from))
    if problems:
        raise DefinitionError(problems)
    return job, is_new


def _upgrade_problems(
    doc: Document, job: Job, target: Workflow, step_types: Mapping[str, StepType], previous: str
) -> list[Problem]:
    """Why the job of ``doc`` cannot be upgraded from ``previous`` to ``target`` (empty: it can)."""
    where = ("workflowVersion",)
    running = [c.step_id for c in job.current_steps if step_types[target.steps[c.step_id].type].is_running(c.status)]
    if running:
        return [
            doc.problem(
                where,
                "upgrade-refused",
                f"the job cannot move from version {previous} to {target.version}: "
                f"a step is running ({', '.join(running)})",
            )
        ]
    return []
