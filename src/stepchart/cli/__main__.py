"""``python -m stepchart.cli``."""

import sys

from . import main

sys.exit(main())
