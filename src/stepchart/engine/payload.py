"""The jobAction body (SPEC R10): strict JSON, the shipped schema, then a :class:`Request`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import RequestError, format_path
from ..io.jsontext import describe_unstorable, parse_json_strict
from ..io.schemas import UNSUPPORTED_MESSAGE, payload_is_valid, payload_unsupported_items, payload_violations
from ..model import Request
from ..model.times import parse_datetime

__all__ = ["parse_payload", "validate_payload"]


def validate_payload(body: Any) -> Any:
    """Parse (if text) and schema-check a body; returns the JSON value or raises ``RequestError``.

    A body the schema accepts that asks for a webhook dependency (``webhookConnectionId``,
    ``webhookDependencyDetails``, as Esri's client sends them) is refused with
    ``WebhookNotSupported`` (R14), after the schema and before anything else.
    """
    if isinstance(body, str | bytes | bytearray):
        try:
            value = parse_json_strict(bytes(body) if isinstance(body, bytearray) else body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise RequestError("InvalidJson", "The request body is not valid JSON.", [str(exc)]) from None
    else:
        value = body
        problems = describe_unstorable(value)  # text from the parser was checked there
        if problems:
            raise RequestError("InvalidJson", "The request body holds text no store can keep.", problems)
    if payload_is_valid(value):  # jsonschema-rs; its errors word what is wrong
        unsupported = payload_unsupported_items(value)
        if unsupported:
            details = [f"{format_path(path)}: {message}" for path, message, _at_key in unsupported]
            raise RequestError("WebhookNotSupported", UNSUPPORTED_MESSAGE, details)
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
