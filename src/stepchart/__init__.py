"""stepchart: a declarative workflow-step engine speaking the Workflow Manager jobAction contract.

The public API is small: :class:`Engine` (load definitions, act on jobs), :class:`Actor`,
:class:`ActionResult`, the errors, and :class:`MemoryStore` / :class:`JobStore`.
"""

from .engine import ActionResult, Engine, Execution, RuleCheck
from .errors import DefinitionError, Problem, RequestError
from .model import SYSTEM, Actor
from .paths import data_dir
from .store import JobStore, MemoryStore

__all__ = [
    "SYSTEM",
    "ActionResult",
    "Actor",
    "DefinitionError",
    "Engine",
    "Execution",
    "JobStore",
    "MemoryStore",
    "Problem",
    "RequestError",
    "RuleCheck",
    "data_dir",
]

__version__ = "0.1.0"
