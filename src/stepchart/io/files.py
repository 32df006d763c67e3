"""Files on disk: where the shipped charts, rules and examples are, and the one folder walker."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JSON_SUFFIXES", "YAML_SUFFIXES", "Found", "data_dir", "walk_files"]

_PACKAGE = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The shipped folder ``name`` (statecharts, rules, examples).

    An installed wheel carries copies under ``stepchart/data``; a source checkout
    (editable install, tests) reads the top-level folders, which are the originals.
    """
    packaged = _PACKAGE / "data" / name
    if packaged.is_dir():
        return packaged
    source = _PACKAGE.parent.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"the shipped folder {name!r} is missing from this installation")


YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class Found:
    """A file to read: its path, and whether the caller named it (rather than a folder holding it)."""

    path: Path
    named: bool


def walk_files(
    paths: Sequence[str | Path],
    suffixes: tuple[str, ...] = YAML_SUFFIXES,
    *,
    recursive: bool = True,
) -> tuple[list[Found], list[str]]:
    """The one folder walker: every file to read under ``paths``, and the paths that do not exist.

    A file named directly is always taken, whatever its suffix. A folder gives its files
    with one of ``suffixes`` in path order (as ``sorted(folder.rglob("*"))``: paths compare
    part by part), hidden files and folders (``.name``) skipped; ``recursive=False`` reads
    one level. As rglob, a linked folder inside a folder is not entered (so a link cycle
    ends); a linked folder named directly is read, each real folder once.
    A file reached twice (named twice, or named and inside a named folder) comes once.
    """
    found: list[Found] = []
    missing: list[str] = []
    seen: set[str] = set()
    scanned: set[str] = set()

    def take(path: Path, named: bool) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            found.append(Found(path, named))

    def scan(folder: Path, into: list[Path]) -> None:
        real = os.path.realpath(folder)
        if real in scanned:
            return
        scanned.add(real)
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)  # which link to a folder counts is not left to chance
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):  # as rglob: a linked folder inside is not entered
                if recursive:
                    scan(Path(entry.path), into)
            elif entry.name.endswith(suffixes) and entry.is_file():
                into.append(Path(entry.path))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside: list[Path] = []
            scan(p, inside)
            for f in sorted(inside):
                take(f, False)
        elif p.exists():
            take(p, True)
        else:
            missing.append(str(raw))
    return found, missing
