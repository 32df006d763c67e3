"""Executable scenarios (SPEC 6.3): a designer's examples, run by ``stepchart test``.

A scenario is a start state, a list of operations and what each must give. The runner
finds scenario files (:mod:`.documents`), runs each scenario on a fresh engine sharing
the compiled charts and rules (:mod:`.runner`), and stops a scenario at its first unmet
expectation (:mod:`.expectations`) with a message naming the scenario, the operation,
the field, the expected and the actual value.
"""

from __future__ import annotations

from .documents import Scenario, ScenarioFailure, ScenarioResult, discover, is_scenario_value, load_file
from .runner import run_scenario

__all__ = [
    "Scenario",
    "ScenarioFailure",
    "ScenarioResult",
    "discover",
    "is_scenario_value",
    "load_file",
    "run_scenario",
]
