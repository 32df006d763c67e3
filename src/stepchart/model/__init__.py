"""Plain data: definitions (charts, workflows), jobs, actors, requests, and the time codecs.

Names are imported on first use (PEP 562, as the ``stepchart`` package does), so a module
that needs only :mod:`stepchart.model.times` (the payload schema's date-time, for
``stepchart validate``) does not pay for the definitions and the job model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
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

_HOME = {
    "SYSTEM": ".actor",
    "Actor": ".actor",
    "STEP_GUARDS": ".definitions",
    "ChartState": ".definitions",
    "ChartTransition": ".definitions",
    "PathDef": ".definitions",
    "StepDef": ".definitions",
    "StepType": ".definitions",
    "Workflow": ".definitions",
    "CurrentStep": ".job",
    "Hold": ".job",
    "Job": ".job",
    "JobProperties": ".properties",
    "Request": ".request",
    "JobTemplate": ".template",
}


__getattr__, __dir__ = lazy_names(__name__, _HOME, globals())
