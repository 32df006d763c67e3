"""Designer tools: check (lint), diagram, explain, coverage, scenarios, validate, reporting, demo."""
