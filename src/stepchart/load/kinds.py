"""Which kind of stepchart document a parsed file is, from its top-level keys alone."""

from __future__ import annotations

from typing import Any

__all__ = ["document_kind"]


def document_kind(value: Any) -> str:
    """``workflow``, ``chart``, ``rules``, ``scenario``, ``job``, ``template``, ``project`` or ``unknown``, by keys."""
    if not isinstance(value, dict):
        return "unknown"
    keys = set(value)
    if "project" in keys:  # stepchart.yaml: its rules: names folders, not rules
        return "project"
    if keys & {"do", "scenarios"}:
        return "scenario"
    if "jobId" in keys:
        return "job"
    if "stepType" in keys or {"states", "transitions"} <= keys:
        return "chart"
    if "rules" in keys:
        return "rules"
    if "jobTemplate" in keys:
        return "template"
    if keys & {"workflow", "initialStep", "steps"}:
        return "workflow"
    return "unknown"
