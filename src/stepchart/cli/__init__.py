"""The ``stepchart`` command line: one module per group of commands, imported on demand."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import main as _commands  # loaded first, so the function below is what ``stepchart.cli.main`` stays


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``stepchart`` with ``argv`` (default: the command line) and answer its exit code; for callers and tests."""
    return _commands.main(argv)


def run() -> int:
    """Entry point of the ``stepchart`` console script and ``python -m stepchart``: the process is the command's.

    As :func:`main`, except that a command marked quick (``validate``) ends the process itself once its output
    is flushed (see :func:`stepchart.cli.main.main`).
    """
    return _commands.main(None, process=True)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``stepchart`` argument parser (every command registered)."""
    return _commands.build_parser()
