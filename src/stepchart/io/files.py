"""Where the shipped charts, rules and examples are: package data, or the source tree."""

from __future__ import annotations

from pathlib import Path

__all__ = ["data_dir"]

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
