"""jsonschema-rs imported without ``email.utils`` (:mod:`stepchart.io.rs_import`): the same module, for less.

The stand-in reads one date form, the one of jsonschema-rs's build time, exactly as
``email.utils.parsedate_to_datetime`` does, hands every other form and name to the real
module, and is gone once the extension has loaded.
"""

from __future__ import annotations

import email.utils
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepchart.io.rs_import import BuildDateOnly, parse_rfc2822

zones = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31), timezones=zones))
def test_the_build_date_form_is_read_as_email_utils_reads_it(when: datetime) -> None:
    text = email.utils.format_datetime(when.replace(microsecond=0))
    parsed = parse_rfc2822(text)
    expected = email.utils.parsedate_to_datetime(text)
    assert parsed == expected and parsed is not None
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    ["Tue, 27 Oct 2026 10:17:51 -0000", "Tue, 27 Oct 2026 10:17:51 GMT", "27 Oct 2026 10:17:51 +0000",
     "Tue, 27 Oct 26 10:17:51 +0000", "Tue, 31 Feb 2026 10:17:51 +0000", "Tue, 27 Oct 2026 10:17 +0000",
     "Tue, 27 Okt 2026 10:17:51 +0000", "Tue, 2\u0667 Oct 2026 10:17:51 +0000"],
)  # fmt: skip
def test_every_other_form_goes_to_the_real_module(text: str) -> None:
    """A form the stand-in does not read is read (or refused) by email.utils itself: same value, same error."""
    assert parse_rfc2822(text) is None
    try:
        expected: object = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            BuildDateOnly().parsedate_to_datetime(text)
    else:
        assert BuildDateOnly().parsedate_to_datetime(text) == expected


def test_any_other_name_is_the_real_modules() -> None:
    assert BuildDateOnly().formatdate is email.utils.formatdate
    assert BuildDateOnly().parseaddr("a <b@c.d>") == ("a", "b@c.d")


_PROBE = """
import json, sys
from stepchart.io.rs_import import import_jsonschema_rs
rs = import_jsonschema_rs()
loaded = "email.utils" in sys.modules
import email.utils
print(json.dumps({"stand_in_left": loaded, "real_after": hasattr(email.utils, "formatdate"),
                  "info_time": str(rs.jsonschema_rs.__build__["info-time"]),
                  "valid": rs.Draft7Validator({"type": "string"}).is_valid("x")}))
"""

_PLAIN = """
import json, jsonschema_rs
print(json.dumps({"info_time": str(jsonschema_rs.jsonschema_rs.__build__["info-time"])}))
"""


def _run(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_jsonschema_rs_loads_without_email_utils_and_records_the_same_build_time() -> None:
    """In a fresh process: the extension works, its build time is the datetime a plain import records, no
    ``email.utils`` is left behind, and a later ``import email.utils`` is the real module."""
    probe = _run(_PROBE)
    assert probe == {"stand_in_left": False, "real_after": True, "info_time": _run(_PLAIN)["info_time"], "valid": True}
    assert datetime.fromisoformat(str(probe["info_time"])).tzinfo is not None


def test_an_email_utils_already_imported_is_left_alone() -> None:
    code = (
        "import email.utils, sys\nfrom stepchart.io.rs_import import import_jsonschema_rs\n"
        "real = sys.modules['email.utils']\nimport_jsonschema_rs()\nprint(sys.modules['email.utils'] is real)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


def test_utc_is_the_standard_zone_object() -> None:
    """``+0000`` gives ``timezone.utc`` itself, as email.utils does (its repr is what ``__build__`` shows)."""
    parsed = parse_rfc2822("Tue, 27 Oct 2026 10:17:51 +0000")
    assert parsed is not None and parsed.tzinfo is UTC
