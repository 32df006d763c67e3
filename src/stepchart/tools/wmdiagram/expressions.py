"""Path conditions as Workflow Manager expressions: ``returnValue == "approve" || returnValue == 5``.

WM's expression grammar is not confirmed (WM-REST.md); we write only comparisons of the
return value joined by ``||``, and read those back (``==`` or ``=``, ``||`` or ``OR``,
``returnValue`` in any case, with or without ``$`` or ``${...}``, strings in double or
single quotes, numbers, ``true``/``false``). Anything else is not a return-value
condition: :func:`parse_expression` answers None and the importer warns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

__all__ = ["ReturnValue", "parse_expression", "render_expression"]

ReturnValue = str | int | float | bool

_NAME = r"(?:\$\{returnValue\}|\$?returnValue)"
_LITERAL = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false)"""
_COMPARISON = re.compile(rf"\s*\(?\s*{_NAME}\s*={{1,2}}\s*(?P<value>{_LITERAL})\s*\)?\s*", re.IGNORECASE)
_JOINER = re.compile(r"\|\||\bOR\b", re.IGNORECASE)


def render_expression(values: ReturnValue | Sequence[ReturnValue] | None) -> str:
    """The expression of a path's ``returnValue`` (a value or a list); empty for a path that always matches."""
    if values is None:
        return ""
    items = values if isinstance(values, list | tuple) else [values]
    return " || ".join(f"returnValue == {json.dumps(v, ensure_ascii=False)}" for v in items)


def parse_expression(text: str) -> list[ReturnValue] | None:
    """The return values ``text`` compares with, [] for an empty expression, or None when it is something else."""
    if not text.strip():
        return []
    values: list[ReturnValue] = []
    for part in _split(text):
        m = _COMPARISON.fullmatch(part)
        if m is None:
            return None
        values.append(_literal(m.group("value")))
    return values


def _split(text: str) -> list[str]:
    """``text`` cut at each ``||``/``OR`` outside quotes."""
    parts, start, quote, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        else:
            m = _JOINER.match(text, i)
            if m is not None:
                parts.append(text[start:i])
                start = i = m.end()
                continue
        i += 1
    parts.append(text[start:])
    return parts


def _literal(token: str) -> ReturnValue:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    value: ReturnValue = json.loads(token)
    return value
