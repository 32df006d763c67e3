"""The options every command shares, and their converters: who acts, when, which definitions, which store.

Each ``add_*`` adds one option set to a parser; the converter beside it turns the parsed
values into what the engine takes. Every command spells an option one way (``--store``,
``--workflow``, ``--group``, ``--privilege``, ``--format``); older spellings stay as
hidden aliases (:func:`add_option`). Only ``argparse`` and the store URL default are
imported here: the converters import the engine when they run, so ``stepchart --help``
stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from ..io.files import DEFAULT_STORE

if TYPE_CHECKING:  # pathlib is imported where a Path is made: ``validate``'s start-up does without it
    from pathlib import Path

    from ..bootstrap import Engine
    from ..model import Actor
    from ..stores import ManagedStore

__all__ = [
    "CHARTS_HELP",
    "RULES_HELP",
    "CommaList",
    "acting_user",
    "add_actor",
    "add_color",
    "add_definitions",
    "add_format",
    "add_now",
    "add_option",
    "add_project",
    "add_store",
    "add_store_engine",
    "add_workflows",
    "apply_project",
    "definitions_engine",
    "existing_path",
    "open_store",
    "request_time",
    "store_engine",
    "store_url",
    "workflow_files",
]

CHARTS_HELP = "a lifecycle chart folder or file, loaded after the shipped ones (repeat)"
RULES_HELP = "a rules folder or file, loaded after the shipped ones (repeat)"
STORE_HELP = f"SQLite path or URL, postgresql://..., or memory: (default $STEPCHART_STORE or {DEFAULT_STORE})"



# -- one spelling, older ones kept -----------------------------------------------------------------


def add_option(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, flag: str, *aliases: str, **kwargs: Any
) -> argparse.Action:
    """``flag`` as ``p.add_argument`` adds it, and each of ``aliases`` as a hidden twin of it.

    The aliases are the older spellings: they set the same ``dest`` the same way but do not
    show in ``--help`` (nor in shell completion), so each command shows one spelling.
    """
    action = p.add_argument(flag, **kwargs)
    if aliases:
        twin = {k: v for k, v in kwargs.items() if k not in ("default", "help", "required")}
        p.add_argument(*aliases, **{**twin, "dest": action.dest, "default": argparse.SUPPRESS,
                                    "help": argparse.SUPPRESS})  # fmt: skip
    return action


class CommaList(argparse.Action):
    """A repeatable option whose values may also be comma-separated: ``--group a,b --group c`` is a, b, c."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        items = list(getattr(namespace, self.dest, None) or [])  # a copy: the default list is never changed
        items.extend(x.strip() for x in str(values).split(",") if x.strip())
        setattr(namespace, self.dest, items)


def existing_path(text: str) -> str:
    """An argparse ``type``: a file or folder that exists, else a usage error (exit 2) naming it."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file or folder: {text}")
    return text


FORMAT_HELP = "text (default) or json, for scripts"


def add_format(p: argparse.ArgumentParser, *aliases: str, help: str = FORMAT_HELP) -> None:
    """``--format text|json`` (``dest="format"``, default text); ``aliases`` are flags that mean ``--format json``."""
    p.add_argument("--format", choices=("text", "json"), default="text", help=help)
    if aliases:
        p.add_argument(*aliases, dest="format", action="store_const", const="json", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)  # fmt: skip


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
    add_project(p)


def add_workflows(
    p: argparse.ArgumentParser,
    *,
    default: list[str] | None = None,
    help: str = "a workflow YAML file or folder (repeat); they become the newest versions",
) -> None:
    """``--workflow PATH`` (repeat; alias ``--workflows``): the workflow files or folders to load.

    ``dest="workflows"`` (see :func:`workflow_files`); a path that does not exist is a usage
    error (exit 2) when the command line is parsed.
    """
    add_option(
        p, "--workflow", "--workflows", dest="workflows", action="append", default=default, metavar="PATH",
        type=existing_path, help=help,
    )  # fmt: skip  # a list default is copied by argparse on the first append


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
    from pathlib import Path

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
    usage = getattr(args, "usage_parser", None)
    prog = usage.prog if usage is not None else "stepchart"
    for problem in engine.sync_workflows():
        print(f"{prog}: warning: {problem}", file=sys.stderr)
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
    """Where jobs are kept: ``--store`` (alias ``--database``, and any other ``flags``); see :func:`store_url`."""
    add_option(p, "--store", "--database", *flags, dest=dest, default=default, metavar=metavar, help=help)


def store_url(value: str | None, *, environment: bool = True) -> str:
    """The store to open: ``value``, else ``$STEPCHART_STORE`` (when ``environment``), else ``./stepchart.db``.

    A ``value`` given is kept even when empty: ``--store ""`` is refused by
    :func:`~stepchart.stores.parse_store_url` (naming the known forms), never quietly the
    default store. An empty ``$STEPCHART_STORE`` counts as unset, as shells mean it.
    """
    if value is not None:
        return str(value)
    return str((os.environ.get("STEPCHART_STORE") if environment else None) or DEFAULT_STORE)


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> ManagedStore:
    """The store of :func:`add_store`'s ``--store`` (see :func:`store_url`), opened.

    ``read_only`` (the commands that only read): the database must exist, and is opened
    so that nothing can change it (see :func:`stepchart.stores.open_store`).
    """
    from ..stores import open_store as _open

    return _open(store_url(getattr(args, "store", None)), read_only=read_only)


def add_store_engine(p: argparse.ArgumentParser) -> None:
    """``--store`` and what :func:`store_engine` builds the engine from: ``--workflow``, ``--charts``, ``--rules``."""
    add_store(p)
    add_workflows(p, default=[])
    add_definitions(
        p,
        metavar="PATH",
        charts_help="a folder or file of step type charts (repeat; default: shipped)",
        rules_help="a folder or file of rules (repeat; default: shipped)",
    )


# -- who acts, and when ----------------------------------------------------------------------------


def add_actor(p: argparse.ArgumentParser) -> None:
    """``--as USER``, ``--group G`` and ``--privilege P`` (repeat, or comma-separated; ``dest``: username, groups,
    privileges); ``--groups`` and ``--privileges`` are aliases. See :func:`acting_user`."""
    p.add_argument(
        "--as", dest="username", default="system", metavar="USER", help="the acting user (default: system, the engine)"
    )
    add_option(p, "--group", "--groups", dest="groups", action=CommaList, default=[], metavar="G[,G...]",
               help="a group of the acting user (repeat)")  # fmt: skip
    add_option(p, "--privilege", "--privileges", dest="privileges", action=CommaList, default=[], metavar="P[,P...]",
               help="a privilege of the acting user (repeat)")  # fmt: skip


def acting_user(args: argparse.Namespace) -> Actor:
    """The :class:`~stepchart.model.Actor` of :func:`add_actor`'s options.

    ``--as system`` with no group and no privilege is the engine itself
    (:data:`~stepchart.model.SYSTEM`); with some, it is a user named system holding them.
    """
    from ..model import SYSTEM, Actor

    username: str = args.username
    groups: list[str] = args.groups
    privileges: list[str] = args.privileges
    if username == "system" and not groups and not privileges:
        return SYSTEM
    return Actor.of(username, groups, privileges)


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


# -- the project file, and the shipped folders beside the designer's ------------------------------


def add_project(p: argparse.ArgumentParser) -> None:
    """``--project FILE``, ``--no-project`` and ``--no-shipped charts|rules``; :func:`apply_project` reads them."""
    p.add_argument(
        "--project", metavar="FILE", help="the project file (default: stepchart.yaml here or in a folder above)"
    )
    p.add_argument("--no-project", action="store_true", help="read no project file")
    p.add_argument(
        "--no-shipped",
        action="append",
        choices=("charts", "rules"),
        default=None,
        help="leave out the shipped charts or rules (repeat for both); overrides the project's shipped:",
    )


def apply_project(args: argparse.Namespace) -> int:
    """Fill ``args.charts``/``args.rules`` (``workflows``, empty ``paths``) from the shipped folders and the project.

    Charts and rules are always "shipped plus mine": the shipped folders (unless the
    project's ``shipped:`` or ``--no-shipped`` leaves them out), then the project's, then
    the ``--charts``/``--rules`` given, each real path once. The project's workflows come
    before ``--workflows``; a command given no paths (``check``, ``test``, ``verify``) gets the
    project's folders (``test``: its scenarios, ``verify``: its workflows). The project is ``--project FILE``, else
    ``stepchart.yaml`` found upward from the working folder, none with ``--no-project``.
    Returns 0, or 2 after printing why (a missing ``--project`` file, a bad project file).
    """
    from ..errors import DefinitionError
    from ..io.files import data_dir
    from ..io.project import SHIPPED_KINDS, Project, find_project, read_project
    from .output import error

    project: Project | None = None
    named = getattr(args, "project", None)
    try:
        if named is not None:
            if not os.path.isfile(named):
                usage = getattr(args, "usage_parser", None)
                error(usage.prog if usage is not None else "stepchart", f"--project {named}: no such file")
                return 2
            project = read_project(named)
        elif not getattr(args, "no_project", False):
            found = find_project()
            project = read_project(found) if found is not None else None
    except DefinitionError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    dropped = set(getattr(args, "no_shipped", None) or [])
    shipped = set(project.shipped if project is not None else SHIPPED_KINDS) - dropped
    for kind, folder in (("charts", "statecharts"), ("rules", "rules")):
        if not hasattr(args, kind):
            continue
        theirs = getattr(project, kind) if project is not None else ()
        mine: list[str | Path] = [*theirs, *(getattr(args, kind) or [])]
        setattr(args, kind, _each_once([data_dir(folder)] if kind in shipped else [], mine))
    if project is not None and project.workflows and hasattr(args, "workflows"):
        args.workflows = [*map(str, project.workflows), *(args.workflows or [])]
    if project is not None and project.templates and hasattr(args, "templates"):
        args.templates = [*map(str, project.templates), *(args.templates or [])]
    if project is not None and project.workflows and getattr(args, "command", None) in ("run", "explain") \
            and not args.workflow:  # run and explain: the job names its workflow among the project's
        args.workflow = [str(p) for p in workflow_files([str(w) for w in project.workflows])]
    if project is not None and getattr(args, "paths", None) == []:
        command = str(getattr(args, "command", ""))
        chosen = {"test": project.scenarios, "verify": project.workflows}.get(
            command, (project.file, *project.folders())
        )
        args.paths = [str(p) for p in chosen]
    return 0


def _each_once(shipped: list[Path], mine: list[str | Path]) -> list[str | Path]:
    """``shipped`` then ``mine``, leaving out a path already given (or a file of a folder already given)."""
    out: list[str | Path] = []
    seen: set[str] = set()
    for entry in [*shipped, *mine]:
        real = os.path.realpath(entry)
        if real in seen or (os.path.dirname(real) in seen and not os.path.isdir(real)):
            continue
        seen.add(real)
        out.append(entry)
    return out
