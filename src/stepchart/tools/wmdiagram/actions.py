"""Which Workflow Manager action type stands for which step type, and back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["ACTION_TYPES", "action_types"]

ACTION_TYPES: Final[Mapping[str, str]] = {
    "Manual": "manual",
    "Question": "question",
    "OpenApp": "openApp",
    "ExecuteGP": "gp",
}
"""WM action type to the shipped step type. Only ``Manual`` is a confirmed spelling (WM-REST.md)."""


def action_types(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`ACTION_TYPES` with ``extra`` (``--map ACTIONTYPE=STEPTYPE``) added or overriding."""
    table = dict(ACTION_TYPES)
    table.update(extra or {})
    return table


def action_type_of(step_type: str) -> str:
    """The WM action type a step type is written as: the table's, else the step type's own name."""
    for action, step in ACTION_TYPES.items():
        if step == step_type:
            return action
    return step_type
