"""Each finding's trace as a SPEC 6.3 scenario that ``stepchart test`` runs green.

The scenario starts from a new job, performs the trace (each move expecting success)
and ends with the finding: the stuck current steps (``expect: {job: ...}``), or the
refused move with the answer the engine gave (a step status, or the request error of
respond, complete and the cascade bound). A designer replays it, and keeps it as a
regression test that fails once the flaw is fixed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .findings import Finding
from .moves import Cast
from .states import StateKey

__all__ = ["render", "scenario_for", "write_scenarios"]


def _expect_state(key: StateKey) -> dict[str, Any]:
    closed, steps, _held = key
    current = []
    for step_id, status, kind, to in steps:
        entry: dict[str, Any] = {"stepId": step_id, "status": status, "assignedType": kind}
        if to is not None:
            entry["assignedTo"] = to
        current.append(entry)
    return {"job": {"closed": closed, "currentSteps": current}}


def scenario_for(finding: Finding, cast: Cast, workflow: str) -> dict[str, Any] | None:
    """The scenario of one finding (``workflow``: the path the scenario names), or None without a trace."""
    if finding.state is None:
        return None  # dead-step, or a job that cannot even be created: nothing to replay
    do: list[dict[str, Any]] = [{**m.scenario_operation(), "expect": {"success": True}} for m in finding.trace]
    if finding.last is None:
        do.append({"expect": _expect_state(finding.state)})
    else:
        op = finding.last.scenario_operation()
        if finding.answer in ("InvalidRequest", "InsufficientPrivileges", "JobNotFound", "SchemaViolation"):
            op["expect"] = {"error": {"type": finding.answer}}
        else:
            op["expect"] = {
                "success": False,
                "stepResponses": [{"stepId": finding.last.step_id, "status": finding.answer}],
            }
        do.append(op)
        do.append({"expect": _expect_state(finding.state)})  # a refusal changes nothing (R4a, R8, R12)
    names = {m.actor for m in [*finding.trace, *([finding.last] if finding.last else [])] if m.actor is not None}
    doc: dict[str, Any] = {
        "name": f"verify: {finding.code} at {finding.step_id} ({finding.problem.line}:{finding.problem.column})",
        "workflow": workflow,
    }
    if names:
        doc["actors"] = cast.to_scenario(names)
    doc["do"] = do
    return doc


def _flow(value: Any) -> str:
    return (
        str(yaml.safe_dump(value, sort_keys=False, default_flow_style=True, allow_unicode=True, width=10_000))
        .strip()
        .removesuffix("\n...")
    )


def render(doc: dict[str, Any]) -> str:
    """The scenario as YAML a designer reads: one line per operation field, the last state as a block."""
    head = {k: v for k, v in doc.items() if k not in ("do", "actors")}
    lines = [
        str(yaml.safe_dump(head, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)).rstrip()
    ]
    if doc.get("actors"):
        lines.append("actors:")
        lines.extend(f"  {_flow(name)}: {_flow(spec)}" for name, spec in doc["actors"].items())
    lines.append("do:")
    for op in doc["do"]:
        if set(op) == {"expect"} and "job" in op["expect"]:
            block = yaml.safe_dump(op, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100)
            lines.extend(("  - " if i == 0 else "    ") + line for i, line in enumerate(str(block).splitlines()))
            continue
        for i, (key, value) in enumerate(op.items()):
            lines.append(f"{'  - ' if i == 0 else '    '}{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


def write_scenarios(
    folder: Path, workflow_file: str, workflow_id: str, findings: list[Finding], cast: Cast
) -> list[Path]:
    """Write one scenario file per finding with a trace into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    relative = os.path.relpath(os.path.abspath(workflow_file), os.path.abspath(folder))
    written: list[Path] = []
    counts: dict[str, int] = {}
    for f in findings:
        doc = scenario_for(f, cast, Path(relative).as_posix())
        if doc is None:
            continue
        counts[f.code] = counts.get(f.code, 0) + 1
        path = folder / f"{workflow_id}-{f.code}-{f.step_id}-{counts[f.code]}.yaml"
        text = render(doc)
        header = f"# Written by stepchart verify: {f.problem.message}\n"
        path.write_text(header + text, "utf-8")
        written.append(path)
    return written
