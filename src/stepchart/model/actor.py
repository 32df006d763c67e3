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
        return cls(username, frozenset(groups), frozenset(privileges))

    @property
    def is_system(self) -> bool:
        """True only for :data:`SYSTEM` itself: a user who happens to be named "system" is a user."""
        return self is SYSTEM


SYSTEM = Actor("system")
