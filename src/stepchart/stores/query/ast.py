"""The closed condition tree a parsed ``q`` becomes: comparisons, lists, patterns, nulls, and the three connectives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .fields import Field

__all__ = ["And", "Compare", "CompareOp", "InList", "IsNull", "Like", "Node", "Not", "Or", "Value"]

Value = str | int | float | datetime
"""A literal, already of its field's type (dates are aware UTC datetimes)."""

CompareOp = Literal["=", "<>", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Compare:
    field: Field
    op: CompareOp
    value: Value


@dataclass(frozen=True)
class InList:
    field: Field
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Like:
    """``field LIKE pattern``: ``%`` any run, ``_`` one character, case-insensitive on every store."""

    field: Field
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    field: Field
    negated: bool = False


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Compare | InList | Like | IsNull | Not | And | Or
