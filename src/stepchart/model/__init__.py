"""Plain data: definitions (charts, workflows), jobs, actors, requests, and the time codecs."""

from .actor import SYSTEM, Actor
from .definitions import STEP_GUARDS, ChartState, ChartTransition, PathDef, StepDef, StepType, Workflow
from .job import CurrentStep, Hold, Job
from .properties import JobProperties
from .request import Request
from .template import JobTemplate

__all__ = [
    "STEP_GUARDS",
    "SYSTEM",
    "Actor",
    "ChartState",
    "ChartTransition",
    "CurrentStep",
    "Hold",
    "Job",
    "JobProperties",
    "JobTemplate",
    "PathDef",
    "Request",
    "StepDef",
    "StepType",
    "Workflow",
]
