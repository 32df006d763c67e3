"""The options every command shares, and their converters: who acts, when, which definitions, which store.

Each ``add_*`` adds one option set to a parser; the converter beside it turns the parsed
values into what the engine takes. Spellings still differ between the designer
commands (``run``, ``explain``: ``--groups A,B``) and the store commands (``jobs close``:
``--group A --group B``); the ``style`` arguments name the two and keep each exactly as
it was. Only ``argparse`` and the store URL default are imported here: the converters
import the engine when they run, so ``stepchart --help`` stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..io.files import DEFAULT_STORE

if TYPE_CHECKING:
    from ..bootstrap import Engine
    from ..model import Actor
    from ..stores import ManagedStore

__all__ = [
    "CHARTS_HELP",
    "RULES_HELP",
    "ActorStyle",
    "acting_user",
    "add_actor",
    "add_color",
    "add_definitions",
    "add_now",
    "add_store",
    "add_store_engine",
    "add_workflows",
    "definitions_engine",
    "open_store",
    "request_time",
    "store_engine",
    "store_url",
    "workflow_files",
]

CHARTS_HELP = "lifecycle chart folder (default: shipped)"
RULES_HELP = "rules folder (default: shipped)"
STORE_HELP = f"SQLite path or URL, postgresql://..., or memory: (default $STEPCHART_STORE or {DEFAULT_STORE})"

ActorStyle = Literal["designer", "store"]
"""``designer``: ``--as USER --groups G[,G...] --privilege P[,P...]``, the engine itself only
for a bare ``--as system``; ``store``: ``--as USER --group NAME --privilege NAME`` (repeat),
``--as system`` always the engine itself."""


# -- output colour -------------------------------------------------------------------------------


COLOR_HELP = "colour the output: auto (a terminal without NO_COLOR), always, never"


def add_color(p: argparse.ArgumentParser, help: str | None = COLOR_HELP) -> None:
    """``--color auto|always|never`` (see :class:`~stepchart.tools.reporting.Style`)."""
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help=help)


# -- definitions: charts, rules, workflows ---------------------------------------------------------


def add_definitions(
    p: argparse.ArgumentParser,
    *,
    metavar: str = "DIR",
    charts_help: str = CHARTS_HELP,
    rules_help: str | None = RULES_HELP,
) -> None:
    """``--charts`` and ``--rules`` (repeatable; None: the shipped ones); ``rules_help=None`` leaves out ``--rules``."""
    p.add_argument("--charts", action="append", default=None, metavar=metavar, help=charts_help)
    if rules_help is not None:
        p.add_argument("--rules", action="append", default=None, metavar=metavar, help=rules_help)


def add_workflows(
    p: argparse.ArgumentParser,
    flag: str = "--workflows",
    *,
    default: list[str] | None = None,
    help: str = "a workflow YAML file or folder (repeat); they become the newest versions",
) -> None:
    """The workflow files or folders to load (``dest="workflows"``; see :func:`workflow_files`)."""
    p.add_argument(
        flag, dest="workflows", action="append", default=default, metavar="PATH", help=help
    )  # a list default is copied by argparse on the first append


def _is_workflow_document(path: Path) -> bool:
    from ..errors import DefinitionError
    from ..io.yamldoc import read_yaml_file

    try:
        doc = read_yaml_file(path)
    except DefinitionError:
        return False
    return isinstance(doc.value, dict) and "workflow" in doc.value and "steps" in doc.value


def workflow_files(paths: Sequence[str], *, missing: Literal["raise", "keep"] = "raise") -> list[Path]:
    """The workflow files ``paths`` name, in order: a file as given; a folder's workflow documents.

    A folder is read with :func:`~stepchart.io.files.walk_files` (every ``*.yaml``/``*.yml``
    below it, in path order, hidden files and folders skipped), keeping the documents whose
    top level is a workflow (``workflow:`` and ``steps:``): a folder of workflows may hold
    scenarios and other YAML beside them. A path that does not exist raises
    ``FileNotFoundError``, or with ``missing="keep"`` stays in the list for the loader to report.
    """
    from ..io.files import walk_files

    out: list[Path] = []
    for raw in paths:
        found, gone = walk_files([raw])
        if gone:
            if missing == "raise":
                raise FileNotFoundError(f"{raw}: no such file or folder")
            out.append(Path(raw))
        out.extend(f.path for f in found if f.named or _is_workflow_document(f.path))
    return out


def definitions_engine(args: argparse.Namespace) -> Engine:
    """An engine with the ``--charts`` and ``--rules`` of ``args`` (the shipped ones by default), in memory."""
    from ..bootstrap import Engine

    return Engine(args.charts, args.rules)


def store_engine(args: argparse.Namespace, store: ManagedStore) -> Engine:
    """An engine on ``store``: ``--charts``, ``--rules``, every stored workflow version and ``--workflows``.

    The ``--workflows`` become the newest versions; what keeping the engine's and the
    store's versions in step finds wrong is printed as warnings.
    """
    from ..bootstrap import Engine

    files = workflow_files(getattr(args, "workflows", None) or [])
    engine = Engine(getattr(args, "charts", None), getattr(args, "rules", None), workflows=files, store=store)
    for problem in engine.sync_workflows():
        print(f"warning: {problem}", file=sys.stderr)
    return engine


# -- the store -----------------------------------------------------------------------------------


def add_store(
    p: argparse.ArgumentParser,
    *flags: str,
    dest: str = "store",
    default: Any = argparse.SUPPRESS,
    metavar: str = "URL",
    help: str = STORE_HELP,
) -> None:
    """Where jobs are kept (``--store`` unless ``flags`` say otherwise); see :func:`store_url`."""
    p.add_argument(*(flags or ("--store",)), dest=dest, default=default, metavar=metavar, help=help)


def store_url(value: str | None, *, environment: bool = True) -> str:
    """The store to open: ``value``, else ``$STEPCHART_STORE`` (when ``environment``), else ``./stepchart.db``."""
    return str(value or (os.environ.get("STEPCHART_STORE") if environment else None) or DEFAULT_STORE)


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> ManagedStore:
    """The store of :func:`add_store`'s ``--store`` (see :func:`store_url`), opened.

    ``read_only`` (the commands that only read): the database must exist, and is opened
    so that nothing can change it (see :func:`stepchart.stores.open_store`).
    """
    from ..stores import open_store as _open

    return _open(store_url(getattr(args, "store", None)), read_only=read_only)


def add_store_engine(p: argparse.ArgumentParser) -> None:
    """``--store`` and what :func:`store_engine` builds the engine from: ``--workflows``, ``--charts``, ``--rules``."""
    add_store(p)
    add_workflows(p, default=[])
    add_definitions(
        p,
        metavar="PATH",
        charts_help="a folder or file of step type charts (repeat; default: shipped)",
        rules_help="a folder or file of rules (repeat; default: shipped)",
    )


# -- who acts, and when ----------------------------------------------------------------------------


def add_actor(p: argparse.ArgumentParser, style: ActorStyle) -> None:
    """``--as``, the groups and the privileges of the acting user (``dest``: username, groups, privileges)."""
    if style == "designer":
        p.add_argument(
            "--as",
            dest="username",
            default="system",
            metavar="USER",
            help="the acting user (default: system, the engine itself)",
        )
        p.add_argument(
            "--groups", dest="groups", action="append", default=[], metavar="G[,G...]", help="the actor's groups"
        )
        p.add_argument(
            "--privilege",
            dest="privileges",
            action="append",
            default=[],
            metavar="P[,P...]",
            help="the actor's privileges",
        )
        return
    p.add_argument("--as", dest="username", default="system", metavar="USER", help="act as this user (default system)")
    p.add_argument(
        "--group", dest="groups", action="append", default=[], metavar="NAME", help="a group of the user (repeat)"
    )
    p.add_argument(
        "--privilege",
        dest="privileges",
        action="append",
        default=[],
        metavar="NAME",
        help="a privilege of the user (repeat)",
    )


def acting_user(args: argparse.Namespace, style: ActorStyle) -> Actor:
    """The :class:`~stepchart.model.Actor` of :func:`add_actor`'s options, read as ``style`` spells them."""
    from ..model import SYSTEM, Actor

    username: str = args.username
    groups: list[str] = args.groups
    privileges: list[str] = args.privileges
    if style == "store":
        return SYSTEM if username == "system" else Actor.of(username, groups, privileges)
    if username == "system" and not groups and not privileges:
        return SYSTEM

    def split(values: list[str]) -> list[str]:
        return [x.strip() for v in values for x in v.split(",") if x.strip()]

    return Actor.of(username, split(groups), split(privileges))


def add_now(p: argparse.ArgumentParser, help: str = "the clock, RFC 3339 (default: now)", **kwargs: Any) -> None:
    """``--now TIME``: the time of the request (default: the clock of this machine)."""
    kwargs.setdefault("metavar", "TIME")
    p.add_argument("--now", help=help, **kwargs)


def request_time(text: str | None, *, whole_seconds: bool = False) -> datetime:
    """``--now`` as an aware datetime: ``text`` (RFC 3339), else this machine's clock.

    ``whole_seconds`` drops the clock's fraction of a second (a given ``text`` keeps its
    own). Raises ``ValueError`` naming what is wrong with ``text``.
    """
    from ..model.times import parse_datetime

    if text is not None:
        return parse_datetime(text)
    now = datetime.now(UTC)
    return now.replace(microsecond=0) if whole_seconds else now
