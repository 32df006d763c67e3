"""Wake-ups of the events feed: PostgreSQL's LISTEN/NOTIFY, so a reader need not wait for its next poll.

A request that writes events also sends ``NOTIFY stepchart_events`` with its schema's
name (delivered when it commits, and only then). :class:`PostgresWakeups` listens on a
connection of its own. A wake-up is only a hint: the events table stays the source
(readers still poll, in order and once each, from their cursor), so a wake-up lost to a
dropped connection only costs the poll interval.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CHANNEL", "NOTIFY", "PostgresWakeups"]

CHANNEL = "stepchart_events"
NOTIFY = f"SELECT pg_notify('{CHANNEL}', current_schema())"


class PostgresWakeups:
    """A LISTEN connection to the store's database: :meth:`wait` returns when events of its schema were written."""

    def __init__(self, pg: Any, url: str, connect_timeout: int = 10) -> None:
        self._conn = pg.connect(url, autocommit=True, connect_timeout=connect_timeout)
        row = self._conn.execute("SELECT current_schema()").fetchone()
        self.schema = row[0] if row is not None else None
        self._conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Whether events of this schema were committed within ``timeout`` seconds (since the last call)."""
        woken = False
        for note in self._conn.notifies(timeout=timeout, stop_after=1):
            woken |= note.payload == self.schema
        return woken

    def close(self) -> None:
        self._conn.close()
