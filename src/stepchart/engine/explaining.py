"""The explain tracer: every rule checked for each target of one request, in order, with the facts it read."""

from __future__ import annotations

from typing import Any

from ..trace import CheckedRule, FactReading, Tracer
from .results import RuleCheck

__all__ = ["REQUEST_KEY", "ExplainTracer"]

REQUEST_KEY = "(request)"
"""The key of the request-level checks in :attr:`ExplainTracer.checks`."""


class ExplainTracer(Tracer):
    """Collects :class:`RuleCheck` records by target step (``REQUEST_KEY`` for request-level rules)."""

    def __init__(self) -> None:
        self.checks: dict[str, list[RuleCheck]] = {}
        self._facts: list[FactReading] = []

    def fact_read(self, name: str, argument: Any, value: bool) -> None:
        self._facts.append((name, argument, value))

    def rule_checked(self, rule: CheckedRule, action: str, step_id: str | None, passed: bool) -> None:
        check = RuleCheck(rule.name, passed, rule.yields, rule.description, tuple(self._facts))
        self._facts = []
        self.checks.setdefault(step_id or REQUEST_KEY, []).append(check)
