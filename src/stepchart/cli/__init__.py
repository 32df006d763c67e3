"""The ``stepchart`` command line: one module per group of commands, imported on demand."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import main as _commands  # loaded first, so the function below is what ``stepchart.cli.main`` stays


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stepchart`` console script."""
    return _commands.main(argv)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``stepchart`` argument parser (every command registered)."""
    return _commands.build_parser()
