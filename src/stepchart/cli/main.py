"""The ``stepchart`` command. Start-up stays light: each command imports what it needs."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

__all__ = ["COMMAND_MODULES", "Parser", "build_parser", "main", "subcommands"]

COMMAND_MODULES = (
    "stepchart.cli.test",
    "stepchart.cli.demo",
    "stepchart.cli.check",
    "stepchart.cli.verify",
    "stepchart.cli.diagram",
    "stepchart.cli.wmdiagram",
    "stepchart.cli.run",
    "stepchart.cli.validate",
    "stepchart.cli.schema",
    "stepchart.cli.store",
    "stepchart.cli.jobs",
    "stepchart.cli.serve",
    "stepchart.cli.init",
    "stepchart.cli.completion",
)
"""The modules that add their subcommands through ``register(subparsers)``, in the order ``--help`` lists them."""


class Parser(argparse.ArgumentParser):
    """argparse's parser, with "did you mean X?" for a mistyped command, choice or option.

    An unknown option is reported with the usage of the (sub)command it was given to, not
    the top-level one argparse would print.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            target: argparse.ArgumentParser = getattr(parsed, "usage_parser", self)
            known = [f for a in target._actions if a.help != argparse.SUPPRESS for f in a.option_strings]
            import difflib  # only for a mistyped word: start-up stays light

            typed = [x.split("=")[0] for x in extras if x.startswith("-")]
            close = [m for x in typed for m in difflib.get_close_matches(x, known, 1)]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            target.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return parsed

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices:
            import difflib

            names = [str(c) for c in choices]
            close = difflib.get_close_matches(str(value), names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            listed = ", ".join(repr(c) for c in names)
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {listed})")


def _formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's help formatter, as wide as the terminal (``$COLUMNS``, else standard output's, else 80) less 2.

    argparse makes a formatter for every argument added, and its own sizing imports
    ``shutil`` (with bz2, lzma and zlib) for ``get_terminal_size``: more than the rest of
    ``validate``'s parser costs. The width is found the way ``shutil`` finds it.
    """
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ is not None else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return argparse.HelpFormatter(prog, width=(columns or 80) - 2)


def subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """The subcommands of ``parser``, in the order ``--help`` lists them: (name, help, parser)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _name_usage_parsers(parser: argparse.ArgumentParser) -> None:
    """Let every (sub)command's parsed arguments carry its own parser, for usage errors found after parsing."""
    for _name, _help, sub in subcommands(parser):
        sub.set_defaults(usage_parser=sub)
        _name_usage_parsers(sub)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole ``stepchart`` argument parser, every command registered (``only``: that module's commands)."""
    parser = Parser(
        prog="stepchart",
        description="A declarative workflow-step engine: YAML lifecycles and rules, and the jobAction contract.",
        epilog="Exit codes: 0 all is well, 1 problems found, 2 usage (or a path that does not exist); "
        "test: 5 when no scenario was selected.",
    )
    parser.add_argument("--version", action="version", version="stepchart 0.1.0")
    # prog given: argparse would otherwise build a help formatter (and import shutil) to compute it
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog=parser.prog)
    for name in COMMAND_MODULES if only is None else (only,):
        importlib.import_module(name).register(sub)
    _name_usage_parsers(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, process: bool = False) -> int:
    """Parse ``argv`` and run the command; its exit code (2 without a command or on a usage error).

    ``process`` (the console script, ``python -m stepchart``): this call is the whole
    process, so a command marked ``quick_exit`` (``validate``: it leaves no file, store or
    child open) ends it as soon as its output is flushed, without the interpreter's
    teardown of every module and object (a tenth of a 10,000-file run). A library
    caller's process lives on either way.
    """
    from .output import UsageError

    words = sys.argv[1:] if argv is None else argv
    own = _own_module(words)
    parser = build_parser(own)
    if own is not None and words[0] not in {name for name, _help, _sub in subcommands(parser)}:
        parser = build_parser()  # a module named like no command of its own (``store``): the full parser answers
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (2), the help or the version (0)
        return exc.code if isinstance(exc.code, int) else 2
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    if hasattr(args, "no_project"):  # the commands that load definitions (options.add_definitions)
        from .options import apply_project

        if apply_project(args):
            return 2
    try:
        code: int = handler(args)
    except UsageError as exc:
        usage: argparse.ArgumentParser = getattr(args, "usage_parser", parser)
        if exc.usage:
            usage.print_usage(sys.stderr)
        print(f"{usage.prog}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        line = _one_line(args, exc)
        if line is None:
            raise
        print(f"stepchart {args.command}: error: {line}", file=sys.stderr)
        return 1
    if process and getattr(args, "quick_exit", False):
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    """End the process with ``code`` once standard output and error are flushed (a closed pipe loses nothing)."""
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone (| head), a stream closed: nothing to say
            stream.flush()
    os._exit(code)


def _own_module(argv: Sequence[str]) -> str | None:
    """The module of a command named first that has a module of its own name (``validate``), else None.

    Only that module is imported and registered: its parser, help and usage errors are the
    same, and a pre-commit hook's start-up does not pay for the 13 others (a test compares).
    """
    name = f"stepchart.cli.{argv[0]}" if argv and not argv[0].startswith("-") else None
    return name if name in COMMAND_MODULES else None


def _one_line(args: argparse.Namespace, exc: Exception) -> str | None:
    """The one located line of a refusal no command caught (a refused request, a damaged store, a date
    past year 9999), or None for a bug, which keeps its traceback."""
    from ..errors import DefinitionError, RequestError

    if isinstance(exc, DefinitionError):
        return str(exc.first)
    if isinstance(exc, RequestError):
        named = getattr(args, "workflow", None)
        return f"{named + ': ' if isinstance(named, str) else ''}{exc.type}: {exc.message}"
    if isinstance(exc, OverflowError):
        return f"a date would leave the years 1 to 9999 ({exc})"
    names = {c.__name__ for c in type(exc).__mro__}
    if "StoreError" in names or type(exc).__module__.startswith(("sqlite3", "psycopg")):
        target = getattr(args, "store", None) or getattr(args, "database", None) or "stepchart.db"
        where = "the PostgreSQL store" if str(target).startswith("postgres") else str(target)
        return f"{where}: the job store failed (damaged or unreachable): {type(exc).__name__}: {exc}"
    return None


if __name__ == "__main__":
    sys.exit(main(process=True))
