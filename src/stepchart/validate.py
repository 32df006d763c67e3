"""``stepchart validate``: offline jobAction payload validation, with the engine's own verdict.

A payload is valid exactly when :func:`stepchart.payload.validate_payload` accepts it:
strict JSON (no ``NaN``, no duplicate keys), then the shipped payload schema with
SPEC R10's date-time. Speed comes from compiling the schema once into plain Python
closures: :func:`compile_schema` answers valid or not, :func:`compile_violations` words
each violation as the engine's 400 details do (same text, same order), and
:func:`locate` finds its line and column in the JSON text. Neither needs jsonschema,
whose import alone costs more than checking thousands of payloads; the tests hold both
to the engine's answers (:func:`stepchart.payload.validate_payload`,
:func:`stepchart.schemacheck.payload_violations`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from .errors import format_path
from .timeutil import is_datetime

__all__ = [
    "Payload",
    "PayloadError",
    "Unsupported",
    "ValidationRun",
    "compile_schema",
    "compile_violations",
    "expand_inputs",
    "iter_payloads",
    "loads_strict",
    "locate",
    "payload_checker",
    "payload_items",
    "validate_one",
]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
FOLDER_SUFFIXES = (".json", *JSONL_SUFFIXES)


class Unsupported(Exception):
    """The schema uses a keyword the compiler does not know; use ``jsonschema`` instead."""


Check = Callable[[Any], bool]

_IGNORED = {"$schema", "$id", "$comment", "title", "description", "definitions", "default", "examples"}


def _is_instance(kind: type) -> Check:
    def check(v: Any) -> bool:
        return isinstance(v, kind)

    return check


def _type_check(name: str) -> Check:
    if name == "object":
        return _is_instance(dict)
    if name == "array":
        return _is_instance(list)
    if name == "string":
        return _is_instance(str)
    if name == "boolean":
        return lambda v: isinstance(v, bool)
    if name == "null":
        return lambda v: v is None
    if name == "number":
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    if name == "integer":
        return lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    raise Unsupported(f"type {name!r}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema has it: ``true`` is not ``1``, containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
            and all(_equal(x, y) for x, y in zip(a, b, strict=True))
        )  # fmt: skip
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
            and all(_equal(a[k], b[k]) for k in a)
        )  # fmt: skip
    return bool(a == b)


def compile_schema(schema: Any, root: Mapping[str, Any] | None = None) -> Check:
    """A draft-07 schema (the subset our schemas use) as a predicate; ``Unsupported`` otherwise.

    Keywords: type, enum, const, properties, additionalProperties, required, items (one
    schema), min/maxItems, min/maxLength, pattern, format (``date-time`` is R10's, other
    formats are not checked, as in our validators), minimum, maximum, exclusiveMinimum,
    exclusiveMaximum, min/maxProperties, propertyNames, allOf, anyOf, oneOf, not, and
    local ``$ref`` to ``#/definitions/...``.
    """
    root = root if root is not None else schema
    refs: dict[str, Check] = {}
    return _compile(schema, root, refs)


def _compile(schema: Any, root: Mapping[str, Any], refs: dict[str, Check]) -> Check:
    if schema is True:
        return lambda _v: True
    if schema is False:
        return lambda _v: False
    if not isinstance(schema, dict):
        raise Unsupported("a schema is an object or a boolean")
    if "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
            raise Unsupported(f"$ref {ref!r}")
        if ref not in refs:
            slot: list[Check] = []
            refs[ref] = lambda v: slot[0](v)
            target = root.get("definitions", {}).get(ref[len("#/definitions/") :])
            if target is None:
                raise Unsupported(f"$ref {ref!r} names no definition")
            slot.append(_compile(target, root, refs))
        return refs[ref]  # draft-07: $ref ignores its siblings
    checks: list[Check] = []
    for key, arg in schema.items():
        if key in _IGNORED or key in ("properties", "additionalProperties"):
            continue
        checks.append(_keyword(key, arg, schema, root, refs))
    if "properties" in schema or "additionalProperties" in schema:
        checks.append(_object_properties(schema, root, refs))
    return _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    """Every check must pass; unrolled for the common small counts (a generator costs more than a check)."""
    if not checks:
        return lambda _v: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)

    def every(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a loop is faster than all() over a generator
            if not check(v):
                return False
        return True

    return every


def _keyword(key: str, arg: Any, schema: Mapping[str, Any], root: Mapping[str, Any], refs: dict[str, Check]) -> Check:
    if key == "type":
        names = arg if isinstance(arg, list) else [arg]
        tests = [_type_check(n) for n in names]
        return tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests))
    if key == "enum":
        values = list(arg)
        if all(isinstance(e, str) for e in values):
            strings = frozenset(values)
            return lambda v: isinstance(v, str) and v in strings
        return lambda v: any(_equal(v, e) for e in values)
    if key == "const":
        return lambda v: _equal(v, arg)
    if key == "required":
        names = list(arg)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)
    if key == "items":
        if not isinstance(arg, dict | bool):
            raise Unsupported("items as a list")
        item = _compile(arg, root, refs)

        def items(v: Any) -> bool:
            if isinstance(v, list):
                for x in v:
                    if not item(x):
                        return False
            return True

        return items
    if key in ("minItems", "maxItems"):
        n = int(arg)
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= n
        return lambda v: not isinstance(v, list) or len(v) <= n
    if key in ("minLength", "maxLength"):
        n = int(arg)
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= n
        return lambda v: not isinstance(v, str) or len(v) <= n
    if key in ("minProperties", "maxProperties"):
        n = int(arg)
        if key == "minProperties":
            return lambda v: not isinstance(v, dict) or len(v) >= n
        return lambda v: not isinstance(v, dict) or len(v) <= n
    if key == "pattern":
        rx = re.compile(arg)
        return lambda v: not isinstance(v, str) or rx.search(v) is not None
    if key == "format":
        if arg == "date-time":
            return is_datetime
        return lambda _v: True  # our validators check no other format
    if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _numeric(key, arg)
    if key == "propertyNames":
        names_ok = _compile(arg, root, refs)
        return lambda v: not isinstance(v, dict) or all(names_ok(k) for k in v)
    if key in ("allOf", "anyOf", "oneOf"):
        parts = [_compile(s, root, refs) for s in arg]
        if key == "allOf":
            return lambda v: all(p(v) for p in parts)
        if key == "anyOf":
            return lambda v: any(p(v) for p in parts)
        return lambda v: sum(1 for p in parts if p(v)) == 1
    if key == "not":
        inner = _compile(arg, root, refs)
        return lambda v: not inner(v)
    raise Unsupported(f"keyword {key!r}")


def _numeric(key: str, bound: Any) -> Check:
    def is_number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if key == "minimum":
        return lambda v: not is_number(v) or v >= bound
    if key == "maximum":
        return lambda v: not is_number(v) or v <= bound
    if key == "exclusiveMinimum":
        return lambda v: not is_number(v) or v > bound
    return lambda v: not is_number(v) or v < bound


def _object_properties(schema: Mapping[str, Any], root: Mapping[str, Any], refs: dict[str, Check]) -> Check:
    if "patternProperties" in schema:
        raise Unsupported("patternProperties")
    props = {k: _compile(s, root, refs) for k, s in schema.get("properties", {}).items()}
    extra_schema = schema.get("additionalProperties", True)
    extra: Check | None = None if extra_schema is True else _compile(extra_schema, root, refs)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for k, x in v.items():
            c = props.get(k)
            if c is not None:
                if not c(x):
                    return False
            elif extra is not None and not extra(x):
                return False
        return True

    return check


# -- worded violations, without jsonschema ---------------------------------------------------------------

Item = tuple[tuple[str | int, ...], str, bool]
"""One violation as shown: (JSON path, message, located at the key rather than the value)."""
Violation = tuple[tuple[str | int, ...], str, list[Item]]
"""(the path jsonschema sorts by, jsonschema's own message, the items shown)."""
Explain = Callable[[Any, tuple[str | int, ...], list[Violation]], None]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def compile_violations(schema: Any, root: Mapping[str, Any] | None = None) -> Explain:
    """A schema as a function listing every violation in the engine's words (the R14 details).

    Only the keywords whose wording :mod:`stepchart.schemacheck` defines are compiled
    (type, enum, required, additionalProperties, properties, items, format, pattern,
    ``$ref``); anything else raises :class:`Unsupported`. Each violation keeps the sort
    key jsonschema's error would have (its path and message), so the order is the
    engine's too.
    """
    root = root if root is not None else schema
    refs: dict[str, Explain] = {}
    return _explainer(schema, root, refs)


def _explainer(schema: Any, root: Mapping[str, Any], refs: dict[str, Explain]) -> Explain:
    if schema is True:
        return lambda _v, _p, _out: None
    if not isinstance(schema, dict):
        raise Unsupported("a schema is an object (or true)")
    if "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/definitions/"):
            raise Unsupported(f"$ref {ref!r}")
        if ref not in refs:
            slot: list[Explain] = []
            refs[ref] = lambda v, p, out: slot[0](v, p, out)
            target = root.get("definitions", {}).get(ref[len("#/definitions/") :])
            if target is None:
                raise Unsupported(f"$ref {ref!r} names no definition")
            slot.append(_explainer(target, root, refs))
        return refs[ref]
    parts = [_explain_keyword(k, arg, schema, root, refs) for k, arg in schema.items() if k not in _IGNORED]

    def run(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
        for part in parts:
            part(v, p, out)

    return run


def _explain_keyword(
    key: str, arg: Any, schema: Mapping[str, Any], root: Mapping[str, Any], refs: dict[str, Explain]
) -> Explain:
    if key == "type":
        names = arg if isinstance(arg, list) else [arg]
        test = _keyword("type", arg, schema, root, {})
        want = " or ".join(names) if isinstance(arg, list) else arg
        reprs = ", ".join(repr(n) for n in names)

        def type_(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if not test(v):
                shown = f"expected {want}, found {_json_type(v)} {_short(v)}"
                out.append((p, f"{v!r} is not of type {reprs}", [(p, shown, False)]))

        return type_
    if key == "enum":
        values = list(arg)
        allowed = ", ".join(map(str, values))

        def enum(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if not any(_equal(v, e) for e in values):
                shown = f"{_short(v)} is not allowed; allowed: {allowed}"
                out.append((p, f"{v!r} is not one of {values!r}", [(p, shown, False)]))

        return enum
    if key == "required":
        required_names = list(arg)

        def required(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if isinstance(v, dict):
                for n in required_names:
                    if n not in v:
                        msg = f"{n!r} is a required property"
                        out.append((p, msg, [(p, msg, False)]))

        return required
    if key == "properties":
        props = {k: _explainer(sub, root, refs) for k, sub in arg.items()}

        def properties(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if isinstance(v, dict):
                for k, sub in props.items():
                    if k in v:
                        sub(v[k], (*p, k), out)

        return properties
    if key == "additionalProperties":
        return _explain_additional(arg, schema, root, refs)
    if key == "items":
        if not isinstance(arg, dict):
            raise Unsupported("items as a list")
        item = _explainer(arg, root, refs)

        def items(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if isinstance(v, list):
                for i, x in enumerate(v):
                    item(x, (*p, i), out)

        return items
    if key == "format":
        if arg != "date-time":
            return lambda _v, _p, _out: None  # our validators check no other format

        def format_(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if not is_datetime(v):
                shown = f"{_short(v)} is not a {arg} (RFC 3339, zone required)"
                out.append((p, f"{v!r} is not a {arg!r}", [(p, shown, False)]))

        return format_
    if key == "pattern":
        rx = re.compile(arg)

        def pattern(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if isinstance(v, str) and rx.search(v) is None:
                out.append((p, f"{v!r} does not match {arg!r}", [(p, f"{_short(v)} does not match {arg}", False)]))

        return pattern
    raise Unsupported(f"keyword {key!r} (no wording of ours)")


def _explain_additional(
    arg: Any, schema: Mapping[str, Any], root: Mapping[str, Any], refs: dict[str, Explain]
) -> Explain:
    if "patternProperties" in schema:
        raise Unsupported("patternProperties")
    known = set(schema.get("properties", {}))
    names_text = ", ".join(sorted(known))
    if arg is False:

        def additional(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
            if isinstance(v, dict):
                extra = [k for k in v if k not in known]
                if extra:
                    joined = ", ".join(repr(x) for x in sorted(extra, key=str))
                    verb = "was" if len(extra) == 1 else "were"
                    shown: list[Item] = [
                        ((*p, k), f"unknown key {k!r}; allowed here: {names_text}", True) for k in extra
                    ]
                    out.append((p, f"Additional properties are not allowed ({joined} {verb} unexpected)", shown))

        return additional
    sub = _explainer(arg, root, refs)

    def additional_schema(v: Any, p: tuple[str | int, ...], out: list[Violation]) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k not in known:
                    sub(x, (*p, k), out)

    return additional_schema


def _load_payload_schema() -> dict[str, Any]:
    """The shipped payload schema, read without importing jsonschema."""
    from importlib import resources

    text = resources.files("stepchart").joinpath("schemas/payload.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def payload_checker() -> Check:
    """The shipped payload schema as a predicate (compiled once); jsonschema's if it cannot be compiled."""
    try:
        return compile_schema(_load_payload_schema())
    except Unsupported:  # pragma: no cover - the shipped schema compiles; a changed one may not
        from .schemacheck import validator

        v = validator("payload")
        return lambda value: bool(v.is_valid(value))


@cache
def _payload_explainer() -> Explain | None:
    try:
        return compile_violations(_load_payload_schema())
    except Unsupported:  # pragma: no cover - as above
        return None


def payload_items(value: Any) -> list[Item]:
    """(path, message, at key) of each violation of a payload: the engine's words, in its order."""
    explain = _payload_explainer()
    if explain is None:  # pragma: no cover - the shipped schema compiles
        return _jsonschema_items(value)
    found: list[Violation] = []
    explain(value, (), found)
    found.sort(key=lambda x: (list(map(str, x[0])), x[1]))
    return [item for _p, _m, shown in found for item in shown]


def _jsonschema_items(value: Any) -> list[Item]:  # pragma: no cover - the fallback of an uncompilable schema
    """The same through jsonschema, as :func:`stepchart.schemacheck.payload_violations` words them."""
    from .schemacheck import _leaf_errors, describe, validator

    out: list[Item] = []
    errors = sorted(validator("payload").iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    for error in errors:
        for leaf in _leaf_errors(error):
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                schema: Any = leaf.schema
                allowed = set(schema.get("properties", {}))
                base = tuple(leaf.absolute_path)
                names = ", ".join(sorted(allowed))
                out.extend(((*base, k), f"unknown key {k!r}; allowed here: {names}", True)
                           for k in leaf.instance if k not in allowed)  # fmt: skip
                continue
            _code, message, at_key, path = describe(leaf)
            out.append((path, message, at_key))
    return out


# -- strict JSON and positions ------------------------------------------------------------------------------


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _v in pairs:
            if k in seen:
                raise ValueError(f"duplicate key {k!r}")
            seen.add(k)
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_no_constants)
_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCANNER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def loads_strict(data: bytes) -> Any:
    """:func:`stepchart.payload.parse_json_strict` for bytes (the same verdicts; tested), without its imports."""
    return _DECODER.decode(data.decode("utf-8"))


def _skip(text: str, idx: int) -> int:
    m = _WS.match(text, idx)
    return m.end() if m is not None else idx


def locate(text: str, path: Sequence[str | int], at_key: bool = False) -> tuple[int, int]:
    """1-based (line, column) in a JSON text of the value at ``path`` (of its key, with ``at_key``).

    When the path goes further than the text (a missing key), the nearest enclosing value.
    """
    idx = _skip(text, 0)
    try:
        for depth, part in enumerate(path):
            ch = text[idx]
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


# -- payloads and their errors -------------------------------------------------------------------------


class Payload(NamedTuple):
    """One payload to check: where it comes from and its raw text (a tuple: made 10,000 times a run)."""

    source: str
    line: int | None  # JSON Lines: the line number; a whole file: None
    data: bytes


@dataclass(frozen=True)
class PayloadError:
    """One problem of one payload, located as precisely as the text allows."""

    source: str
    line: int
    column: int
    path: str
    message: str
    type: str  # InvalidJson | SchemaViolation | Unreadable

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.source, "line": self.line, "column": self.column, "path": self.path,
            "type": self.type, "message": self.message,
        }  # fmt: skip


def validate_one(payload: Payload) -> list[PayloadError]:
    """The problems of one payload; an empty list when the engine would accept it."""
    base = payload.line or 1
    src = payload.source
    try:
        value = loads_strict(payload.data)
    except UnicodeDecodeError as exc:
        return [PayloadError(src, base, 1, "$", f"not UTF-8 text ({exc.reason} at byte {exc.start})", "InvalidJson")]
    except json.JSONDecodeError as exc:
        return [PayloadError(src, base + exc.lineno - 1, exc.colno, "$", f"invalid JSON: {exc.msg}", "InvalidJson")]
    except (ValueError, RecursionError) as exc:
        return [PayloadError(src, base, 1, "$", f"invalid JSON: {exc}", "InvalidJson")]
    if payload_checker()(value):
        return []
    text = payload.data.decode("utf-8")
    out = []
    for path, message, at_key in payload_items(value):
        line, col = locate(text, path, at_key)
        out.append(PayloadError(src, base + line - 1, col, format_path(path), message, "SchemaViolation"))
    return out


# -- inputs ---------------------------------------------------------------------------------------------


def expand_inputs(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Files (or ``-``) to read, in order, and the paths that do not exist.

    Folders are searched recursively for ``*.json``, ``*.jsonl`` and ``*.ndjson``
    (hidden folders skipped), in name order.
    """
    import os

    files: list[str] = []
    missing: list[str] = []
    for raw in paths:
        if raw == "-" or os.path.isfile(raw):
            files.append(raw)
        elif os.path.isdir(raw):
            files.extend(_walk(raw))
        else:
            missing.append(raw)
    return files, missing


def _walk(folder: str) -> list[str]:
    import os

    found: list[str] = []
    dirs: list[str] = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                dirs.append(entry.path)
            elif entry.name.endswith(FOLDER_SUFFIXES) and entry.is_file():
                found.append(entry.path)
    found.sort()
    for d in sorted(dirs):
        found.extend(_walk(d))
    return found


def iter_payloads(files: Sequence[str], *, jsonl: bool = False, stdin: Any = None) -> Iterator[Payload | PayloadError]:
    """Each payload of the inputs; JSON Lines (``--jsonl``, or a ``.jsonl``/``.ndjson`` file) give one a line.

    An unreadable file yields a :class:`PayloadError` in place of its payloads.
    """
    for name in files:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read()
            source = "<stdin>"
        else:
            try:
                with open(name, "rb", buffering=0) as f:
                    data = f.read()
            except OSError as exc:
                yield PayloadError(name, 1, 1, "$", f"cannot read the file: {exc.strerror or exc}", "Unreadable")
                continue
            source = name
        if isinstance(data, str):
            data = data.encode("utf-8")
        if jsonl or name.endswith(JSONL_SUFFIXES):
            for i, line in enumerate(data.split(b"\n"), start=1):
                if line.strip():
                    yield Payload(source, i, line)
        else:
            yield Payload(source, None, data)


@dataclass
class ValidationRun:
    """The outcome of one ``stepchart validate`` run."""

    checked: int = 0
    invalid: int = 0
    errors: list[PayloadError] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.checked - self.invalid

    def add(self, problems: list[PayloadError]) -> None:
        self.checked += 1
        if problems:
            self.invalid += 1
            self.errors.extend(problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "valid": self.valid,
            "invalid": self.invalid,
            "errors": [e.to_dict() for e in self.errors],
        }
