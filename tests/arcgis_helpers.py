"""Esri's own client (``arcgis.gis.workflowmanager``) against a real ``stepchart serve`` over HTTPS.

The only stand-in is the portal object the client reads its Workflow Manager URL and token
from (docs/wm-client-notes.md §1.3): the client's real ``Connection`` does the transport,
so every request and the notification WebSocket go over TLS to the server process.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
import yaml
from arcgis.gis._impl._con import Connection
from arcgis.gis.workflowmanager import WorkflowManager
from http_helpers import ALL_PRIVILEGES, ROOT, ServeProcess

from stepchart.http.auth import hash_token

ORG, ITEM = "org", "item"
PRIVILEGES = [*ALL_PRIVILEGES, "jobUpdateProperties"]
# name: (groups, privileges, token); tokens are URL-safe (the client does not encode them)
CLIENT_USERS = {
    "alice": (["editors"], PRIVILEGES, "sc_alice_compat_token"),
    "bob": (["editors"], [], "sc_bob_compat_token"),
    "carol": ([], [], "sc_carol_compat_token"),
    "host": ([], ["hostExecution"], "sc_host_compat_token"),
}

TEMPLATE = """\
jobTemplate: parcel-rush
name: Rush parcel edit
workflow: parcel-edit
description: An edit the owner wants today.
jobName: "Rush {counter}"
priority: High
ownedBy: alice
assignedType: User
assignedTo: alice
dueIn: PT8H
"""
# a geoprocessing step the client runs and a host finishes (another request, another caller)
GEOPROCESS = """\
workflow: compat-gp
name: Publish parcels
initialStep: publish
steps:
  - id: publish
    name: Publish the parcel layer
    type: gp
    assignedType: Group
    assignedTo: editors
    paths: [{nextStep: check}]
  - id: check
    type: manual
    assignedType: Group
    assignedTo: editors
    paths: []
"""
STANDARD = "jobTemplate: parcel-standard\nname: Parcel edit\nworkflow: parcel-edit\n"


class _Users:
    def __init__(self) -> None:
        self.me = {"username": "alice"}  # the client only asks that someone is signed in


class StandInGIS:
    """What the client reads from a signed-in ArcGIS Online ``GIS``: properties and the connection."""

    def __init__(self, url: str, con: Connection) -> None:
        self.properties = {"isPortal": False, "id": ORG, "helperServices": {"workflowManager": {"url": url}}}
        self.users = _Users()
        self._con = con
        self.session = self._session = con._session


class StandInItem:
    """The Workflow Manager item: its id and the GIS it belongs to."""

    def __init__(self, gis: StandInGIS) -> None:
        self.id = ITEM
        self._gis = gis


@dataclass
class CompatServer:
    """A running ``stepchart serve`` over HTTPS and what a client needs to trust and reach it."""

    process: ServeProcess
    ca_file: Path
    context: ssl.SSLContext

    @property
    def url(self) -> str:
        return self.process.url

    def client(self, user: str = "alice") -> WorkflowManager:
        """Esri's WorkflowManager for ``user``, verifying the server's certificate against our CA."""
        con = Connection(baseurl=self.url, token=CLIENT_USERS[user][2], verify_cert=True, ca_bundles=str(self.ca_file))
        return WorkflowManager(StandInItem(StandInGIS(self.url, con)))


def start_server(tmp: Path, store: str | None = None) -> CompatServer:
    """``stepchart serve`` with the shipped examples, two templates, a store (default SQLite), its own certificate."""
    ca = trustme.CA()
    issued = ca.issue_cert("localhost", "127.0.0.1")
    cert, key, ca_file = tmp / "cert.pem", tmp / "key.pem", tmp / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    users = [
        {"username": name, "groups": groups, "privileges": privileges,
         "tokenSha256": hash_token(token)}
        for name, (groups, privileges, token) in CLIENT_USERS.items()
    ]  # fmt: skip
    (tmp / "users.yaml").write_text(yaml.safe_dump({"users": users}), "utf-8")
    (tmp / "templates").mkdir()
    (tmp / "templates" / "parcel-rush.yaml").write_text(TEMPLATE, "utf-8")
    (tmp / "templates" / "parcel-standard.yaml").write_text(STANDARD, "utf-8")
    (tmp / "compat-gp.yaml").write_text(GEOPROCESS, "utf-8")
    context = ssl.create_default_context(cafile=str(ca_file))
    args = [
        "--store", store or str(tmp / "compat.db"), "--users", str(tmp / "users.yaml"), "--no-project",
        "--workflow", str(ROOT / "examples"), "--workflow", str(tmp / "compat-gp.yaml"),
        "--templates", str(tmp / "templates"),
        "--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--sweep-interval", "0",
    ]  # fmt: skip
    process = ServeProcess(args, tmp, access_log=True, verify=context).start()
    return CompatServer(process, ca_file, context)


def disconnect(wm: WorkflowManager) -> None:
    """Close the client's notification socket if it opened one, as a script that ends would."""
    manager: Any = wm._nm
    if manager is not None:
        manager.disconnect()
