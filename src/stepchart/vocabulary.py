"""Every closed set of words stepchart speaks, declared once.

The shipped JSON Schemas repeat some of these as ``enum`` lists (editors need them);
``tests/test_vocabulary.py`` checks that each schema enum equals the tuple here, so the
two cannot drift apart. Code never slices these tuples by position: it names the subset.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "ACTIONS",
    "ACTION_TYPES",
    "ASSIGNMENT_TYPES",
    "ERROR_TYPES",
    "EVENTS",
    "GUARDS",
    "HISTORY_ACTIONS",
    "JOB_HISTORY_ACTIONS",
    "LIFECYCLE_EVENTS",
    "MANAGEMENT_ACTIONS",
    "OPERATIONS",
    "PRIVILEGES",
    "RULE_ERROR_TYPES",
    "RULE_LEVELS",
    "RULE_YIELDS",
    "STEP_EVENTS",
    "STEP_STATUSES",
    "AssignmentType",
    "RuleLevel",
]

AssignmentType = Literal["User", "Group", "Unassigned"]
"""How a current step is assigned (R9a, R16)."""
ASSIGNMENT_TYPES: Final[tuple[AssignmentType, ...]] = get_args(AssignmentType)

RuleLevel = Literal["request", "step"]
"""A rule is checked once per request (R14) or once per target step (R15)."""
RULE_LEVELS: Final[tuple[RuleLevel, ...]] = get_args(RuleLevel)

ACTION_TYPES: Final = ("Run", "Finish", "Stop", "SetCurrentStep", "Hold", "ReleaseHold", "RefreshStatus")
"""The ``type`` of a jobAction body (R10)."""

OPERATIONS: Final = ("Respond", "Complete", "Fail", "Assign")
"""Step operations beside jobAction: answer (R3), the host's result (R4), assign (R25)."""

MANAGEMENT_ACTIONS: Final = ("Close", "Reopen", "Delete", "Upgrade", "Update")
"""Operations on whole jobs beside jobAction (``rules/40-management.yaml``)."""

ACTIONS: Final = (*ACTION_TYPES, *OPERATIONS, *MANAGEMENT_ACTIONS)
"""Everything a rule may name in ``actions:``."""

STEP_STATUSES: Final = (
    "Success",
    "NoActiveStep",
    "AlreadyExecuting",
    "AssignedToDifferentUser",
    "JobClosed",
    "StepNotCurrent",
    "NoStartedStep",
    "NoMatchingPaths",
    "NotRunning",
    "WaitingForInfo",
    "Held",
    "NotHeld",
    "StepNotInDiagram",
    "StepNotAuto",
)
"""The 14 statuses of a step response (R15)."""

ERROR_TYPES: Final = (
    "InvalidJson",
    "SchemaViolation",
    "WebhookNotSupported",
    "JobNotFound",
    "InsufficientPrivileges",
    "InvalidRequest",
)
"""The ``type`` of a 400 body (R14); ``WebhookNotSupported`` refuses a body asking for a webhook dependency."""

RULE_ERROR_TYPES: Final = ("JobNotFound", "InsufficientPrivileges", "InvalidRequest")
"""The request errors a rule may yield: the body checks (InvalidJson, SchemaViolation) come before rules."""

RULE_YIELDS: Final = (*(s for s in STEP_STATUSES if s != "Success"), *RULE_ERROR_TYPES)
"""What a rule may yield when its condition is false."""

STEP_EVENTS: Final = (
    "StepStarted",
    "StepPaused",
    "StepCancelled",
    "StepInfoRequired",
    "StepFinished",
    "StepError",
    "StepHeld",
    "StepHoldReleased",
    "StepReassigned",
    "JobClosed",
)
"""The R24 events a request on a job's steps causes (and a chart transition may emit)."""

EVENTS: Final = (*STEP_EVENTS, "JobReopened", "JobDeleted", "JobUpgraded", "JobUpdated", "JobCommentUpdated")
"""Every event of the events feed: R24's, and those of job management."""

HISTORY_ACTIONS: Final = (
    "Activated",
    "Deactivated",
    "Started",
    "Paused",
    "Cancelled",
    "Finished",
    "Error",
    "Held",
    "HoldReleased",
    "Reassigned",
    "Closed",
)
"""The ``action`` of an R23 history record written by a request on steps (a chart's ``record:``)."""

JOB_HISTORY_ACTIONS: Final = (*HISTORY_ACTIONS, "Reopened", "Updated")
"""Every ``action`` a job document's history may hold (job management adds ``Reopened``; an update of
the job's properties, ``Updated``)."""

LIFECYCLE_EVENTS: Final = ("run", "stop", "finish", "respond", "complete", "fail")
"""The events the engine sends to a step's lifecycle machine."""

GUARDS: Final = ("canSkip", "notCanSkip", "proceedNext", "automatic")
"""The guards a chart transition may name: facts of the step definition."""

PRIVILEGES: Final = (
    "jobCreate",
    "jobUpdateProperties",
    "jobUpdateHolds",
    "jobForceStop",
    "workflowSetStepCurrent",
    "jobAssignAny",
    "jobAssignGroup",
    "jobAssignIndividual",
    "jobClose",
    "jobReopenClosed",
    "jobDelete",
    "adminBasic",
    "adminAdvanced",
    "hostExecution",
    "jobReadAll",
)
"""The privileges the shipped rules and the HTTP service name (a designer's rules may name others)."""
