"""``stepchart check``: every load error, then what a designer would want to know before a job hits it.

The kind of each file (workflow, lifecycle chart, rules, scenario) is read from its
content, so folders can be checked as they are. Each finding is a located
:class:`~stepchart.errors.Problem` with a stable code from :data:`CODES`; load errors
carry the codes of the loaders, the semantic findings the codes below.

Semantic findings, by kind:

* workflows: steps no path reaches, steps from which no path leads to an end, loops of
  automatic steps that finish themselves on Run, question answers no path takes, paths
  on return values the step's type never gives, duplicate paths;
* charts and rules together: events a chart never handles in a state where the rules
  allow the action that sends them (the engine would answer ``InvalidRequest``);
* rules: a ``require`` that can never pass, or never fail, whatever the facts
  (decided by enumerating the truth values of the facts it reads, where few enough).

The package: :mod:`.codes` (the one table of codes), :mod:`.report` (document kinds,
files, results), :mod:`.check` (the whole check), and the findings by kind:
:mod:`.workflows`, :mod:`.charts` (charts against rules), :mod:`.satisfiable` (rules).
"""

from .charts import chart_event_problems
from .check import check_paths
from .codes import CODES
from .report import CheckedFile, CheckResult, document_kind, expand_paths
from .satisfiable import MAX_WORLDS, decide, rule_problems
from .workflows import return_values, self_finish_value, workflow_problems

__all__ = [
    "CODES",
    "MAX_WORLDS",
    "CheckResult",
    "CheckedFile",
    "chart_event_problems",
    "check_paths",
    "decide",
    "document_kind",
    "expand_paths",
    "return_values",
    "rule_problems",
    "self_finish_value",
    "workflow_problems",
]
