"""The one action table: what each action is, which lifecycle event it sends, how it answers.

The dispatcher, replay, scenarios and ``check`` all read this table instead of each
keeping an ``if`` chain over action names. A row says how the action is reached (a
jobAction ``type``, a step operation beside jobAction, or a job-management call), the
event it sends to the step's lifecycle machine, its success text, and for step
operations the fields a scenario (and the action log) gives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from ..vocabulary import ACTIONS

__all__ = ["ACTION_TABLE", "RUN_AND_FINISH_TEXT", "STATUS_TEXT", "Action", "ActionKind", "action", "operation_for"]

ActionKind = Literal["jobAction", "operation", "management"]


@dataclass(frozen=True)
class Action:
    """One row of the action table."""

    name: str
    kind: ActionKind
    success_text: str
    event: str | None = None
    """The lifecycle event the action sends to the target step's machine, if any."""
    operation: str | None = None
    """For step operations: the scenario key (``respond``, ``complete``, ``fail``, ``assign``)."""
    fields: tuple[str, ...] = ()
    """For step operations: the fields of the operation (scenario mapping, action-log body), ``stepId`` first."""
    value_field: str | None = None
    """The field whose value the operation passes on (respond's answer, complete's return value, ...)."""
    as_engine: bool = False
    """The operation always acts as the engine itself (the host's results, R4)."""


ACTION_TABLE: Final[dict[str, Action]] = {
    a.name: a
    for a in (
        Action("Run", "jobAction", "The step was started running.", event="run"),
        Action("Finish", "jobAction", "The step was finished.", event="finish"),
        Action("Stop", "jobAction", "The step was stopped.", event="stop"),
        Action("SetCurrentStep", "jobAction", "The step was set as the current step."),
        Action("Hold", "jobAction", "The hold was applied to the step."),
        Action("ReleaseHold", "jobAction", "The hold was released."),
        Action("RefreshStatus", "jobAction", "The step status was refreshed."),
        Action(
            "Respond",
            "operation",
            "The answer was recorded and the step finished.",
            event="respond",
            operation="respond",
            fields=("stepId", "value"),
            value_field="value",
        ),
        Action(
            "Complete",
            "operation",
            "The step was completed.",
            event="complete",
            operation="complete",
            fields=("stepId", "returnValue"),
            value_field="returnValue",
            as_engine=True,
        ),
        Action(
            "Fail",
            "operation",
            "The step failed.",
            event="fail",
            operation="fail",
            fields=("stepId", "message"),
            value_field="message",
            as_engine=True,
        ),
        Action(
            "Assign",
            "operation",
            "The step was reassigned.",
            operation="assign",
            fields=("stepId", "assignedType", "assignedTo"),
        ),
        Action("Close", "management", "The job was closed."),
        Action("Reopen", "management", "The job was reopened."),
        Action("Delete", "management", "The job was deleted."),
        Action("Upgrade", "management", "The job was upgraded."),
        Action("Update", "management", "The job's properties were updated."),
    )
}
assert tuple(ACTION_TABLE) == ACTIONS, "the action table and the vocabulary list the same actions, in order"

STATUS_TEXT: Final[dict[str, str]] = {
    "NoActiveStep": "The job has no active step.",
    "JobClosed": "The job is closed.",
    "NoMatchingPaths": "No path from the step matches its return value.",
}
"""Descriptions of the step statuses the engine itself gives (rules describe their own)."""

RUN_AND_FINISH_TEXT: Final = "The step was run and finished (proceed to next)."
"""Run's success text when R2 finished the step at once."""


def action(name: str) -> Action:
    """The row of an action; ``KeyError`` for a name that is not an action."""
    return ACTION_TABLE[name]


def operation_for(key: str) -> Action | None:
    """The step operation a scenario names by its key (``respond``, ...), or None."""
    return next((a for a in ACTION_TABLE.values() if a.operation == key), None)
