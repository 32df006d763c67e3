"""The jobAction HTTP service: a Starlette app over one :class:`~stepchart.bootstrap.Engine`.

``create_app(engine, users)`` answers the REST contract of the Workflow Manager
``jobAction`` operation (``POST /{orgId}/{itemId}/jobs/{jobId}/action``: a SPEC R10 body,
200 with R13, 400 with R14) and the operations around it (:mod:`.handlers`): create,
read, list, close, reopen and delete jobs, a job's history, respond/complete/fail (R3,
R4), assign (R25), the events feed, ``/health`` and ``/openapi.json`` (:mod:`.openapi`).

Every answer that is not a 200 has the R14 body ``{"error": {"message", "type",
"details"}}`` (:mod:`.errors`), whatever refused it: the engine (400), authentication
(401 ``TokenRequired`` / ``InvalidToken``), routing (404 ``NotFound``, 405
``MethodNotAllowed``), the body checks (413 ``PayloadTooLarge``, 415
``UnsupportedMediaType``, 400 ``InvalidJson`` / ``SchemaViolation``) or an unexpected
failure (500 ``InternalError``, 503 ``StoreUnavailable``). The checks run in that order
(:func:`.service.endpoint`), and all of them before the engine is called: a refused
request changes nothing.

Where the engine runs (``engine_threads``): its calls are synchronous. On PostgreSQL
they wait for row locks and network round trips, so they run in worker threads (16 by
default, one connection each) and the event loop keeps serving. On SQLite they run in
one worker thread (its writes are serialised by the file's lock anyway): a write waiting
for another process's lock then holds up writes only, never the event loop, ``/health``
or reads (WAL readers do not wait for the writer); ``write_timeout`` bounds that wait
(503 with ``Retry-After``). In memory (``engine_threads=0``) they run inline on the event
loop: handing each request to a thread and back costs more than the request (see
``bench/HTTP_FIGURES.md``). Reads that take no lock (a job, lists, the feed) always run
in worker threads. :mod:`.limits` bounds what a client may cost in time and connections.

The service injects the wall clock (``clock``) as the engine's ``now`` (R22): the engine
itself never reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..bootstrap import Engine
from ..engine.core import ActionResult
from ..load.templates import templates_for
from ..model import JobTemplate
from ..stores import ManagedStore
from . import handlers as h
from .auth import UserDirectory
from .errors import HttpError, error_body, internal_error, json_response, routing_error
from .jobsearch import search_routes
from .limits import DEFAULT_BODY_TIMEOUT, RequestGuard
from .notifications import notification_routes
from .reads import ReadPolicy
from .service import DEFAULT_MAX_BODY, Clock, Handler, Service, endpoint, users_unavailable, wall_clock
from .wm_routes import wm_routes
from .wmjobs import wm_job_routes

__all__ = ["DEFAULT_MAX_BODY", "HttpError", "Service", "create_app", "error_body"]

log = logging.getLogger("stepchart.http")

SWEEP_BATCH = 1000
"""Most jobs one timed sweep refreshes; the rest wait for the next."""


def create_app(
    engine: Engine,
    users: UserDirectory,
    *,
    clock: Clock = wall_clock,
    max_body: int = DEFAULT_MAX_BODY,
    sweep_interval: float | None = None,
    engine_threads: int | None = None,
    extra_routes: list[Route] | None = None,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    write_timeout: float | None = None,
    reads: ReadPolicy | None = None,
    templates: Sequence[JobTemplate] = (),
) -> Starlette:
    """The Starlette app serving ``engine`` to the callers in ``users``.

    ``clock`` gives ``now`` for each request (R22); ``max_body`` is the body limit in
    bytes; ``sweep_interval`` (seconds) starts a background sweep that records expired
    holds (R19) and runs the automatic steps they free (R6) while the app runs;
    ``engine_threads`` is where engine requests run (None: by store, see the module
    text; 0: inline on the event loop; N: in N worker threads); ``extra_routes`` are
    added after the service's own (benchmarks mount their ceiling there);
    ``body_timeout`` is the seconds a request has to send its body (408 past it,
    :class:`.limits.RequestGuard`); ``write_timeout`` is the seconds a SQLite write waits
    for another process's lock before answering 503 with ``Retry-After`` (None: the
    store's own); ``reads`` is the configured item and read model (:mod:`.reads`; None:
    any item, every token reads every job); ``templates`` are the loaded job templates (each
    workflow without one gets a default, :func:`~stepchart.load.templates.templates_for`).
    """
    policy = reads or ReadPolicy()
    if write_timeout is not None and hasattr(engine.store, "timeout"):
        engine.store.timeout = write_timeout
        engine.store.close()  # connections reopen with the new busy timeout
    service = Service(
        engine,
        users,
        clock=clock,
        max_body=max_body,
        sweep_interval=sweep_interval,
        engine_threads=engine_threads,
    )

    service.templates = templates_for(templates, engine.workflows)

    async def health(request: Request) -> Response:
        store = engine.store
        problem = await service.run(users.check)
        if problem is not None:
            return users_unavailable(problem).response()
        if service.write_error is not None:
            return HttpError(
                503,
                "StoreNotWritable",
                "The job store's last write failed; reads work, writes may not.",
                [service.write_error],
            ).response()
        try:
            version = await service.run(lambda: getattr(store, "schema_version", None))
            await service.run(store.exists, "")
        except Exception as exc:  # a store that cannot be reached is the one thing health reports
            log.warning("health: store unavailable: %s", exc)
            return HttpError(
                503, "StoreUnavailable", "The job store cannot be reached.", [type(exc).__name__]
            ).response()
        from .. import __version__

        return json_response(
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

    def ep(handler: Handler, *, body: bool = False, read: str = "") -> Callable[[Request], Awaitable[Response]]:
        return endpoint(service, policy.guard(read, handler), body=body)

    base = "/{orgId}/{itemId}"
    step = f"{base}/jobs/{{jobId}}/steps/{{stepId}}"
    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route(f"{base}/jobs/{{jobId}}/action", ep(h.job_action, body=True), methods=["POST"]),
        Route(f"{base}/jobs", ep(h.create_job, body=True), methods=["POST"]),
        Route(f"{base}/jobs", ep(h.list_jobs, read="list"), methods=["GET"]),
        Route(f"{base}/jobs/{{jobId}}", ep(h.job_resource, read="job"), methods=["GET", "DELETE"]),
        Route(f"{base}/jobs/{{jobId}}/close", ep(h.close_job), methods=["POST"]),
        Route(f"{base}/jobs/{{jobId}}/reopen", ep(h.reopen_job), methods=["POST"]),
        Route(f"{base}/events", ep(h.events, read="events"), methods=["GET"]),
        Route(f"{step}/respond", ep(h.respond, body=True), methods=["POST"]),
        Route(f"{step}/complete", ep(h.complete, body=True), methods=["POST"]),
        Route(f"{step}/fail", ep(h.fail, body=True), methods=["POST"]),
        Route(f"{step}/assign", ep(h.assign, body=True), methods=["POST"]),
        *wm_job_routes(ep, base),
        *search_routes(ep, policy, base),
        *notification_routes(service, policy),
        *wm_routes(base, ep),  # Workflow Manager's manage/assign/history/comments/diagrams: last (a catch-all)
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
        exception_handlers={HTTPException: routing_error, Exception: internal_error},
        middleware=[Middleware(RequestGuard, body_timeout=body_timeout)],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


async def _sweeper(service: Service) -> None:
    """Record expired holds on a timer (the sweep), so automatic steps they free run unasked.

    The same two steps as :meth:`Engine.sweep <stepchart.bootstrap.Engine.sweep>`
    (:meth:`~stepchart.bootstrap.Engine.due_jobs`, then
    :meth:`~stepchart.engine.core.Engine.refresh` of each), but one job per engine
    request: inline requests interleave with the sweep instead of waiting for all of it,
    and each refresh gets the time it runs at.
    """
    interval = service.sweep_interval or 0
    engine = service.engine
    if not isinstance(engine.store, ManagedStore):
        log.warning(
            "%s finds no due holds: expired holds are recorded by each job's next request", type(engine.store).__name__
        )
        return
    while True:
        await asyncio.sleep(interval)
        try:
            for job_id in await service.run(engine.due_jobs, service.clock(), limit=SWEEP_BATCH):
                await service.write(_refresh(engine, job_id))
            service.sweeps += 1
        except Exception:
            log.exception("sweep failed; retrying in %s s", interval)


def _refresh(engine: Engine, job_id: str) -> Callable[[datetime], ActionResult]:
    return lambda now: engine.refresh(job_id, now)
