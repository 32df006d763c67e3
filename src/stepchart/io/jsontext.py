"""Strict JSON text (RFC 8259): no NaN or Infinity, no duplicate keys, and only storable strings.

A string (or key) holding U+0000 or a lone surrogate (``"\\ud800"``: no Unicode
character, RFC 8259 section 8.2) is refused here, at the payload boundary: neither can
be written as UTF-8 nor kept in a PostgreSQL text, so a store would fail on it later.
:func:`unstorable_text` finds them in values that did not come from text (the Python API).
:func:`locate` finds where in a text the value at a JSON path is (``validate``'s line and column).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["describe_unstorable", "locate", "parse_json_strict", "unstorable_text"]

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
"""A character no store can keep: NUL, or half of a surrogate pair."""

_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
"""The escapes that can produce one (a surrogate pair's halves are checked after decoding)."""

Path_ = tuple[str | int, ...]


class _DuplicateKey(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(f"duplicate key {k!r}")
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)
"""Made once: ``json.loads`` with these hooks makes a decoder a call, half the cost of a small body."""


def _char_name(text: str) -> str:
    found = _BAD_CHAR.search(text)
    code = ord(found.group()) if found else 0
    return "a NUL character (U+0000)" if code == 0 else f"a lone surrogate (U+{code:04X})"


def _shown(text: str) -> str:
    """``text`` with its unstorable characters written as ``\\uXXXX`` (so a message can be printed)."""
    return _BAD_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def unstorable_text(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """(JSON path, what) of every string or key in ``value`` holding NUL or a lone surrogate."""
    if isinstance(value, str):
        if _BAD_CHAR.search(value):
            yield path, _char_name(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and _BAD_CHAR.search(k):
                yield (*path, k), f"the key holds {_char_name(k)}"
            yield from unstorable_text(v, (*path, k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from unstorable_text(v, (*path, i))


def describe_unstorable(value: Any) -> list[str]:
    """``$.a[0]: ...`` lines for :func:`unstorable_text` (empty when every string is storable)."""
    out = []
    for path, what in unstorable_text(value):
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{_shown(p)}" for p in path)
        out.append(f"{where}: strings may not hold {what}" if not what.startswith("the key") else f"{where}: {what}")
    return out


def parse_json_strict(text: str | bytes) -> Any:
    """JSON as RFC 8259 says: no NaN or Infinity, no duplicate keys, no NUL or lone surrogate in a string.

    Raises ``ValueError`` (the message names the JSON path of an unstorable string).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if text.startswith("\ufeff"):  # as json.loads refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    value = _DECODER.decode(text)
    if _BAD_ESCAPE.search(text) or _BAD_CHAR.search(text):
        problems = describe_unstorable(value)
        if problems:
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise ValueError("; ".join(problems[:5]) + more)
    return value


_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCANNER = json.JSONDecoder()
_WS: Callable[[str, int], re.Match[str]] = re.compile(r"[ \t\n\r]*").match  # type: ignore[assignment]


def _skip(text: str, idx: int) -> int:
    return _WS(text, idx).end()  # ``*`` matches at every index: never None


def locate(text: str, path: Sequence[str | int], at_key: bool = False, value: Any = None) -> tuple[int, int]:
    """1-based (line, column) in a JSON text of the value at ``path`` (of its key, with ``at_key``).

    When the path goes further than the text (a missing key), the nearest enclosing value.
    ``value``: the text's parsed value, when the caller has it: a key it holds is found with
    one search when the text spells it once (:func:`_only_key`).
    """
    idx = _skip(text, 0)
    start = 0
    if path and type(value) is dict and type(path[0]) is str and path[0] in value:
        found = _only_key(text, path[0], at_key and len(path) == 1)
        if found is not None:
            idx, start = found, 1
    try:
        for depth in range(start, len(path)):
            part, ch = path[depth], text[idx]
            if isinstance(part, str) and ch == "{":
                found = _find_key(text, idx, part, at_key and depth == len(path) - 1)
                if found is None:
                    break
                idx = found
            elif isinstance(part, int) and ch == "[":
                idx = _skip(text, idx + 1)
                for _ in range(part):
                    _v, idx = _SCANNER.raw_decode(text, idx)
                    idx = _skip(text, _skip(text, idx) + 1)  # past the comma
            else:
                break
    except (ValueError, IndexError):
        return 1, 1
    line = text.count("\n", 0, idx) + 1
    return line, idx - (text.rfind("\n", 0, idx) + 1) + 1


def _only_key(text: str, key: str, at_key: bool) -> int | None:
    """The index of the top-level ``key``'s value (or of the key) when the text spells ``"key"`` once; else None.

    Only for a key the top-level object holds: with no backslash in the text, every string
    is spelled as it reads, so that key's one spelling is the key itself.
    """
    token = f'"{key}"'
    at = text.find(token)
    if at < 0 or "\\" in text or text.find(token, at + 1) >= 0:
        return None
    if at_key:
        return at
    colon = _skip(text, at + len(token))
    return _skip(text, colon + 1) if text.startswith(":", colon) else None


def _find_key(text: str, start: int, key: str, at_key: bool) -> int | None:
    """The index of ``key``'s value (or of the key itself) in the object at ``start``; None if absent."""
    idx = _skip(text, start + 1)
    while text[idx] == '"':
        name, end = _SCANSTRING(text, idx + 1)
        key_at = idx
        idx = _skip(text, _skip(text, end) + 1)  # past the colon
        if name == key:
            return key_at if at_key else idx
        _v, idx = _SCANNER.raw_decode(text, idx)
        idx = _skip(text, idx)
        if text[idx] == ",":
            idx = _skip(text, idx + 1)
    return None
