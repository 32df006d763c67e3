"""Helpers of the notification WebSocket tests: websocket-client speaking as Esri's client does.

docs/wm-client-notes.md §3: wait for the ``connected`` greeting, subscribe and wait for
any answer, then read ``{"msgType", "message", "timestamp"}`` frames. Every wait is
bounded (the socket's timeout).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import httpx
import websocket
from http_helpers import auth

BASE = "/org1/item1"
# What ends the client's wait (docs/wm-client-notes.md §3.5), written out here, not imported.
RUN_ENDS = {"STEPFINISHED", "STEPSTOPPED", "STEPERROR", "STEPINFOREQUIRED"}
STOP_ENDS = {"STEPPAUSED", "STEPSTOPPED", "STEPERROR", "STEPCANCELLED"}
FINISH_ENDS = {"STEPSTARTED", "STEPERROR", "STEPFINISHED"}


def ws_url(http_url: str, token: str | None = "tok-alice") -> str:
    url = http_url.replace("http://", "ws://", 1) + f"{BASE}/notificationWs"
    return url if token is None else f"{url}?token={token}"


def connect(http_url: str, token: str | None = "tok-alice", **kw: Any) -> websocket.WebSocket:
    """Open as the real client does: ``?token=`` and ``X-Esri-Authorization``; check the greeting."""
    header = [f"X-Esri-Authorization: Bearer {token}"] if token else []
    ws = websocket.create_connection(ws_url(http_url, token), header=header, timeout=10, **kw)
    greeting = json.loads(ws.recv())
    assert greeting.get("connected") and "msgType" not in greeting, greeting
    return ws


def recv(ws: websocket.WebSocket) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv())
    assert set(frame) == {"msgType", "message", "timestamp"}, frame
    assert isinstance(frame["message"], dict) and frame["timestamp"], frame
    return frame


def subscribe(ws: websocket.WebSocket, *job_ids: str, token: str = "tok-alice") -> list[dict[str, Any]]:
    ws.send(json.dumps({"msgType": "subscribe", "jobIds": list(job_ids), "token": token}))
    return [recv(ws) for _ in job_ids]


def create(client: httpx.Client, job_id: str, workflow: str = "parcel-edit") -> None:
    r = client.post(f"{BASE}/jobs", json={"workflow": workflow, "jobId": job_id}, headers=auth("alice"))
    assert r.status_code == 200, r.text


def act(client: httpx.Client, job_id: str, body: dict[str, Any], user: str = "alice") -> None:
    r = client.post(f"{BASE}/jobs/{job_id}/action", json=body, headers=auth(user))
    assert r.status_code == 200 and r.json()["success"], r.text


def messages_until(ws: websocket.WebSocket, ends: set[str]) -> list[dict[str, Any]]:
    """Frames up to and including the first whose upper-cased msgType is in ``ends`` (as the client waits)."""
    out: list[dict[str, Any]] = []
    while not out or out[-1]["msgType"].upper() not in ends:
        out.append(recv(ws))
    return out


def close_code(ws: websocket.WebSocket) -> int:
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE, (opcode, data)
    code: int = struct.unpack("!H", data[:2])[0]
    return code
