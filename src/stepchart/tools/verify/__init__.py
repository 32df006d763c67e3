"""``stepchart verify``: every state a job of a workflow can reach, explored through the real engine.

Verify is one more driver of the engine: from a new job it makes every request the
workflow's own participants can make (:mod:`.moves`), each through the same dispatcher,
charts and rules as ``act``, on a copy of the job (:mod:`.states`), breadth-first with
states deduplicated by a canonical key (:mod:`.explore`). It then reports the flaws no
graph check sees (:mod:`.findings`: ``stuck``, ``dead-step``, ``refused-result``,
``livelock``), each located and with its shortest trace, and can write each trace as a
scenario for ``stepchart test`` (:mod:`.scenario_writer`). :mod:`.run` ties them up.
"""

from .explore import DEFAULT_MAX_STATES, Exploration, explore, trace_to
from .findings import Finding, find
from .moves import Cast, Move, moves_for, perform
from .run import VerifyResult, WorkflowReport, verify_files, verify_workflow
from .scenario_writer import scenario_for, write_scenarios
from .states import OneJobStore, state_key

__all__ = [
    "DEFAULT_MAX_STATES",
    "Cast",
    "Exploration",
    "Finding",
    "Move",
    "OneJobStore",
    "VerifyResult",
    "WorkflowReport",
    "explore",
    "find",
    "moves_for",
    "perform",
    "scenario_for",
    "state_key",
    "trace_to",
    "verify_files",
    "verify_workflow",
    "write_scenarios",
]
