"""The parser of ``q``: a tokenizer and a recursive-descent parser for Workflow Manager's SQL-like subset.

Grammar (keywords case-insensitive)::

    query   := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | "(" or ")" | test
    test    := FIELD op literal | FIELD ["NOT"] "IN" "(" literal ("," literal)* ")"
             | FIELD ["NOT"] "LIKE" STRING | FIELD "IS" ["NOT"] "NULL"
    op      := "=" | "<>" | "!=" | "<" | "<=" | ">" | ">="
    literal := STRING | NUMBER | "TIMESTAMP" STRING | "DATE" STRING

Strings are single-quoted (``''`` is a quote); numbers are ASCII digits with an optional
sign and fraction. Anything else (``;``, ``--``, ``/*``, double quotes, unknown fields or
keywords, a literal of the wrong type) is a :class:`QueryError` at its offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ...errors import RequestError
from .ast import And, Compare, CompareOp, InList, IsNull, Like, Node, Not, Or, Value
from .fields import Field, FieldType, field_named

__all__ = ["MAX_DEPTH", "MAX_LIST", "MAX_QUERY_LENGTH", "MAX_TERMS", "QueryError", "parse_query"]

MAX_QUERY_LENGTH = 4000
MAX_DEPTH = 32
MAX_LIST = 500
MAX_TERMS = 200

_KEYWORDS = frozenset({"and", "or", "not", "in", "like", "is", "null", "timestamp", "date"})
_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+)
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>[+-]?[0-9]+(?:\.[0-9]+)?(?![0-9A-Za-z_]))
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<punct>[(),])""",
    re.VERBOSE,
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)


class QueryError(RequestError):
    """A ``q`` that cannot be parsed: answered 400, naming the offset (0-based) of the mistake."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__("InvalidRequest", message, [f"q: position {position}"])
        self.position = position

    @classmethod
    def at(cls, text: str, position: int, what: str) -> QueryError:
        near = text[position : position + 20]
        shown = f" near {near!r}" if near else " at the end"
        return cls(f"q: {what} at position {position}{shown}.", position)


@dataclass(frozen=True)
class _Token:
    kind: str  # string, number, word, keyword, op, punct, end, error (text says what)
    text: str
    start: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            what = "an unterminated string" if ch == "'" else f"an unexpected character {ch!r}"
            tokens.append(_Token("error", what, pos))  # reported when the parser gets this far
            return tokens
        kind = m.lastgroup or ""
        if kind != "space":
            word = m.group()
            if kind == "word" and word.lower() in _KEYWORDS:
                kind = "keyword"
            tokens.append(_Token(kind, word, pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def parse_query(text: str) -> Node | None:
    """The condition ``text`` spells, or None for an empty (or blank) query, which matches every job."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError.at(text, MAX_QUERY_LENGTH, f"a query longer than {MAX_QUERY_LENGTH} characters")
    if not text.strip():
        return None
    return _Parser(text, _tokenize(text)).query()


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.terms = 0

    # -- token helpers ---------------------------------------------------------------------------

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def fail(self, what: str, tok: _Token | None = None) -> QueryError:
        at = tok or self.tok
        return QueryError.at(self.text, at.start, at.text if at.kind == "error" else what)

    def keyword(self, *words: str) -> bool:
        """Consume the keyword ``words[0]`` (then the rest) if it comes next."""
        if self.tok.kind == "keyword" and self.tok.text.lower() == words[0]:
            self.i += 1
            for w in words[1:]:
                self.expect_keyword(w)
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail(f"{word.upper()} expected")

    def punct(self, ch: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == ch:
            self.i += 1
            return True
        return False

    def expect_punct(self, ch: str) -> None:
        if not self.punct(ch):
            raise self.fail(f"{ch!r} expected")

    # -- grammar ---------------------------------------------------------------------------------

    def query(self) -> Node:
        node = self.disjunction()
        if self.tok.kind != "end":
            raise self.fail("AND, OR or the end of the query expected")
        return node

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.keyword("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH}")
        try:
            if self.keyword("not"):
                return Not(self.negation())
            if self.punct("("):
                node = self.disjunction()
                self.expect_punct(")")
                return node
            return self.test()
        finally:
            self.depth -= 1

    def test(self) -> Node:
        tok = self.tok
        if tok.kind != "word":
            raise self.fail("a field name expected")
        field = field_named(tok.text)
        if field is None:
            raise self.fail(f"an unknown field {tok.text!r}")
        self.i += 1
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.fail(f"more than {MAX_TERMS} conditions", tok)
        if self.keyword("is"):
            negated = self.keyword("not")
            self.expect_keyword("null")
            return IsNull(field, negated)
        negated = self.keyword("not")
        if self.keyword("in"):
            return InList(field, self.literal_list(field), negated)
        if self.keyword("like"):
            if field.type is not FieldType.TEXT:
                raise self.fail(f"LIKE on the {field.type.value} field {field.name!r}", tok)
            if self.tok.kind != "string":
                raise self.fail("a quoted pattern expected")
            pattern = _unquote(self.tok.text)
            self.i += 1
            return Like(field, pattern, negated)
        if negated:
            raise self.fail("IN or LIKE expected after NOT")
        if self.tok.kind != "op":
            raise self.fail("a comparison (=, <>, <, <=, >, >=), IN, LIKE or IS expected")
        op: CompareOp = "<>" if self.tok.text == "!=" else self.tok.text  # type: ignore[assignment]
        self.i += 1
        return Compare(field, op, self.literal(field))

    def literal_list(self, field: Field) -> tuple[Value, ...]:
        self.expect_punct("(")
        values = [self.literal(field)]
        while self.punct(","):
            if len(values) >= MAX_LIST:
                raise self.fail(f"a list longer than {MAX_LIST}")
            values.append(self.literal(field))
        self.expect_punct(")")
        return tuple(values)

    def literal(self, field: Field) -> Value:
        tok = self.tok
        if tok.kind == "keyword" and tok.text.lower() in ("timestamp", "date"):
            self.i += 1
            if self.tok.kind != "string":
                raise self.fail(f"a quoted {tok.text.lower()} expected")
            text = _unquote(self.tok.text)
            value = _date_of(text)
            if value is None:
                raise self.fail(f"{text!r} is not a date (YYYY-MM-DD[ HH:MM:SS])")
            self.i += 1
            return self.typed(field, value, tok)
        if tok.kind == "string":
            self.i += 1
            return self.typed(field, _unquote(tok.text), tok)
        if tok.kind == "number":
            self.i += 1
            number = float(tok.text) if "." in tok.text else int(tok.text)
            return self.typed(field, number, tok)
        raise self.fail("a value (a quoted string, a number, TIMESTAMP '...') expected")

    def typed(self, field: Field, value: Value, tok: _Token) -> Value:
        """``value`` as ``field``'s type, or a mistake located at the literal."""
        kind = field.type
        if kind is FieldType.TEXT and isinstance(value, str):
            return value
        if kind is FieldType.DATE:
            if isinstance(value, datetime):
                return value
            if isinstance(value, str) and (date := _date_of(value)) is not None:
                return date
        if kind is FieldType.NUMBER and isinstance(value, int | float):
            return value
        if kind is FieldType.FLAG and value in (0, 1) and not isinstance(value, str | datetime):
            return int(value)
        raise self.fail(f"a value of the wrong type for the {kind.value} field {field.name!r}", tok)


def _unquote(token: str) -> str:
    return token[1:-1].replace("''", "'")


def _date_of(text: str) -> datetime | None:
    """``YYYY-MM-DD`` or an ISO timestamp (UTC when no offset), or None."""
    try:
        if _DATE.fullmatch(text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        if _TIMESTAMP.fullmatch(text):
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return None
