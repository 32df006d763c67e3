"""The hub's ear for the store's wake-ups: a thread blocks on them (PostgreSQL's LISTEN) and sets an asyncio event.

The notification poller waits on that event or its poll interval, whichever comes first,
so on PostgreSQL a message leaves about as soon as its request commits, whichever process
served it. Stores without wake-ups (memory, SQLite) get no listener: the poll alone.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from ..stores import EventWakeups, JobStore, StoreError

__all__ = ["LISTEN_WAIT", "WakeupListener"]

log = logging.getLogger("stepchart.http")

LISTEN_WAIT = 1.0
"""Seconds one wait blocks; the most a stopped listener takes to notice."""


class WakeupListener:
    """Sets :attr:`woken` on the event loop whenever the store says new events were written."""

    def __init__(self, wakeups: EventWakeups, loop: asyncio.AbstractEventLoop) -> None:
        self.woken = asyncio.Event()
        self._wakeups, self._loop = wakeups, loop
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stepchart-feed-wakeups", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, store: JobStore, loop: asyncio.AbstractEventLoop) -> WakeupListener | None:
        """A listener on ``store``, or None when it has no wake-ups or cannot listen now (then: poll only)."""
        try:
            wakeups = store.event_wakeups()
        except StoreError as exc:
            log.warning("notifications: cannot listen for new events, polling only: %s", exc)
            return None
        return cls(wakeups, loop) if wakeups is not None else None

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._wakeups.wait(LISTEN_WAIT) and not self._loop.is_closed():
                    self._loop.call_soon_threadsafe(self.woken.set)
        except Exception as exc:  # the listening connection broke: the poll goes on alone
            log.warning("notifications: listening for new events stopped, polling only: %s", exc)
        finally:
            try:
                self._wakeups.close()
            except Exception as exc:
                log.debug("notifications: closing the listening connection failed: %s", exc)
