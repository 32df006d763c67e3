"""What ``stepchart check`` finds in a scenario file before it runs: the refusals ``stepchart test`` would meet.

The checks are the runner's own (:class:`~.runner.ScenarioRun`: its actors, operations and
durations) and the engine's (:func:`stepchart.engine.payload.validate_payload` for an
``act:`` body), gathered for every operation instead of stopping at the first, each as a
located :class:`~stepchart.errors.Problem`:

* ``unknown-actor``: an ``as:`` naming no actor of the scenario;
* ``bad-duration``: an ``advance:`` that is not an ISO 8601 duration;
* an ``act:`` body the engine would refuse with ``InvalidJson`` (``invalid-json``) or
  ``SchemaViolation`` (the payload schema's codes: ``wrong-type``, ``unknown-key``, ...),
  unless the operation's ``expect`` names an error;
* given the step types, the workflows and job documents the scenario sets up, through
  the loaders the engine uses (a ``job:`` with an unknown status is ``unknown-status``;
  a workflow file that does not load is reported at ``workflow:`` with its first
  problem's code, unless that file is checked itself).

The scenario schema itself is checked beside these (:func:`stepchart.io.schemas.check_document`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from ...engine.payload import validate_payload
from ...errors import DefinitionError, Problem, RequestError
from ...io.jsontext import parse_json_strict
from ...io.schemas import check_document
from ...io.yamldoc import Document
from ...load.jobs import parse_job
from ...load.workflows import load_workflow
from ...model import StepType, Workflow
from .documents import Scenario, ScenarioFailure, scenarios_of, workflow_refusal
from .runner import Op, ScenarioRun

__all__ = ["scenario_problems"]


def scenario_problems(
    doc: Document,
    step_types: Mapping[str, StepType] | None = None,
    checked: Collection[Path] = (),
    loaded: dict[Path, Workflow | DefinitionError] | None = None,
) -> list[Problem]:
    """The refusals of every scenario of a parsed scenario file, located in it.

    With ``step_types``, the scenarios' workflows and job documents are loaded too;
    ``checked`` are the (resolved) workflow files checked on their own, ``loaded`` the
    workflow files loaded so far (by resolved path), shared across calls of one check.
    """
    cache: dict[Path, Workflow | DefinitionError] = {} if loaded is None else loaded
    found = scenarios_of(doc, Path(doc.file))
    if isinstance(found, str):  # the schema check words what is wrong with the file's shape
        return []
    problems: list[Problem] = []
    for scenario in found:
        problems.extend(_one(scenario))
        if step_types is not None and isinstance(scenario.doc.value, dict):
            problems.extend(_documents(scenario, step_types, checked, cache))
    return problems


def _documents(
    scenario: Scenario,
    step_types: Mapping[str, StepType],
    checked: Collection[Path],
    cache: dict[Path, Workflow | DefinitionError],
) -> list[Problem]:
    """What the loaders refuse in the workflows and jobs a scenario sets up (``ScenarioRun.setup`` loads the same)."""
    doc, v = scenario.doc, scenario.doc.value
    out: list[Problem] = []

    def workflow(at: tuple[str | int, ...]) -> Workflow | None:
        node = doc.sub(at)
        try:
            if isinstance(node.value, str):
                path = scenario.file.parent / node.value
                if not path.is_file():  # scenario-workflow-missing
                    return None
                key = path.resolve()
                if key not in cache:
                    try:
                        cache[key] = load_workflow(path, step_types)
                    except DefinitionError as exc:
                        cache[key] = exc
                found = cache[key]
                if isinstance(found, DefinitionError):
                    if key not in checked:
                        code, words = workflow_refusal(found, path)
                        out.append(doc.problem(at, code, f"{scenario.name}: {words}"))
                    return None
                return found
            if isinstance(node.value, dict):
                return load_workflow(node, step_types)
        except DefinitionError as exc:
            out.extend(_under(at, exc.problems))
        return None

    def job(at: tuple[str | int, ...], value: dict[str, Any], wf: Workflow) -> None:
        sub = doc.sub(at)
        sub.value = value
        none: Callable[[str], Workflow | None] = lambda _id: None  # noqa: E731  the workflow is given
        try:
            parse_job(sub, none, step_types, workflow=wf)
        except DefinitionError as exc:
            out.extend(_under(at, exc.problems))

    main = workflow(("workflow",)) if "workflow" in v else None
    if main is not None and isinstance(v.get("job"), dict) and "workflow" not in v["job"]:
        job(("job",), {"jobId": "J1", **v["job"]}, main)
    for i, other in enumerate(v.get("jobs") or []):
        if isinstance(other, dict) and "workflow" in other:
            wf = workflow(("jobs", i, "workflow"))
            if wf is not None:
                job(("jobs", i), {k: x for k, x in other.items() if k != "workflow"}, wf)
    return out


def _under(at: tuple[str | int, ...], problems: list[Problem]) -> list[Problem]:
    """Problems of a sub-document, their paths made the scenario's."""
    return [Problem(p.file, p.line, p.column, p.code, p.message, (*at, *p.path), p.severity) for p in problems]


def _one(scenario: Scenario) -> list[Problem]:
    run = ScenarioRun(scenario)
    out: list[Problem] = []

    def add(failure: ScenarioFailure) -> None:
        if failure.code is not None and failure.at is not None:
            out.append(scenario.doc.problem(failure.at, failure.code, f"{scenario.name}: {failure}"))

    try:
        run.read_top()
    except ScenarioFailure:  # malformed keys, clock or actors: the schema reports them
        return out
    try:
        for op in run.operations():
            try:
                if op.kind == "advance":
                    if isinstance(op.node["advance"], str):  # another type is the schema's
                        run.duration(op)
                elif op.kind != "expect":
                    run.actor(op)
            except ScenarioFailure as failure:
                add(failure)
            if op.kind == "act" and not _expects_error(op):
                out.extend(_body_problems(scenario, op))
    except ScenarioFailure:  # a malformed operation: the schema reports it
        pass
    return out


def _expects_error(op: Op) -> bool:
    expect = op.node.get("expect")
    return isinstance(expect, dict) and "error" in expect


def _body_problems(scenario: Scenario, op: Op) -> list[Problem]:
    """What the engine would refuse in an ``act:`` body, sent as ``stepchart test`` sends it."""
    at = ("do", op.index, "act")
    body = op.node["act"]
    text = body if isinstance(body, str) else json.dumps(body)
    try:
        validate_payload(text)
    except RequestError as exc:
        where = f"{scenario.name}: {op.label}: act body"
        if exc.type == "InvalidJson":
            detail = f" ({exc.details[0]})" if exc.details else ""
            return [
                scenario.doc.problem(at, "invalid-json", f"{where} is not JSON, the engine answers InvalidJson{detail}")
            ]
        if isinstance(body, str):  # raw text: every violation sits at the string
            located = Document(parse_json_strict(body), scenario.doc.file, {(): scenario.doc.mark(at)})
        else:
            located = scenario.doc.sub(at)
        found = [
            Problem(
                p.file,
                p.line,
                p.column,
                p.code,
                f"{where}: {p.message} (the engine answers {exc.type})",
                (*at, *p.path),
            )
            for p in check_document(located, "payload")
        ]
        return found or [
            scenario.doc.problem(at, "bad-value", f"{where}: {'; '.join(exc.details)} (the engine answers {exc.type})")
        ]
    return []
