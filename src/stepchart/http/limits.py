"""What one client may cost the service: time to send headers and a body, connections, unread bodies.

Two pieces, one per layer:

- :func:`guarded_protocol` makes uvicorn's h11 protocol class with a **header
  timeout** (a connection that has not sent a whole request head within
  ``header_timeout`` seconds of connecting, or of its last answer, is answered 408 and
  closed; an idle one is closed) and a **connection cap** (past ``max_connections``
  open connections a new one is answered 503 at once and closed: a clean refusal
  instead of running out of file descriptors);
- :class:`RequestGuard`, an ASGI middleware inside the app, gives each request body a
  **deadline** (``body_timeout`` seconds from the request head: 408
  ``RequestTimeout``), turns a client that disconnects mid-body into one log line, and
  **drains** a body the app answered early (401, 404, 413, ...): before the last part
  of the answer is sent, the rest of the body is read and dropped, up to
  ``drain_limit`` bytes, so a client that sends its whole body before reading (Python's
  ``urllib`` on a ``Connection: close`` request) gets the answer instead of a TCP reset.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import h11
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import dump_json, error_body

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_DRAIN_LIMIT",
    "DEFAULT_HEADER_TIMEOUT",
    "MAX_HEAD",
    "RequestGuard",
    "default_max_connections",
    "guarded_protocol",
]

log = logging.getLogger("stepchart.http.limits")

DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a connection has to send a whole request head."""

DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds a request has to send its whole body, from the end of its head."""

MAX_HEAD = 16 * 1024
"""Largest request head (request line and headers) in bytes; a larger one is answered 400."""

DEFAULT_DRAIN_LIMIT = 8 * 1024 * 1024
"""Most bytes of an early-answered body read and dropped so the answer is not lost to a TCP reset."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def default_max_connections() -> int:
    """A connection cap under this process's file descriptor limit (room left for the store and logs)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(8, min(1000, soft - 64))


def _raw_answer(status: int, reason: str, type_: str, message: str) -> bytes:
    body = dump_json(error_body(type_, message))
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_TOO_MANY = _raw_answer(
    503, "Service Unavailable", "TooManyConnections", "The service has too many open connections; retry later."
)
_HEAD_TIMEOUT = _raw_answer(
    408, "Request Timeout", "RequestTimeout", "The request head did not arrive in time; the connection is closed."
)


def guarded_protocol(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a header timeout and a connection cap (see the module text)."""

    class GuardedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _awaiting: object = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                log.warning(
                    "refused a connection: %d open, the limit is %d", len(self.connections) - 1, max_connections
                )
                transport.write(_TOO_MANY)
                transport.close()
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._awaiting = self.cycle  # still this cycle when the timer fires: no new request head came
            self._head_timer = self.loop.call_later(header_timeout, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.cycle is not self._awaiting:
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return  # a request is running; its body has its own deadline
            partial, _closed = self.conn.trailing_data
            if partial or self.conn.their_state is not h11.IDLE:
                log.warning("closed a connection that did not send a request head within %g s", header_timeout)
                self.transport.write(_HEAD_TIMEOUT)
            self.transport.close()

    return GuardedH11Protocol


class BodyTimeout(Exception):
    """The request body did not arrive before its deadline."""


class RequestGuard:
    """ASGI middleware: a deadline for each request body, one line for a client gone mid-body,
    and the rest of an early-answered body drained before the answer's end (see the module text)."""

    def __init__(
        self,
        app: ASGIApp,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        drain_limit: int = DEFAULT_DRAIN_LIMIT,
    ) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.drain_limit = drain_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        declared = int(length) if length.isdigit() else None
        state = {"done": not chunked and not declared, "gone": False, "started": False, "read": 0}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout

        async def guarded_receive() -> Message:
            if state["done"] or state["gone"]:
                return await receive()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise BodyTimeout
            try:
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] == "http.disconnect":
                state["gone"] = True
            elif message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if not message.get("more_body", False):
                    state["done"] = True
            return message

        async def drain() -> None:
            """Read and drop the rest of the body (bounded in bytes and time)."""
            if declared is not None and declared > self.drain_limit:
                return
            try:
                while not state["done"] and not state["gone"] and state["read"] <= self.drain_limit:
                    await guarded_receive()
            except BodyTimeout:
                pass

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                await drain()
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except BodyTimeout:
            log.warning("a request body did not arrive within %g s; answered 408", self.body_timeout)
            if not state["started"]:
                body = dump_json(
                    error_body("RequestTimeout", f"The request body did not arrive within {self.body_timeout:g} s.")
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 408,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        except ClientDisconnect:
            log.warning("a client disconnected before sending its whole request body")
