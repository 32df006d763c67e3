"""Job search filters: Workflow Manager's SQL-like ``q``, parsed into a closed AST over a whitelist of fields.

A ``q`` is parsed by :func:`parse_query` (a tokenizer and a recursive-descent parser,
never an SQL engine), then either evaluated in memory (:func:`matches`) or compiled to
an SQL condition whose every value is a bound parameter (:func:`to_sql`): no text of a
query reaches SQL. Mistakes raise :class:`QueryError` with the offset of the mistake.
"""

from __future__ import annotations

from .ast import And, Compare, InList, IsNull, Like, Node, Not, Or
from .evaluate import matches
from .fields import FIELDS, Field, FieldType, field_named
from .grammar import MAX_QUERY_LENGTH, QueryError, parse_query
from .sqlgen import Column, SqlCondition, to_sql

__all__ = [
    "FIELDS",
    "MAX_QUERY_LENGTH",
    "And",
    "Column",
    "Compare",
    "Field",
    "FieldType",
    "InList",
    "IsNull",
    "Like",
    "Node",
    "Not",
    "Or",
    "QueryError",
    "SqlCondition",
    "field_named",
    "matches",
    "parse_query",
    "to_sql",
]
