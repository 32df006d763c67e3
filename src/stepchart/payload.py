"""The jobAction body (SPEC R10): strict JSON, the shipped schema, then a :class:`Request`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .context import Request
from .errors import RequestError
from .schemacheck import payload_is_valid, payload_violations
from .timeutil import parse_datetime

__all__ = ["parse_json_strict", "parse_payload", "validate_payload"]


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


def parse_json_strict(text: str | bytes) -> Any:
    """JSON as RFC 8259 says: no NaN or Infinity, no duplicate keys. Raises ``ValueError``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if text.startswith("\ufeff"):  # as json.loads refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


def validate_payload(body: Any) -> Any:
    """Parse (if text) and schema-check a body; returns the JSON value or raises ``RequestError``."""
    if isinstance(body, str | bytes | bytearray):
        try:
            value = parse_json_strict(bytes(body) if isinstance(body, bytearray) else body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise RequestError("InvalidJson", "The request body is not valid JSON.", [str(exc)]) from None
    else:
        value = body
    if payload_is_valid(value):  # jsonschema-rs; jsonschema only to word what is wrong
        return value
    details = payload_violations(value)
    if details:
        raise RequestError("SchemaViolation", "The request body does not match the jobAction schema.", details)
    return value


def parse_payload(body: str | bytes | Mapping[str, Any]) -> Request:
    """A checked jobAction request, its step ids de-duplicated in order (R11)."""
    value = validate_payload(body)
    step_ids = list(dict.fromkeys(value.get("stepIds", [])))
    release = value.get("holdScheduledRelease")
    given = frozenset(k for k in value if not (k == "stepIds" and not value[k]))
    return Request(
        action=value["type"],
        step_ids=step_ids,
        given=given,
        hold_release=parse_datetime(release) if release is not None else None,
        dependent_job_id=value.get("dependentJobId"),
        dependent_step_id=value.get("dependentStepId"),
        body=value,
    )
