"""Who may read what: the configured item and the read model of the HTTP service.

Two settings of ``stepchart serve`` (docs/http.md, "Reads"):

- ``--item ORG/ITEM``: the service answers under that ``/{orgId}/{itemId}`` only; any
  other gets 404 ``NotFound``, as a path the service does not serve. Without it both are
  accepted and not interpreted, as before.
- ``--reads own``: a caller reads a job (the job, its history, the list) only when it
  is theirs, a current step assigned to them or to one of their groups (R16), unless
  they hold the ``jobReadAll`` privilege; a job that is not theirs answers as one that
  does not exist (400 ``JobNotFound``), the list shows their jobs only, and the events
  feed (every job's events) needs ``jobReadAll``. ``--reads all`` (the default): any
  valid token reads every job.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from ..errors import RequestError
from ..model import Actor
from ..stores import JobFilter
from ..vocabulary import PRIVILEGES
from .errors import HttpError, bad_request
from .service import Call, Handler, Service

__all__ = ["READ_ALL", "READ_MODELS", "ReadPolicy"]

READ_ALL = "jobReadAll"
"""The privilege of reading every job under ``--reads own``."""
assert READ_ALL in PRIVILEGES

READ_MODELS = ("all", "own")


@dataclass(frozen=True)
class ReadPolicy:
    """The configured item (``org/item``, or None for any) and the read model (``all`` or ``own``)."""

    item: tuple[str, str] | None = None
    reads: str = "all"

    @classmethod
    def parse_item(cls, text: str) -> tuple[str, str]:
        """``ORG/ITEM`` as a pair; a ValueError names what is wrong."""
        org, sep, item = text.partition("/")
        if not sep or not org or not item or "/" in item:
            raise ValueError(f"--item takes ORG/ITEM (one slash), not {text!r}")
        return org, item

    def reads_all(self, actor: Actor) -> bool:
        return self.reads == "all" or READ_ALL in actor.privileges

    def check_item(self, request: HTTPConnection) -> None:
        if self.item is None:
            return
        if (request.path_params.get("orgId"), request.path_params.get("itemId")) != self.item:
            raise HttpError(404, "NotFound", f"No operation at {request.url.path}.", [f"path: {request.url.path}"])

    def guard(self, kind: str, handler: Handler) -> Handler:
        """``handler`` behind the item check and, for the reads (``kind``: job, list, events), the read model."""

        async def run(s: Service, c: Call) -> Response:
            self.check_item(c.request)
            if kind and not self.reads_all(c.actor):
                if kind == "events":
                    raise bad_request(
                        "InsufficientPrivileges",
                        f"The events feed shows every job's events: it needs the {READ_ALL} privilege.",
                        [f"privilege: {READ_ALL}"],
                    )
                if kind == "list":
                    c = _mine(c)
                elif kind == "job" and c.request.method == "GET":
                    await _own_job(s, c)
            return await handler(s, c)

        run.__name__ = handler.__name__
        return run


def _mine(c: Call) -> Call:
    """The same list request with ``mine=true``: only the caller's jobs."""
    query = "&".join(
        f"{part}" for part in c.request.scope.get("query_string", b"").decode("latin-1").split("&")
        if part and not part.startswith("mine=")
    )  # fmt: skip
    scope = {**c.request.scope, "query_string": (query + "&mine=true").lstrip("&").encode("latin-1")}
    return replace(c, request=Request(scope, c.request.receive))


async def _own_job(s: Service, c: Call) -> None:
    job_id = c.param("jobId")
    job = await s.run(s.engine.store.get, job_id)
    if job is None or not JobFilter(actor=c.actor).matches(job):
        raise RequestError.job_not_found(job_id)
