"""The R14 words of a schema violation come from jsonschema-rs, and are jsonschema's words, in jsonschema's order.

:func:`stepchart.io.schemas.payload_violation_items` words an invalid jobAction body from
jsonschema-rs's structured errors (keyword, instance path, schema path) through the one
:func:`describe`; before, it re-validated with jsonschema. The engine's 400 ``details``
(R14) and ``stepchart validate`` both read it, so a change of words would change both:
here the new path is compared with the jsonschema one (kept as the fallback for values
jsonschema-rs cannot read) on generated and corpus bodies, and is shown to be the one used.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

from cli_helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from stepchart.io import schemas
from stepchart.io.jsontext import parse_json_strict
from stepchart.io.schemas import _jsonschema_violation_items, _rs_errors, payload_is_valid, payload_violation_items

sys.path.insert(0, str(ROOT / "bench"))
from bench_validate import BAD_TIMES, GOOD_TIMES, make_payload

FIELDS = ("type", "stepIds", "holdScheduledRelease", "dependentJobId", "dependentStepId", "webhookConnectionId",
          "webhookDependencyDetails")  # fmt: skip
ACTIONS = ("Run", "Finish", "Stop", "SetCurrentStep", "Hold", "ReleaseHold", "RefreshStatus")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from((*ACTIONS, "run", "", *GOOD_TIMES, *BAD_TIMES)), st.text(max_size=8),
)  # fmt: skip
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
keys = st.one_of(st.sampled_from(FIELDS), st.sampled_from(("Type", "stepids", "x", "", "type ")), st.text(max_size=6))
bodies = st.one_of(st.dictionaries(keys, values, max_size=7), values)


def _same(body: Any) -> None:
    assert _rs_errors(body) is not None, body  # a JSON value: jsonschema-rs words it
    assert payload_violation_items(body) == _jsonschema_violation_items(body), body


@settings(max_examples=1500, deadline=None)
@given(bodies)
def test_r14_words_from_jsonschema_rs_are_jsonschemas_on_any_json_body(body: Any) -> None:
    _same(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=95, max_size=130), st.sampled_from(ACTIONS))
def test_r14_many_step_ids_order_as_jsonschema_orders_them(step_ids: list[Any], action: str) -> None:
    """Paths sort as text (``[10]`` before ``[2]``), and ``maxItems`` joins the item errors."""
    _same({"type": action, "stepIds": step_ids})


def test_r14_the_corpus_of_the_benchmark_and_of_the_validate_tests_words_the_same() -> None:
    rng = random.Random(41)
    seen = 0
    for _ in range(6000):
        text, _valid = make_payload(rng)
        try:
            body = parse_json_strict(text)
        except ValueError:
            continue
        if not payload_is_valid(body):
            seen += 1
            _same(body)
    assert seen > 800
    for text in (ROOT / "tests").glob("**/*.json"):
        try:
            _same(json.loads(text.read_text("utf-8")))
        except (ValueError, UnicodeDecodeError):
            continue


def test_a_value_outside_json_is_worded_by_jsonschema_in_the_same_words() -> None:
    body = {"type": "Run", "stepIds": {"a"}, 1: "x"}
    assert _rs_errors(body) is None
    assert payload_violation_items(body) == _jsonschema_violation_items(body) != []


def test_a_keyword_without_a_rank_falls_back_to_jsonschema(monkeypatch: Any) -> None:
    """Were the schema to gain a keyword the rs path does not order, jsonschema would word the body."""
    monkeypatch.setattr(schemas, "_RS_RANK", {k: v for k, v in schemas._RS_RANK.items() if k != "enum"})
    body = {"type": "Nope"}
    assert _rs_errors(body) is None
    assert payload_violation_items(body) == [
        (("type",), '"Nope" is not allowed; allowed: Run, Finish, Stop, SetCurrentStep, Hold, ReleaseHold, '
         "RefreshStatus", False),
    ]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(values, st.text(), st.integers(), st.sampled_from((True, False, None, "é\"\\\n\ud800", 10**40))))
def test_a_value_in_a_message_is_its_json_cut_at_60_characters(value: Any) -> None:
    """R14's words quote a value as JSON: the quick forms for a text and a whole number are json.dumps' own."""
    text = json.dumps(value, default=str)
    assert schemas._short(value) == (text if len(text) <= 60 else text[:57] + "...")
