"""Who is calling the HTTP service: a users file of token hashes, checked in constant time.

The users file is YAML::

    users:
      - username: alice
        groups: [editors]
        privileges: [jobUpdateHolds]
        tokenSha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

Only the SHA-256 of each token is kept, so the file can be read by the service without
holding a secret that would let a reader call it. A token is 32 random bytes
(``secrets.token_urlsafe``) with a ``sc_`` prefix; ``stepchart users add`` makes one,
prints it once and writes its hash here.

Why hashes and not passwords: tokens are long random strings, so a fast hash is enough
(no brute force of a 256-bit secret), and it lets the service hash each presented token
once per request instead of running a slow KDF. The presented token's hash is compared
with every stored hash by :func:`hmac.compare_digest`, without stopping at the first
match, so the time taken does not tell how close a guess was, nor which user it matched.

The name ``system`` is reserved: the engine acts as ``system`` itself (SPEC R4, R6) and
skips the assignment and privilege rules for it, so no caller may take that name.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import DefinitionError
from ..io.files import FileRefused, read_bounded
from ..io.yamldoc import MAX_BYTES, parse_yaml
from ..model import Actor

__all__ = [
    "DEFAULT_USERS_FILE",
    "RESERVED_NAMES",
    "UserDirectory",
    "UserRecord",
    "UsersFileError",
    "UsersUnavailable",
    "add_user",
    "hash_token",
    "new_token",
    "presented_token",
    "read_users",
]

DEFAULT_USERS_FILE = "stepchart-users.yaml"
"""Where ``stepchart serve`` and ``stepchart users add`` keep users by default (working directory)."""

RESERVED_NAMES = frozenset({"system"})
"""Names no caller may take (the engine's own actor, SPEC R9a)."""

TOKEN_PREFIX = "sc_"
_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}\Z")
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_MAX_TOKEN = 512

users_log = logging.getLogger("stepchart.http.users")


class UsersFileError(ValueError):
    """The users file cannot be read or a user entry is not valid."""


@dataclass(frozen=True)
class UserRecord:
    """One user of the service: an actor and the SHA-256 (hex) of their token."""

    username: str
    groups: tuple[str, ...]
    privileges: tuple[str, ...]
    token_sha256: str

    @property
    def actor(self) -> Actor:
        return Actor.of(self.username, self.groups, self.privileges)

    def to_doc(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "groups": list(self.groups),
            "privileges": list(self.privileges),
            "tokenSha256": self.token_sha256,
        }


def new_token() -> str:
    """A fresh random token (256 bits of entropy), shown to its user once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token's UTF-8 bytes: what the users file stores."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _check_name(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise UsersFileError(f"{where}: {what} {value!r} must be 1-128 letters, digits or _.@+-")
    return value


def _names(value: Any, what: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise UsersFileError(f"{where}: {what} must be a list of names")
    return tuple(dict.fromkeys(_check_name(v, what[:-1], where) for v in value))


def _parse(text: str, source: str) -> list[UserRecord]:
    """The users of a users file's text, read by the project's strict YAML reader (no duplicate keys).

    Every refusal starts with ``file:line:col`` of the node it is about.
    """
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return []
    try:
        doc = parse_yaml(text, source)
    except DefinitionError as exc:
        raise UsersFileError(f"{exc.first}") from None
    data = doc.value

    def at(path: tuple[str | int, ...], *, key: bool = False) -> str:
        line, col = doc.mark(path, key=key)
        return f"{source}:{line}:{col}"

    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"users"}:
        raise UsersFileError(f"{at(())}: expected a mapping with one key, users")
    entries = data.get("users") or []
    if not isinstance(entries, list):
        raise UsersFileError(f"{at(('users',))}: users must be a list")
    out: list[UserRecord] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{at(('users', i))}: users[{i}]"
        if not isinstance(entry, dict):
            raise UsersFileError(f"{where}: a user is a mapping")
        unknown = set(entry) - {"username", "groups", "privileges", "tokenSha256"}
        if unknown:
            first = sorted(unknown)[0]
            raise UsersFileError(f"{at(('users', i, first), key=True)}: users[{i}]: unknown keys {sorted(unknown)}")

        def field_at(name: str, i: int = i) -> str:
            return f"{at(('users', i, name))}: users[{i}]"

        name = _check_name(entry.get("username"), "username", field_at("username"))
        if name in RESERVED_NAMES:
            raise UsersFileError(f"{field_at('username')}: the username {name!r} is reserved for the engine")
        if name in seen:
            raise UsersFileError(f"{field_at('username')}: duplicate username {name!r}")
        seen.add(name)
        digest = entry.get("tokenSha256")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise UsersFileError(f"{field_at('tokenSha256')}: tokenSha256 must be 64 lowercase hex digits")
        out.append(
            UserRecord(
                name,
                _names(entry.get("groups"), "groups", field_at("groups")),
                _names(entry.get("privileges"), "privileges", field_at("privileges")),
                digest,
            )
        )
    return out


def read_users(path: str | Path) -> list[UserRecord]:
    """The users of a users file; a missing file has none. Raises :class:`UsersFileError` (located).

    The file is read by :func:`~stepchart.io.files.read_bounded`: a device, a FIFO or a
    file over :data:`~stepchart.io.yamldoc.MAX_BYTES` is refused before it is read.
    """
    p = Path(path)
    if not os.path.lexists(p):
        return []
    try:
        data = read_bounded(p, MAX_BYTES)
        text = data.decode("utf-8")
    except FileRefused as exc:
        raise UsersFileError(f"{p}:1:1: cannot read the users file: {exc.message}") from None
    except UnicodeDecodeError as exc:
        raise UsersFileError(f"{p}:1:1: the users file is not UTF-8: {exc.reason}") from None
    return _parse(text, str(p))


def write_users(path: str | Path, users: Iterable[UserRecord]) -> None:
    """Replace the users file atomically (write a sibling, then rename), readable by its owner only."""
    p = Path(path)
    text = "# stepchart users: only token hashes are kept (stepchart users add NAME)\n" + yaml.safe_dump(
        {"users": [u.to_doc() for u in users]}, sort_keys=False, default_flow_style=None
    )
    directory = p.parent if str(p.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_user(
    path: str | Path,
    username: str,
    groups: Sequence[str] = (),
    privileges: Sequence[str] = (),
    *,
    replace: bool = False,
) -> str:
    """Add a user with a new token to the users file and return the token (the only copy).

    An existing user is refused unless ``replace`` (a new token, groups and privileges
    then replace the old ones: the old token stops working).
    """
    _check_name(username, "username", "users add")
    if username in RESERVED_NAMES:
        raise UsersFileError(f"the username {username!r} is reserved for the engine")
    record_groups = tuple(dict.fromkeys(_check_name(g, "group", "users add") for g in groups))
    record_privs = tuple(dict.fromkeys(_check_name(p, "privilege", "users add") for p in privileges))
    users = read_users(path)
    if any(u.username == username for u in users) and not replace:
        raise UsersFileError(f"user {username!r} exists already; pass --replace to give them a new token")
    token = new_token()
    record = UserRecord(username, record_groups, record_privs, hash_token(token))
    users = [u for u in users if u.username != username] + [record]
    write_users(path, users)
    return token


class UsersUnavailable(Exception):
    """The users file is not valid: nobody can be authenticated until it is (fail closed).

    ``problem`` is the located reason, ``file:line:col: message``.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class UserDirectory:
    """The users the service accepts, looked up by token in constant time.

    Built from records (tests, embedding) or from a users file with :meth:`from_file`;
    a file-backed directory re-reads the file when its modification time, size or inode
    changes (at most once per ``reload_interval`` seconds), so ``stepchart users add``
    takes effect without a restart.

    Fail closed: a file that no longer parses does not keep the last good users (an edit
    that removes a user and has a typo would leave that user in). Until the file is
    valid again, :meth:`authenticate` raises :class:`UsersUnavailable` for every token
    and :attr:`last_error` holds the located reason; each change of state is logged
    once (``stepchart.http.users``).
    """

    def __init__(
        self, users: Iterable[UserRecord] = (), *, path: str | Path | None = None, reload_interval: float = 1.0
    ):
        self._users: tuple[tuple[bytes, Actor], ...] = ()
        self._set(users)
        self.path = Path(path) if path is not None else None
        self.reload_interval = reload_interval
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @classmethod
    def from_file(cls, path: str | Path, *, reload_interval: float = 1.0) -> UserDirectory:
        """A directory read from ``path`` (which may not exist yet). Raises :class:`UsersFileError`."""
        d = cls(path=path, reload_interval=reload_interval)
        d._reload(force=True)
        return d

    @classmethod
    def of(cls, users: dict[str, tuple[Sequence[str], Sequence[str], str]]) -> UserDirectory:
        """Convenience for tests: ``{name: (groups, privileges, token)}``."""
        return cls(UserRecord(n, tuple(g), tuple(p), hash_token(t)) for n, (g, p, t) in users.items())

    def _set(self, users: Iterable[UserRecord]) -> None:
        self._users = tuple((bytes.fromhex(u.token_sha256), u.actor) for u in users)

    def __len__(self) -> int:
        return len(self._users)

    def _file_stamp(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self, *, force: bool = False) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked < self.reload_interval:
            return
        with self._lock:
            self._checked = now
            stamp = self._file_stamp()
            if not force and stamp == self._stamp:
                return
            self._stamp = stamp
            try:
                users = read_users(self.path)
            except UsersFileError as exc:
                if force:
                    raise
                if str(exc) != self.last_error:
                    users_log.error(
                        "users file invalid, every authenticated request answers 503: %s", exc, extra={"always": True}
                    )
                self._users = ()
                self.last_error = str(exc)
                return
            self._set(users)
            if self.last_error is not None:
                users_log.warning(
                    "users file %s is valid again: %d users", self.path, len(self._users), extra={"always": True}
                )
            self.last_error = None

    def check(self) -> str | None:
        """Re-read the file if it changed; the located reason it is invalid, or None (``/health``)."""
        self._reload()
        return self.last_error

    def authenticate(self, token: str) -> Actor | None:
        """The actor whose token this is, or None. Every stored hash is compared, always.

        Raises :class:`UsersUnavailable` while the users file is invalid.
        """
        self._reload()
        problem = self.last_error
        if problem is not None:
            raise UsersUnavailable(problem)
        if not token or len(token) > _MAX_TOKEN:
            return None
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        found: Actor | None = None
        for stored, actor in self._users:
            if hmac.compare_digest(stored, digest):
                found = actor
        return found


def presented_token(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token a request presents, or None: ``Authorization: Bearer``, then
    ``X-Esri-Authorization: Bearer`` (what ArcGIS clients send), then ``?token=``."""
    for name in ("authorization", "x-esri-authorization"):
        header = headers.get(name)
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                return value.strip()
    return query.get("token") or None
