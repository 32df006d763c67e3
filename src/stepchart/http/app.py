"""The jobAction HTTP service: a Starlette app over one :class:`~stepchart.engine.Engine`.

``create_app(engine, users)`` answers the REST contract of the Workflow Manager
``jobAction`` operation (``POST /{orgId}/{itemId}/jobs/{jobId}/action``: a SPEC R10 body,
200 with R13, 400 with R14) and the operations around it: create, read, list, close,
reopen and delete jobs, a job's history, respond/complete/fail (R3, R4), assign (R25),
the events feed, ``/health`` and ``/openapi.json`` (:mod:`stepchart.openapi`).

Every answer that is not a 200 has the R14 body ``{"error": {"message", "type",
"details"}}``, whatever refused it: the engine (400), authentication (401
``TokenRequired`` / ``InvalidToken``), routing (404 ``NotFound``, 405
``MethodNotAllowed``), the body checks (413 ``PayloadTooLarge``, 415
``UnsupportedMediaType``, 400 ``InvalidJson`` / ``SchemaViolation``) or an unexpected
failure (500 ``InternalError``, 503 ``StoreUnavailable``). The checks run in that order,
and all of them before the engine is called: a refused request changes nothing.

Where the engine runs (``engine_threads``): its calls are synchronous. On PostgreSQL
they wait for row locks and network round trips, so they run in worker threads (16 by
default, one connection each) and the event loop keeps serving. On SQLite and in
memory every write is serialised by the store anyway and a request takes well under a
millisecond, so by default (``engine_threads=0``) it runs inline on the event loop:
handing each request to a thread and back costs more than the request (see
``bench/HTTP_FIGURES.md``). The price is that a commit waiting for another process's
SQLite write lock holds up the loop meanwhile; pass ``engine_threads=1`` (``stepchart
serve --engine-threads 1``) where other processes write to the same file. Reads that
take no lock (a job, lists, the feed) always run in worker threads.

The service injects the wall clock (``clock``) as the engine's ``now`` (R22): the engine
itself never reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..bootstrap import Engine
from ..engine.core import ActionResult
from ..errors import RequestError
from ..io.jsontext import parse_json_strict
from ..io.schemas import describe
from ..model import Actor
from ..stores import JobExistsError
from .auth import UserDirectory
from .openapi import build_openapi, validator

__all__ = ["DEFAULT_MAX_BODY", "HttpError", "create_app", "error_body"]

log = logging.getLogger("stepchart.http")

DEFAULT_MAX_BODY = 64 * 1024
"""Largest request body accepted (bytes); larger ones get 413 before the engine sees them."""

MAX_IDEMPOTENCY_KEY = 200
MAX_PAGE = 1000
DEFAULT_PAGE = 100

T = TypeVar("T")
Clock = Callable[[], datetime]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def default_engine_threads(engine: Engine) -> int:
    """Worker threads for engine requests: 16 on PostgreSQL, 0 (inline) on single-writer stores."""
    return 16 if type(engine.store).__name__ == "PostgresStore" else 0


def error_body(type_: str, message: str, details: list[str] | None = None) -> dict[str, Any]:
    """The R14 error body, used for every refusal whatever its status code."""
    return {"error": {"message": message, "type": type_, "details": list(details or [])}}


def _dump(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(_dump(body), status, headers=dict(headers or {}), media_type="application/json")


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
        return _json_response(self.status, error_body(self.type, self.message, self.details), self.headers)


def _bad_request(type_: str, message: str, details: list[str] | None = None) -> HttpError:
    return HttpError(400, type_, message, details)


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
class _Call:
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
        clock: Clock = _wall_clock,
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
        self._openapi: bytes | None = None

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
        if self.engine_threads <= 0:
            return fn(self.clock())
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.engine_threads)
        return await anyio.to_thread.run_sync(lambda: fn(self.clock()), limiter=self._limiter)

    def authenticate(self, request: Request) -> Actor:
        """The caller from ``Authorization: Bearer`` or ``?token=``; 401 otherwise."""
        token: str | None = None
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token = value.strip()
        if token is None:
            token = request.query_params.get("token") or None
        if token is None:
            raise HttpError(
                401,
                "TokenRequired",
                "A token is required: send Authorization: Bearer TOKEN or ?token=TOKEN.",
                headers={"WWW-Authenticate": 'Bearer realm="stepchart"'},
            )
        actor = self.users.authenticate(token)
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
            if not length.isdigit():
                raise _bad_request("InvalidRequest", "The Content-Length header is not a number.")
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
        """The ``Idempotency-Key`` header, scoped to the caller and the path (or None)."""
        key = request.headers.get("idempotency-key")
        if key is None:
            return None
        if not key or len(key) > MAX_IDEMPOTENCY_KEY or not all("\x21" <= c <= "\x7e" for c in key):
            raise _bad_request(
                "InvalidRequest",
                f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters.",
                ["header: Idempotency-Key"],
            )
        return json.dumps([actor.username, request.url.path, key], separators=(",", ":"))

    def json_body(self, body: bytes, stem: str, *, required: bool = True) -> dict[str, Any]:
        """Parse strictly (R10's JSON rules) and check against the shipped schema ``stem``."""
        if not body:
            if not required:
                return {}
            raise _bad_request("InvalidJson", "The request body is not valid JSON.", ["the body is empty"])
        try:
            value = parse_json_strict(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise _bad_request("InvalidJson", "The request body is not valid JSON.", [str(exc)]) from None
        details: list[str] = []
        for err in sorted(validator(stem).iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
            _code, message, _at_key, path = describe(err)
            details.append(f"{_format_path(path)}: {message}")
        if details:
            raise _bad_request("SchemaViolation", "The request body does not match its schema.", details)
        assert isinstance(value, dict)
        return value

    def openapi(self) -> bytes:
        if self._openapi is None:
            from .. import __version__

            self._openapi = _dump(build_openapi(version=__version__))
        return self._openapi


def _format_path(path: tuple[str | int, ...]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _result(result: ActionResult) -> Response:
    return _json_response(result.status_code, result.body)


def _without_history(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "history"}


def _bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise _bad_request("InvalidRequest", f"The query parameter {name} must be true or false.", [f"{name}: {raw[:50]}"])


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _bad_request(
            "InvalidRequest",
            f"The query parameter {name} must be an integer from {low} to {high}.",
            [f"{name}: {raw[:50]}"],
        )
    return int(raw)


def _not_found(job_id: str) -> HttpError:
    return _bad_request("JobNotFound", f"The job {job_id!r} does not exist.", [f"jobId: {job_id}"])


def _refuse_nul_in_url(request: Request) -> None:
    """U+0000 in a path or query value is refused: PostgreSQL cannot store or compare it in text (D)."""
    for where, items in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in items:
            if "\x00" in name or (isinstance(value, str) and "\x00" in value):
                raise _bad_request(
                    "InvalidRequest",
                    f"The {where} parameter {name!r} contains a NUL character.",
                    [f"{where}: {name!r}"],
                )


def _nul_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            if "\x00" in k:
                yield (*path, k)
            yield from _nul_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nul_paths(v, (*path, i))


def _refuse_nul_in_body(raw: bytes) -> None:
    """A JSON string holding U+0000 is refused as a schema violation, the same on every store (D)."""
    try:
        value = parse_json_strict(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # not JSON: the operation's own parse reports InvalidJson
    details = [f"{_format_path(p)}: strings may not contain the NUL character (U+0000)" for p in _nul_paths(value)]
    if details:
        raise _bad_request("SchemaViolation", "The request body does not match its schema.", details)


def _store_unavailable(exc: Exception) -> bool:
    """A database that is down, unreachable or locked too long: 503, not 500."""
    from ..stores import StoreError

    if isinstance(exc, StoreError):
        return True
    module = type(exc).__module__
    names = {c.__name__ for c in type(exc).__mro__}
    return module.startswith(("psycopg", "sqlite3")) and bool(names & {"OperationalError", "InterfaceError"})


Handler = Callable[[Service, _Call], Awaitable[Response]]


def _endpoint(service: Service, handler: Handler, *, body: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with the checks every operation shares, in order: token, body, then the handler."""

    async def endpoint(request: Request) -> Response:
        try:
            actor = service.authenticate(request)
            _refuse_nul_in_url(request)
            key = service.idempotency_key(request, actor) if request.method == "POST" else None
            raw = await service.read_body(request) if body else b""
            if b"\\u0000" in raw:
                _refuse_nul_in_body(raw)
            return await handler(service, _Call(actor, request, raw, key))
        except HttpError as exc:
            return exc.response()
        except RequestError as exc:
            return _json_response(400, exc.body())
        except Exception as exc:
            if _store_unavailable(exc):
                log.warning("%s %s: job store unavailable: %s", request.method, request.url.path, exc)
                return HttpError(
                    503,
                    "StoreUnavailable",
                    "The job store cannot be reached or is busy; nothing was changed. Retry later.",
                    [type(exc).__name__],
                    headers={"Retry-After": "1"},
                ).response()
            raise

    endpoint.__name__ = handler.__name__
    return endpoint


# -- handlers ---------------------------------------------------------------------------------


async def job_action(s: Service, c: _Call) -> Response:
    """``POST .../jobs/{jobId}/action``: the jobAction operation; the engine checks the body (R10)."""
    job_id = c.param("jobId")
    return _result(
        await s.write(lambda now: s.engine.act(job_id, c.body, c.actor, now, idempotency_key=c.idempotency_key))
    )


async def create_job(s: Service, c: _Call) -> Response:
    """``POST .../jobs``: a new job of a loaded workflow (needs ``jobCreate``)."""
    value = s.json_body(c.body, "http-create-job")
    if "jobCreate" not in c.actor.privileges:
        raise _bad_request(
            "InsufficientPrivileges", "Creating a job needs the jobCreate privilege.", ["privilege: jobCreate"]
        )
    workflow, job_id = value["workflow"], value.get("jobId")
    if s.engine.workflow(workflow) is None:
        raise _bad_request(
            "InvalidRequest",
            f"No workflow {workflow!r} is loaded.",
            [f"workflow: {workflow}", "loaded: " + ", ".join(sorted(s.engine.workflows))],
        )

    key = c.idempotency_key
    if key is not None and job_id is None:
        # a retry must find the job the first try made: derive its id from the (scoped) key
        job_id = "J-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    def create(now: datetime) -> dict[str, Any]:
        for _attempt in range(20):
            try:
                return s.engine.create_job(workflow, job_id, now=now, actor=c.actor, idempotency_key=key)
            except JobExistsError:
                if job_id is not None:
                    if key is not None:
                        with s.engine.store.transaction(job_id) as tx:
                            if tx.job is not None and tx.recall(key) is not None:
                                return tx.job.to_doc()  # the retried create: the job it made, as it is now
                    raise _bad_request(
                        "InvalidRequest", f"A job {job_id!r} exists already.", [f"jobId: {job_id}"]
                    ) from None
                # another process took the next id first: take the one after
        raise _bad_request("InvalidRequest", "No free job id was found; pass jobId.")

    doc = await s.write(create)
    return _json_response(200, _without_history(doc))


async def get_job(s: Service, c: _Call) -> Response:
    """``GET .../jobs/{jobId}``: the job document without its history."""
    job_id = c.param("jobId")
    job = await s.run(s.engine.store.get, job_id)
    if job is None:
        raise _not_found(job_id)
    return _json_response(200, _without_history(job.to_doc()))


async def job_resource(s: Service, c: _Call) -> Response:
    """``GET`` or ``DELETE .../jobs/{jobId}`` (one route, so a 405 names both methods)."""
    return await (delete_job(s, c) if c.request.method == "DELETE" else get_job(s, c))


async def job_history(s: Service, c: _Call) -> Response:
    """``GET .../jobs/{jobId}/history``: the job's history records (R23)."""
    job_id = c.param("jobId")
    job = await s.run(s.engine.store.get, job_id)
    if job is None:
        raise _not_found(job_id)
    return _json_response(200, {"jobId": job_id, "history": job.history})


async def respond(s: Service, c: _Call) -> Response:
    """``POST .../steps/{stepId}/respond``: answer a question step (R3)."""
    value = s.json_body(c.body, "http-respond")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.respond(
                job_id, step_id, value["value"], c.actor, now, idempotency_key=c.idempotency_key
            )
        )
    )


def _require_host(c: _Call, what: str) -> None:
    if "hostExecution" not in c.actor.privileges:
        raise _bad_request(
            "InsufficientPrivileges",
            f"{what} reports the host's execution of a step: it needs the hostExecution privilege.",
            ["privilege: hostExecution"],
        )


async def complete(s: Service, c: _Call) -> Response:
    """``POST .../steps/{stepId}/complete``: the host finished an asynchronous step (R4)."""
    value = s.json_body(c.body, "http-complete", required=False)
    _require_host(c, "complete")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.complete(
                job_id, step_id, value.get("returnValue", "Success"), now=now, idempotency_key=c.idempotency_key
            )
        )
    )


async def fail(s: Service, c: _Call) -> Response:
    """``POST .../steps/{stepId}/fail``: the host's execution of an asynchronous step failed (R4)."""
    value = s.json_body(c.body, "http-fail", required=False)
    _require_host(c, "fail")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.fail(
                job_id, step_id, value.get("message", ""), now=now, idempotency_key=c.idempotency_key
            )
        )
    )


async def assign(s: Service, c: _Call) -> Response:
    """``POST .../steps/{stepId}/assign``: reassign a current step (R25)."""
    value = s.json_body(c.body, "http-assign")
    job_id, step_id = c.param("jobId"), c.param("stepId")
    return _result(
        await s.write(
            lambda now: s.engine.assign(
                job_id,
                step_id,
                value["assignedType"],
                value.get("assignedTo"),
                c.actor,
                now,
                idempotency_key=c.idempotency_key,
            )
        )
    )


async def list_jobs(s: Service, c: _Call) -> Response:
    """``GET .../jobs``: job summaries in creation order, a page at a time (``after`` = last job id seen)."""
    r = c.request
    limit = _int_param(r, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    mine = _bool_param(r, "mine")
    jobs = await s.run(
        s.engine.search_jobs,
        closed=_bool_param(r, "closed"),
        workflow=r.query_params.get("workflow"),
        assigned_to=r.query_params.get("assignedTo"),
        actor=c.actor if mine else None,
        step=r.query_params.get("step"),
        after=r.query_params.get("after"),
        limit=limit + 1,
    )
    page = jobs[:limit]
    return _json_response(200, {"jobs": page, "next": page[-1]["jobId"] if len(jobs) > limit else None})


async def close_job(s: Service, c: _Call) -> Response:
    """``POST .../jobs/{jobId}/close`` (``jobClose``)."""
    job_id, key = c.param("jobId"), c.idempotency_key
    return _result(await s.write(lambda now: s.engine.close_job(job_id, c.actor, now, idempotency_key=key)))


async def reopen_job(s: Service, c: _Call) -> Response:
    """``POST .../jobs/{jobId}/reopen`` (``jobReopenClosed``)."""
    job_id, key = c.param("jobId"), c.idempotency_key
    return _result(await s.write(lambda now: s.engine.reopen_job(job_id, c.actor, now, idempotency_key=key)))


async def delete_job(s: Service, c: _Call) -> Response:
    """``DELETE .../jobs/{jobId}`` (``jobDelete``); the job's log and events stay."""
    job_id = c.param("jobId")
    return _result(await s.write(lambda now: s.engine.delete_job(job_id, c.actor, now)))


async def events(s: Service, c: _Call) -> Response:
    """``GET .../events?after=N``: the events feed, oldest first; poll again with ``last``."""
    r = c.request
    after = _int_param(r, "after", 0, 0, 2**62)
    limit = _int_param(r, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    found = await s.run(s.engine.events_after, after, r.query_params.get("jobId"), limit)
    return _json_response(200, {"events": found, "last": found[-1]["sequence"] if found else after})


async def not_found(request: Request, exc: Exception) -> Response:
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
    log.exception("unexpected failure of %s %s", request.method, request.url.path, exc_info=exc)
    return HttpError(500, "InternalError", "The service failed unexpectedly; nothing was changed.").response()


def create_app(
    engine: Engine,
    users: UserDirectory,
    *,
    clock: Clock = _wall_clock,
    max_body: int = DEFAULT_MAX_BODY,
    sweep_interval: float | None = None,
    engine_threads: int | None = None,
    extra_routes: list[Route] | None = None,
) -> Starlette:
    """The Starlette app serving ``engine`` to the callers in ``users``.

    ``clock`` gives ``now`` for each request (R22); ``max_body`` is the body limit in
    bytes; ``sweep_interval`` (seconds) starts a background sweep that records expired
    holds (R19) and runs the automatic steps they free (R6) while the app runs;
    ``engine_threads`` is where engine requests run (None: by store, see the module
    text; 0: inline on the event loop; N: in N worker threads); ``extra_routes`` are
    added after the service's own (benchmarks mount their ceiling there).
    """
    service = Service(
        engine,
        users,
        clock=clock,
        max_body=max_body,
        sweep_interval=sweep_interval,
        engine_threads=engine_threads,
    )

    async def health(request: Request) -> Response:
        store = engine.store
        try:
            version = await service.run(lambda: getattr(store, "schema_version", None))
            await service.run(store.exists, "")
        except Exception as exc:  # a store that cannot be reached is the one thing health reports
            log.warning("health: store unavailable: %s", exc)
            return HttpError(
                503, "StoreUnavailable", "The job store cannot be reached.", [type(exc).__name__]
            ).response()
        from .. import __version__

        return _json_response(
            200,
            {
                "status": "ok",
                "store": type(store).__name__,
                "schemaVersion": version if isinstance(version, int) else None,
                "workflows": sorted(engine.workflows),
                "version": __version__,
            },
        )

    async def openapi(request: Request) -> Response:
        return Response(service.openapi(), media_type="application/json")

    def ep(handler: Handler, *, body: bool = False) -> Callable[[Request], Awaitable[Response]]:
        return _endpoint(service, handler, body=body)

    base = "/{orgId}/{itemId}"
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route(f"{base}/jobs/{{jobId}}/action", ep(job_action, body=True), methods=["POST"]),
        Route(f"{base}/jobs", ep(create_job, body=True), methods=["POST"]),
        Route(f"{base}/jobs", ep(list_jobs), methods=["GET"]),
        Route(f"{base}/jobs/{{jobId}}", ep(job_resource), methods=["GET", "DELETE"]),
        Route(f"{base}/jobs/{{jobId}}/history", ep(job_history), methods=["GET"]),
        Route(f"{base}/jobs/{{jobId}}/close", ep(close_job), methods=["POST"]),
        Route(f"{base}/jobs/{{jobId}}/reopen", ep(reopen_job), methods=["POST"]),
        Route(f"{base}/events", ep(events), methods=["GET"]),
        Route(f"{base}/jobs/{{jobId}}/steps/{{stepId}}/respond", ep(respond, body=True), methods=["POST"]),
        Route(f"{base}/jobs/{{jobId}}/steps/{{stepId}}/complete", ep(complete, body=True), methods=["POST"]),
        Route(f"{base}/jobs/{{jobId}}/steps/{{stepId}}/fail", ep(fail, body=True), methods=["POST"]),
        Route(f"{base}/jobs/{{jobId}}/steps/{{stepId}}/assign", ep(assign, body=True), methods=["POST"]),
        *(extra_routes or []),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_sweeper(service)) if sweep_interval else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def _refresh(engine: Engine, job_id: str, now: datetime) -> ActionResult:
    return engine.refresh(job_id, now)


async def _sweeper(service: Service) -> None:
    """Record expired holds on a timer (the sweep), so automatic steps they free run unasked."""
    interval = service.sweep_interval or 0
    engine = service.engine
    due_jobs = getattr(engine.store, "due_jobs", None)
    if due_jobs is None:
        log.warning(
            "%s finds no due holds: expired holds are recorded by each job's next request", type(engine.store).__name__
        )
        return
    while True:
        await asyncio.sleep(interval)
        try:
            # what engine.sweep does, one job per engine request, so that inline requests
            # interleave with the sweep instead of waiting for all of it
            for job_id in await service.run(due_jobs, service.clock(), 1000):
                await service.write(functools.partial(_refresh, engine, job_id))
            service.sweeps += 1
        except Exception:
            log.exception("sweep failed; retrying in %s s", interval)
