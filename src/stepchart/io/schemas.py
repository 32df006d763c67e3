"""The shipped JSON Schemas and the checks made with them.

Every schema is draft-07 and loaded once. The ``date-time`` format is our own
(:func:`stepchart.model.times.is_datetime`), registered with the format checker, so the
payload, job and scenario checks accept exactly SPEC R10's date-times.

A jobAction body is judged by jsonschema-rs (:func:`payload_is_valid`, well under a
microsecond for a small payload, with the same ``date-time`` function), and an invalid
one is worded from jsonschema-rs's structured errors too (:func:`payload_violation_items`:
keyword, instance path, schema path), in the words :func:`describe` gives jsonschema's
errors and in jsonschema's order. A body or an error jsonschema-rs cannot give (a Python
value outside JSON, a keyword :data:`_RS_RANK` does not know) is worded by jsonschema,
imported only then; a test compares the two on thousands of invalid bodies.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..errors import Problem, format_path
from ..model.times import is_datetime

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

    from .yamldoc import Document

__all__ = [
    "SCHEMA_NAMES",
    "UNSUPPORTED_KEYS",
    "UNSUPPORTED_MESSAGE",
    "check_document",
    "load_schema",
    "payload_is_valid",
    "payload_unsupported_items",
    "payload_violation_items",
    "payload_violations",
    "read_schema_file",
    "schema_files",
    "validator",
    "validator_class",
]

SCHEMA_NAMES = ("payload", "response", "error", "workflow", "chart", "rules", "job", "scenario", "template", "project")


def schema_files() -> dict[str, bytes]:
    """Every shipped schema file, HTTP ones included: file name -> bytes exactly as on disk, in name order."""
    from importlib import resources

    folder = resources.files("stepchart").joinpath("schemas")
    found = {f.name: f.read_bytes() for f in folder.iterdir() if f.name.endswith(".schema.json")}
    return dict(sorted(found.items()))


_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas")
"""The shipped schemas' folder when the package is installed as files (else :mod:`importlib.resources` finds them)."""


def read_schema_file(stem: str) -> dict[str, Any]:
    """The shipped file ``schemas/<stem>.schema.json``, exactly as on disk.

    Read from the package's folder, without importing :mod:`importlib.resources` (a few
    milliseconds of every ``stepchart validate``), unless the package is not installed as files.
    """
    try:
        with open(os.path.join(_FOLDER, f"{stem}.schema.json"), "rb") as f:
            data = f.read()
    except OSError:
        from importlib import resources

        data = resources.files("stepchart").joinpath(f"schemas/{stem}.schema.json").read_bytes()
    schema: dict[str, Any] = json.loads(data.decode("utf-8"))
    return schema


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The shipped schema ``name`` (one of :data:`SCHEMA_NAMES`) as a dict."""
    if name not in SCHEMA_NAMES:
        raise KeyError(f"no schema {name!r}; schemas are: {', '.join(SCHEMA_NAMES)}")
    return read_schema_file(name)


@cache
def validator_class() -> type[Validator]:
    """Draft-07 with our date-time format, and a tuple as well as a list for a JSON array.

    ``json.dumps`` writes a tuple as an array and jsonschema-rs reads one as an array, so
    a body built in Python is judged the same by :func:`payload_is_valid` and by the
    worded check.
    """
    from jsonschema import Draft7Validator, FormatChecker, validators

    formats = FormatChecker(formats=())
    formats.checks("date-time")(is_datetime)
    types = Draft7Validator.TYPE_CHECKER.redefine("array", lambda _checker, value: isinstance(value, list | tuple))
    cls: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft7Validator, type_checker=types, format_checker=formats
    )
    return cls


@cache
def validator(name: str) -> Validator:
    """A draft-07 validator for the shipped schema, with our date-time format."""
    cls = validator_class()
    return cls(load_schema(name), format_checker=cls.FORMAT_CHECKER)


@cache
def _payload_rs() -> Any:
    """The payload schema's jsonschema-rs validator, built once, with our date-time function."""
    from .rs_import import import_jsonschema_rs

    return import_jsonschema_rs().Draft7Validator(
        load_schema("payload"), formats={"date-time": is_datetime}, validate_formats=True
    )


@cache
def _payload_is_valid() -> Callable[[Any], bool]:
    is_valid: Callable[[Any], bool] = _payload_rs().is_valid
    return is_valid


def payload_is_valid(value: Any) -> bool:
    """Whether a jobAction body passes the shipped payload schema (R10's date-time included).

    jsonschema-rs, built once, gives the verdict; a value it cannot read (a key that is
    not a string, a lone surrogate, a set, ...) is judged by jsonschema instead. Either
    way the verdict is :func:`payload_violations`'s: valid exactly when it lists nothing.
    """
    is_valid = _payload_is_valid()
    try:
        return is_valid(value)
    except Exception:  # jsonschema-rs refuses Python values outside JSON: let jsonschema judge them
        return bool(validator("payload").is_valid(value))


def _sorted_errors(name: str, value: Any) -> list[ValidationError]:
    return sorted(validator(name).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))


def _leaf_errors(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf, report the alternative that got furthest rather than the umbrella."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        deepest = max(len(e.absolute_path) for e in error.context)
        if deepest > len(error.absolute_path):
            best = [e for e in error.context if len(e.absolute_path) == deepest]
            out: list[ValidationError] = []
            for e in best:
                out.extend(_leaf_errors(e))
            return out
    return [error]


class Violation(Protocol):
    """What :func:`describe` reads of an error: jsonschema's ``ValidationError`` has it, and so has
    :class:`_RsViolation`, made from a jsonschema-rs error."""

    @property
    def absolute_path(self) -> Sequence[str | int]: ...
    @property
    def validator(self) -> Any: ...
    @property
    def validator_value(self) -> Any: ...
    @property
    def instance(self) -> Any: ...
    @property
    def schema(self) -> Any: ...
    @property
    def schema_path(self) -> Sequence[str | int]: ...
    @property
    def message(self) -> str: ...


def describe(error: Violation) -> tuple[str, str, bool, tuple[str | int, ...]]:
    """(code, message, at_key, path) for one violation, in designer words."""
    path = tuple(error.absolute_path)
    v = error.validator
    if v == "additionalProperties" and isinstance(error.instance, dict):
        schema: Any = error.schema
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        key = extra[0] if extra else "?"
        return ("unknown-key", f"unknown key {key!r}; allowed here: {', '.join(allowed)}", True, (*path, key))
    if v == "required":
        return ("missing-key", f"{error.message}", False, path)
    if v == "type":
        want = error.validator_value
        want_s = " or ".join(want) if isinstance(want, list) else want
        return (
            "wrong-type",
            f"expected {want_s}, found {_json_type(error.instance)} {_short(error.instance)}",
            False,
            path,
        )
    if v == "enum":
        values: Any = error.validator_value
        return (
            "bad-value",
            f"{_short(error.instance)} is not allowed; allowed: {', '.join(map(str, values))}",
            False,
            path,
        )
    if v == "format":
        return (
            "bad-format",
            f"{_short(error.instance)} is not a {error.validator_value} (RFC 3339, zone required)",
            False,
            path,
        )
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        # A bad key is reported at the key itself, not at the mapping that holds it.
        key_path = (*path, error.instance)
        return ("bad-name", f"the key {error.instance!r} does not match {error.validator_value}", True, key_path)
    if v == "pattern":
        return ("bad-name", f"{_short(error.instance)} does not match {error.validator_value}", False, path)
    if v in ("maxItems", "minItems") and isinstance(error.instance, list | tuple):
        word = "at most" if v == "maxItems" else "at least"
        return (f"schema-{v}", f"{len(error.instance)} items; {word} {error.validator_value} allowed", False, path)
    return (f"schema-{v}", error.message, False, path)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def _short(value: Any) -> str:
    """``value`` as JSON, cut at 60 characters (a text or a whole number without json.dumps' frames: one per
    invalid payload)."""
    kind = type(value)
    if kind is str:
        text = _json_text(value)
    elif kind is int:
        text = int.__repr__(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_json_text: Callable[[str], str] = json.encoder.encode_basestring_ascii
"""json.dumps of a text (its C encoder, ASCII escapes: json.dumps' default)."""


def check_document(doc: Document, name: str) -> list[Problem]:
    """Every schema violation of a parsed document, each located in its file."""
    problems: list[Problem] = []
    for error in _sorted_errors(name, doc.value):
        for leaf in _leaf_errors(error):
            code, message, at_key, path = describe(leaf)
            problems.append(doc.problem(path, code, f"{format_path(path)}: {message}", key=at_key))
    return problems


class _RsViolation(NamedTuple):
    """A jsonschema-rs error as :func:`describe` reads a jsonschema one (its instance is the body's own)."""

    absolute_path: tuple[str | int, ...]
    validator: str
    validator_value: Any
    instance: Any
    schema: Any
    schema_path: tuple[str | int, ...]
    message: str
    context: tuple[()] = ()


_RS_RANK = {"required": 0, "additionalProperties": 1, "type": 2, "enum": 3, "format": 4, "maxItems": 5}
"""The keywords of the payload schema that are worded from jsonschema-rs, in the order jsonschema's messages
sort at one path (``'type' is a required property`` < ``Additional properties ...``; ``5 is not of type``
< ``5 is not one of``): :func:`_sorted_errors` orders by path, then message. Another keyword: jsonschema words."""


def _at(value: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        value = value[part]
    return value


def _rs_errors(value: Any) -> list[_RsViolation] | None:
    """The payload violations of ``value`` from jsonschema-rs, in jsonschema's order; None if it cannot say."""
    try:
        found = list(_payload_rs().iter_errors(value))
    except Exception:  # a Python value outside JSON: jsonschema words it
        return None
    errors = []
    for e in found:
        name = e.kind.name
        if name not in _RS_RANK:
            return None
        where = tuple(e.schema_path)
        keyword = _keyword_at(where)
        path = tuple(e.instance_path)
        message = f"{e.kind.property!r} is a required property" if name == "required" else e.message
        errors.append(_RsViolation(path, name, keyword[0], _at(value, path), keyword[1], where, message))
    if len(errors) > 1:
        errors.sort(key=_jsonschema_order)
    return errors


@cache
def _keyword_at(where: tuple[str | int, ...]) -> tuple[Any, Any]:
    """(the keyword's value, the schema holding it) at a schema path of the payload schema, looked up once."""
    schema = load_schema("payload")
    return _at(schema, where), _at(schema, where[:-1])


def _jsonschema_order(error: _RsViolation) -> tuple[list[str], int]:
    return list(map(str, error.absolute_path)), _RS_RANK[error.validator]


def payload_violation_items(value: Any) -> list[tuple[tuple[str | int, ...], str, bool]]:
    """(path, message, at key) of each schema violation of a jobAction body, in the R14 order.

    From jsonschema-rs's errors (:func:`_rs_errors`), else from jsonschema's: the same words either way.
    """
    errors: Sequence[Violation] | None = _rs_errors(value)
    return _violation_items(errors if errors is not None else _sorted_errors("payload", value))


def _jsonschema_violation_items(value: Any) -> list[tuple[tuple[str | int, ...], str, bool]]:
    """:func:`payload_violation_items` from jsonschema's errors only (the reference the tests compare with)."""
    return _violation_items(_sorted_errors("payload", value))


def _violation_items(errors: Sequence[Any]) -> list[tuple[tuple[str | int, ...], str, bool]]:
    items: list[tuple[tuple[str | int, ...], str, bool]] = []
    for error in errors:
        for leaf in _leaf_errors(error):
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                # jsonschema reports all unknown keys of one object as one error: name each path.
                schema: Any = leaf.schema
                allowed = set(schema.get("properties", {}))
                base = tuple(leaf.absolute_path)
                names = ", ".join(sorted(allowed))
                items.extend(
                    ((*base, key), f"unknown key {key!r}; allowed here: {names}", True)
                    for key in leaf.instance
                    if key not in allowed
                )
                continue
            _code, message, at_key, path = describe(leaf)
            items.append((path, message, at_key))
    return items


UNSUPPORTED_KEYS = ("webhookConnectionId", "webhookDependencyDetails")
"""Keys the payload schema accepts (Esri's client sends them on Hold and ReleaseHold) that the engine
refuses with 400 ``WebhookNotSupported`` (R14): stepchart has no webhook dependencies."""

UNSUPPORTED_MESSAGE = "Webhook dependencies are not supported."
"""The ``message`` of that 400; its ``details`` are :func:`payload_unsupported_items`."""


def payload_unsupported_items(value: Any) -> list[tuple[tuple[str | int, ...], str, bool]]:
    """(path, message, at key) of each :data:`UNSUPPORTED_KEYS` key of a schema-valid body, in body order.

    The one wording of the ``WebhookNotSupported`` details, for the engine and ``stepchart validate``.
    """
    if not isinstance(value, dict):
        return []
    return [
        ((key,), "webhook dependencies are not supported; a hold can wait for a job (dependentJobId, "
         "dependentStepId) or a date (holdScheduledRelease)", True)
        for key in value
        if key in UNSUPPORTED_KEYS
    ]  # fmt: skip


def payload_violations(value: Any) -> list[str]:
    """Schema violations of a jobAction body, each naming its JSON path (R14 details)."""
    return [f"{format_path(path)}: {message}" for path, message, _at_key in payload_violation_items(value)]
