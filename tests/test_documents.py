"""Unit tests of the document layer: strict YAML (yamldoc), schema checks (schemacheck), date-times (timeutil).

The date-time rules are SPEC R10 (an RFC 3339 date-time: ``T``/``Z`` in either case, a
zone required, seconds 00-59, a value that converts to UTC within years 1 to 9999) and
R22 (no zone: ``SchemaViolation``; output in UTC with ``Z``). The jobAction body rules
are R10 and R14 (``InvalidJson`` for text that is not JSON, ``SchemaViolation`` naming
the JSON path of each violation).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft7Validator

from stepchart import DefinitionError, RequestError, data_dir
from stepchart.engine.payload import validate_payload
from stepchart.io.schemas import SCHEMA_NAMES, check_document, load_schema
from stepchart.io.yamldoc import Document, parse_yaml
from stepchart.model.times import format_datetime, is_datetime, parse_datetime, parse_duration

# -- yamldoc: a small core schema ----------------------------------------------------------


def test_only_true_and_false_are_booleans() -> None:
    doc = parse_yaml("a: true\nb: false\nc: yes\nd: on\ne: no\nf: off\ng: True\nh: FALSE\ni: y\n")
    assert doc.value == {
        "a": True,
        "b": False,
        "c": "yes",
        "d": "on",
        "e": "no",
        "f": "off",
        "g": "True",
        "h": "FALSE",
        "i": "y",
    }


def test_nulls_are_null_tilde_and_empty() -> None:
    doc = parse_yaml("a: null\nb: ~\nc:\nd: NULL\ne: None\nf: ''\n")
    assert doc.value == {"a": None, "b": None, "c": None, "d": "NULL", "e": "None", "f": ""}


def test_timestamps_stay_strings() -> None:
    """R10, R22: a date-time is checked as text, so YAML must not turn it into a datetime."""
    doc = parse_yaml("a: 2026-01-01T09:00:00Z\nb: 2026-01-01\nc: 2026-01-01 09:00:00\nd: 12:30:00\n")
    assert doc.value == {"a": "2026-01-01T09:00:00Z", "b": "2026-01-01", "c": "2026-01-01 09:00:00", "d": "12:30:00"}
    assert all(isinstance(v, str) for v in doc.value.values())


def test_numbers_and_quoted_numbers() -> None:
    doc = parse_yaml("[5, -3, +7, 1.5, .5, 1e3, '5', \"1.5\", 0x1F, 0o17, 1_000, .inf, .nan, 010]")
    assert doc.value == [5, -3, 7, 1.5, 0.5, 1000.0, "5", "1.5", "0x1F", "0o17", "1_000", ".inf", ".nan", "010"]
    assert [type(v) for v in doc.value[:6]] == [int, int, int, float, float, float]
    assert parse_yaml("a: |-\n  42\nb: >-\n  true\n").value == {"a": "42", "b": "true"}  # block scalars are text


def test_core_tags_are_honoured_and_checked() -> None:
    doc = parse_yaml("[!!str 5, !!int 5, !!float 5, !!bool true, !!null ~, ! 5]")
    assert doc.value == ["5", 5, 5.0, True, None, "5"]
    for bad in ("!!int five", "!!bool yes", "!!float .inf", "!!null 0", "!!map [a]", "!!seq {a: 1}", "!!str {a: 1}"):
        with pytest.raises(DefinitionError) as info:
            parse_yaml(f"a: {bad}")
        assert (info.value.code, info.value.line, info.value.column) == ("bad-scalar", 1, 4), bad


def test_a_number_out_of_range_is_refused() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_yaml("a: 1\nb: 1e400\n")
    assert (info.value.code, info.value.line, info.value.column) == ("bad-scalar", 2, 4)


def test_keys_are_strings_as_in_json() -> None:
    doc = parse_yaml("1: a\ntrue: b\n~: c\n1.5: d\nyes: e\n")
    assert doc.value == {"1": "a", "true": "b", "~": "c", "1.5": "d", "yes": "e"}
    with pytest.raises(DefinitionError) as info:
        parse_yaml("1: a\n'1': b\n")
    assert (info.value.code, info.value.line, info.value.column) == ("duplicate-key", 2, 1)


def test_marks_are_one_based_line_and_column() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2}\n")
    assert doc.marks[()] == (1, 1)
    assert doc.marks[("a",)] == (1, 4)
    assert doc.marks[("b",)] == (3, 3)
    assert doc.marks[("b", 0)] == (3, 5)
    assert doc.marks[("b", 1)] == (4, 5)
    assert doc.marks[("b", 1, "c")] == (4, 9)


def test_key_marks_point_at_the_key() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2}\n")
    assert doc.key_marks[("a",)] == (1, 1)
    assert doc.key_marks[("b",)] == (2, 1)
    assert doc.key_marks[("b", 1, "c")] == (4, 6)
    assert doc.mark(("b", 1, "c"), key=True) == (4, 6)
    assert doc.mark(("b", 1, "c")) == (4, 9)


def test_mark_falls_back_to_the_nearest_ancestor_and_sub_keeps_positions() -> None:
    doc = parse_yaml("top:\n  inner: {x: 1}\n")
    assert doc.mark(("top", "inner", "missing", 3)) == doc.marks[("top", "inner")] == (2, 10)
    sub = doc.sub(("top",))
    assert isinstance(sub, Document) and sub.value == {"inner": {"x": 1}}
    assert sub.marks[("inner", "x")] == (2, 14) and sub.key_marks[("inner",)] == (2, 3)
    problem = sub.problem(("inner", "x"), "some-code", "a message")
    assert (problem.line, problem.column, problem.path) == (2, 14, ("inner", "x"))


def test_a_bom_is_skipped_without_shifting_columns() -> None:
    for text in ("\ufeffa: 1\n", b"\xef\xbb\xbfa: 1\n"):
        doc = parse_yaml(text)
        assert doc.value == {"a": 1} and doc.marks[("a",)] == (1, 4)


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ("a: 1\na: 2\n", "duplicate-key", 2, 1),
        ("a: &x 1\nb: *x\n", "anchor", 1, 4),
        ("a: *x\n", "alias", 1, 4),
        ("a: 1\nb:\n  <<: {c: 1}\n", "merge-key", 3, 3),
        ("a: !!python/object:os.system x\n", "tag", 1, 4),
        ("a: !local x\n", "tag", 1, 4),
        ("a: 1\n---\nb: 2\n", "several-documents", 2, 1),
        ("? [a]\n: 1\n", "complex-key", 1, 3),
        ("a: [1\n", "yaml-syntax", 2, 1),
        ("a:\n\t- 1\n", "yaml-syntax", 2, 1),
        ("", "empty", 1, 1),
        ("# only a comment\n", "empty", 1, 1),
        ("a: x\nb: y\x07\n", "not-text", 2, 5),
        ("a: x\nb: y\x00\n", "not-text", 2, 5),
        ("a:\n  b: \ud800\n", "not-utf8", 2, 6),
        ("a: " + "[" * 100 + "]" * 100, "too-deep", 1, 67),
    ],
)
def test_parse_yaml_refusals_are_located(text: str, code: str, line: int, column: int) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_yaml(text, "doc.yaml")
    first = info.value.first
    assert (first.file, first.code, first.line, first.column) == ("doc.yaml", code, line, column), str(info.value)


def test_invalid_utf8_is_located_on_its_line() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_yaml(b"a: 1\nb: na\xefve\n")
    assert (info.value.code, info.value.line, info.value.column) == ("not-utf8", 2, 6)


# -- schemacheck -------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_shipped_schema_is_a_valid_draft7_schema(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)


@pytest.mark.parametrize(
    ("folder", "schema"),
    [("statecharts", "chart"), ("rules", "rules"), ("examples", "workflow")],
)
def test_shipped_documents_pass_their_schemas(folder: str, schema: str) -> None:
    files = sorted(data_dir(folder).glob("*.yaml"))
    assert files
    for f in files:
        doc = parse_yaml(f.read_bytes(), str(f))
        assert check_document(doc, schema) == [], f


def test_unknown_keys_are_reported_at_the_key_with_the_allowed_keys() -> None:
    text = "workflow: w\ninitialStep: a\nsteps:\n  - id: a\n    type: manual\n    colour: red\n"
    problems = check_document(parse_yaml(text, "w.yaml"), "workflow")
    assert len(problems) == 1
    p = problems[0]
    allowed = sorted(load_schema("workflow")["definitions"]["step"]["properties"])
    assert (p.file, p.line, p.column, p.code, p.path) == ("w.yaml", 6, 5, "unknown-key", ("steps", 0, "colour"))
    assert p.message == f"$.steps[0].colour: unknown key 'colour'; allowed here: {', '.join(allowed)}"


def test_unknown_top_level_key_in_flow_style_is_at_the_key() -> None:
    problems = check_document(parse_yaml("{rules: [], extra: 1}", "r.yaml"), "rules")
    assert [(p.code, p.line, p.column) for p in problems] == [("unknown-key", 1, 13)]
    assert "allowed here: description, rules" in problems[0].message


def test_wrong_types_are_reported_at_the_value() -> None:
    text = "workflow: w\ninitialStep: a\nsteps:\n  - id: a\n    type: manual\n    canSkip: yes\n"
    (p,) = check_document(parse_yaml(text), "workflow")
    assert (p.code, p.line, p.column) == ("wrong-type", 6, 14)
    assert p.message == '$.steps[0].canSkip: expected boolean, found string "yes"'


def test_a_key_that_breaks_a_name_pattern_is_reported_at_the_key() -> None:
    text = "stepType: x\ninitial: Ready\nstates:\n  Ready: {}\n  '2 fast': {final: true}\ntransitions: []\n"
    (p,) = check_document(parse_yaml(text), "chart")
    assert (p.code, p.line, p.column, p.path) == ("bad-name", 5, 3, ("states", "2 fast"))


def test_a_missing_key_is_reported_at_the_mapping() -> None:
    (p,) = check_document(parse_yaml("# c\nworkflow: w\nsteps: [{id: a, type: manual}]\n"), "workflow")
    assert (p.code, p.line, p.column) == ("missing-key", 2, 1)
    assert "'initialStep' is a required property" in p.message


# -- timeutil: the R10 date-time -----------------------------------------------------------

GOOD_DATES = [
    ("2026-01-01T09:00:00Z", "2026-01-01T09:00:00Z"),
    ("2026-01-01t09:00:00z", "2026-01-01T09:00:00Z"),
    ("2026-01-01T09:00:00+23:59", "2025-12-31T09:01:00Z"),
    ("2026-01-01T09:00:00-23:59", "2026-01-02T08:59:00Z"),
    ("2026-01-01T09:00:00.5Z", "2026-01-01T09:00:00.500000Z"),
    ("2026-01-01T09:00:00.123456789+00:00", "2026-01-01T09:00:00.123456Z"),
    ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ("0001-01-01T00:00:00-01:00", "0001-01-01T01:00:00Z"),
    ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
    ("9999-12-31T23:30:00+01:00", "9999-12-31T22:30:00Z"),
]

BAD_DATES = [
    "2026-01-01T09:00:00",  # R22: no zone
    "2026-06-30T23:59:60Z",  # seconds 60 (a leap second) refused
    "2026-02-30T00:00:00Z",  # no such day
    "2025-02-29T00:00:00Z",  # not a leap year
    "2026-13-01T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T23:60:00Z",
    "2026-01-01T09:00:00+24:00",  # offset out of range
    "2026-01-01T09:00:00+23:60",
    "2026-01-01T09:00:00+0100",  # offset without a colon
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
    "0000-01-01T00:00:00Z",
    "2026-01-01 09:00:00Z",  # a space is not T
    "2026-01-01",
    "2026-01-01T09:00Z",  # seconds required
    "2026-01-01T09:00:00,5Z",  # a comma is not a fraction point
    "2026-01-01T09:00:00.Z",
    "2026-1-01T09:00:00Z",
    "\uff12\uff10\uff12\uff16-01-01T09:00:00Z",  # fullwidth digits are not ASCII digits
    "2026-01-01T09:00:00Z\n",  # trailing newline
    " 2026-01-01T09:00:00Z",
    "",
]


@pytest.mark.parametrize(("text", "utc"), GOOD_DATES)
def test_r10_datetime_accepted(text: str, utc: str) -> None:
    """R10: T/t and Z/z, offsets up to +-23:59, fractions; R22: output in UTC with Z."""
    value = parse_datetime(text)
    assert value.tzinfo is not None and value.utcoffset() == UTC.utcoffset(None)
    assert format_datetime(value) == utc
    assert is_datetime(text)


@pytest.mark.parametrize("text", BAD_DATES)
def test_r10_datetime_refused(text: str) -> None:
    """R10/R22: no zone, seconds 60, impossible days, +24:00, and values outside years 1..9999 in UTC."""
    with pytest.raises(ValueError):
        parse_datetime(text)
    assert not is_datetime(text)


def test_r10_datetime_non_strings() -> None:
    """The schema checks types; the format accepts what is not a string, parse_datetime does not."""
    assert is_datetime(5) and is_datetime(None)
    with pytest.raises(ValueError):
        parse_datetime(1767225600)  # type: ignore[arg-type]


def test_r22_format_datetime_is_utc_with_z() -> None:
    assert format_datetime(datetime(2026, 1, 1, 10, 0, tzinfo=UTC)) == "2026-01-01T10:00:00Z"
    assert format_datetime(parse_datetime("2026-01-01T10:00:00+02:00")) == "2026-01-01T08:00:00Z"


@pytest.mark.parametrize(("text", "seconds"), [("PT2H", 7200), ("P1D", 86400), ("P1W", 604800), ("PT1.5S", 1.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "PT2H\n", "PT\uff12H", "P1Y", "P99999999999W", "2H"])
def test_bad_durations_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


# -- the jobAction body (R10, R14) ---------------------------------------------------------


def _refusal(body: object) -> RequestError:
    with pytest.raises(RequestError) as info:
        validate_payload(body)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize("text", [d for d, _ in GOOD_DATES])
def test_r10_payload_accepts_good_hold_dates(text: str) -> None:
    body = {"type": "Hold", "holdScheduledRelease": text}
    assert validate_payload(json.dumps(body)) == body


@pytest.mark.parametrize("text", BAD_DATES)
def test_r10_r22_payload_refuses_bad_hold_dates(text: str) -> None:
    """The payload schema's date-time is the same parser: every bad date is a SchemaViolation at its path."""
    error = _refusal(json.dumps({"type": "Hold", "holdScheduledRelease": text}))
    assert error.type == "SchemaViolation"
    assert error.details and all(d.startswith("$.holdScheduledRelease: ") for d in error.details), error.details


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "Hold", "holdScheduledRelease": NaN}',
        '{"type": "Run", "stepIds": [Infinity]}',
        '{"type": "Run", "stepIds": [-Infinity]}',
        '{"type": "Run", "type": "Stop"}',
        '{"type": "Run", "stepIds": ["a"], "stepIds": ["b"]}',
        "type: Run",
        "{'type': 'Run'}",
        '{"type": "Run"} trailing',
        '{"type": "Run",}',
        "",
        "[" * 100_000,
    ],
)
def test_r10_text_that_is_not_json_is_invalid_json(text: str) -> None:
    error = _refusal(text)
    assert error.type == "InvalidJson" and error.details


def test_r10_bytes_that_are_not_utf8_are_invalid_json() -> None:
    assert _refusal(b'{"type": "Run\xff"}').type == "InvalidJson"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("[]", "$"),
        ('[{"type": "Run"}]', "$"),
        ("null", "$"),
        ('"Run"', "$"),
        ("5", "$"),
        ("{}", "$"),
        ('{"type": null}', "$.type"),
        ('{"type": "Run", "stepIds": null}', "$.stepIds"),
        ('{"type": "Hold", "holdScheduledRelease": null}', "$.holdScheduledRelease"),
        ('{"type": "Hold", "dependentJobId": null}', "$.dependentJobId"),
        ('{"type": "Run", "colour": "red"}', "$.colour"),
        ('{"type": "Jump"}', "$.type"),
        ('{"type": "Run", "stepIds": [1]}', "$.stepIds[0]"),
        ('{"type": "Run", "stepIds": "edit"}', "$.stepIds"),
    ],
)
def test_r10_r14_json_of_another_shape_is_a_schema_violation(body: str, path: str) -> None:
    """R10: unknown properties and null values are refused; R14: details name the JSON path."""
    error = _refusal(body)
    assert error.type == "SchemaViolation"
    assert any(d.startswith(f"{path}: ") for d in error.details), error.details


def test_r14_unknown_property_detail_lists_the_allowed_ones() -> None:
    (detail,) = _refusal({"type": "Run", "colour": "red"}).details
    assert detail == (
        "$.colour: unknown key 'colour'; allowed here: dependentJobId, dependentStepId, holdScheduledRelease, "
        "stepIds, type, webhookConnectionId, webhookDependencyDetails"
    )
