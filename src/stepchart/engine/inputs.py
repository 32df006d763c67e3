"""What callers hand the engine, made exact once: the actor and the injected time (R22)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import RequestError
from ..io.jsontext import describe_unstorable
from ..model import Actor
from ..model.times import parse_datetime

__all__ = ["as_actor", "as_now", "unstorable_request"]


def as_actor(actor: Actor | str) -> Actor:
    """An :class:`Actor`: :data:`~stepchart.model.SYSTEM` (by identity) is the engine itself.

    A string is a user of that name with no groups and no privileges, ``"system"``
    included; anything else (``None``, a mapping, ...) is a ``TypeError``, so a host whose
    user lookup missed cannot act as the engine by accident.
    """
    if isinstance(actor, Actor):
        return actor
    if isinstance(actor, str):
        return Actor(actor)
    raise TypeError(
        f"actor must be a stepchart.Actor, a user name or stepchart.SYSTEM, not {type(actor).__name__}"
    )


def as_now(now: datetime | str | None) -> datetime:
    """The time of a request: an aware datetime, or RFC 3339 text; never the wall clock (R22)."""
    if now is None:
        raise ValueError("now is injected: pass the time of the request (SPEC R22)")
    if isinstance(now, str):
        return parse_datetime(now)
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    return now


def unstorable_request(job_id: Any, body: Any) -> RequestError | None:
    """The 400 of a request whose job id or body holds NUL or a lone surrogate, else None.

    Text from the Python API skips the JSON parser that refuses them over HTTP; no store
    can keep them (PostgreSQL refuses NUL, UTF-8 has no lone surrogate), so they are
    refused here, before any store is asked, the same on every store.
    """
    if isinstance(job_id, str) and describe_unstorable(job_id):
        return RequestError(
            "InvalidRequest", "The job id holds a character no store can keep.", describe_unstorable(job_id)
        )
    problems = describe_unstorable(body)
    if problems:
        return RequestError("InvalidJson", "The request holds text no store can keep.", problems)
    return None
