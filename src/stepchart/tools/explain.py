"""Why a request would get its answer: every rule checked for each target, in order, with the facts it read.

:func:`explain` wraps :meth:`stepchart.Engine.explain` (a dry run with an
:class:`~stepchart.engine.explaining.ExplainTracer`: nothing changes) into
an :class:`Explanation` that the ``stepchart explain`` command prints as text or JSON;
Python callers get the same data::

    >>> from stepchart import Engine
    >>> from stepchart.tools.explain import explain
    >>> engine = Engine(workflows=["examples/parcel-edit.yaml"])
    >>> job = engine.create_job("parcel-edit", "J1", now="2026-03-01T09:00:00Z")
    >>> ex = explain(engine, "J1", {"type": "Run"}, "bob", "2026-03-01T09:00:00Z")
    >>> ex.steps[0].status, ex.steps[0].failed.rule
    ('AssignedToDifferentUser', 'run-finish-by-assignee')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..engine.explaining import REQUEST_KEY
from ..engine.inputs import as_actor, as_now
from ..engine.results import RuleCheck
from ..model import Actor
from ..model.times import format_datetime

if TYPE_CHECKING:
    from ..engine.core import Engine
    from .reporting import Style

__all__ = ["Explanation", "StepExplanation", "explain", "fact_text", "render_text"]

def _arg_json(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def fact_text(name: str, arg: Any, result: bool) -> str:
    """``actor.privilege(jobForceStop) = false``."""
    if arg is None:
        shown = name
    elif isinstance(arg, frozenset | set | list | tuple):
        shown = f"{name}({', '.join(sorted(map(str, arg)))})"
    else:
        shown = f"{name}({arg})"
    return f"{shown} = {str(result).lower()}"


def check_dict(check: RuleCheck) -> dict[str, Any]:
    return {
        "rule": check.rule,
        "passed": check.passed,
        "yields": check.yields,
        "description": check.description,
        "facts": [{"fact": n, "argument": _arg_json(a), "value": v} for n, a, v in check.facts],
    }


@dataclass(frozen=True)
class StepExplanation:
    """The checks of one target step and the status the request would give it."""

    step_id: str
    checks: list[RuleCheck]
    status: str | None
    description: str = ""

    @property
    def failed(self) -> RuleCheck | None:
        """The rule that decided a refusal, if one did."""
        return next((c for c in self.checks if not c.passed), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stepId": self.step_id,
            "status": self.status,
            "statusDescription": self.description,
            "checks": [check_dict(c) for c in self.checks],
        }


@dataclass(frozen=True)
class Explanation:
    """A dry run of one jobAction request: the response, the request-level checks, each step's checks."""

    job_id: str
    body: Any
    actor: Actor
    now: str
    status_code: int
    response: dict[str, Any]
    request_checks: list[RuleCheck] = field(default_factory=list)
    steps: list[StepExplanation] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        """True when the request would succeed for every target."""
        return self.status_code == 200 and bool(self.response.get("success"))

    @property
    def action(self) -> str | None:
        return self.body.get("type") if isinstance(self.body, dict) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "jobId": self.job_id,
            "request": self.body,
            "actor": {
                "username": self.actor.username,
                "groups": sorted(self.actor.groups),
                "privileges": sorted(self.actor.privileges),
            },
            "now": self.now,
            "allowed": self.allowed,
            "statusCode": self.status_code,
            "response": self.response,
            "requestChecks": [check_dict(c) for c in self.request_checks],
            "steps": [s.to_dict() for s in self.steps],
            "events": self.events,
        }


def explain(
    engine: Engine,
    job_id: str,
    body: str | bytes | Mapping[str, Any],
    actor: Actor | str,
    now: datetime | str,
) -> Explanation:
    """What ``engine.act(job_id, body, actor, now)`` would answer, and why; the job is not changed."""
    who, when = as_actor(actor), as_now(now)
    result, checks = engine.explain(job_id, body, who, when)
    shown: Any = body
    if isinstance(body, str | bytes):
        try:
            shown = json.loads(body)
        except ValueError:
            shown = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    elif isinstance(body, Mapping):
        shown = dict(body)
    steps: list[StepExplanation] = []
    listed: set[str] = set()
    for resp in result.body.get("stepResponses", []):
        sid = resp["stepId"]
        listed.add(sid)
        steps.append(StepExplanation(sid, list(checks.get(sid, [])), resp["status"], resp["statusDescription"]))
    for sid, cs in checks.items():
        if sid != REQUEST_KEY and sid not in listed:
            failed = next((c for c in cs if not c.passed), None)
            steps.append(StepExplanation(sid, list(cs), failed.yields if failed else None,
                                         failed.description if failed else ""))  # fmt: skip
    return Explanation(
        job_id, shown, who, format_datetime(when), result.status_code, result.body,
        list(checks.get(REQUEST_KEY, [])), steps, list(result.events),
    )  # fmt: skip


def render_text(ex: Explanation, style: Style) -> str:
    """The explanation as a designer reads it in a terminal."""
    a = ex.actor
    who = "the engine (system)" if a.is_system else (
        f"{a.username} (groups: {', '.join(sorted(a.groups)) or 'none'}; "
        f"privileges: {', '.join(sorted(a.privileges)) or 'none'})"
    )  # fmt: skip
    what = ex.action or "request"
    ids = ex.body.get("stepIds") if isinstance(ex.body, dict) else None
    lines = [style.bold(f"{what}{' ' + str(ids) if ids else ''} on job {ex.job_id} as {who} at {ex.now}")]
    width = max([len(c.rule) for c in ex.request_checks] + [len(c.rule) for s in ex.steps for c in s.checks] + [8])

    def check_lines(cs: list[RuleCheck]) -> list[str]:
        out = []
        for c in cs:
            mark = style.green("pass") if c.passed else style.red("FAIL")
            facts = ", ".join(fact_text(n, arg, v) for n, arg, v in c.facts) or "(no fact read)"
            tail = "" if c.passed else f"  -> {c.yields}"
            out.append(f"  {mark}  {c.rule.ljust(width)}  {style.dim(facts)}{style.bold(tail)}")
        return out

    if ex.request_checks:
        lines.append("request checks:")
        lines.extend(check_lines(ex.request_checks))
    if ex.status_code != 200:
        err = ex.response.get("error", {})
        lines.append(style.red(f"=> {ex.status_code} {err.get('type')}: {err.get('message')}"))
        lines.extend(f"   {d}" for d in err.get("details", []))
    for s in ex.steps:
        lines.append(f"step {style.bold(s.step_id or repr(''))}:")
        lines.extend(check_lines(s.checks) if s.checks else ["  (no rule checked)"])
        if s.status is not None:
            ok = s.status == "Success"
            lines.append("  " + style.verdict(ok, f"=> {s.status}") + (f": {s.description}" if s.description else ""))
    verdict = "would succeed" if ex.allowed else "would not succeed"
    lines.append(style.verdict(ex.allowed, f"The request {verdict}.") + " Nothing was changed.")
    return "\n".join(lines) + "\n"
