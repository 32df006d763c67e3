"""What callers hand the engine, made exact once: the actor and the injected time (R22)."""

from __future__ import annotations

from datetime import datetime

from ..model import SYSTEM, Actor
from ..model.times import parse_datetime

__all__ = ["as_actor", "as_now"]


def as_actor(actor: Actor | str | None) -> Actor:
    """An :class:`Actor`; ``None`` and ``"system"`` are the engine itself, another string a user."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return SYSTEM if actor == "system" else Actor(actor)
    return actor


def as_now(now: datetime | str | None) -> datetime:
    """The time of a request: an aware datetime, or RFC 3339 text; never the wall clock (R22)."""
    if now is None:
        raise ValueError("now is injected: pass the time of the request (SPEC R22)")
    if isinstance(now, str):
        return parse_datetime(now)
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return now
