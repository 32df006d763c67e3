"""jsonschema-rs, imported without the ``email`` package: three quarters of its import, on every ``validate``.

jsonschema-rs's extension module records its build (pyo3-built's ``__build__``) as it
loads, and reads the build time, an RFC 2822 date, with ``email.utils.parsedate_to_datetime``;
importing ``email.utils`` brings ``socket``, ``urllib.parse``, ``random`` and most of the
``email`` package, several times what the validator itself needs. :func:`import_jsonschema_rs`
lets the extension find, while it loads and only when nothing has imported ``email.utils``
yet, a stand-in whose ``parsedate_to_datetime`` reads that one date form into the same
datetime; anything else asked of it (another date form, another name) is answered by the
real module, imported then. Once the extension has loaded, the stand-in is gone: a later
``import email.utils`` gets the real module (another thread importing it in the few
milliseconds the extension loads gets the stand-in, which answers every name as the real
module does).
"""

from __future__ import annotations

import sys
import types
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["BuildDateOnly", "import_jsonschema_rs", "parse_rfc2822"]

_NAME = "email.utils"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_rfc2822(text: str) -> datetime | None:
    """``Tue, 27 Oct 2026 10:17:51 +0000`` as ``email.utils.parsedate_to_datetime`` reads it; None for any other
    form (``-0000``, a zone name, two-digit years, missing parts), which the real function reads."""
    parts = text.split()
    if len(parts) != 6 or not parts[0].endswith(","):
        return None
    _weekday, day, month, year, clock, zone = parts
    hms = clock.split(":")
    if (
        month.lower() not in _MONTHS or len(year) != 4 or len(hms) != 3 or len(zone) != 5 or zone[0] not in "+-"
        or zone == "-0000" or not all(p.isdigit() and p.isascii() for p in (day, year, *hms, zone[1:]))
    ):  # fmt: skip
        return None
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    hour, minute, second = map(int, hms)
    try:
        return datetime(
            int(year), _MONTHS.index(month.lower()) + 1, int(day), hour, minute, second,
            tzinfo=timezone(-offset if zone[0] == "-" else offset),
        )  # fmt: skip
    except ValueError:
        return None


class BuildDateOnly(types.ModuleType):
    """The stand-in for ``email.utils`` while jsonschema-rs loads: every name but one comes from the real module."""

    def __init__(self) -> None:
        super().__init__(_NAME)

    def parsedate_to_datetime(self, text: str) -> datetime:
        found = parse_rfc2822(text)
        return found if found is not None else _real("parsedate_to_datetime")(text)

    def __getattr__(self, name: str) -> Any:
        return _real(name)


def _real(name: str) -> Any:
    """``name`` of the real ``email.utils``, imported now (a stand-in still in its place steps aside first)."""
    if isinstance(sys.modules.get(_NAME), BuildDateOnly):
        del sys.modules[_NAME]
    import email.utils

    return getattr(email.utils, name)


def import_jsonschema_rs() -> types.ModuleType:
    """``import jsonschema_rs``, with :class:`BuildDateOnly` in place of ``email.utils`` while it loads."""
    if "jsonschema_rs" in sys.modules or _NAME in sys.modules:
        import jsonschema_rs

        return jsonschema_rs
    stand_in = BuildDateOnly()
    sys.modules[_NAME] = stand_in
    try:
        import jsonschema_rs
    finally:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
    return jsonschema_rs
