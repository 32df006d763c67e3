"""What the SQL stores keep of a jobAction response: step responses as runs, not one object per target.

A request that names many step ids and is refused for each (``StepNotInDiagram`` for
100 unknown ids) used to be stored with its whole per-step response list: one object per
target, each repeating the step id already in the body and the same status text. The
stores keep instead the runs of equal (status, statusDescription) along the targets,
and the targets come back from the body (its ``stepIds``, de-duplicated in order: R11).
Reading a log entry expands it, so idempotent retries, replay and ``action_log`` see the
response exactly as it was answered. Responses that are not in this shape (default
targets, other operations) are stored as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["RUNS", "compact_response", "expand_response"]

RUNS: Final = "stepResponseRuns"
"""The key of the compact form: ``[[status, statusDescription, count], ...]`` in target order."""


def _targets(body: Any) -> list[str] | None:
    ids = body.get("stepIds") if isinstance(body, Mapping) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return None
    return list(dict.fromkeys(ids))


def compact_response(body: Any, response: Any) -> Any:
    """``response`` with its ``stepResponses`` as runs when they follow the body's step ids exactly."""
    targets = _targets(body)
    if targets is None or not isinstance(response, Mapping) or set(response) != {"success", "stepResponses"}:
        return response
    steps = response["stepResponses"]
    if not isinstance(steps, list) or len(steps) != len(targets):
        return response
    runs: list[list[Any]] = []
    for target, r in zip(targets, steps, strict=True):
        if not isinstance(r, Mapping) or set(r) != {"stepId", "status", "statusDescription"} or r["stepId"] != target:
            return response
        if runs and runs[-1][0] == r["status"] and runs[-1][1] == r["statusDescription"]:
            runs[-1][2] += 1
        else:
            runs.append([r["status"], r["statusDescription"], 1])
    return {"success": response["success"], RUNS: runs}


def expand_response(body: Any, response: Any) -> Any:
    """The response as it was answered, from what :func:`compact_response` kept."""
    if not isinstance(response, Mapping) or RUNS not in response:
        return response
    targets = iter(_targets(body) or [])
    steps = [
        {"stepId": next(targets), "status": status, "statusDescription": text}
        for status, text, count in response[RUNS]
        for _ in range(count)
    ]
    return {"success": response["success"], "stepResponses": steps}
