"""A parsed ``q`` compiled to an SQL condition: the text comes only from this module and the store's column map,
every value is a bound parameter.

Both SQL stores get the semantics :mod:`.evaluate` gives in memory: text compares by code
point (PostgreSQL's ``COLLATE "C"``), ``LIKE`` folds ASCII letters only (SQLite's own
``LIKE``; PostgreSQL translates A-Z), and a test on the current steps is an ``EXISTS``
over the store's step table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .ast import And, Compare, InList, IsNull, Like, Node, Not, Or, Value
from .evaluate import ascii_lower
from .fields import FieldType

__all__ = ["Column", "Dialect", "SqlCondition", "to_sql"]

Dialect = Literal["sqlite", "postgresql"]


def _same(value: Value) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    """Where a store keeps a field: an SQL expression (fixed by the store's code), and how values are stored."""

    sql: str
    encode: Callable[[Value], Any] = _same


@dataclass(frozen=True)
class SqlCondition:
    """A ``WHERE`` condition and its parameters, in order."""

    text: str
    params: list[Any] = field(default_factory=list)


_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def to_sql(
    node: Node | None,
    columns: Mapping[str, Column],
    *,
    dialect: Dialect,
    step_exists: str,
) -> SqlCondition:
    """``node`` as a condition on the store's job rows.

    ``columns`` maps every field name to its :class:`Column` (a current-step field to a
    column of the step table); ``step_exists`` is the store's ``EXISTS (... AND {})``
    template that a condition on the current steps is placed into.
    """
    if node is None:
        return SqlCondition("1=1")
    params: list[Any] = []
    mark = "?" if dialect == "sqlite" else "%s"

    def bind(value: Any) -> str:
        params.append(value)
        return mark

    def emit(n: Node) -> str:
        if isinstance(n, And | Or):
            joiner = " AND " if isinstance(n, And) else " OR "
            return "(" + joiner.join(emit(o) for o in n.operands) + ")"
        if isinstance(n, Not):
            return f"(NOT {emit(n.operand)})"
        column = columns[n.field.name]
        test = _test(n, column, bind, dialect)
        return step_exists.format(test) if n.field.per_step else test

    text = emit(node)
    return SqlCondition(text, params)


def _test(
    n: Compare | InList | Like | IsNull,
    column: Column,
    bind: Callable[[Any], str],
    dialect: Dialect,
) -> str:
    col = column.sql
    if isinstance(n, IsNull):
        return f"({col} IS {'NOT ' if n.negated else ''}NULL)"
    if isinstance(n, Like):
        pattern = ascii_lower(n.pattern).replace("\\", "\\\\")
        target = col if dialect == "sqlite" else f"translate({col}, '{_UPPER}', '{_UPPER.lower()}')"
        return f"({target} {'NOT ' if n.negated else ''}LIKE {bind(pattern)} ESCAPE '\\')"
    text_order = dialect == "postgresql" and n.field.type is FieldType.TEXT
    if isinstance(n, InList):
        marks = ", ".join(bind(column.encode(v)) for v in n.values)
        return f"({col} {'NOT ' if n.negated else ''}IN ({marks}))"
    collate = ' COLLATE "C"' if text_order and n.op not in ("=", "<>") else ""
    return f"({col}{collate} {n.op} {bind(column.encode(n.value))})"
