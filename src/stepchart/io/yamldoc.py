"""Safe, strict YAML reading that keeps the position of every node.

Documents are built from libyaml's event stream (one pass, no recursion), so we can
refuse what ``yaml.safe_load`` would silently accept: duplicate keys, anchors and
aliases, tags outside the core schema, several documents, excessive size or nesting.
Plain scalars follow a small core schema: only ``true``/``false`` are booleans,
``null``/``~``/empty are null, integers and (finite) floats are numbers, everything else
(timestamps, ``yes``, ``on``) stays a string. Mapping keys are always strings, as in
JSON (``1: x`` has the key ``"1"``); YAML 1.1 merge keys (``<<``) are refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import DefinitionError, Problem
from .files import FileRefused, read_bounded
from .jsontext import unstorable_text

__all__ = ["MAX_BYTES", "MAX_DEPTH", "Document", "as_document", "parse_yaml", "read_yaml_file"]

MAX_BYTES = 1024 * 1024
"""Largest YAML document read or parsed (bytes): a file over it is refused before it is read."""
MAX_DEPTH = 64

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)\Z")
# A float has a point or an exponent: bare digits are an int, or (with a leading zero, as 010) a string.
_FLOAT = re.compile(r"^[-+]?((\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)\Z")
_BOOL = {"true": True, "false": False}
_NULL = {"null", "~", ""}
_CORE_TAGS = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:map": "map",
    "tag:yaml.org,2002:seq": "seq",
}

Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed document: plain Python data plus the position of every node.

    ``marks`` maps a node's path to its (line, column), both 1-based; ``key_marks``
    does the same for mapping keys, so an unknown key is reported where it is written.
    """

    value: Any
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def mark(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Position of the node at ``path``, or of its nearest known ancestor."""
        p = tuple(path)
        if key and p in self.key_marks:
            return self.key_marks[p]
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def sub(self, path: Path_) -> Document:
        """The node at ``path`` as a document of its own, positions kept."""
        n = len(path)
        value: Any = self.value
        for part in path:
            value = value[part]
        return Document(
            value,
            self.file,
            {k[n:]: v for k, v in self.marks.items() if k[:n] == tuple(path)},
            {k[n:]: v for k, v in self.key_marks.items() if k[:n] == tuple(path)},
        )

    def problem(self, path: Path_, code: str, message: str, *, key: bool = False, severity: str = "error") -> Problem:
        line, col = self.mark(path, key=key)
        return Problem(self.file, line, col, code, message, tuple(path), severity)

    def error(self, path: Path_, code: str, message: str, *, key: bool = False) -> DefinitionError:
        return DefinitionError([self.problem(path, code, message, key=key)])


def _scalar(event: Any) -> Any:
    value: str = event.value
    tag = event.tag
    if tag is not None and tag != "!":
        kind = _CORE_TAGS.get(tag)
        if kind == "str":
            return value
        if kind == "int" and _INT.match(value):
            return int(value)
        if kind == "float" and (_FLOAT.match(value) or _INT.match(value)):
            return _finite(value)
        if kind == "bool" and value in _BOOL:
            return _BOOL[value]
        if kind == "null" and value in _NULL:
            return None
        raise ValueError(f"the value {value!r} does not fit its tag {tag}")
    if event.style not in (None, "") or tag == "!":
        return value  # quoted or block scalars are strings
    if value in _BOOL:
        return _BOOL[value]
    if value in _NULL:
        return None
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return _finite(value)
    return value


def _finite(value: str) -> float:
    """A float that JSON can carry: ``1e400`` is refused rather than read as infinity."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"the number {value} is out of range")
    return number


def _line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of the character at index ``pos`` of ``text``."""
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


class _Frame:
    __slots__ = ("container", "key", "key_mark", "path")

    def __init__(self, container: Any, path: Path_) -> None:
        self.container = container
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark: tuple[int, int] = (1, 1)


_NO_KEY = object()


def parse_yaml(text: str | bytes, file: str = "<string>") -> Document:
    """Parse one YAML document strictly; any failure is a located ``DefinitionError``."""
    doc = Document(None, file)

    def fail(line: int, col: int, code: str, message: str, path: Path_ = ()) -> DefinitionError:
        return DefinitionError([Problem(file, line, col, code, message, path)])

    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise fail(1, 1, "too-large", f"the file is {len(text)} bytes; the limit is {MAX_BYTES}")
        data = text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            good = data[: exc.start].decode("utf-8")
            message = f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise fail(*_line_col(good, len(good)), "not-utf8", message) from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise fail(1, 1, "too-large", f"the text is over {MAX_BYTES} bytes")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise fail(*_line_col(text, exc.start), "not-utf8", "the text holds a lone surrogate: not UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise fail(*_line_col(text, text.index("\x00")), "not-text", "the file holds a NUL character: it is not text")

    stack: list[_Frame] = []
    documents = 0
    root_set = False
    try:
        events: Any = yaml.parse(text, Loader=Loader)
        for event in events:
            mark = (event.start_mark.line + 1, event.start_mark.column + 1)
            name = type(event).__name__
            if name == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise fail(*mark, "several-documents", "a file holds one YAML document; found another '---'")
                continue
            if name in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
                continue
            if name == "AliasEvent":
                raise fail(*mark, "alias", f"aliases (*{event.anchor}) are not allowed; write the value out")
            if name in ("MappingEndEvent", "SequenceEndEvent"):
                frame = stack.pop()
                _attach(frame.container, frame.path, stack, doc, mark, fail)
                continue
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise fail(*mark, "anchor", f"anchors (&{anchor}) are not allowed; write the value out")
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!" and tag not in _CORE_TAGS:
                raise fail(*mark, "tag", f"the tag {tag} is not allowed; only the core YAML tags are")
            parent_path = _child_path(stack)
            if name == "ScalarEvent":
                if stack and isinstance(stack[-1].container, dict) and stack[-1].key is _NO_KEY:
                    frame = stack[-1]
                    try:
                        key = _scalar(event)
                    except ValueError as exc:
                        raise fail(*mark, "bad-scalar", str(exc)) from None
                    if not isinstance(key, str):
                        key = event.value  # keys are strings, as in JSON
                    elif key == "<<" and event.style in (None, "") and event.tag is None:
                        raise fail(*mark, "merge-key", "merge keys (<<) are not allowed; write the keys out")
                    for _p, what in unstorable_text(key):
                        raise fail(*mark, "not-text", f"the key holds {what} (an escape no store can keep)", frame.path)
                    if key in frame.container:
                        raise fail(*mark, "duplicate-key", f"the key {key!r} appears twice in this mapping", frame.path)
                    frame.key = key
                    frame.key_mark = mark
                    doc.key_marks[(*frame.path, key)] = mark
                    continue
                try:
                    value = _scalar(event)
                except ValueError as exc:
                    raise fail(*mark, "bad-scalar", str(exc), parent_path) from None
                for _p, what in unstorable_text(value):
                    raise fail(*mark, "not-text", f"the value holds {what} (an escape no store can keep)", parent_path)
                doc.marks[parent_path] = mark
                _attach(value, parent_path, stack, doc, mark, fail)
                if not stack:
                    root_set = True
                    doc.value = value
                continue
            # A collection starts.
            if stack and isinstance(stack[-1].container, dict) and stack[-1].key is _NO_KEY:
                raise fail(*mark, "complex-key", "mapping keys must be plain scalars")
            want = "tag:yaml.org,2002:map" if name == "MappingStartEvent" else "tag:yaml.org,2002:seq"
            if tag not in (None, "!", want):
                raise fail(*mark, "bad-scalar", f"the tag {tag} does not fit a {_CORE_TAGS[want]}", parent_path)
            if len(stack) >= MAX_DEPTH:
                raise fail(*mark, "too-deep", f"nesting deeper than {MAX_DEPTH} levels", parent_path)
            doc.marks[parent_path] = mark
            container: Any = {} if name == "MappingStartEvent" else []
            stack.append(_Frame(container, parent_path))
    except DefinitionError:
        raise
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        line, col = (m.line + 1, m.column + 1) if m is not None else (1, 1)
        if "nesting depth" in str(exc.problem):  # libyaml's own cap (1000) met before ours
            raise fail(line, col, "too-deep", f"nesting deeper than {MAX_DEPTH} levels") from None
        raise fail(line, col, "yaml-syntax", f"YAML syntax: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        char = exc.character
        pos = text.find(chr(char)) if isinstance(char, int) else -1
        line, col = _line_col(text, pos) if pos >= 0 else (1, 1)
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        raise fail(line, col, "not-text", f"the character {shown} is not allowed in YAML text ({exc.reason})") from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise fail(1, 1, "yaml-syntax", f"YAML could not be read: {exc}") from None
    if documents == 0 or (not root_set and doc.value is None):
        raise fail(1, 1, "empty", "the document is empty")
    return doc


def _child_path(stack: list[_Frame]) -> Path_:
    if not stack:
        return ()
    top = stack[-1]
    if isinstance(top.container, dict):
        return (*top.path, top.key)
    return (*top.path, len(top.container))


def _attach(value: Any, path: Path_, stack: list[_Frame], doc: Document, mark: tuple[int, int], fail: Any) -> None:
    if not stack:
        doc.value = value
        return
    top = stack[-1]
    if isinstance(top.container, dict):
        top.container[top.key] = value
        top.key = _NO_KEY
    else:
        top.container.append(value)


def read_yaml_file(path: str | Path) -> Document:
    """Read and parse a file; a file that is unreadable, not regular or over :data:`MAX_BYTES` is a
    ``DefinitionError`` too (read by :func:`~stepchart.io.files.read_bounded`)."""
    name = str(path)
    try:
        data = read_bounded(path, MAX_BYTES)
    except FileRefused as exc:
        raise DefinitionError([Problem(name, 1, 1, exc.code, exc.message)]) from None
    return parse_yaml(data, name)


def as_document(source: Document | Mapping[str, Any] | str | Path, name: str, *, kind: str) -> Document:
    """A mapping document from what the API accepts: a parsed document, a mapping, a file path or text.

    A string naming a ``.yaml``/``.yml``/``.json`` file (one line) is read from disk; any
    other string is the document's text. ``kind`` words the error when it is no mapping.
    """
    if isinstance(source, Document):
        doc = source
    elif isinstance(source, Mapping):
        doc = Document(dict(source), name)
        for path, what in unstorable_text(doc.value):
            at = path[:-1] if what.startswith("the key") else path  # never echo the bad key itself
            raise doc.error(at, "not-text", f"{what if at != path else 'the value holds ' + what}: no store keeps it")
    elif isinstance(source, Path) or ("\n" not in source and source.endswith((".yaml", ".yml", ".json"))):
        doc = read_yaml_file(source)
    else:
        doc = parse_yaml(source, name)
    if not isinstance(doc.value, dict):
        raise doc.error((), "not-a-mapping", f"a {kind} is a mapping")
    return doc
