"""What a request answers: :class:`ActionResult`, the host's :class:`Execution` news, :class:`RuleCheck`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ActionResult", "Execution", "RuleCheck", "StatusProvider", "response", "verdict"]


@dataclass(frozen=True)
class Execution:
    """What a host's status provider reports of an asynchronous step (R21)."""

    state: str  # "Running", "Completed" or "Failed"
    return_value: str = "Success"
    message: str = ""


StatusProvider = Callable[[str, str], Execution | None]
"""``provider(job_id, step_id)``: the host's news of a running asynchronous step, or None."""


@dataclass
class ActionResult:
    """The answer to one request: an HTTP-like status, the R13/R14 body, and the R24 events."""

    status_code: int
    body: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status_code == 200

    @property
    def success(self) -> bool:
        return self.ok and bool(self.body.get("success"))

    @property
    def error_type(self) -> str | None:
        return self.body["error"]["type"] if "error" in self.body else None


@dataclass(frozen=True)
class RuleCheck:
    """One rule checked for one target: its verdict and the facts it read (``explain``)."""

    rule: str
    passed: bool
    yields: str
    description: str
    facts: tuple[tuple[str, Any, bool], ...]


def response(step_id: str, status: str, text: str) -> dict[str, Any]:
    """One entry of ``stepResponses`` (R13)."""
    return {"stepId": step_id, "status": status, "statusDescription": text}


def verdict(result: ActionResult, checks: Mapping[str, Sequence[RuleCheck]]) -> dict[str, Any]:
    """One ``enabled_actions`` answer: allowed, or the status, the refusing rule and the message."""
    if not result.ok:
        err = result.body["error"]
        status, message = err["type"], err["message"]
    else:
        resp = result.body["stepResponses"][0]
        if resp["status"] == "Success":
            return {"allowed": True}
        status, message = resp["status"], resp["statusDescription"]
    failing = next((c for cs in checks.values() for c in cs if not c.passed), None)
    return {"allowed": False, "status": status, "rule": failing.rule if failing else None, "message": message}
