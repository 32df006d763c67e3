"""``python -m stepchart.cli``."""

import sys

from . import run

sys.exit(run())
