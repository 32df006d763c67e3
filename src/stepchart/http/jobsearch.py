"""Workflow Manager's job search: ``POST /{orgId}/{itemId}/jobs/search`` and ``POST .../jobs/statistics``.

The body's ``q`` is parsed by the one parser (:func:`~stepchart.stores.query.parse_query`),
prepared for the stores (:func:`~stepchart.stores.jobsearch.prepare`: free ``search``
text ANDed in, step names resolved through the loaded workflow versions) and run by
the store (:meth:`~stepchart.stores.ManagedStore.find_jobs`): bound parameters on SQL,
a predicate in memory. Under ``--reads own`` a caller without ``jobReadAll`` finds only
their jobs (R16). The answer shapes are in docs/http.md, "Job search".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..model.times import format_datetime
from ..stores import ManagedStore
from ..stores.base import JobSearch
from ..stores.jobsearch import RESOLVED_FIELDS, STORED_FIELDS, StepNames, field_named, job_row, prepare
from ..stores.query import FIELDS, Field, parse_query
from .errors import bad_request, json_response
from .reads import ReadPolicy
from .service import Call, Handler, Service

__all__ = ["DEFAULT_NUM", "MAX_NUM", "search_routes"]

MAX_NUM = 1000
"""Most jobs one search answers (``num``; the schema refuses more)."""

DEFAULT_NUM = 10
"""``num`` when the body leaves it out or null (the client's own default)."""

_DEFAULT_FIELDS = tuple(f for f in FIELDS if f.name in STORED_FIELDS or f.name in RESOLVED_FIELDS)

Endpoint = Callable[..., Callable[[Request], Awaitable[Response]]]


def search_routes(ep: Endpoint, policy: ReadPolicy, base: str = "/{orgId}/{itemId}") -> list[Route]:
    """The two routes, through ``ep`` (the app's endpoint factory: auth, body limits, the item check)."""

    def reading(handler: Callable[[Service, Call, ReadPolicy], Awaitable[Response]]) -> Handler:
        async def run(s: Service, c: Call) -> Response:
            return await handler(s, c, policy)

        run.__name__ = handler.__name__
        return run

    return [
        Route(f"{base}/jobs/search", ep(reading(search_jobs), body=True), methods=["POST"]),
        Route(f"{base}/jobs/statistics", ep(reading(job_statistics), body=True), methods=["POST"]),
    ]


def _store(s: Service) -> ManagedStore:
    store = s.engine.store
    if not isinstance(store, ManagedStore):
        raise bad_request("InvalidRequest", f"{type(store).__name__} cannot search jobs.")
    return store


def _step_names(s: Service) -> StepNames:
    """Every loaded workflow version's step names (a step without a name: its id, as Workflow Manager shows it)."""
    versions = s.engine.known_versions()
    return {(wf.id, wf.version): {sid: d.name or sid for sid, d in wf.steps.items()} for wf in versions}


def _search(s: Service, c: Call, policy: ReadPolicy, body: dict[str, Any], names: StepNames) -> JobSearch:
    """The store's :class:`JobSearch` for ``q`` and ``search`` of ``body`` (400 on a bad ``q``, located)."""
    for key in ("q", "search"):
        _refuse_unstorable(key, body.get(key))
    where = parse_query(body.get("q") or "")
    text = body.get("search")
    actor = None if policy.reads_all(c.actor) else c.actor
    return JobSearch(where=prepare(where, text or None, names), actor=actor, step_names=names)


def _refuse_unstorable(where: str, text: Any) -> None:
    """A NUL or a lone surrogate no store can bind: a 400 at its position, before anything runs."""
    if not isinstance(text, str):
        return
    for i, ch in enumerate(text):
        if ch == "\x00" or "\ud800" <= ch <= "\udfff":
            what = "a NUL character" if ch == "\x00" else "a lone surrogate"
            raise bad_request("InvalidRequest", f"{where}: {what} at position {i}.", [f"{where}: position {i}"])


def _fields(body: dict[str, Any]) -> list[tuple[Field, str]]:
    """The answer's columns: (field, alias) for ``fields`` and ``displayNames`` (400 naming the entry)."""
    raw = body.get("fields")
    names: list[str] = [] if raw is None else [p.strip() for p in raw.split(",")] if isinstance(raw, str) else raw
    fields = [field_named(n, f"fields[{i}]") for i, n in enumerate(names)] if names else list(_DEFAULT_FIELDS)
    aliases = body.get("displayNames") or []
    for i, alias in enumerate(aliases):
        _refuse_unstorable(f"displayNames[{i}]", alias)
    if len(aliases) > len(fields):
        raise bad_request(
            "InvalidRequest",
            f"displayNames: {len(aliases)} names for {len(fields)} fields.",
            [f"displayNames[{len(fields)}]: no field to name"],
        )
    return [(f, aliases[i] if i < len(aliases) and aliases[i] else f.name) for i, f in enumerate(fields)]


def _sort(body: dict[str, Any]) -> tuple[tuple[str, bool], ...]:
    out = []
    for i, entry in enumerate(body.get("sortFields") or []):
        where = f"sortFields[{i}].field"
        f = field_named(entry["field"], where)
        if not (f.name in STORED_FIELDS and STORED_FIELDS[f.name].sortable):
            sortable = ", ".join(n for n, sf in STORED_FIELDS.items() if sf.sortable)
            raise bad_request(
                "InvalidRequest",
                f"{where}: jobs cannot be sorted by {f.name!r}.",
                [f"{where}: {f.name}", f"sortable: {sortable}"],
            )
        out.append((f.name, entry.get("sortOrder", "Asc") == "Desc"))
    return tuple(out)


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return format_datetime(value) if isinstance(value, datetime) else value  # as every answer writes times


async def search_jobs(s: Service, c: Call, policy: ReadPolicy) -> Response:
    """``POST .../jobs/search``: a page of the jobs that match, as rows of the fields asked for."""
    body = s.json_body(c.body, "http-job-search", required=False)
    fields, sort = _fields(body), _sort(body)
    names = _step_names(s)
    search = _search(s, c, policy, body, names)
    start = body.get("start") or 0
    num = body.get("num") or DEFAULT_NUM
    store = _store(s)
    page = await s.run(store.find_jobs, JobSearch(search.where, sort, search.actor, start, num, names))
    rows = []
    for job in page.jobs:
        row = job_row(job, names)
        rows.append([_json_value(row[f.name]) for f, _ in fields])
    end = start + len(rows)
    return json_response(
        200,
        {
            "fields": [{"name": f.name, "alias": a, "type": f.type.value, "perStep": f.per_step} for f, a in fields],
            "results": rows,
            "total": page.total,
            "start": start,
            "num": len(rows),
            "nextStart": end if end < page.total else None,
        },
    )


async def job_statistics(s: Service, c: Call, policy: ReadPolicy) -> Response:
    """``POST .../jobs/statistics``: how many jobs match, and per value of ``groupBy``."""
    body = s.json_body(c.body, "http-job-statistics", required=False)
    if body.get("spatialExtent") is not None or body.get("hasLocation"):
        key = "spatialExtent" if body.get("spatialExtent") is not None else "hasLocation"
        raise bad_request(
            "InvalidRequest", f"{key}: stepchart keeps no job locations; spatial filters are not supported.", [key]
        )
    group = body.get("groupBy")
    field = field_named(group, "groupBy") if group else None
    search = _search(s, c, policy, body, _step_names(s))
    store = _store(s)
    if field is None:
        page = await s.run(store.find_jobs, JobSearch(search.where, (), search.actor, 0, 0, search.step_names))
        return json_response(200, {"total": page.total})
    total, groups = await s.run(store.count_jobs_by, search, field.name)
    values = [{"value": _json_value(v), "count": n} for v, n in groups]
    return json_response(200, {"total": total, "groupBy": field.name, "groupedValues": values})
