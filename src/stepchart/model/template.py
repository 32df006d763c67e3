"""Job templates: what a new job of a workflow starts with (Workflow Manager's ``jobTemplates``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ..vocabulary import AssignmentType

__all__ = ["COUNTER", "CREATING_STATES", "JobTemplate"]

COUNTER: Final = "{counter}"
"""The placeholder of a template's ``jobName`` that the template's job count replaces."""

CREATING_STATES: Final = ("Active", "Automated")
"""The template states that create jobs; ``Draft`` and ``Retired`` templates refuse."""


@dataclass(frozen=True)
class JobTemplate:
    """A loaded template; ``default`` marks the one made for a workflow that has none (its id is the workflow's)."""

    id: str
    workflow: str
    name: str = ""
    description: str = ""
    state: str = "Active"
    job_name: str = COUNTER
    priority: str | None = None
    owned_by: str | None = None
    assigned_type: AssignmentType | None = None
    assigned_to: str | None = None
    due_in: timedelta | None = None
    default: bool = False
    file: str = ""
    line: int = 0

    def job_name_for(self, counter: int) -> str:
        """The name of the template's ``counter``-th job."""
        return self.job_name.replace(COUNTER, str(counter))

    @property
    def creates_jobs(self) -> bool:
        return self.state in CREATING_STATES
