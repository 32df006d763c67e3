"""Who acts: a user with groups and privileges, and the engine itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SYSTEM", "Actor"]


@dataclass(frozen=True)
class Actor:
    """Who acts: a username, their groups and privileges (SPEC section 1)."""

    username: str
    groups: frozenset[str] = frozenset()
    privileges: frozenset[str] = frozenset()

    @classmethod
    def of(cls, username: str, groups: Any = (), privileges: Any = ()) -> Actor:
        """An actor from any iterables of names; one string is one name, not its letters."""
        return cls(username, _names(groups), _names(privileges))

    @property
    def is_system(self) -> bool:
        """True only for :data:`SYSTEM` itself: a user who happens to be named "system" is a user."""
        return self is SYSTEM


@dataclass(frozen=True, eq=False)
class _Engine(Actor):
    """The engine itself: equal only to itself, never to a user named "system"."""

    def __repr__(self) -> str:
        return "SYSTEM"

    def __reduce__(self) -> str:
        return "SYSTEM"  # copies and pickles are the one sentinel, so identity holds


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset([value])
    return frozenset(value)


SYSTEM: Actor = _Engine("system")
"""The engine itself (R6, R9a): the only actor that skips assignment and privilege rules."""
