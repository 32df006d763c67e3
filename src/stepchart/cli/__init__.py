"""The ``stepchart`` command line: one module per group of commands, imported on demand."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stepchart`` console script."""
    from .main import main as _main

    return _main(argv)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``stepchart`` argument parser (every command registered)."""
    from .main import build_parser as _build

    return _build()
