"""The notification WebSocket, ``/{orgId}/{itemId}/notificationWs``: Workflow Manager's Step* messages.

A connection is authenticated as every request is (:meth:`.service.Service.authenticate`:
``?token=``, ``X-Esri-Authorization: Bearer`` or ``Authorization: Bearer``); without a
valid token it is accepted and closed at once with 1008 (policy violation). Then the
server greets (``{"connected": true}``), and the client subscribes (``{"msgType":
"subscribe", "jobIds": [...]}``, answered at once with one ``JobState`` per job or an
``Error``) and unsubscribes (``jobIds`` or ``"all": true``). The messages
(:mod:`.wm_messages`) come from the store's events feed, not from this process's
requests: so the requests of every process on the same database reach every subscriber.

One :class:`Hub` per app polls the feed of the subscribed jobs every
:data:`POLL_INTERVAL` seconds, or at once when PostgreSQL notifies that events were
written (one query per job, in one worker thread) and hands each
connection its messages through a queue of :data:`QUEUE_SIZE`; a connection whose queue
is full (a client that does not read) is closed with 1013 and its messages dropped, so
neither the requests nor the poller ever wait for a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..io.jsontext import parse_json_strict
from ..model import Actor, Job
from ..stores import JobFilter
from .errors import HttpError
from .feed_wakeups import WakeupListener
from .reads import ReadPolicy
from .service import Service
from .wm_messages import GREETING, StepFacts, error_message, job_state, request_messages

__all__ = ["MAX_JOBS", "MAX_MESSAGE", "POLL_INTERVAL", "QUEUE_SIZE", "Hub", "hub_of", "notification_routes"]

log = logging.getLogger("stepchart.http")

POLL_INTERVAL = 0.2
"""Seconds between two polls of the events feed while any job is subscribed."""
QUEUE_SIZE = 1000
"""Messages a connection may have waiting to be sent; one more and the client is dropped."""
MAX_MESSAGE = 64 * 1024
"""Largest client message (characters); a larger one is answered with an Error."""
MAX_JOBS = 1000
"""Most jobs one connection may follow."""
FEED_PAGE = 1000

POLICY_CLOSE = 1008
OVERLOAD_CLOSE = 1013


@dataclass
class Connection:
    """One client: the jobs it follows and its queue of frames to send."""

    actor: Actor
    queue: asyncio.Queue[dict[str, Any]]
    jobs: set[str] = field(default_factory=set)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class JobFeed:
    """A job followed by at least one connection: how far its events were read, and its workflow version."""

    cursor: int
    job: Job
    followers: set[int] = field(default_factory=set)


class Hub:
    """The one poller of an app's process, fanning the events of subscribed jobs out to the connections."""

    def __init__(self, service: Service, *, queue_size: int = QUEUE_SIZE, interval: float = POLL_INTERVAL) -> None:
        self.service = service
        self.queue_size = queue_size
        self.interval = interval
        self.connections: dict[int, Connection] = {}
        self.feeds: dict[str, JobFeed] = {}
        self.dropped = 0
        """Connections closed because their queue overflowed."""
        self.polls = 0
        """Polls of the feed so far."""
        self._task: asyncio.Task[None] | None = None

    # -- connections and subscriptions ------------------------------------------------------
    def connect(self, actor: Actor) -> Connection:
        conn = Connection(actor, asyncio.Queue(self.queue_size))
        self.connections[id(conn)] = conn
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.connections.pop(id(conn), None)
        for job_id in list(conn.jobs):
            self._unfollow(conn, job_id)

    async def subscribe(self, conn: Connection, job_id: str, readable: Callable[[Job], bool]) -> dict[str, Any]:
        """Follow ``job_id`` from its latest event on; its ``JobState`` (or an Error) to answer with."""
        now = self.service.clock().isoformat().replace("+00:00", "Z")
        feed = self.feeds.get(job_id)
        if feed is None:
            cursor = await self.service.run(self._last_sequence, job_id)
            job = await self.service.run(self.service.engine.store.get, job_id)
            if job is None or not readable(job):
                return error_message(f"The job {job_id} does not exist.", "JobNotFound", now, job_id=job_id)
            feed = self.feeds.setdefault(job_id, JobFeed(cursor, job))
        else:
            job = await self.service.run(self.service.engine.store.get, job_id)
            if job is None or not readable(job):
                return error_message(f"The job {job_id} does not exist.", "JobNotFound", now, job_id=job_id)
        if len(conn.jobs) >= MAX_JOBS and job_id not in conn.jobs:
            return error_message(f"A connection follows at most {MAX_JOBS} jobs.", "TooManyJobs", now, job_id=job_id)
        feed.followers.add(id(conn))
        conn.jobs.add(job_id)
        self._start()
        return job_state(job, self._lookup, now)

    def unsubscribe(self, conn: Connection, job_ids: list[str] | None) -> None:
        for job_id in list(conn.jobs) if job_ids is None else job_ids:
            self._unfollow(conn, job_id)

    def _unfollow(self, conn: Connection, job_id: str) -> None:
        conn.jobs.discard(job_id)
        feed = self.feeds.get(job_id)
        if feed is not None:
            feed.followers.discard(id(conn))
            if not feed.followers:
                del self.feeds[job_id]

    def _last_sequence(self, job_id: str) -> int:
        after = 0
        while page := self.service.engine.events_after(after, job_id, FEED_PAGE):
            after = page[-1]["sequence"]
        return after

    def _lookup(self, job_id: str, step_id: str) -> StepFacts | None:
        feed = self.feeds.get(job_id)
        engine = self.service.engine
        try:
            step = engine.workflow_for(feed.job).steps.get(step_id) if feed is not None else None
        except Exception:  # a version this process does not know: the messages go without its facts
            step = None
        if step is None:
            return None
        lifecycle = engine.lifecycles.get(step.type)
        asynchronous = bool(lifecycle is not None and lifecycle.type.asynchronous)
        return StepFacts(step.name or step.id, step.can_skip, asynchronous, step.answers)

    # -- the poller -------------------------------------------------------------------------
    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        """Poll while any job is followed; stops by itself when none is (the next subscribe restarts it).

        Between two polls it waits the interval, or less when the store's wake-ups
        (PostgreSQL's NOTIFY, :mod:`.feed_wakeups`) say new events were written.
        """
        loop = asyncio.get_running_loop()
        listener = await asyncio.to_thread(WakeupListener.open, self.service.engine.store, loop)
        try:
            while self.feeds:
                try:
                    await self.poll_once()
                except Exception as exc:  # a store that fails now may answer at the next poll
                    log.warning("notifications: reading the events feed failed: %s", exc)
                if listener is None:
                    await asyncio.sleep(self.interval)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(listener.woken.wait(), self.interval)
                listener.woken.clear()
        finally:
            if listener is not None:
                listener.stop()

    async def poll_once(self) -> None:
        """Read every followed job's new events and queue their messages to the job's followers."""
        wanted = {job_id: feed.cursor for job_id, feed in self.feeds.items()}
        found = await self.service.run(self._read, wanted)
        self.polls += 1
        for job_id, events in found.items():
            feed = self.feeds.get(job_id)
            if feed is None or feed.cursor != wanted[job_id] or not events:
                continue
            feed.cursor = events[-1]["sequence"]
            if any(e.get("type") == "JobUpgraded" for e in events):
                job = await self.service.run(self.service.engine.store.get, job_id)
                feed.job = job if job is not None else feed.job
            for group in _by_request(events):
                for message in request_messages(group, self._lookup):
                    for conn_id in list(feed.followers):
                        conn = self.connections.get(conn_id)
                        if conn is not None:
                            self._offer(conn, message)

    def _read(self, wanted: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for job_id, after in wanted.items():
            events: list[dict[str, Any]] = []
            while page := self.service.engine.events_after(after, job_id, FEED_PAGE):
                events.extend(page)
                after = page[-1]["sequence"]
                if len(page) < FEED_PAGE:
                    break
            out[job_id] = events
        return out

    def _offer(self, conn: Connection, message: dict[str, Any]) -> None:
        if conn.dropped.is_set():
            return
        try:
            conn.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            conn.dropped.set()
            self.disconnect(conn)
            log.warning("notifications: a client fell %d messages behind and was dropped", self.queue_size)


def _by_request(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive events of one request (one action-log entry) together, in feed order."""
    groups: list[list[dict[str, Any]]] = []
    for event in events:
        if groups and groups[-1][-1].get("logSequence") == event.get("logSequence"):
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups


_HUBS: weakref.WeakKeyDictionary[Service, Hub] = weakref.WeakKeyDictionary()


def hub_of(service: Service) -> Hub:
    """The hub of ``service``'s app (made on first use)."""
    hub = _HUBS.get(service)
    if hub is None:
        hub = _HUBS[service] = Hub(service)
    return hub


def notification_routes(service: Service, policy: ReadPolicy) -> list[BaseRoute]:
    """The WebSocket route of the notifications, served by ``service``'s hub."""

    async def notification_ws(websocket: WebSocket) -> None:
        try:
            policy.check_item(websocket)
            actor = service.authenticate(websocket)
        except HttpError as exc:
            await websocket.accept()
            await websocket.close(code=POLICY_CLOSE if exc.status != 503 else OVERLOAD_CLOSE, reason=exc.type)
            return
        await websocket.accept()
        hub = hub_of(service)
        conn = hub.connect(actor)
        try:
            await serve_connection(websocket, hub, conn, policy)
        except WebSocketDisconnect:
            pass
        finally:
            hub.disconnect(conn)
        if conn.dropped.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(websocket.close(code=OVERLOAD_CLOSE, reason="TooSlow"), 1.0)

    return [WebSocketRoute("/{orgId}/{itemId}/notificationWs", notification_ws)]


def readable_by(policy: ReadPolicy, actor: Actor) -> Callable[[Job], bool]:
    """Whether ``actor`` may read a job under the read model (``--reads own``: theirs only)."""
    if policy.reads_all(actor):
        return lambda job: True
    mine = JobFilter(actor=actor)
    return mine.matches


def parse_client_message(text: str) -> dict[str, Any]:
    """A client frame as a JSON object; ValueError saying what is wrong otherwise."""
    if len(text) > MAX_MESSAGE:
        raise ValueError(f"the message is over {MAX_MESSAGE} characters")
    try:
        value = parse_json_strict(text.encode("utf-8"))
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise ValueError(f"the message is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("the message is not a JSON object")
    return value


async def serve_connection(websocket: WebSocket, hub: Hub, conn: Connection, policy: ReadPolicy) -> None:
    """Greet, then answer the client's messages while a sender drains the queue; until either side ends."""
    await websocket.send_json(GREETING)
    sender = asyncio.ensure_future(_send_queued(websocket, conn))
    receiver = asyncio.ensure_future(_receive(websocket, hub, conn, policy))
    dropped = asyncio.ensure_future(conn.dropped.wait())
    try:
        await asyncio.wait({sender, receiver, dropped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver, dropped):
            task.cancel()
        for task in (sender, receiver, dropped):
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task


async def _send_queued(websocket: WebSocket, conn: Connection) -> None:
    while True:
        await websocket.send_json(await conn.queue.get())


async def _receive(websocket: WebSocket, hub: Hub, conn: Connection, policy: ReadPolicy) -> None:
    readable = readable_by(policy, conn.actor)
    while True:
        frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return
        now = hub.service.clock().isoformat().replace("+00:00", "Z")
        text = frame.get("text")
        if text is None:
            _answer(hub, conn, error_message("Messages are JSON text frames.", "InvalidMessage", now))
            continue
        try:
            message = parse_client_message(text)
            kind, job_ids = _command(message)
        except ValueError as exc:
            _answer(hub, conn, error_message(f"Not a valid message: {exc}.", "InvalidMessage", now))
            continue
        token = message.get("token")
        if token is not None and (not isinstance(token, str) or not _valid_token(hub, token)):
            _answer(hub, conn, error_message("The token is not valid.", "InvalidToken", now))
            continue
        if kind == "unsubscribe":
            hub.unsubscribe(conn, job_ids)
            continue
        for job_id in job_ids or []:
            try:
                answer = await hub.subscribe(conn, job_id, readable)
            except Exception as exc:  # the store failed: say so, keep the socket
                log.warning("notifications: subscribing to a job failed: %s", exc)
                text = "The job store cannot be read; retry later."
                answer = error_message(text, "StoreUnavailable", now, job_id=job_id)
            _answer(hub, conn, answer)


def _answer(hub: Hub, conn: Connection, message: dict[str, Any]) -> None:
    hub._offer(conn, message)


def _valid_token(hub: Hub, token: str) -> bool:
    try:
        return hub.service.users.authenticate(token) is not None
    except Exception:
        return False


def _command(message: dict[str, Any]) -> tuple[str, list[str] | None]:
    """``(subscribe|unsubscribe, job ids)``; None for an unsubscribe of ``"all": true``."""
    kind = message.get("msgType")
    if not isinstance(kind, str) or kind.lower() not in ("subscribe", "unsubscribe"):
        raise ValueError('"msgType" must be "subscribe" or "unsubscribe"')
    kind = kind.lower()
    if kind == "unsubscribe" and message.get("all") is True:
        return kind, None
    job_ids = message.get("jobIds")
    if not isinstance(job_ids, list) or not all(isinstance(j, str) and 0 < len(j) <= 200 for j in job_ids):
        raise ValueError('"jobIds" must be a list of job ids (strings of 1 to 200 characters)')
    if len(job_ids) > MAX_JOBS:
        raise ValueError(f'"jobIds" lists at most {MAX_JOBS} jobs')
    return kind, list(dict.fromkeys(job_ids))
