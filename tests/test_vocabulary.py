"""Every closed set is declared once in ``stepchart.vocabulary``; each schema enum equals it."""

from __future__ import annotations

from typing import Any

import pytest

from stepchart import vocabulary as v
from stepchart.io.schemas import read_schema_file


def _at(schema: dict[str, Any], *path: str) -> list[str]:
    node: Any = schema
    for key in path:
        node = node[key]
    return list(node["enum"])


ENUMS = [
    ("payload", ("properties", "type"), v.ACTION_TYPES),
    ("response", ("properties", "stepResponses", "items", "properties", "status"), v.STEP_STATUSES),
    ("rules", ("definitions", "rule", "properties", "actions", "items"), v.ACTIONS),
    ("rules", ("definitions", "rule", "properties", "level"), v.RULE_LEVELS),
    ("rules", ("definitions", "rule", "properties", "yields"), v.RULE_YIELDS),
    ("chart", ("definitions", "transition", "properties", "event"), v.LIFECYCLE_EVENTS),
    ("chart", ("definitions", "transition", "properties", "guard"), v.GUARDS),
    ("chart", ("definitions", "transition", "properties", "record"), v.HISTORY_ACTIONS),
    ("chart", ("definitions", "transition", "properties", "emit", "items"), v.STEP_EVENTS),
    ("job", ("definitions", "history", "properties", "action"), v.JOB_HISTORY_ACTIONS),
    ("job", ("definitions", "currentStep", "properties", "assignedType"), v.ASSIGNMENT_TYPES),
    ("workflow", ("definitions", "step", "properties", "assignedType"), v.ASSIGNMENT_TYPES),
    ("workflow", ("definitions", "path", "properties", "assignedType"), v.ASSIGNMENT_TYPES),
    (
        "scenario",
        ("definitions", "operation", "properties", "assign", "properties", "assignedType"),
        v.ASSIGNMENT_TYPES,
    ),
    ("http-assign", ("properties", "assignedType"), v.ASSIGNMENT_TYPES),
]


@pytest.mark.parametrize(("schema", "path", "words"), ENUMS, ids=[f"{s}:{'/'.join(p)}" for s, p, _ in ENUMS])
def test_schema_enum_equals_the_vocabulary(schema: str, path: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert sorted(_at(read_schema_file(schema), *path)) == sorted(words)


def test_subsets_are_named_not_sliced() -> None:
    assert set(v.RULE_ERROR_TYPES) < set(v.ERROR_TYPES)
    assert set(v.STEP_EVENTS) < set(v.EVENTS)
    assert set(v.HISTORY_ACTIONS) < set(v.JOB_HISTORY_ACTIONS)
    assert (*v.ACTION_TYPES, *v.OPERATIONS, *v.MANAGEMENT_ACTIONS) == v.ACTIONS
    assert len(v.STEP_STATUSES) == 14  # R15
    assert "Success" not in v.RULE_YIELDS


def test_the_action_table_covers_every_action() -> None:
    from stepchart.engine.actions import ACTION_TABLE

    assert tuple(ACTION_TABLE) == v.ACTIONS
    assert {a.event for a in ACTION_TABLE.values() if a.event} <= set(v.LIFECYCLE_EVENTS)
