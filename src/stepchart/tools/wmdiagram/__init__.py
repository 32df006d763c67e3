"""Workflow Manager diagrams: our workflows written as WM diagram JSON, and WM diagrams read back as workflow YAML.

:func:`to_diagram` writes a workflow document as a diagram (each step's action type from
:data:`ACTION_TYPES`, return-value conditions as path expressions, and what WM has no
field for in a ``stepchart`` member of the step or diagram). :func:`from_diagram` reads
a diagram into a workflow document, with a located warning for everything it cannot map.
Export then import gives back the same workflow.
"""

from __future__ import annotations

from .actions import ACTION_TYPES, action_types
from .expressions import parse_expression, render_expression
from .reading import Imported, from_diagram
from .writing import to_diagram

__all__ = [
    "ACTION_TYPES",
    "Imported",
    "action_types",
    "from_diagram",
    "parse_expression",
    "render_expression",
    "to_diagram",
]
