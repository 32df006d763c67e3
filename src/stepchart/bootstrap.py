"""The composition root: an engine on a store opened by URL, its workflow versions in step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .engine.core import Engine
from .stores import ManagedStore, open_store

__all__ = ["Engine", "open_engine"]


def open_engine(store: str | Path | ManagedStore | None = None, **engine_options: Any) -> Engine:
    """An :class:`~stepchart.engine.Engine` on a durable store, its workflow versions in step.

    Opens the store (see :func:`open_store`), builds the engine with ``engine_options``
    (charts, rules, workflows, ...), then :meth:`~stepchart.manage.JobManagement.sync_workflows`:
    versions the engine loaded are saved, and versions only the store knows (jobs
    created from an older YAML) are loaded back.
    """
    st = store if isinstance(store, ManagedStore) else open_store(store)
    engine = Engine(store=st, **engine_options)
    engine.sync_workflows()
    return engine
