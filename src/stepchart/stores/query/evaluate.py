"""A parsed ``q`` evaluated in memory, with SQL's three-valued logic so every store finds the same jobs.

A comparison with a missing value is unknown (``None``), ``NOT`` of unknown is unknown,
and a job matches only when the whole condition is true. A test on a field of the
current steps holds when it is true for one of them (SQL's ``EXISTS``), so it is never
unknown. ``LIKE`` folds ASCII letters only, as the SQL stores do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from .ast import And, Compare, InList, IsNull, Like, Node, Not, Or, Value

__all__ = ["ascii_lower", "matches"]

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FOLD = str.maketrans(_UPPER, _UPPER.lower())


def ascii_lower(text: str) -> str:
    """``text`` with A-Z lowered and nothing else changed (what LIKE compares on every store)."""
    return text.translate(_FOLD)


def matches(node: Node | None, job: Mapping[str, Any]) -> bool:
    """Whether ``job`` (field name to value; a current-step field to the list of its steps' values) matches."""
    return node is None or _truth(node, job) is True


def _truth(node: Node, job: Mapping[str, Any]) -> bool | None:
    if isinstance(node, And):
        results = [_truth(n, job) for n in node.operands]
        return False if False in results else (None if None in results else True)
    if isinstance(node, Or):
        results = [_truth(n, job) for n in node.operands]
        return True if True in results else (None if None in results else False)
    if isinstance(node, Not):
        inner = _truth(node.operand, job)
        return None if inner is None else not inner
    value = job.get(node.field.name)
    if node.field.per_step:
        values: Sequence[Any] = value or ()
        return any(_test(node, v) is True for v in values)
    return _test(node, value)


def _test(node: Compare | InList | Like | IsNull, value: Value | None) -> bool | None:
    if isinstance(node, IsNull):
        return (value is not None) if node.negated else (value is None)
    if value is None:
        return None
    if isinstance(node, Compare):
        return _compare(node.op, value, node.value)
    if isinstance(node, InList):
        found = any(value == v for v in node.values)
        return not found if node.negated else found
    hit = _like_regex(ascii_lower(node.pattern)).fullmatch(ascii_lower(str(value))) is not None
    return not hit if node.negated else hit


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "<>":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = ("." if ch == "_" else ".*" if ch == "%" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)
