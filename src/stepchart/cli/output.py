"""What every command prints the same way: usage errors, problems with their place, bytes to a file or stdout."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..errors import Problem
    from ..tools.reporting import Style

__all__ = ["Handler", "UsageError", "err", "error", "guarded", "print_problems", "problem_text", "write_bytes"]

Handler = Callable[[argparse.Namespace], int]
"""A command: the parsed arguments in, the exit code out."""


class UsageError(Exception):
    """A bad argument or a path that does not exist: exit 2.

    Raised by a command after parsing; :func:`stepchart.cli.main.main` prints it as argparse
    prints its own usage errors: the command's usage line (unless ``usage=False``, for a
    missing path), then ``stepchart COMMAND: error: MESSAGE``.
    """

    def __init__(self, message: str, *, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


def err(message: str) -> None:
    """A line on standard error."""
    print(message, file=sys.stderr)


def error(command: str, message: str) -> None:
    """``stepchart COMMAND: error: MESSAGE`` on standard error: argparse's prefix, the one every command uses."""
    prog = f"stepchart {command}" if command and not command.startswith("stepchart") else command or "stepchart"
    print(f"{prog}: error: {message}", file=sys.stderr)


def print_problems(problems: list[Problem], style: Style | None = None) -> None:
    """Each problem on standard error as ``file:line:column: severity[code]: message``."""
    from ..tools.reporting import Style as _Style

    st = style or _Style.for_stream(sys.stderr)
    for p in problems:
        print(problem_text(p, st), file=sys.stderr)


def problem_text(p: Problem, style: Style) -> str:
    """One problem as a line, its place relative to the working folder."""
    from ..tools.reporting import shown_path

    where = style.bold(f"{shown_path(p.file)}:{p.line}:{p.column}:")
    return f"{where} {style.severity(p.severity)}{style.dim(f'[{p.code}]')}: {p.message}"


def write_bytes(data: bytes, output: str | None, command: str) -> int:
    """``data`` to the file ``output``, else to standard output; exit 2 when the file cannot be written."""
    if output:
        try:
            with open(output, "wb") as f:
                f.write(data)
        except OSError as exc:
            error(command, f"cannot write {output}: {exc.strerror or exc}")
            return 2
        return 0
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


def guarded(fn: Handler) -> Handler:
    """Turn the expected failures (store, files, documents) into ``stepchart COMMAND: error: ...`` and exit 2."""

    def run(args: argparse.Namespace) -> int:
        from ..errors import DefinitionError
        from ..stores import StoreError

        try:
            return fn(args)
        except (StoreError, FileNotFoundError, DefinitionError, ValueError) as exc:
            usage = getattr(args, "usage_parser", None)
            error(usage.prog if usage is not None else "stepchart", str(exc))
            return 2

    run.__doc__ = fn.__doc__
    return run
