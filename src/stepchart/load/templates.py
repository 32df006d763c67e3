"""Job template documents (YAML or JSON) -> checked :class:`~stepchart.model.template.JobTemplate`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import DefinitionError, Problem
from ..io.files import walk_files
from ..io.schemas import check_document
from ..io.yamldoc import Document, as_document
from ..model import Workflow
from ..model.template import COUNTER, JobTemplate
from ..model.times import parse_duration
from .workflows import _assignment_problems

__all__ = ["default_template", "load_template", "load_templates", "parse_template", "templates_for"]

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def parse_template(doc: Document, workflows: Mapping[str, Workflow] | None = None) -> JobTemplate:
    """Check a parsed template against its schema (and, given ``workflows`` by id, that its workflow is one)."""
    problems = check_document(doc, "template")
    if problems:
        raise DefinitionError(problems)
    v = doc.value
    problems.extend(_assignment_problems(doc, (), v))
    for m in _PLACEHOLDER.finditer(v.get("jobName", "")):
        if m.group() != COUNTER:
            message = f"{m.group()} is not a placeholder; jobName knows {COUNTER}"
            problems.append(doc.problem(("jobName",), "bad-placeholder", message))
    due_in = None
    if "dueIn" in v:
        try:
            due_in = parse_duration(v["dueIn"])
        except ValueError as exc:
            problems.append(doc.problem(("dueIn",), "bad-format", str(exc)))
    if workflows is not None and v["workflow"] not in workflows:
        known = ", ".join(sorted(workflows)) or "none"
        problems.append(
            doc.problem(("workflow",), "unknown-workflow", f"no workflow {v['workflow']!r} is loaded; loaded: {known}")
        )
    if problems:
        raise DefinitionError(problems)
    name = v.get("name") or v["jobTemplate"]
    priority = v.get("priority")
    return JobTemplate(
        id=v["jobTemplate"],
        workflow=v["workflow"],
        name=name,
        description=v.get("description", ""),
        state=v.get("state", "Active"),
        job_name=v.get("jobName", f"{name} {COUNTER}"),
        priority=None if priority is None else str(priority),
        owned_by=v.get("ownedBy"),
        assigned_type=v.get("assignedType"),
        assigned_to=v.get("assignedTo"),
        due_in=due_in,
        file=doc.file,
        line=doc.mark(())[0],
    )


def load_template(
    source: str | Path | Mapping[str, Any] | Document, workflows: Mapping[str, Workflow] | None = None
) -> JobTemplate:
    """Load a template from a file path, YAML text, a parsed document or a mapping."""
    return parse_template(as_document(source, "<template>", kind="job template"), workflows)


def default_template(workflow: Workflow) -> JobTemplate:
    """The template a workflow without one gets: its id and name are the workflow's."""
    name = workflow.name or workflow.id
    return JobTemplate(id=workflow.id, workflow=workflow.id, name=name, job_name=f"{name} {COUNTER}", default=True)


def load_templates(paths: Sequence[str | Path], workflows: Mapping[str, Workflow]) -> list[JobTemplate]:
    """Every template document under ``paths`` (files or folders), each checked against ``workflows``.

    Raises :class:`DefinitionError` with every problem of every file (a template whose
    workflow is not loaded, an id used twice), located; ``FileNotFoundError`` for a missing path.
    """
    found, missing = walk_files(paths)
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    problems: list[Problem] = []
    out: list[JobTemplate] = []
    for f in found:
        try:
            t = load_template(f.path, workflows)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        first = next((o for o in out if o.id == t.id), None)
        if first is not None:
            message = f"template id {t.id!r} is also defined in {first.file}:{first.line}"
            problems.append(Problem(t.file, t.line, 1, "duplicate-template", message))
            continue
        out.append(t)
    if problems:
        raise DefinitionError(problems)
    return out


def templates_for(loaded: Sequence[JobTemplate], workflows: Mapping[str, Workflow]) -> dict[str, JobTemplate]:
    """The templates a service offers, by id: the loaded ones, then a default for each workflow without one."""
    out = {t.id: t for t in loaded}
    covered = {t.workflow for t in loaded}
    for wid in sorted(workflows):
        if wid not in covered and wid not in out:
            out[wid] = default_template(workflows[wid])
    return out
