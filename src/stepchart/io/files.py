"""Files on disk: where the shipped charts, rules and examples are, and the one folder walker."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # pathlib only where a Path is made: ``validate`` and the walk do without it
    from pathlib import Path

__all__ = [
    "DEFAULT_STORE",
    "JSON_SUFFIXES",
    "MAX_FILE_BYTES",
    "YAML_SUFFIXES",
    "FileRefused",
    "Found",
    "data_dir",
    "folder_files",
    "read_bounded",
    "walk_files",
]

DEFAULT_STORE = "stepchart.db"
"""Where the commands keep jobs unless told otherwise: a SQLite file in the working directory."""


@cache
def _package() -> Path:
    """The installed ``stepchart`` package folder, resolved once (pathlib only when a shipped folder is asked for)."""
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The shipped folder ``name`` (statecharts, rules, examples).

    An installed wheel carries copies under ``stepchart/data``; a source checkout
    (editable install, tests) reads the top-level folders, which are the originals.
    """
    package = _package()
    packaged = package / "data" / name
    if packaged.is_dir():
        return packaged
    source = package.parent.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"the shipped folder {name!r} is missing from this installation")


YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


class Found(NamedTuple):
    """A file to read: its path as spelled (the folder as the caller gave it, then the names
    below it), and whether the caller named it (rather than a folder holding it)."""

    spelled: str
    named: bool

    @property
    def path(self) -> Path:
        from pathlib import Path

        return Path(self.spelled)


def folder_files(folder: str, suffixes: tuple[str, ...] = YAML_SUFFIXES, *, recursive: bool = True) -> list[str]:
    """The files with one of ``suffixes`` under ``folder``, spelled from it, in path order (the walk of one folder).

    As ``sorted(Path(folder).rglob("*"))``, which compares paths part by part: depth first,
    each folder's entries in name order, so no sort of the whole list is needed. Hidden
    files and folders (``.name``) are skipped; a file is a regular file or a link to one;
    a linked folder is not entered (as rglob: so a link cycle ends). Names are sorted as
    text and paths joined once per folder: a large ``validate`` run walks 10,000 files.
    """
    out: list[str] = []
    _scan(folder, suffixes, recursive, out)
    return out


def _scan(folder: str, suffixes: tuple[str, ...], recursive: bool, out: list[str]) -> None:
    files: list[str] = []
    folders: list[str] = []
    with os.scandir(folder) as it:
        for entry in it:
            name = entry.name
            if name.startswith("."):
                continue
            if name.endswith(suffixes) and entry.is_file():  # a file, or a link to one
                files.append(name)
            elif recursive and entry.is_dir(follow_symlinks=False):
                folders.append(name)
    prefix = os.path.join(folder, "")  # as DirEntry.path spells it
    if not folders:
        files.sort()
        out.extend([prefix + name for name in files])
        return
    inner = set(folders)
    for name in sorted(files + folders):
        if name in inner:
            _scan(prefix + name, suffixes, recursive, out)
        else:
            out.append(prefix + name)


def walk_files(
    paths: Sequence[str | Path],
    suffixes: tuple[str, ...] = YAML_SUFFIXES,
    *,
    recursive: bool = True,
) -> tuple[list[Found], list[str]]:
    """The one folder walker: every file to read under ``paths``, and the paths that do not exist.

    A file named directly is always taken, whatever its suffix. A folder gives its files
    with one of ``suffixes`` in path order (:func:`folder_files`); ``recursive=False`` reads
    one level. A linked folder named directly is read, each real folder once.
    A file reached twice (named twice, or named and inside a named folder) comes once.
    """
    found: list[Found] = []
    missing: list[str] = []
    seen: set[str] = set()
    scanned: set[str] = set()
    several = len(paths) > 1  # one folder alone cannot give a file twice: no linked folder is entered

    def take(path: str, named: bool) -> None:
        if several:
            key = os.path.realpath(path)
            if key in seen:
                return
            seen.add(key)
        found.append(Found(path, named))

    for raw in paths:
        p = os.fspath(raw)
        if os.path.isdir(p):
            real = os.path.realpath(p)
            if real not in scanned:
                scanned.add(real)
                for path in folder_files(p, suffixes, recursive=recursive):
                    take(path, False)
        elif os.path.exists(p):
            take(p, True)
        else:
            missing.append(str(raw))
    return found, missing


MAX_FILE_BYTES = 8 * 1024 * 1024
"""Most bytes :func:`read_bounded` reads from one file unless told otherwise (8 MiB)."""


class FileRefused(ValueError):
    """A file :func:`read_bounded` will not read: not a regular file, too large, or unreadable.

    ``code`` is ``too-large`` or ``unreadable`` (not a regular file, or an OS error); the message says why
    without the path, so each caller locates it its own way.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_bounded(path: str | Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else is :class:`FileRefused`.

    The one way the project reads a file it was pointed at: a FIFO, a device (a link to
    ``/dev/zero``), a folder or a socket is refused before it is read (a FIFO would block,
    ``/dev/zero`` never ends), and at most ``limit + 1`` bytes are ever read, so a file
    that grows while it is read cannot exhaust memory either. The file is opened
    non-blocking and checked again on the open descriptor, so one swapped for a FIFO
    between the check and the open is refused too.
    """
    name = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(name).st_mode):
            raise FileRefused("unreadable", "not a regular file (a folder, device, FIFO or socket is not read)")
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileRefused:
        raise
    except OSError as exc:
        raise FileRefused("unreadable", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("unreadable", "not a regular file (a folder, device, FIFO or socket is not read)")
        if info.st_size > limit:
            raise FileRefused("too-large", f"the file is {info.st_size} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileRefused("too-large", f"the file is over {limit} bytes (the limit)")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused("unreadable", f"cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
