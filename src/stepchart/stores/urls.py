"""Store URLs: what ``--store`` (and :func:`~stepchart.stores.open_store`) accept, parsed before anything opens.

The forms are SQLAlchemy's where it has one, so a URL means here what it means there:

- a plain file path (``stepchart.db``, ``/var/lib/jobs.db``): a SQLite file;
- ``sqlite:///rel.db``: a SQLite file relative to the working folder (three slashes: an
  empty host, then the path); ``sqlite:////abs/jobs.db``: an absolute one (the fourth
  slash starts the path); ``sqlite:rel.db`` and ``sqlite:/abs.db`` also work.
  ``?synchronous=full`` after a SQLite URL asks for an fsync at every commit;
- ``postgresql://...`` or ``postgres://...``: a libpq connection URL;
- ``memory:``: a store in this process.

Anything else that looks like a URL (``mysql://``, ``foo:``), or ``memory`` without its
colon, is refused with a :class:`~.base.StoreError` naming these forms: a typo must not
quietly become a SQLite file of that name. Parsing opens nothing, so a command can
check its ``--store`` before it binds a port or reads a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from .base import StoreError

__all__ = ["KNOWN_FORMS", "SQLITE_OPTIONS", "StoreURL", "parse_store_url"]

KNOWN_FORMS = (
    "a SQLite file path, sqlite:///relative.db, sqlite:////absolute/path.db, "
    "postgresql://user@host/database (or postgres://), memory:"
)
SQLITE_OPTIONS = ("synchronous",)

StoreKind = Literal["memory", "sqlite", "postgresql"]

# a scheme of two letters or more (one letter is a Windows drive: C:\jobs.db is a path)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: which backend, and what it opens.

    ``target``: the SQLite file path as given (relative to the working folder unless
    absolute), the PostgreSQL URL, or ``""`` for memory. ``options``: SQLite URL
    options (``synchronous``), values as written.
    """

    kind: StoreKind
    target: str
    options: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """The store in words, for a banner: no password of a PostgreSQL URL."""
        if self.kind == "memory":
            return "memory (jobs are lost when the process ends)"
        if self.kind == "postgresql":
            parts = urlsplit(self.target)
            host = parts.hostname or "localhost"
            return f"PostgreSQL {host}{':' + str(parts.port) if parts.port else ''}{parts.path}"
        return f"SQLite {self.target}"


def _refuse(text: str, why: str) -> StoreError:
    return StoreError(f"store {text!r}: {why}; known forms: {KNOWN_FORMS}")


def _sqlite(text: str) -> StoreURL:
    rest = text[len("sqlite:") :]
    rest, _, query = rest.partition("?")
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host or not slash:
            raise _refuse(
                text, "a SQLite URL has no host: sqlite:///relative.db (three slashes) or sqlite:////absolute.db"
            )
    else:
        path = rest
    options: dict[str, str] = {}
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        if key not in SQLITE_OPTIONS:
            raise StoreError(f"store {text!r}: unknown SQLite URL option {key!r}; known: {', '.join(SQLITE_OPTIONS)}")
        options[key] = value
    if not path:
        raise _refuse(text, "a SQLite URL names a file")
    return StoreURL("sqlite", _sqlite_path(text, path), options)


def _sqlite_path(text: str, path: str) -> str:
    if path == ":memory:":  # sqlite3 would quietly make a database that vanishes with the connection
        raise _refuse(text, "':memory:' is SQLite's private in-memory database; the memory store is memory:")
    return path


def parse_store_url(target: str | Path) -> StoreURL:
    """What ``target`` names (see the module text); raises :class:`StoreError` naming the known forms.

    A :class:`~pathlib.Path` is always a SQLite file, whatever its name.
    """
    if isinstance(target, Path):
        return StoreURL("sqlite", str(target))
    text = target
    if not text.strip():
        raise _refuse(text, "empty")
    if text == "memory:":
        return StoreURL("memory", "")
    if text.startswith(("postgresql://", "postgres://")):
        return StoreURL("postgresql", text)
    if text.startswith("sqlite:"):
        return _sqlite(text)
    if text.lower() == "memory":
        raise _refuse(text, "did you mean memory: (with its colon)? A file named memory is ./memory")
    found = _SCHEME.match(text)
    if found:
        scheme = found.group(1)
        if scheme.lower() == "memory":
            raise _refuse(text, "the memory store is memory: alone")
        hint = "" if text[found.end() :].startswith("//") else f" (a file whose name has a colon: write ./{text})"
        raise _refuse(text, f"unknown scheme {scheme + ':'!r}{hint}")
    return StoreURL("sqlite", _sqlite_path(text, text))
