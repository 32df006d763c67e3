"""A shutdown that does not wait on clients that never close.

On SIGINT/SIGTERM uvicorn asks each connection to close, then waits for all of them
(``timeout_graceful_shutdown``). Over TLS a close waits for the client's own
``close_notify``, which an idle keep-alive client (a ``requests`` session's pooled
socket) or a WebSocket client that no longer reads never sends, so one such client held
every shutdown for the whole timeout and logged an error. :func:`abort_idle_on_shutdown`
wraps a protocol class: a connection whose close was asked for and that is still open
``SHUTDOWN_GRACE`` seconds later is aborted. A request still running is not closing, so
it is left to finish as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["SHUTDOWN_GRACE", "abort_idle_on_shutdown"]

SHUTDOWN_GRACE = 1.0

P = TypeVar("P", bound=Callable[..., Any])


def abort_idle_on_shutdown(protocol: P) -> P:
    """``protocol`` (uvicorn's h11 or WebSocket protocol class), its closing connections aborted after the grace."""

    class AbortingProtocol(protocol):  # type: ignore[misc,valid-type]
        def shutdown(self) -> None:
            # the socket now: a TLS transport closed twice forgets its connection
            transport: asyncio.Transport | None = getattr(self, "transport", None)
            sock = transport.get_extra_info("socket") if transport is not None else None
            super().shutdown()
            if transport is not None and sock is not None:
                self.loop.call_later(SHUTDOWN_GRACE, self._end_if_still_open, transport, sock)

        def _end_if_still_open(self, transport: asyncio.Transport, sock: Any) -> None:
            if self in self.connections and transport.is_closing():
                # the loop reads the end and reports the connection lost; not transport.abort(),
                # which a TLS transport closed twice cannot do (a no-op, or on older 3.11 releases an error)
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    AbortingProtocol.__name__ = AbortingProtocol.__qualname__ = f"Aborting{getattr(protocol, '__name__', 'Protocol')}"
    return AbortingProtocol  # type: ignore[return-value]
