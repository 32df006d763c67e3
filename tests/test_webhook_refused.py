"""Webhook dependencies are refused clearly (issue 9): the schema accepts the keys, the engine answers 400.

Esri's client adds ``webhookConnectionId`` (Hold, ReleaseHold) and ``webhookDependencyDetails``
(Hold) to a jobAction body. The shipped payload schema accepts them (R10), so the answer is
not an unknown-key ``SchemaViolation``; the engine refuses the body with the R14 type
``WebhookNotSupported``, after the schema and before the job is looked up, and nothing
changes. The Python API, the HTTP service (a real uvicorn server over a socket) and
``stepchart validate`` give the same verdict in the same words.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_helpers import cli
from http_helpers import EXAMPLES, ManualClock, auth, check_error, live_app

from stepchart import Actor, Engine
from stepchart.engine.payload import validate_payload
from stepchart.errors import RequestError
from stepchart.io.schemas import UNSUPPORTED_KEYS, payload_is_valid, payload_violations, validator
from stepchart.stores import open_store
from stepchart.tools import validate as validate_tool
from stepchart.tools.validate import Payload, looks_valid, validate_one
from stepchart.vocabulary import ERROR_TYPES

NOW = "2026-03-01T09:00:00Z"
ALICE = Actor.of("alice", ["editors"], ["jobUpdateHolds", "workflowSetStepCurrent"])
WORDS = (
    "webhook dependencies are not supported; a hold can wait for a job (dependentJobId, dependentStepId) "
    "or a date (holdScheduledRelease)"
)
HOLD = {"type": "Hold", "stepIds": ["edit"], "webhookConnectionId": "wh-1", "webhookDependencyDetails": {"a": 1}}
RELEASE = {"type": "ReleaseHold", "webhookConnectionId": "wh-1"}


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    jobs = [engine.job(j) for j in engine.store.job_ids()]
    return jobs, len(engine.action_log()), len(engine.events_after())


@pytest.fixture
def engine(base_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    eng = base_engine.spawn(open_store(str(tmp_path / "jobs.db")))
    for wf in EXAMPLES:
        eng.add_workflow(wf)
    eng.sync_workflows()
    eng.create_job("parcel-edit", "J1", now=NOW)
    yield eng
    eng.store.close()


def test_r10_the_schema_accepts_the_webhook_keys_and_still_checks_their_types() -> None:
    assert payload_is_valid(HOLD) and payload_is_valid(RELEASE)
    assert validator("payload").is_valid(HOLD)
    assert payload_violations({"type": "Hold", "webhookConnectionId": 5}) == [
        "$.webhookConnectionId: expected string, found number 5"
    ]
    assert payload_violations({"type": "Hold", "webhookDependencyDetails": None}) == [
        "$.webhookDependencyDetails: expected object, found null null"
    ]
    assert "WebhookNotSupported" in ERROR_TYPES  # R14's closed set names it


@pytest.mark.parametrize("body", [HOLD, RELEASE, {"type": "Hold", "webhookDependencyDetails": {}}], ids=repr)
def test_r14_the_engine_refuses_a_webhook_dependency_and_changes_nothing(engine: Engine, body: Any) -> None:
    before = _snapshot(engine)
    result = engine.act("J1", body, ALICE, NOW)
    assert result.status_code == 400
    err = result.body["error"]
    assert err["type"] == "WebhookNotSupported"
    assert err["message"] == "Webhook dependencies are not supported."
    assert err["details"] == [f"$.{key}: {WORDS}" for key in body if key.startswith("webhook")]
    assert list(validator("error").iter_errors(result.body)) == []
    assert result.events == []
    assert _snapshot(engine) == before
    # the same body as text, as a client sends it
    assert engine.act("J1", json.dumps(body), ALICE, NOW).body == result.body


def test_r14_the_body_is_refused_before_the_job_exists_and_after_the_schema(engine: Engine) -> None:
    assert engine.act("NOPE", HOLD, ALICE, NOW).body["error"]["type"] == "WebhookNotSupported"
    assert engine.act("J1", {**HOLD, "bogus": 1}, ALICE, NOW).body["error"]["type"] == "SchemaViolation"
    assert engine.act("J1", {**HOLD, "webhookConnectionId": 7}, ALICE, NOW).body["error"]["type"] == "SchemaViolation"
    # a Hold without the keys is still held (R18): only the webhook part is refused
    assert engine.act("J1", {"type": "Hold"}, ALICE, NOW).status_code == 200


def test_r14_over_http_a_webhook_hold_is_a_400_that_stores_nothing(engine: Engine) -> None:
    with live_app(engine, clock=ManualClock()) as srv, httpx.Client(base_url=srv.url, timeout=10) as client:
        before = _snapshot(engine)
        for body in (HOLD, RELEASE):
            r = client.post("/org1/item1/jobs/J1/action", json=body, headers=auth("alice"))
            err = check_error(r, 400, "WebhookNotSupported")["error"]
            assert err["details"] == [f"$.{key}: {WORDS}" for key in body if key.startswith("webhook")]
        assert _snapshot(engine) == before
        r = client.post("/org1/item1/jobs/J1/action", json={"type": "Hold"}, headers=auth("alice"))
        assert r.status_code == 200 and r.json()["success"] is True


def test_r14_validate_gives_the_engines_verdict_and_words(tmp_path: Path) -> None:
    (tmp_path / "hold.json").write_text(json.dumps(HOLD, indent=2))
    (tmp_path / "release.json").write_text(json.dumps(RELEASE))
    (tmp_path / "typed.json").write_text(json.dumps({"type": "Hold", "webhookConnectionId": 5}))
    (tmp_path / "ok.json").write_text(json.dumps({"type": "Hold"}))
    r = cli("validate", str(tmp_path))
    assert r.code == 1
    assert r.lines == [
        f"{tmp_path / 'hold.json'}:6:3: $.webhookConnectionId: {WORDS}",
        f"{tmp_path / 'hold.json'}:7:3: $.webhookDependencyDetails: {WORDS}",
        f"{tmp_path / 'release.json'}:1:25: $.webhookConnectionId: {WORDS}",
        f"{tmp_path / 'typed.json'}:1:41: $.webhookConnectionId: expected string, found number 5",
        "4 payloads checked: 1 valid, 3 invalid",
    ]
    doc = json.loads(cli("validate", str(tmp_path / "release.json"), "--format", "json").out)
    assert [e["type"] for e in doc["errors"]] == ["WebhookNotSupported"]


@pytest.mark.parametrize(
    "data",
    [json.dumps(HOLD).encode(), json.dumps(RELEASE).encode(), b'{"type": "Hold", "webhookDependencyDetails": {}}'],
)
def test_validate_quick_path_defers_to_the_full_check_for_webhook_keys(data: bytes) -> None:
    """``looks_valid`` passes only what the engine accepts: the schema alone would pass these bodies."""
    assert not looks_valid(data)
    with pytest.raises(RequestError) as refused:
        validate_payload(data)
    got = validate_one(Payload("p.json", None, data))
    assert [f"{e.path}: {e.message}" for e in got] == refused.value.details
    assert {e.type for e in got} == {refused.value.type} == {"WebhookNotSupported"}


def test_the_quick_path_marker_is_in_every_refused_key() -> None:
    assert all(key.encode().startswith(validate_tool._DEFER) for key in UNSUPPORTED_KEYS)
