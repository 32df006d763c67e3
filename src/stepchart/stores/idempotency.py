"""Idempotency keys that cannot lie: a retry gets the first answer only when it *is* a retry.

Every store recalls a key within one job *incarnation* (the log entries after the job's
last ``Delete``), so a job deleted and made again with the same id never answers with the
deleted job's replies. The check here is the one every request path shares (jobAction,
the step operations, management operations, job creation over HTTP):

- a key recorded for another user, another operation or another body is refused with
  ``IdempotencyKeyReused`` (status 422) and the new request does not run;
- a key older than the store's :attr:`~stepchart.stores.base.JobStore.key_retention`
  (default :data:`DEFAULT_KEY_RETENTION`, 24 hours of request time) has expired: the
  request runs as a new one. The log keeps the old entry (replay needs it); only its key
  stops answering.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from ..errors import RequestError
from ..model.times import parse_datetime
from .base import DEFAULT_KEY_RETENTION, Transaction

__all__ = ["DEFAULT_KEY_RETENTION", "KEY_REUSED", "KEY_REUSED_STATUS", "key_reused", "recall_request"]

KEY_REUSED: Final = "IdempotencyKeyReused"
"""The error ``type`` of a key sent again with another body, operation or user."""

KEY_REUSED_STATUS: Final = 422
"""The status of that refusal (the request was well formed; its key belongs to another request)."""


def key_reused(what: str) -> RequestError:
    """The refusal of a reused key; ``what`` names the part that differs."""
    return RequestError(
        KEY_REUSED,
        "This Idempotency-Key was already used for a different request; nothing was done. Use a new key.",
        [f"differs: {what}"],
    )


def _expired(entry: Mapping[str, Any], now: datetime, retention: timedelta) -> bool:
    """True when the entry's request time is more than ``retention`` before ``now``."""
    then = entry.get("now")
    if not isinstance(then, str):
        return False  # an entry without a time (a loaded job document) keeps its key
    try:
        return now - parse_datetime(then) > retention
    except ValueError:
        return False


def recall_request(
    tx: Transaction,
    key: str,
    *,
    username: str,
    action: str,
    body: Any,
    now: datetime,
    retention: timedelta = DEFAULT_KEY_RETENTION,
    compare_body: bool = True,
) -> dict[str, Any] | None:
    """The log entry of the first request made with ``key`` in this incarnation of the job, or None.

    Raises the :func:`key_reused` ``RequestError`` when that entry is another request:
    another user, another action, or another body (compared as JSON values, so spacing
    and key order of the text do not matter; ``compare_body=False`` leaves the body to the
    caller). An expired key is None.
    """
    prior = tx.recall(key)
    if prior is None or _expired(prior, now, retention):
        return None
    actor = prior.get("actor")
    if isinstance(actor, Mapping) and actor.get("username") != username:
        raise key_reused("user")
    if "action" in prior and prior["action"] != action:
        raise key_reused("operation")
    if compare_body and "body" in prior and prior["body"] != body:
        raise key_reused("body")
    return prior
