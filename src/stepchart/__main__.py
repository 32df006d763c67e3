"""``python -m stepchart``: the ``stepchart`` command. Only the command line is imported here, not the engine."""

import sys

from .cli import run

if __name__ == "__main__":
    sys.exit(run())
