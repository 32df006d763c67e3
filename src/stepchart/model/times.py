"""Date-times and durations exactly as SPEC R10 and R22 define them.

One parser serves the payload schema's ``date-time`` format, job documents and
scenarios, so every path accepts and refuses the same texts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["format_datetime", "is_datetime", "parse_datetime", "parse_duration"]

# ASCII digits only, and \Z rather than $ (which would let a trailing newline through).
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))\Z", re.ASCII
)
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?\Z",
    re.ASCII,
)


def parse_datetime(text: str) -> datetime:
    """Parse an RFC 3339 date-time (zone required) into an aware UTC datetime.

    Raises ``ValueError`` naming what is wrong: no zone, seconds 60, a day that does
    not exist, or a value outside years 1 to 9999 once converted to UTC.
    """
    if not isinstance(text, str):
        raise ValueError("a date-time must be a string")
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time with a zone (e.g. 2026-01-01T09:00:00Z)")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    if second > 59:
        raise ValueError(f"{text!r}: seconds must be 00 to 59")
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r}: the time of day is out of range")
    frac = m.group(7)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    if m.group(8) in ("Z", "z"):
        offset = timedelta(0)
    else:
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            raise ValueError(f"{text!r}: the zone offset is out of range")
        offset = timedelta(hours=oh, minutes=om)
        if m.group(9) == "-":
            offset = -offset
    try:
        local = datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone(offset))
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    try:
        return local.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is outside years 1 to 9999 in UTC") from None


def is_datetime(value: object) -> bool:
    """The ``date-time`` format of our schemas: True for non-strings (type is checked elsewhere)."""
    if not isinstance(value, str):
        return True
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


def format_datetime(value: datetime) -> str:
    """UTC with a ``Z``; fractions of a second only when there are some.

    ``isoformat`` always writes four-digit years (``strftime("%Y")`` writes year 1 as ``1``).
    """
    v = value.astimezone(UTC).replace(tzinfo=None)
    return v.isoformat(timespec="microseconds" if v.microsecond else "seconds") + "Z"


def parse_duration(text: str) -> timedelta:
    """ISO 8601 duration of weeks, days, hours, minutes and seconds (``PT2H``, ``P1DT30M``)."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if m is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration of weeks, days, hours, minutes, seconds (e.g. PT2H, P1D)"
        )
    parts = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    try:
        return timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None
