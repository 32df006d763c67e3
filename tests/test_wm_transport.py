"""What Esri's client meets first (issue 9): its probes, its token header, over a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from http_helpers import USERS, check_error, live_app

from stepchart import Engine


@pytest.fixture
def server(engine: Engine) -> Iterator[Any]:
    with live_app(engine) as live:
        yield live


@pytest.mark.parametrize("path", ["/rest/info", "/sharing/rest/info", "/info", "/rest/services", "//info"])
def test_the_clients_probes_get_a_clean_404(server: Any, path: str) -> None:
    r = httpx.get(f"{server.url}{path}", params={"f": "json"})
    check_error(r, 404, "NotFound")


@pytest.mark.parametrize(
    "how",
    [
        lambda token: ({"X-Esri-Authorization": f"Bearer {token}"}, {}),
        lambda token: ({"Authorization": f"Bearer {token}"}, {}),
        lambda token: ({}, {"token": token}),
    ],
    ids=["x-esri-authorization", "authorization", "query"],
)
def test_a_token_is_read_from_each_place_the_client_puts_it(server: Any, how: Any) -> None:
    token = next(iter(USERS.values()))[2]
    headers, params = how(token)
    made = httpx.post(f"{server.url}/org/item/jobs", json={"workflow": "parcel-edit"}, headers=headers,
                      params=params)  # fmt: skip
    assert made.status_code in (200, 201, 400), made.text  # authenticated: not 401
    assert made.status_code != 401
    r = httpx.get(f"{server.url}/org/item/jobs", headers=headers, params=params)
    assert r.status_code == 200, r.text


def test_a_wrong_token_in_the_esri_header_is_refused(server: Any) -> None:
    r = httpx.get(f"{server.url}/org/item/jobs", headers={"X-Esri-Authorization": "Bearer sc_nope"})
    check_error(r, 401, "InvalidToken")


def test_the_probes_leave_no_traceback_in_the_servers_log(tmp_path: Any) -> None:
    from http_helpers import ServeProcess

    server = ServeProcess(["--store", "memory:"], tmp_path, access_log=True).start()
    try:
        for path in ("/rest/info", "/sharing/rest/info", "/info", "//info"):
            assert httpx.get(f"{server.url}{path}?f=json").status_code == 404
    finally:
        assert server.stop() == 0
    log = server.log.read_text("utf-8") + "".join(server.banner)  # stderr, and stdout where the access log goes
    assert "/sharing/rest/info" in log  # the access log saw the probes
    assert "Traceback" not in log and "ERROR" not in log
