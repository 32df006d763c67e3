"""The inputs of ``stepchart validate``: files and folders named, read whole, split into payloads.

A folder is searched by the one walker (:func:`stepchart.io.files.folder_files`); every file
is read through its descriptor (``os.open``/``os.read``, no file object: 10,000 a run), and
a file the walk found in a folder, a regular file then, with one read when it is shorter
than a chunk (:class:`FolderFile`). JSON Lines give one payload a line.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from ..io.files import JSON_SUFFIXES, folder_files

__all__ = [
    "JSONL_SUFFIXES",
    "MAX_INPUT_BYTES",
    "FolderFile",
    "Payload",
    "PayloadError",
    "expand_inputs",
    "iter_payloads",
    "one_payload_each",
    "read_bytes",
    "unreadable",
]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
"""Files of JSON Lines, one payload a line (a folder is searched for these and ``.json``: ``JSON_SUFFIXES``)."""


class Payload(NamedTuple):
    """One payload to check: where it comes from and its raw text (a tuple: made 10,000 times a run)."""

    source: str
    line: int | None  # JSON Lines: the line number; a whole file: None
    data: bytes


class PayloadError(NamedTuple):
    """One problem of one payload, located as precisely as the text allows (a tuple: made per invalid payload)."""

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


class FolderFile(str):
    """The name of a file :func:`expand_inputs` found in a folder: the walk saw a regular file (or a link to one).

    :func:`read_bytes` reads it without asking its type again, and takes a short first read
    as its end, as a regular file's is: one ``os.open``, one ``os.read`` and one ``os.close``
    for a payload under 64 KiB (a file named directly may be a pipe, and is read to an empty read).
    """

    __slots__ = ()


def expand_inputs(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Files (or ``-``) to read, in order, and the paths that do not exist.

    A path named directly is read whatever it is (a file, a pipe such as ``<(...)``). Folders
    are searched recursively for ``*.json``, ``*.jsonl`` and ``*.ndjson`` by
    :func:`stepchart.io.files.folder_files` (path order, hidden files and folders skipped);
    a file found in a folder is named as the folder was given (``./in`` gives ``./in/a.json``).
    """
    files: list[str] = []
    missing: list[str] = []
    for raw in paths:
        if raw == "-":
            files.append(raw)
        elif os.path.isdir(raw):
            files.extend(map(FolderFile, folder_files(raw, JSON_SUFFIXES)))
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
    whole, up to ``limit`` bytes; a :class:`FolderFile` shorter than a chunk is one read. A
    device or a folder is refused before it is read, and more than ``limit`` (default
    :data:`MAX_INPUT_BYTES`) is refused; both raise ``OSError``.
    """
    limit = MAX_INPUT_BYTES if limit is None else limit
    fd = os.open(name, _O_RDONLY)
    try:
        if type(name) is FolderFile:
            data = os.read(fd, _CHUNK)
            if len(data) < _CHUNK and len(data) <= limit:  # a regular file's short read is its end
                return data
        else:
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


def unreadable(source: str, exc: OSError) -> PayloadError:
    """The one error of an input that cannot be read (missing, a device, over the limit)."""
    return PayloadError(source, 1, 1, "$", f"cannot read the file: {exc.strerror or exc}", "Unreadable")


def one_payload_each(files: Sequence[str], *, jsonl: bool = False) -> bool:
    """Whether every input holds one payload, so a run's count is known before it reads: no ``--jsonl``, no
    standard input, no JSON Lines file (:func:`iter_payloads` reads those a line at a time).

    One search in the joined names rather than a suffix test for each of 10,000.
    """
    if jsonl or "-" in files:
        return False
    listed = "\0".join(files) + "\0"
    return not any(f"{suffix}\0" in listed for suffix in JSONL_SUFFIXES)


def iter_payloads(files: Sequence[str], *, jsonl: bool = False, stdin: Any = None) -> Iterator[Payload | PayloadError]:
    """Each payload of the inputs; JSON Lines (``--jsonl``, or a ``.jsonl``/``.ndjson`` file) give one a line.

    An unreadable file yields a :class:`PayloadError` in place of its payloads.
    """
    for name in files:
        try:
            source, data = (name, read_bytes(name)) if name != "-" else _read_input(name, stdin)
        except OSError as exc:
            yield unreadable("<stdin>" if name == "-" else name, exc)
            continue
        if jsonl or name.endswith(JSONL_SUFFIXES):
            for i, line in enumerate(data.split(b"\n"), start=1):
                if line.strip():
                    yield Payload(source, i, line)
        else:
            yield Payload(source, None, data)
