"""Fuzz the HTTP service from its own OpenAPI document (schemathesis on hypothesis).

For every operation of ``/openapi.json``, schemathesis generates requests that follow
the document (positive) and requests that break it (negative); each is sent to a real
uvicorn server on loopback, as one of several callers (a privileged user, an
unprivileged one, the host, no token, a wrong token, a token in the query string),
often aimed at jobs that exist. Every answer must:

- never be a 5xx;
- conform to the document (status code declared, body valid against the declared
  schema, which are the shipped schema files);
- when it is not a 200, leave everything as it was: every job, the action log and the
  events feed (SPEC R14 for 400; the same for 401, 404, 405, 413 and 415).

``STEPCHART_FUZZ_EXAMPLES`` sets the examples per operation and mode (default 25).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from http_helpers import EXAMPLES, USERS, LiveServer, ManualClock, live_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepchart import Engine
from stepchart.http.openapi import build_openapi, validator
from stepchart.stores import open_store

EXAMPLES_PER_CASE = int(os.environ.get("STEPCHART_FUZZ_EXAMPLES", "25"))
DOC = build_openapi()
OPERATIONS = [(path, method.upper()) for path, item in DOC["paths"].items() for method in item]
NO_INPUT = {("/health", "GET"), ("/openapi.json", "GET")}
CALLERS = ["alice", "alice", "host", "bob", "query", "none", "invalid"]
EXCLUDED = [
    # The reference contract answers a well-formed request on an unknown job with 400
    # (JobNotFound, R14), which schemathesis reads as "valid data rejected".
    schemathesis.checks.positive_data_acceptance,
    # Authentication is set by the test itself (valid, missing or wrong, on purpose).
    schemathesis.checks.ignored_auth,
]


class Fuzzed:
    """The server under fuzz and what it serves."""

    def __init__(self, engine: Engine, server: LiveServer) -> None:
        self.engine, self.server = engine, server
        self.schema = schemathesis.openapi.from_dict(DOC)
        self.schema.config.update(base_url=server.url)
        # A schema-breaking body may also be too large for the test's 4 KiB body limit: 413 refuses it
        # as rightly as 400 does (nothing runs; the body is R14-shaped, checked below).
        rejection = self.schema.config.checks.negative_data_rejection
        rejection.expected_statuses = [*rejection.expected_statuses, "413"]

    def snapshot(self) -> tuple[Any, ...]:
        eng = self.engine
        return ([eng.job(j) for j in eng.store.job_ids()], len(eng.action_log()), len(eng.events_after()))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    engine = Engine(workflows=EXAMPLES, store=open_store(str(tmp / "fuzz.db")))
    engine.sync_workflows()
    now = "2026-03-01T09:00:00Z"
    engine.create_job("parcel-edit", "J1", now=now)
    engine.create_job("permit-review", "J2", now=now)
    engine.create_job("parcel-edit", "J3", now=now)
    with live_app(engine, clock=ManualClock(now), max_body=4096) as server:
        yield Fuzzed(engine, server)
    engine.store.close()


# Negative generation needs some input to break: operations without one run positive only.
CASES = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    if mode is schemathesis.GenerationMode.POSITIVE or (path, method) not in NO_INPUT
]


@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_fuzz_operation(fuzzed: Fuzzed, path: str, method: str, mode: schemathesis.GenerationMode) -> None:
    operation = fuzzed.schema[path][method]

    @given(
        case=operation.as_strategy(generation_mode=mode),
        caller=st.sampled_from(CALLERS),
        job=st.sampled_from([None, "J1", "J2", "J3"]),
    )
    @settings(
        max_examples=EXAMPLES_PER_CASE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, caller: str, job: str | None) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        query = {k: v for k, v in (case.query or {}).items() if k != "token"}
        if caller == "query":
            query["token"] = USERS["alice"][2]
        elif caller == "invalid":
            headers["Authorization"] = "Bearer not-a-token"
        elif caller != "none":
            headers["Authorization"] = f"Bearer {USERS[caller][2]}"
        case.headers, case.query = headers, query
        if job is not None and case.path_parameters and "jobId" in case.path_parameters:
            case.path_parameters["jobId"] = job
        before = fuzzed.snapshot()
        response = case.call(timeout=30)
        assert response.status_code < 500, (response.status_code, response.text)
        if response.status_code != 200:
            assert fuzzed.snapshot() == before, (response.status_code, response.text)
            errors = list(validator("error").iter_errors(response.json()))
            assert not errors, (response.text, errors)
        case.validate_response(response, excluded_checks=EXCLUDED)

    run()
