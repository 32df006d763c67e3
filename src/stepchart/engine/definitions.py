"""What an engine knows before any job: step types, their compiled lifecycles, the rules, workflow versions.

Charts and rules load and compile once per process and are never changed afterwards;
the workflow-version registry only grows. An :class:`~stepchart.engine.core.Engine` is
these definitions plus a store: a second engine over another store shares the charts
and rules (:meth:`Definitions.fresh`) and keeps its own workflow versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import RequestError
from ..io.files import data_dir
from ..io.yamldoc import Document
from ..load.charts import load_chart_dir
from ..load.workflows import load_workflow
from ..model import Job, StepType, Workflow
from ..rules import RuleSet, load_rules
from .lifecycle import Lifecycle

__all__ = ["Definitions"]


class Definitions:
    """Step types, compiled lifecycles and rules (shared, fixed), and this engine's workflow versions."""

    def __init__(
        self, step_types: Mapping[str, StepType], rules: RuleSet, lifecycles: Mapping[str, Lifecycle] | None = None
    ) -> None:
        self.step_types: dict[str, StepType] = dict(step_types)
        self.lifecycles: dict[str, Lifecycle] = (
            dict(lifecycles) if lifecycles is not None else {k: Lifecycle(v) for k, v in self.step_types.items()}
        )
        self.rules = rules
        self.workflows: dict[str, Workflow] = {}
        """The newest loaded version of each workflow, by id."""
        self._versions: dict[tuple[str, str], Workflow] = {}

    @classmethod
    def load(cls, charts: Sequence[str | Path] | None = None, rules: Sequence[str | Path] | None = None) -> Definitions:
        """Charts and rules from folders (or files); None: the shipped ones (an empty list: none)."""
        chart_dirs = charts if charts is not None else [data_dir("statecharts")]
        return cls(load_chart_dir(*chart_dirs), load_rules(*(rules if rules is not None else [data_dir("rules")])))

    def fresh(self) -> Definitions:
        """The same compiled charts and rules, with no workflow versions."""
        return Definitions(self.step_types, self.rules, self.lifecycles)

    # -- workflow versions --------------------------------------------------------------
    def add_workflow(self, source: str | Path | Mapping[str, Any] | Document) -> Workflow:
        """Load a workflow (path, YAML text, mapping or parsed document); the newest version wins by id."""
        wf = load_workflow(source, self.step_types)
        self.register_version(wf, newest=True)
        return wf

    def workflow(self, workflow_id: str, version: str | None = None) -> Workflow | None:
        if version:
            return self._versions.get((workflow_id, version))
        return self.workflows.get(workflow_id)

    def known_versions(self) -> list[Workflow]:
        """Every workflow version loaded, oldest first."""
        return list(self._versions.values())

    def register_version(self, wf: Workflow, *, newest: bool = False) -> None:
        """Make a workflow version known (one read back from a store); ``newest`` also makes it the default."""
        self._versions[(wf.id, wf.version)] = wf
        if newest:
            self.workflows[wf.id] = wf

    def workflow_for(self, job: Job) -> Workflow:
        """The workflow version the job was created with: never silently another one."""
        wf = self.workflow(job.workflow, job.workflow_version) if job.workflow_version else self.workflow(job.workflow)
        if wf is None:
            raise RequestError(
                "InvalidRequest",
                f"The job's workflow {job.workflow!r} version {job.workflow_version or '(any)'} is not loaded.",
                [f"workflow: {job.workflow}", f"workflowVersion: {job.workflow_version}"],
            )
        return wf
