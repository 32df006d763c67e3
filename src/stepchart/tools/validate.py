"""``stepchart validate``: offline jobAction payload validation, with the engine's own verdict.

A payload is valid exactly when :func:`stepchart.engine.payload.validate_payload` accepts
it, and is checked the same way: strict JSON (:func:`stepchart.io.jsontext.parse_json_strict`:
no ``NaN``, no duplicate keys), then the shipped payload schema with SPEC R10's
date-time (:func:`stepchart.io.schemas.payload_is_valid`, through jsonschema-rs), then
the webhook keys the engine refuses. An invalid payload is worded as the engine's 400
details are (:func:`stepchart.io.schemas.payload_violation_items`, from jsonschema-rs's
errors: same text, same order); :func:`stepchart.io.jsontext.locate` finds each violation's line and column.

Most payloads are valid, so :func:`check_payloads` gives each one strict scan and one
jsonschema-rs call first (:func:`looks_valid`), and words an invalid one from that same
scan; only what the scan does not pass goes to :func:`validate_one`. The files come from
:mod:`stepchart.tools.payload_inputs` (see ``BENCHMARKS.md`` for where a run's time goes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import format_path
from ..io.jsontext import _DECODER as _STRICT
from ..io.jsontext import locate, parse_json_strict
from ..io.schemas import payload_is_valid, payload_unsupported_items, payload_violation_items
from .payload_inputs import (
    JSONL_SUFFIXES,
    MAX_INPUT_BYTES,
    FolderFile,
    Payload,
    PayloadError,
    expand_inputs,
    iter_payloads,
    one_payload_each,
    read_bytes,
    unreadable,
)
from .payload_split import SPLIT_AT, Helper, can_split, dismiss, finish, fork_helper, give

__all__ = [
    "JSONL_SUFFIXES",
    "MAX_INPUT_BYTES",
    "FolderFile",
    "Payload",
    "PayloadError",
    "ValidationRun",
    "check_payloads",
    "expand_inputs",
    "iter_payloads",
    "locate",
    "looks_valid",
    "one_payload_each",
    "read_bytes",
    "start_helper",
    "validate_one",
]


# -- payloads and their errors -------------------------------------------------------------------------


def validate_one(payload: Payload) -> list[PayloadError]:
    """The problems of one payload; an empty list when the engine would accept it."""
    base = payload.line or 1
    src = payload.source
    try:
        value = parse_json_strict(payload.data)
    except UnicodeDecodeError as exc:
        return [PayloadError(src, base, 1, "$", f"not UTF-8 text ({exc.reason} at byte {exc.start})", "InvalidJson")]
    except json.JSONDecodeError as exc:
        return [PayloadError(src, base + exc.lineno - 1, exc.colno, "$", f"invalid JSON: {exc.msg}", "InvalidJson")]
    except (ValueError, RecursionError) as exc:
        return [PayloadError(src, base, 1, "$", f"invalid JSON: {exc}", "InvalidJson")]
    return _worded(payload, value, payload.data.decode("utf-8"))


def _worded(payload: Payload, value: Any, text: str, valid: bool | None = None) -> list[PayloadError]:
    """The problems of a payload parsed as the engine parses it (``value``, from ``text``); empty when accepted.

    ``valid``: the schema verdict when the caller has it already (the quick path), else it is asked here.
    """
    if payload_is_valid(value) if valid is None else valid:
        items, kind = payload_unsupported_items(value), "WebhookNotSupported"
        if not items:
            return []
    else:
        items, kind = payload_violation_items(value), "SchemaViolation"
    base = payload.line or 1
    out = []
    for path, message, at_key in items:
        line, col = locate(text, path, at_key, value)
        out.append(PayloadError(payload.source, base + line - 1, col, format_path(path), message, kind))
    return out


def is_payload_like(payload: Payload) -> bool:
    """Whether a payload could be meant as a jobAction body: a JSON object with ``type``, or text that is no JSON.

    ``validate --skip-unknown`` skips the rest (a ``package.json``, editor settings)
    instead of reporting each as a schema violation; broken JSON is still reported.
    """
    try:
        value = parse_json_strict(payload.data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return True
    return _has_type(value)


def _has_type(value: Any) -> bool:
    return isinstance(value, dict) and "type" in value


_DEFER = b"webhook"
"""What every key the schema accepts and the engine refuses starts with (``UNSUPPORTED_KEYS``, a test checks):
a body holding it is left to the full check, whose verdict is the engine's ``WebhookNotSupported``."""

_SCAN: Callable[[str, int], tuple[Any, int]] = _STRICT.scan_once  # type: ignore[attr-defined]
"""The strict decoder's scanner (its hooks refuse NaN and duplicate keys), called without ``decode``'s frames."""


_UNSURE: Any = object()
"""What :func:`_scanned` answers for a text the quick scan does not read as the engine would."""


def _scanned(data: bytes) -> tuple[Any, str]:
    """(value, text) when one strict scan reads ``data`` exactly as the engine's parser does; else (_UNSURE, "").

    Strict JSON starting at the first byte and ending in whitespace at most, with no ``\\u``
    escape (one may spell a lone surrogate or NUL, which the engine refuses) and no webhook
    key (the schema accepts it, the engine refuses it). Anything unusual (leading
    whitespace, a BOM, bad UTF-8, ``NaN``, a duplicate key, deep nesting) is unsure.
    """
    if b"\\u" in data or _DEFER in data:
        return _UNSURE, ""
    try:
        text = data.decode("utf-8")
        value, end = _SCAN(text, 0)
    except Exception:  # StopIteration, ValueError, RecursionError, UnicodeDecodeError: the full check decides
        return _UNSURE, ""
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return _UNSURE, ""
    return value, text


def looks_valid(data: bytes) -> bool:
    """True when the engine certainly accepts ``data``; False when :func:`validate_one` must look.

    The quick verdict for the many valid payloads: one strict scan (:func:`_scanned`), then
    jsonschema-rs. False never means invalid: :func:`validate_one`'s verdict is the engine's.
    """
    value, _text = _scanned(data)
    return value is not _UNSURE and payload_is_valid(value)


def start_helper(inputs: Sequence[str], *, jsonl: bool = False, skip_unknown: bool = False) -> Helper | None:
    """A helper for a run over ``inputs`` (:mod:`~stepchart.tools.payload_split`), forked before they are walked.

    Only when a folder is named and the machine can split (:func:`~stepchart.tools.payload_split.can_split`);
    None otherwise. Give it to :func:`check_payloads`, which uses or dismisses it.
    """
    if not any(os.path.isdir(p) for p in inputs if p != "-") or not can_split(inputs):
        return None
    return _fork_helper(jsonl, skip_unknown)


def _fork_helper(jsonl: bool, skip_unknown: bool) -> Helper | None:
    """The one way a helper is forked: it builds jsonschema-rs's validator (a tenth of a large run) as it waits."""
    return fork_helper(lambda: payload_is_valid({}), lambda part: _part_check(part, jsonl, skip_unknown))


def check_payloads(
    files: Sequence[str],
    *,
    jsonl: bool = False,
    stdin: Any = None,
    skip_unknown: bool = False,
    on_problems: Callable[[list[PayloadError]], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    helper: Helper | None = None,
) -> ValidationRun:
    """Check every payload of ``files``: the run's counts and errors, in input order.

    With ``skip_unknown``, JSON that is no object with a ``type`` (:func:`is_payload_like`)
    is skipped and counted in ``skipped``, not checked. ``on_problems`` gets each invalid
    payload's errors as it is found (a terminal sees them
    at once); ``on_progress`` the number of payloads checked since its last call, every 512.
    The payloads of :func:`iter_payloads` and the verdicts of :func:`validate_one`, which
    only reads what the quick scan of :func:`looks_valid` does not. A run of
    :data:`~stepchart.tools.payload_split.SPLIT_AT` files or more is shared with a forked
    helper (``helper``, from :func:`start_helper`, or one forked here), which checks from
    the back while this process checks from the front; its part is reported after this
    process's: the same output, in the same order. A ``helper`` not needed is dismissed.
    """
    run = ValidationRun()
    if helper is not None and (len(files) < SPLIT_AT or "-" in files):
        dismiss(helper)
        helper = None
    elif helper is None and len(files) >= SPLIT_AT and can_split(files):
        helper = _fork_helper(jsonl, skip_unknown)
    if helper is None:
        _check_into(run, files, jsonl, stdin, skip_unknown, on_problems, on_progress)
        return run
    try:
        for first, end in give(helper, files):
            _check_into(run, files[first:end], jsonl, None, skip_unknown, on_problems, on_progress)
        start, done = finish(helper, len(files))
        if done is None:  # the helper failed: check its part here
            _check_into(run, files[start:], jsonl, None, skip_unknown, on_problems, on_progress)
        else:
            for problems in done.groups:
                run.errors.extend(problems)
                if on_problems is not None:
                    on_problems(problems)
            run.checked += done.checked
            run.invalid += len(done.groups)
            run.skipped += done.skipped
            if on_progress is not None and done.checked:
                on_progress(done.checked)
    finally:
        dismiss(helper)  # nothing once finish has reaped it: only an interrupted run stops it here
    return run


def _part_check(files: Sequence[str], jsonl: bool, skip_unknown: bool) -> tuple[int, int, list[list[PayloadError]]]:
    part = ValidationRun()
    groups: list[list[PayloadError]] = []
    _check_into(part, files, jsonl, None, skip_unknown, groups.append, None)
    return part.checked, part.skipped, groups


def _check_into(
    run: ValidationRun,
    files: Sequence[str],
    jsonl: bool,
    stdin: Any,
    skip_unknown: bool,
    on_problems: Callable[[list[PayloadError]], None] | None,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Check ``files`` in this process, adding to ``run``'s counts and errors (the loop of :func:`check_payloads`).

    A ``.json`` file the walk found (most of a large run) is read and judged right here, without
    :func:`iter_payloads`'s generator and a :class:`Payload` per file; every other input goes through it.
    """
    errors = run.errors
    checked = invalid = ticked = skipped = 0
    is_valid, scan, read = payload_is_valid, _scanned, read_bytes
    outcomes: Sequence[list[PayloadError] | None]
    for name in files:
        if type(name) is FolderFile and not jsonl and not name.endswith(JSONL_SUFFIXES):
            try:
                data = read(name)
            except OSError as exc:
                outcomes = ([unreadable(name, exc)],)
            else:
                value, text = scan(data)
                if value is not _UNSURE and is_valid(value):
                    outcomes = _VALID
                else:
                    outcomes = (_judged(Payload(name, None, data), value, text, skip_unknown),)
        else:
            outcomes = [_outcome(item, skip_unknown) for item in iter_payloads((name,), jsonl=jsonl, stdin=stdin)]
        for problems in outcomes:
            if problems is None:  # skipped: no payload
                skipped += 1
                continue
            checked += 1
            if problems:
                invalid += 1
                errors.extend(problems)
                if on_problems is not None:
                    on_problems(problems)
            if on_progress is not None and checked - ticked >= 512:
                on_progress(checked - ticked)
                ticked = checked
    if on_progress is not None and checked > ticked:
        on_progress(checked - ticked)
    run.checked += checked
    run.invalid += invalid
    run.skipped += skipped


_VALID: tuple[list[PayloadError]] = ([],)
"""The outcomes of a file holding one valid payload (shared: never changed)."""


def _outcome(item: Payload | PayloadError, skip_unknown: bool) -> list[PayloadError] | None:
    """The problems of one input (none: valid), or None when ``--skip-unknown`` skips it as no payload."""
    if isinstance(item, PayloadError):
        return [item]
    value, text = _scanned(item.data)
    if value is not _UNSURE and payload_is_valid(value):  # a valid payload is an object with a type: never skipped
        return []
    return _judged(item, value, text, skip_unknown)


def _judged(item: Payload, value: Any, text: str, skip_unknown: bool) -> list[PayloadError] | None:
    """:func:`_outcome` of a payload the quick verdict did not pass: its scan (``value``, ``text``) read it as the
    engine would (then it is worded from that scan), or it is ``_UNSURE`` (then :func:`validate_one` decides)."""
    sure = value is not _UNSURE
    if skip_unknown and not (_has_type(value) if sure else is_payload_like(item)):
        return None
    return _worded(item, value, text, False) if sure else validate_one(item)


class ValidationRun:
    """The outcome of one ``stepchart validate`` run: counts, and every error in input order.

    A plain class, not a dataclass: ``validate``'s start-up does not import ``dataclasses``.
    """

    __slots__ = ("checked", "errors", "invalid", "skipped")

    def __init__(
        self, checked: int = 0, invalid: int = 0, errors: list[PayloadError] | None = None, skipped: int = 0
    ) -> None:
        self.checked = checked
        self.invalid = invalid
        self.errors: list[PayloadError] = [] if errors is None else errors
        self.skipped = skipped  # --skip-unknown: JSON that is no payload, not checked

    def __repr__(self) -> str:
        return (
            f"ValidationRun(checked={self.checked}, invalid={self.invalid}, "
            f"errors=[{len(self.errors)} errors], skipped={self.skipped})"
        )

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
