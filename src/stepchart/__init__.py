"""stepchart: a declarative workflow-step engine speaking the Workflow Manager jobAction contract.

The public API is small: :class:`Engine` (load definitions, act on jobs), :class:`Actor`,
:class:`ActionResult`, the errors, and :class:`MemoryStore` / :class:`JobStore`.

Names are imported on first use (PEP 562), so ``import stepchart`` (and every
``stepchart`` command, ``--help`` included) does not pay for the engine, python-statemachine
and jsonschema until something needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_names

if TYPE_CHECKING:
    from .bootstrap import Engine
    from .engine.core import ActionResult, Execution, RuleCheck
    from .errors import DefinitionError, Problem, RequestError
    from .io.files import data_dir
    from .model import SYSTEM, Actor
    from .stores import JobStore, MemoryStore

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

_HOME = {
    "ActionResult": ".engine.core",
    "Engine": ".bootstrap",
    "Execution": ".engine.core",
    "RuleCheck": ".engine.core",
    "DefinitionError": ".errors",
    "Problem": ".errors",
    "RequestError": ".errors",
    "SYSTEM": ".model",
    "Actor": ".model",
    "data_dir": ".io.files",
    "JobStore": ".stores",
    "MemoryStore": ".stores",
}


__getattr__, __dir__ = lazy_names(__name__, _HOME, globals())
