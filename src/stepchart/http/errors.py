"""Refusals of the HTTP service: :class:`HttpError`, the R14 body, JSON answers, the 404/405/500 handlers.

Every answer that is not a 200 has the R14 body ``{"error": {"message", "type",
"details"}}``, whatever refused it; this module is where those bodies are written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..errors import RequestError

__all__ = [
    "HttpError",
    "bad_request",
    "dump_json",
    "error_body",
    "format_path",
    "internal_error",
    "json_400_protocol",
    "json_response",
    "routing_error",
    "store_unavailable",
]

log = logging.getLogger("stepchart.http")


def error_body(type_: str, message: str, details: list[str] | None = None) -> dict[str, Any]:
    """The R14 error body (:meth:`RequestError.body`), used for every refusal whatever its status code."""
    return RequestError(type_, message, list(details or [])).body()


def dump_json(body: Any) -> bytes:
    """Compact UTF-8 JSON, as every answer of the service is written."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer with ``status``."""
    return Response(dump_json(body), status, headers=dict(headers or {}), media_type="application/json")


class HttpError(Exception):
    """A refusal before (or instead of) the engine: an HTTP status and an R14 body."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        details: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message
        self.details = list(details or [])
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return json_response(self.status, error_body(self.type, self.message, self.details), self.headers)


def bad_request(type_: str, message: str, details: list[str] | None = None) -> HttpError:
    """A 400 refusal of the service itself (the engine's own 400s are :class:`~stepchart.errors.RequestError`)."""
    return HttpError(400, type_, message, details)


def format_path(path: tuple[str | int, ...]) -> str:
    """A JSON path as the details of a schema violation show it: ``$.a[0].b``."""
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def store_unavailable(exc: Exception) -> bool:
    """A database that is down, unreachable or locked too long: 503, not 500."""
    from ..stores import StoreError

    if isinstance(exc, StoreError):
        return True
    module = type(exc).__module__
    names = {c.__name__ for c in type(exc).__mro__}
    return module.startswith(("psycopg", "sqlite3")) and bool(names & {"OperationalError", "InterfaceError"})


async def routing_error(request: Request, exc: Exception) -> Response:
    """Starlette's routing refusals in the R14 body: 404 ``NotFound``, 405 ``MethodNotAllowed``."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return HttpError(
            405,
            "MethodNotAllowed",
            f"{request.method} is not allowed on {request.url.path}.",
            [f"allowed: {exc.headers.get('Allow', '') if exc.headers else ''}"],
            headers=exc.headers,
        ).response()
    if exc.status_code == 404:
        return HttpError(
            404, "NotFound", f"No operation at {request.url.path}.", [f"path: {request.url.path}"]
        ).response()
    return HttpError(exc.status_code, "HttpError", str(exc.detail)).response()


async def internal_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: logged with its traceback, answered 500 ``InternalError``."""
    log.exception("unexpected failure of %s %s", request.method, request.url.path, exc_info=exc)
    return HttpError(500, "InternalError", "The service failed unexpectedly; nothing was changed.").response()


def json_400_protocol() -> type[Any]:
    """uvicorn's h11 protocol, with its own 400 (a request h11 cannot parse) in the R14 body.

    uvicorn answers an unparsable request (a bad ``Content-Length``, two of them, no
    ``Host``, a malformed request line) itself, in plain text, before the app sees it.
    Passed as ``uvicorn.Config(http=...)``, this class writes the same 400 as
    ``{"error": {"type": "InvalidHttp", ...}}``. What cannot be answered at all (a
    client that closes, bytes that never form a request line) gets no answer.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class JsonErrorH11Protocol(H11Protocol):
        def send_400_response(self, msg: str) -> None:
            body = dump_json(error_body("InvalidHttp", "The request is not valid HTTP/1.1; nothing was done.", [msg]))
            headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body)):
                self.transport.write(self.conn.send(event))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

    return JsonErrorH11Protocol
