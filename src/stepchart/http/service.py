"""The state behind the routes and the checks every operation shares, in order, before the engine runs.

:class:`Service` holds the engine, the users, the clock and the limits, and runs engine
requests inline or in worker threads. :func:`endpoint` wraps a handler with the checks
of every operation: the token (401), NUL characters in the URL (400), the
``Idempotency-Key`` header, the body's media type and size (415, 413) and NUL characters
in it, then maps the refusals to their R14 answers (400 from the engine, 503 when the
store is unavailable).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from ..bootstrap import Engine
from ..errors import RequestError
from ..io.jsontext import parse_json_strict
from ..io.schemas import describe
from ..model import Actor, JobTemplate
from .auth import UserDirectory, UsersUnavailable, presented_token
from .components import validator
from .errors import HttpError, bad_request, dump_json, format_path, json_response, store_unavailable

__all__ = ["DEFAULT_MAX_BODY", "MAX_IDEMPOTENCY_KEY", "Call", "Clock", "Handler", "Service", "endpoint"]

log = logging.getLogger("stepchart.http")

DEFAULT_MAX_BODY = 64 * 1024
"""Largest request body accepted (bytes); larger ones get 413 before the engine sees them."""

MAX_IDEMPOTENCY_KEY = 200

T = TypeVar("T")
Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """The default clock of the service: this machine's, in UTC."""
    return datetime.now(UTC)


def default_engine_threads(engine: Engine) -> int:
    """Worker threads for engine requests: 16 on PostgreSQL, 1 on SQLite (a write waiting for
    another process's lock must not hold up the event loop), 0 (inline) in memory."""
    kind = type(engine.store).__name__
    return 16 if kind == "PostgresStore" else 1 if kind == "SQLiteStore" else 0


_NOT_WRITABLE = ("disk is full", "readonly database", "disk i/o error", "no space left", "read-only")


def store_not_writable(exc: BaseException) -> bool:
    """A write the store refused for want of room or permission (not a lock held too long)."""
    if type(exc).__name__ in ("DiskFull", "ReadOnlySqlTransaction", "InsufficientResources"):
        return True
    text = str(exc).lower()
    return any(part in text for part in _NOT_WRITABLE)


def users_unavailable(problem: str) -> HttpError:
    """503 ``UsersFileInvalid``: the users file is invalid, so nobody is let in until it is fixed."""
    return HttpError(
        503,
        "UsersFileInvalid",
        "The users file is not valid; no request is authenticated until it is fixed.",
        [problem],
        headers={"Retry-After": "5"},
    )


def _is_json_type(value: str) -> bool:
    """``application/json`` or ``application/*+json``, with no charset other than UTF-8."""
    mime, _, params = value.partition(";")
    mime = mime.strip().lower()
    if mime != "application/json" and not (mime.startswith("application/") and mime.endswith("+json")):
        return False
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


@dataclass(frozen=True)
class Call:
    """What a handler gets: the caller, the request, and the checked body (if any)."""

    actor: Actor
    request: Request
    body: bytes
    idempotency_key: str | None

    def param(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value


class Service:
    """The state behind the routes: the engine, the users, the clock and the limits."""

    def __init__(
        self,
        engine: Engine,
        users: UserDirectory,
        *,
        clock: Clock = wall_clock,
        max_body: int = DEFAULT_MAX_BODY,
        sweep_interval: float | None = None,
        engine_threads: int | None = None,
    ) -> None:
        self.engine = engine
        self.users = users
        self.clock = clock
        self.max_body = max_body
        self.sweep_interval = sweep_interval
        self.sweeps = 0
        self.engine_threads = default_engine_threads(engine) if engine_threads is None else engine_threads
        self._limiter: anyio.CapacityLimiter | None = None
        self.write_error: str | None = None
        """Why the last write failed for want of room or permission (``/health`` reports it), or None."""
        self._openapi: bytes | None = None
        self.templates: dict[str, JobTemplate] = {}
        """The job templates offered, by id (loaded ones, then a default per workflow; set by ``create_app``)."""

    # -- plumbing ---------------------------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a synchronous read (a query, no transaction): in the shared worker threads."""
        return await run_in_threadpool(fn, *args, **kwargs)

    async def write(self, fn: Callable[[datetime], T]) -> T:
        """Run one engine request, ``fn(now)``: inline, or in one of ``engine_threads`` threads.

        ``now`` is read when the request starts, so requests queued behind one another
        get times in the order they run. With threads, at most ``engine_threads`` run at
        once: one is right for SQLite (its single writer lock would otherwise make the
        others sleep in its busy handler), more for PostgreSQL (row locks).
        """
        try:
            if self.engine_threads <= 0:
                result = fn(self.clock())
            else:
                if self._limiter is None:
                    self._limiter = anyio.CapacityLimiter(self.engine_threads)
                result = await anyio.to_thread.run_sync(lambda: fn(self.clock()), limiter=self._limiter)
        except Exception as exc:
            if store_not_writable(exc):
                self.write_error = f"{type(exc).__name__}: {exc}"[:300]
            raise
        self.write_error = None
        return result

    def authenticate(self, request: HTTPConnection) -> Actor:
        """The caller from ``Authorization: Bearer``, ``X-Esri-Authorization: Bearer`` or ``?token=``;
        401 otherwise, 503 while the users file is invalid (fail closed)."""
        token = presented_token(request.headers, request.query_params)
        if token is None:
            raise HttpError(
                401,
                "TokenRequired",
                "A token is required: send Authorization: Bearer TOKEN or ?token=TOKEN.",
                headers={"WWW-Authenticate": 'Bearer realm="stepchart"'},
            )
        try:
            actor = self.users.authenticate(token)
        except UsersUnavailable as exc:
            raise users_unavailable(exc.problem) from None
        if actor is None:
            raise HttpError(
                401,
                "InvalidToken",
                "The token is not valid.",
                headers={"WWW-Authenticate": 'Bearer realm="stepchart", error="invalid_token"'},
            )
        return actor

    async def read_body(self, request: Request) -> bytes:
        """The body, refused with 415 (not JSON) or 413 (over the limit) before it is parsed."""
        content_type = request.headers.get("content-type")
        length = request.headers.get("content-length")
        if length is not None:
            if not (length.isascii() and length.isdigit() and len(length) <= 19):
                raise bad_request("InvalidRequest", "The Content-Length header is not a number.")
            if int(length) > self.max_body:
                raise self._too_large()
            if int(length) == 0:
                return b""
        if content_type is not None and not _is_json_type(content_type):
            raise HttpError(
                415,
                "UnsupportedMediaType",
                "The request body must be JSON: Content-Type: application/json (UTF-8).",
                [f"Content-Type: {content_type[:100]}"],
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise self._too_large()
            chunks.append(chunk)
        body = b"".join(chunks)
        if body and content_type is None:
            raise HttpError(
                415,
                "UnsupportedMediaType",
                "The request body must be JSON: send Content-Type: application/json.",
                ["Content-Type: (none)"],
            )
        return body

    def _too_large(self) -> HttpError:
        return HttpError(
            413, "PayloadTooLarge", f"The request body is over {self.max_body} bytes.", [f"limit: {self.max_body}"]
        )

    @staticmethod
    def idempotency_key(request: Request, actor: Actor) -> str | None:
        """The ``Idempotency-Key`` header, scoped to the path (or None).

        Not to the caller: the store keeps who made the first request, and the same key from
        another user is refused (422 ``IdempotencyKeyReused``), not silently a second key.
        """
        key = request.headers.get("idempotency-key")
        if key is None:
            return None
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not all("\x21" <= c <= "\x7e" for c in key):
            raise bad_request(
                "InvalidRequest",
                f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters.",
                ["header: Idempotency-Key"],
            )
        return json.dumps([request.url.path, key], separators=(",", ":"))

    def json_body(self, body: bytes, stem: str, *, required: bool = True) -> dict[str, Any]:
        """Parse strictly (R10's JSON rules) and check against the shipped schema ``stem``."""
        if not body:
            if not required:
                return {}
            raise bad_request("InvalidJson", "The request body is not valid JSON.", ["the body is empty"])
        try:
            value = parse_json_strict(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise bad_request("InvalidJson", "The request body is not valid JSON.", [str(exc)]) from None
        details: list[str] = []
        for err in sorted(validator(stem).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
            _code, message, _at_key, path = describe(err)
            details.append(f"{format_path(path)}: {message}")
        if details:
            raise bad_request("SchemaViolation", "The request body does not match its schema.", details)
        assert isinstance(value, dict)
        return value

    def openapi(self) -> bytes:
        """The OpenAPI document, built once."""
        if self._openapi is None:
            from .. import __version__
            from .openapi import build_openapi

            self._openapi = dump_json(build_openapi(version=__version__))
        return self._openapi


# -- NUL characters: refused the same on every store ---------------------------------------------


def _refuse_nul_in_url(request: Request) -> None:
    """U+0000 in a path or query value is refused: PostgreSQL cannot store or compare it in text (D)."""
    for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in items:
            if "\x00" in name or (isinstance(value, str) and "\x00" in value):
                raise bad_request(
                    "InvalidRequest",
                    f"The {where} parameter {name!r} contains a NUL character.",
                    [f"{where}: {name!r}"],
                )


# -- the wrapper of every operation ----------------------------------------------------------------

Handler = Callable[[Service, Call], Awaitable[Response]]


def endpoint(service: Service, handler: Handler, *, body: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with the checks every operation shares, in order: token, body, then the handler."""

    async def run(request: Request) -> Response:
        try:
            actor = service.authenticate(request)
            _refuse_nul_in_url(request)
            key = service.idempotency_key(request, actor) if request.method == "POST" else None
            raw = await service.read_body(request) if body else b""
            return await handler(service, Call(actor, request, raw, key))
        except HttpError as exc:
            return exc.response()
        except RequestError as exc:
            return json_response(400, exc.body())
        except Exception as exc:
            if store_unavailable(exc):
                log.warning("%s %s: job store unavailable: %s", request.method, request.url.path, exc)
                return HttpError(
                    503,
                    "StoreUnavailable",
                    "The job store cannot be reached or is busy; nothing was changed. Retry later.",
                    [type(exc).__name__],
                    headers={"Retry-After": "1"},
                ).response()
            raise

    run.__name__ = handler.__name__
    return run
