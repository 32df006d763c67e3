"""The fast payload verdict (jsonschema-rs) is the worded check's (jsonschema), on every kind of body.

:func:`stepchart.schemacheck.payload_is_valid` decides; :func:`payload_violations` words
the R14 details of an invalid body. A body is valid exactly when the details are empty,
R10's date-time included (one function, :func:`stepchart.timeutil.is_datetime`, serves
both), so the engine and ``stepchart validate`` never judge a body two ways.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from stepchart import RequestError
from stepchart.engine.payload import validate_payload
from stepchart.io.jsontext import parse_json_strict
from stepchart.io.schemas import payload_is_valid, payload_violations, validator
from stepchart.model.times import is_datetime

ACTIONS = ("Run", "Finish", "Stop", "SetCurrentStep", "Hold", "ReleaseHold", "RefreshStatus")
FIELDS = ("type", "stepIds", "holdScheduledRelease", "dependentJobId", "dependentStepId")

EDGE_TIMES = (
    # accepted by R10
    "2026-03-01T10:00:00Z", "2026-03-01t10:00:00z", "2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00.125Z",
    "2024-02-29T23:59:59-05:30", "2000-02-29T00:00:00Z", "1999-12-31T00:00:00.5+00:00", "2026-03-01T10:00:00-00:00",
    "2026-03-01T10:00:00+23:59", "0001-01-01T00:00:00Z", "0001-01-01T00:30:00-01:00", "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999999Z", "9999-12-31T22:30:00-01:00", "2026-03-01T10:00:00.000000001Z",
    # refused by R10
    "2026-03-01T10:00:00", "2026-03-01T10:00:00.5", "2026-03-01T10:00:60Z", "2016-12-31T23:59:60Z",
    "2026-03-01T24:00:00Z", "2026-03-01T10:60:00Z", "2026-03-01T10:00:00+24:00", "2026-03-01T10:00:00-24:00",
    "2026-03-01T10:00:00+01:60", "2026-03-01T10:00:00+0100", "2026-03-01T10:00:00+01", "0000-01-01T00:00:00Z",
    "0000-12-31T23:59:59+00:00", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "10000-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z", "2023-02-29T10:00:00Z", "1900-02-29T10:00:00Z", "2026-13-01T10:00:00Z",
    "2026-00-01T10:00:00Z", "2026-01-00T10:00:00Z", "2026-03-01 10:00:00Z", "2026-3-1T10:00:00Z",
    "2026-03-01T10:00:00,5Z", "2026-03-01T10:00:00.Z", "2026-03-01T10:00Z", "2026-03-01", "10:00:00Z",
    " 2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z ", "2026-03-01T10:00:00Z\n", "2026-03-01T10:00:00ZZ",
    "\u0662\u0660\u0662\u0666-03-01T10:00:00Z", "2026-03-01T10:00:00\uff3a", "tomorrow", "",
)  # fmt: skip


def random_time(rng: random.Random) -> str:
    """A date-time near the edges: each field now and then out of range, every zone form, either case."""

    def pick(usual: tuple[Any, ...], edge: tuple[Any, ...]) -> Any:
        return rng.choice(edge if rng.random() < 0.06 else usual)

    year = pick((1, 2, 1900, 2000, 2024, 2026, 9998, 9999), (0,))
    month, day = pick((1, 2, 12), (0, 13)), pick((1, 28, 29, 30, 31), (0, 32))
    hour, minute, second = pick((0, 23), (24,)), pick((0, 59), (60,)), pick((0, 59), (60,))
    frac = pick(("", "", ".5", ".123456789"), (",5", "."))
    zone = pick(("Z", "z", "+00:00", "-00:00", "+01:00", "-01:00", "+23:59"), ("", "+24:00", "-24:00", "+05:60"))
    sep = pick(("T", "t"), (" ",))
    return f"{year:04d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}{frac}{zone}"


def wrong_value(rng: random.Random) -> Any:
    return rng.choice((None, True, False, 0, 1, -1.5, 1e300, "", "x", [], ["a"], {}, {"a": 1}, [None], [1, "a"]))


def make_body(rng: random.Random) -> Any:
    """A body that is valid by construction, then often broken in one or more ways."""
    body: dict[str, Any] = {"type": rng.choice(ACTIONS)}
    if rng.random() < 0.6:
        body["stepIds"] = [f"step-{rng.randint(1, 40)}" for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.5:
        body["holdScheduledRelease"] = rng.choice((rng.choice(EDGE_TIMES), random_time(rng)))
    if rng.random() < 0.3:
        body["dependentJobId"] = f"J{rng.randint(1, 999)}"
    if rng.random() < 0.3:
        body["dependentStepId"] = "review"
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
        kind = rng.randrange(9)
        if kind == 0:  # a wrong type (or null) for a known key
            body[rng.choice(FIELDS)] = wrong_value(rng)
        elif kind == 1:  # an unknown key, or a key in the wrong case
            body[rng.choice(("comment", "Type", "stepids", "", "type ", "holdscheduledrelease"))] = wrong_value(rng)
        elif kind == 2:
            body["type"] = rng.choice(("run", "RUN", "Start", "", "Run ", "Skip"))
        elif kind == 3 and isinstance(body.get("stepIds"), list):
            body["stepIds"] = [*body["stepIds"], wrong_value(rng)]
        elif kind == 4:
            body.pop("type", None)
        elif kind == 5:
            body = rng.choice(([body], "Run", 5, None, True, []))
            break
        elif kind == 6:
            body[rng.choice(FIELDS)] = None
        elif kind == 7:
            body["holdScheduledRelease"] = random_time(rng)
        else:
            body["holdScheduledRelease"] = rng.choice(EDGE_TIMES).upper()
    return body


def corpus() -> list[Any]:
    rng = random.Random(20260301)
    bodies: list[Any] = [make_body(rng) for _ in range(4000)]
    bodies += [{"type": "Hold", "holdScheduledRelease": t} for t in EDGE_TIMES]
    bodies += [{"type": "Hold", "holdScheduledRelease": random_time(rng)} for _ in range(1000)]
    return bodies


def agree(value: Any) -> bool:
    return payload_is_valid(value) == (payload_violations(value) == [])


def test_the_fast_verdict_is_the_worded_checks_on_generated_bodies() -> None:
    bodies = corpus()
    valid = [b for b in bodies if payload_is_valid(b)]
    assert 0.3 * len(bodies) < len(valid) < 0.7 * len(bodies)  # both kinds, in number
    for body in bodies:
        assert agree(body), body
        # as the engine reads it from text, too
        assert agree(parse_json_strict(json.dumps(body))), body


def test_r10_date_times_are_judged_by_our_function() -> None:
    assert sum(map(is_datetime, EDGE_TIMES)) == 15  # the first 15 are R10's, the rest are not
    for when in EDGE_TIMES:
        body = {"type": "Hold", "holdScheduledRelease": when}
        assert payload_is_valid(body) == is_datetime(when), when
    assert payload_is_valid({"type": "Hold", "holdScheduledRelease": "2026-03-01t10:00:00z"})
    for refused in ("2026-03-01T10:00:60Z", "2026-03-01T10:00:00", "2026-03-01T10:00:00+24:00",
                    "0000-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"):  # fmt: skip
        assert not payload_is_valid({"type": "Hold", "holdScheduledRelease": refused}), refused


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Run", 1: "x"},  # a key that is not a string
        {"type": "R\ud800n"},  # a lone surrogate (JSON text can carry one)
        {"type": "Run", "\ud800": 1},
        {"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:00\ud800Z"},
        {"type": "Run", "stepIds": ["\ud800"]},
        {"type": "Run", "stepIds": {"a"}},
        {"type": "Run", "stepIds": range(2)},
        {"type": "Run", "stepIds": ("a", "b")},  # a tuple is an array, as json.dumps writes it
        {"type": "Run", "stepIds": ("a", 1)},
        {"type": "Run", "stepIds": ()},
        {"type": "Run", "dependentJobId": ("J1",)},
        ("Run",),
        {"type": b"Run"},
    ],
    ids=repr,
)
def test_python_values_outside_json_get_one_verdict(body: Any) -> None:
    """What jsonschema-rs cannot read is judged by jsonschema; what it reads, it reads as jsonschema does."""
    assert agree(body)
    assert payload_is_valid(body) == bool(validator("payload").is_valid(body))


def test_the_engine_answers_with_the_fast_verdict_and_the_worded_details() -> None:
    assert validate_payload({"type": "Run", "stepIds": ("a",)}) == {"type": "Run", "stepIds": ("a",)}
    with pytest.raises(RequestError) as err:
        validate_payload(b'{"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:60Z", "x": null}')
    assert err.value.type == "SchemaViolation"
    assert err.value.details == [
        "$.x: unknown key 'x'; allowed here: dependentJobId, dependentStepId, holdScheduledRelease, stepIds, type, "
        "webhookConnectionId, webhookDependencyDetails",
        '$.holdScheduledRelease: "2026-03-01T10:00:60Z" is not a date-time (RFC 3339, zone required)',
    ]
    with pytest.raises(RequestError) as err:
        validate_payload({"type": "Run", "stepIds": ("a", 1)})
    assert err.value.details == ["$.stepIds[1]: expected string, found number 1"]
