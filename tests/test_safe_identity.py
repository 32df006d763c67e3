"""Identity (issue 11): only ``stepchart.SYSTEM``, by identity, acts as the engine.

``None``, a mapping or any other non-actor is a ``TypeError`` on every entry point of the
Python API (jobAction, respond, assign, the management operations, explain); a plain
string, ``"system"`` included, is a user with no groups and no privileges, so the
assignment and privilege rules (R16, R17, R25) apply to it. Nothing changes on a refusal.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import stored_engine

from stepchart import SYSTEM, Actor, Engine

pytest_plugins = ["pg_fixture"]

ROOT = Path(__file__).resolve().parent.parent
PARCEL = ROOT / "examples" / "parcel-edit.yaml"
T0 = "2026-03-01T09:00:00Z"
T1 = "2026-03-01T09:05:00Z"


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, base_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    url = "memory:" if request.param == "memory" else str(tmp_path / "jobs.db")
    with stored_engine(base_engine, url, [PARCEL], ("J1",)) as eng:
        yield eng


def _state(engine: Engine) -> tuple[Any, ...]:
    return engine.job("J1"), len(engine.action_log()), len(engine.events_after())


NOT_ACTORS: list[Any] = [None, {"username": "system"}, 7, ("system",)]

CALLS: dict[str, Callable[[Engine, Any], Any]] = {
    "act": lambda e, who: e.act("J1", {"type": "SetCurrentStep", "stepIds": ["publish"]}, who, T1),
    "respond": lambda e, who: e.respond("J1", "review", "approve", who, T1),
    "assign": lambda e, who: e.assign("J1", "edit", "User", "mallory", who, T1),
    "close_job": lambda e, who: e.close_job("J1", who, T1),
    "reopen_job": lambda e, who: e.reopen_job("J1", who, T1),
    "delete_job": lambda e, who: e.delete_job("J1", who, T1),
    "upgrade_job": lambda e, who: e.upgrade_job("J1", who, T1),
    "explain": lambda e, who: e.explain("J1", {"type": "Run"}, who, T1),
    "enabled_actions": lambda e, who: e.enabled_actions("J1", who, T1),
    "create_job": lambda e, who: e.create_job("parcel-edit", "J9", now=T1, actor=who),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("who", NOT_ACTORS, ids=["None", "dict", "int", "tuple"])
def test_a_value_that_is_not_an_actor_is_a_type_error_and_changes_nothing(
    engine: Engine, call: str, who: Any
) -> None:
    before = _state(engine)
    with pytest.raises(TypeError, match="actor must be"):
        CALLS[call](engine, who)
    assert _state(engine) == before
    assert not engine.store.exists("J9")


def test_the_string_system_is_a_user_without_privileges(engine: Engine) -> None:
    # R17: SetCurrentStep needs workflowSetStepCurrent; the engine skips that rule, a user does not
    refused = CALLS["act"](engine, "system")
    assert (refused.status_code, refused.error_type) == (400, "InsufficientPrivileges")
    for name in ("assign", "close_job", "delete_job"):
        r = CALLS[name](engine, "system")
        assert (r.status_code, r.error_type) == (400, "InsufficientPrivileges"), name
    # R16: "edit" is assigned to group editors; a user named system is not in it
    run = engine.act("J1", {"type": "Run", "stepIds": ["edit"]}, "system", T1)
    assert run.body["stepResponses"][0]["status"] == "AssignedToDifferentUser"
    assert engine.job("J1")["currentSteps"][0]["stepId"] == "edit"
    # the sentinel itself still acts as the engine (R6, R9a)
    assert CALLS["act"](engine, SYSTEM).success
    assert [c["stepId"] for c in engine.job("J1")["currentSteps"]] == ["publish"]


def test_a_user_named_system_replays_as_a_user(engine: Engine) -> None:
    # the refused Run is logged (a 200); replayed as the engine it would succeed and differ
    assert engine.act("J1", {"type": "Run", "stepIds": ["edit"]}, Actor("system"), T1).ok
    entry = engine.action_log("J1")[-1]
    assert entry["actor"]["engine"] is False
    assert engine.verify_replay(["J1"]) == []
    assert engine.act("J1", {"type": "Run", "stepIds": ["edit"]}, SYSTEM, T1).success
    assert engine.action_log("J1")[-1]["actor"]["engine"] is True
    assert engine.verify_replay(["J1"]) == []


def test_the_sentinel_is_an_identity() -> None:
    assert SYSTEM.is_system
    assert Actor("system") != SYSTEM and not Actor("system").is_system
    assert not Actor.of("system").is_system
    assert copy.deepcopy(SYSTEM) is SYSTEM and pickle.loads(pickle.dumps(SYSTEM)) is SYSTEM


def test_one_string_is_one_group_or_privilege() -> None:
    a = Actor.of("bob", groups="editors", privileges="jobClose")
    assert a.groups == frozenset({"editors"}) and a.privileges == frozenset({"jobClose"})
    assert Actor.of("bob", ["a", "b"]).groups == frozenset({"a", "b"})
