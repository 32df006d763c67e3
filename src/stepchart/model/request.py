"""One parsed operation: a jobAction body, or respond/complete/fail/assign."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..vocabulary import AssignmentType

__all__ = ["Request"]


@dataclass
class Request:
    """One parsed operation: a jobAction body, or respond/complete/fail/assign."""

    action: str
    step_ids: list[str] = field(default_factory=list)
    given: frozenset[str] = frozenset()
    hold_release: datetime | None = None
    dependent_job_id: str | None = None
    dependent_step_id: str | None = None
    value: str | None = None
    message: str | None = None
    assigned_type: AssignmentType | None = None
    assigned_to: str | None = None
    body: Any = None

    def has(self, name: str) -> bool:
        return name in self.given
