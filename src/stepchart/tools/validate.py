"""``stepchart validate``: offline jobAction payload validation, with the engine's own verdict.

A payload is valid exactly when :func:`stepchart.engine.payload.validate_payload` accepts
it, and is checked the same way: strict JSON (:func:`stepchart.io.jsontext.parse_json_strict`:
no ``NaN``, no duplicate keys), then the shipped payload schema with SPEC R10's
date-time (:func:`stepchart.io.schemas.payload_is_valid`, through jsonschema-rs). Only
an invalid payload is worded, by jsonschema as the engine's 400 details are
(:func:`stepchart.io.schemas.payload_violation_items`: same text, same order), so
jsonschema is imported only when a payload needs its words; :func:`locate` finds each
violation's line and column in the JSON text.

Most payloads are valid, so :func:`check_payloads` asks :func:`looks_valid` first (one
scan, one jsonschema-rs call) and calls :func:`validate_one` only for the others; files
are read with one ``os.open``/``os.read`` each, without a file object (see
``bench/TOOLS_FIGURES.md``).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import format_path
from ..io.files import JSON_SUFFIXES, walk_files
from ..io.jsontext import _DECODER as _STRICT
from ..io.jsontext import parse_json_strict
from ..io.schemas import payload_is_valid, payload_unsupported_items, payload_violation_items

__all__ = [
    "Payload",
    "PayloadError",
    "ValidationRun",
    "check_payloads",
    "expand_inputs",
    "iter_payloads",
    "locate",
    "looks_valid",
    "read_bytes",
    "validate_one",
]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
"""Files of JSON Lines, one payload a line (a folder is searched for these and ``.json``: ``JSON_SUFFIXES``)."""


# -- positions in the JSON text -----------------------------------------------------------------------------

_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCANNER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


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
    type: str  # InvalidJson | SchemaViolation | WebhookNotSupported | Unreadable

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
        value = parse_json_strict(payload.data)
    except UnicodeDecodeError as exc:
        return [PayloadError(src, base, 1, "$", f"not UTF-8 text ({exc.reason} at byte {exc.start})", "InvalidJson")]
    except json.JSONDecodeError as exc:
        return [PayloadError(src, base + exc.lineno - 1, exc.colno, "$", f"invalid JSON: {exc.msg}", "InvalidJson")]
    except (ValueError, RecursionError) as exc:
        return [PayloadError(src, base, 1, "$", f"invalid JSON: {exc}", "InvalidJson")]
    if payload_is_valid(value):
        items, kind = payload_unsupported_items(value), "WebhookNotSupported"
        if not items:
            return []
    else:
        items, kind = payload_violation_items(value), "SchemaViolation"
    text = payload.data.decode("utf-8")
    out = []
    for path, message, at_key in items:
        line, col = locate(text, path, at_key)
        out.append(PayloadError(src, base + line - 1, col, format_path(path), message, kind))
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
    return isinstance(value, dict) and "type" in value


# -- inputs ---------------------------------------------------------------------------------------------


def expand_inputs(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Files (or ``-``) to read, in order, and the paths that do not exist.

    A path named directly is read whatever it is (a file, a pipe such as ``<(...)``). Folders
    are searched recursively for ``*.json``, ``*.jsonl`` and ``*.ndjson`` by
    :func:`stepchart.io.files.walk_files` (path order, hidden files and folders skipped);
    a file found in a folder is named as the folder was given (``./in`` gives ``./in/a.json``).
    """
    files: list[str] = []
    missing: list[str] = []
    for raw in paths:
        if raw == "-":
            files.append(raw)
        elif os.path.isdir(raw):
            found, _ = walk_files([raw], JSON_SUFFIXES)
            files.extend(f.spelled for f in found)
        elif os.path.exists(raw):  # a file, or a pipe named as one (``<(...)``, ``/dev/stdin``)
            files.append(raw)
        else:
            missing.append(raw)
    return files, missing


_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_CHUNK = 1 << 16


MAX_INPUT_BYTES = 64 * 1024 * 1024
"""The most one input (a payload file, a JSON Lines file, standard input) may hold: a bound, so a
link to ``/dev/zero`` or an endless pipe cannot exhaust memory."""


def read_bytes(name: str, limit: int | None = None) -> bytes:
    """A whole file, through its descriptor: ``open()`` would make a file object a file, 10,000 a run.

    Read until the end (an empty read), so a pipe (``<(...)``) or a file growing is read
    whole, up to ``limit`` bytes. A device or a folder is refused before it is read, and
    more than ``limit`` (default :data:`MAX_INPUT_BYTES`) is refused; both raise ``OSError``.
    """
    limit = MAX_INPUT_BYTES if limit is None else limit
    fd = os.open(name, _O_RDONLY)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise OSError(errno.EINVAL, "not a regular file or a pipe (a device, folder or socket is not read)")
        data = os.read(fd, _CHUNK)
        if data:
            more = os.read(fd, _CHUNK)
            if more:
                chunks, size = [data, more], len(data) + len(more)
                while more and size <= limit:
                    more = os.read(fd, _CHUNK)
                    chunks.append(more)
                    size += len(more)
                data = b"".join(chunks)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"over {limit} bytes; the limit of one input")
    finally:
        os.close(fd)
    return data


def _read_input(name: str, stdin: Any) -> tuple[str, bytes]:
    """(source, bytes) of one input; ``-`` is standard input, named ``<stdin>``. Raises ``OSError``."""
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        limit = MAX_INPUT_BYTES
        data = stream.read(limit + 1)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if len(raw) > limit:
            raise OSError(errno.EFBIG, f"over {limit} bytes; the limit of one input")
        return "<stdin>", raw
    return name, read_bytes(name)


def iter_payloads(files: Sequence[str], *, jsonl: bool = False, stdin: Any = None) -> Iterator[Payload | PayloadError]:
    """Each payload of the inputs; JSON Lines (``--jsonl``, or a ``.jsonl``/``.ndjson`` file) give one a line.

    An unreadable file yields a :class:`PayloadError` in place of its payloads.
    """
    for name in files:
        try:
            source, data = _read_input(name, stdin)
        except OSError as exc:
            source = "<stdin>" if name == "-" else name
            yield PayloadError(source, 1, 1, "$", f"cannot read the file: {exc.strerror or exc}", "Unreadable")
            continue
        if jsonl or name.endswith(JSONL_SUFFIXES):
            for i, line in enumerate(data.split(b"\n"), start=1):
                if line.strip():
                    yield Payload(source, i, line)
        else:
            yield Payload(source, None, data)


_DEFER = b"webhook"
"""What every key the schema accepts and the engine refuses starts with (``UNSUPPORTED_KEYS``, a test checks):
a body holding it is left to the full check, whose verdict is the engine's ``WebhookNotSupported``."""

_SCAN: Callable[[str, int], tuple[Any, int]] = _STRICT.scan_once  # type: ignore[attr-defined]
"""The strict decoder's scanner (its hooks refuse NaN and duplicate keys), called without ``decode``'s frames."""


def looks_valid(data: bytes) -> bool:
    """True when the engine certainly accepts ``data``; False when :func:`validate_one` must look.

    The quick verdict for the many valid payloads: strict JSON starting at the first byte and
    ending in whitespace at most, then jsonschema-rs. Anything unusual (leading whitespace, a
    BOM, bad UTF-8, a ``\\u`` escape, ``NaN``, a duplicate key, deep nesting, a webhook key) answers False and
    is left to :func:`validate_one`, whose verdict is the engine's: so False never means invalid.
    """
    if b"\\u" in data:  # an escape may spell a lone surrogate or NUL, which the engine refuses: the full check decides
        return False
    if _DEFER in data:  # a key the schema accepts and the engine refuses (WebhookNotSupported): the full check decides
        return False
    try:
        text = data.decode("utf-8")
        value, end = _SCAN(text, 0)
    except Exception:  # StopIteration, ValueError, RecursionError, UnicodeDecodeError: the full check decides
        return False
    if end != len(text) and text[end:].strip(" \t\n\r"):
        return False
    return payload_is_valid(value)


def check_payloads(
    files: Sequence[str],
    *,
    jsonl: bool = False,
    stdin: Any = None,
    skip_unknown: bool = False,
    on_problems: Callable[[list[PayloadError]], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ValidationRun:
    """Check every payload of ``files``: the run's counts and errors, in input order.

    With ``skip_unknown``, JSON that is no object with a ``type`` (:func:`is_payload_like`)
    is skipped and counted in ``skipped``, not checked. ``on_problems`` gets each invalid
    payload's errors as it is found (a terminal sees them
    at once); ``on_progress`` the number of payloads checked since its last call, every 512.
    The payloads of :func:`iter_payloads` and the verdicts of :func:`validate_one`, which
    only looks at what :func:`looks_valid` does not pass.
    """
    run = ValidationRun()
    errors = run.errors
    checked = invalid = ticked = skipped = 0
    for item in iter_payloads(files, jsonl=jsonl, stdin=stdin):
        if isinstance(item, PayloadError):
            problems = [item]
        elif looks_valid(item.data):  # a valid payload is an object with a type: never skipped
            problems = []
        elif skip_unknown and not is_payload_like(item):
            skipped += 1
            continue
        else:
            problems = validate_one(item)
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
    run.checked, run.invalid, run.skipped = checked, invalid, skipped
    return run


@dataclass
class ValidationRun:
    """The outcome of one ``stepchart validate`` run."""

    checked: int = 0
    invalid: int = 0
    errors: list[PayloadError] = field(default_factory=list)
    skipped: int = 0  # --skip-unknown: JSON that is no payload, not checked

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
