"""``stepchart validate``: offline payload validation, the engine's verdict and words, located errors."""

from __future__ import annotations

import contextlib
import json
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, cli, on_terminal, proc
from hypothesis import given, settings
from hypothesis import strategies as st

from stepchart.engine.payload import validate_payload
from stepchart.errors import RequestError
from stepchart.io.jsontext import parse_json_strict
from stepchart.io.schemas import payload_is_valid, payload_violations, validator
from stepchart.io.yamldoc import read_yaml_file
from stepchart.tools.validate import Payload, locate, validate_one

sys.path.insert(0, str(ROOT / "bench"))
from bench_validate import BAD_TIMES, DISAGREE_TIMES, GOOD_TIMES, make_payload


def engine_verdict(data: bytes) -> list[str] | None:
    """None when the engine accepts the body, else its 400 details."""
    try:
        validate_payload(data)
    except RequestError as exc:
        return [exc.type, *exc.details] if exc.type != "InvalidJson" else ["InvalidJson"]
    return None


TRICKY: list[bytes] = [
    b'{"type": "Run"}', b'{"type": "Run", "stepIds": []}', b'{"type": "run"}', b"{}", b"[]", b"null", b'"Run"',
    b'{"type": "Run", "type": "Stop"}', b'{"type": "Run", "x": {"a": 1, "a": 2}}', b'{"type": NaN}',
    b'{"type": "Run", "stepIds": [Infinity]}', b'{"type": -Infinity}', b"\xef\xbb\xbf{\"type\": \"Run\"}",
    b'{"type": "Run"', b"", b" ", b'{"type": "Run"} x', b"\xff\xfe", b'{"type": "Run", "stepIds": null}',
    b'{"type": "Hold", "holdScheduledRelease": 20260101}', b'{"type": true}', b'{"type": 1}', b'{"type": 1.0}',
    b'{"type": "Run", "stepIds": [1, "a", null, true]}', b'{"type": "Run", "zeta": 1, "alpha": 2, "type2": 3}',
    b'{"stepIds": 5, "extra": true}', b'{"type": "Hold", "dependentJobId": null, "dependentStepId": 7}',
    "{\"type\": \"R\u00fcn\"}".encode(), b'{"type": "Run", "stepIds": ["\\ud800"]}', b"[" * 5000 + b"]" * 5000,
    b'{"type": "Run", "stepIds": ["a"], "holdScheduledRelease": "2026-01-01T00:00:00Z", "dependentJobId": "J1"}',
    *(json.dumps({"type": "Hold", "holdScheduledRelease": t}).encode() for t in (*GOOD_TIMES, *BAD_TIMES)),
    *(json.dumps({"type": "Hold", "holdScheduledRelease": t}).encode() for t in DISAGREE_TIMES),
    json.dumps({"type": "Hold", "holdScheduledRelease": "\u0662\u0660\u0662\u0666-01-01T00:00:00Z"}).encode(),
    json.dumps({"type": "Run", "stepIds": ["x" * 100]}).encode(),
    b'{"type": "Hold", "webhookConnectionId": "w"}', b'{"type": "Hold", "webhookDependencyDetails": {"a": [1]}}',
    b'{"type": "ReleaseHold", "webhookConnectionId": "w", "x": 1}', b'{"type": "Hold", "webhookConnectionId": null}',
    b'{"type": "Run", "webhook\\u0043onnectionId": "w"}',
]  # fmt: skip


def corpus() -> list[bytes]:
    rng = random.Random(11)
    return TRICKY + [make_payload(rng)[0].encode() for _ in range(3000)]


def test_the_verdict_and_the_words_are_the_engines() -> None:
    for data in corpus():
        want = engine_verdict(data)
        got = validate_one(Payload("p.json", None, data))
        if want is None:
            assert got == [], data
        elif want == ["InvalidJson"]:
            assert [e.type for e in got] == ["InvalidJson"], data
        else:
            assert [f"{e.path}: {e.message}" for e in got] == want[1:], data
            assert all(e.type == want[0] for e in got)  # SchemaViolation, or WebhookNotSupported (R14)


def test_invalid_json_exactly_when_the_engine_cannot_parse_it() -> None:
    for data in corpus():
        try:
            parse_json_strict(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            refused = True
        else:
            refused = False
        got = validate_one(Payload("p.json", None, data))
        assert any(e.type == "InvalidJson" for e in got) == refused, data
        if refused:
            assert len(got) == 1 and got[0].path == "$", data


def test_the_verdict_agrees_with_jsonschema_on_any_value() -> None:
    """The fast verdict is jsonschema's, on payloads and on values of every other shape (shipped documents)."""
    rng = random.Random(5)
    values: list[Any] = [None, True, 1, 1.0, 1.5, "", "x", [], {}, [1], {"a": 1}]
    for data in corpus()[:500]:
        with contextlib.suppress(ValueError, RecursionError):
            values.append(json.loads(data))
    for folder in ("examples", "statecharts", "rules"):
        values.extend(read_yaml_file(f).value for f in sorted((ROOT / folder).glob("*.yaml")))
    check = validator("payload")
    for value in values:
        assert payload_is_valid(value) == check.is_valid(value), value
    for value in values:  # mutate a little
        if isinstance(value, dict) and value:
            key = rng.choice(sorted(value))
            broken = {**value, key: rng.choice([None, 5, "x", [], {}, ["a"], "Run", "2026-01-01T00:00:00Z"])}
            assert payload_is_valid(broken) == check.is_valid(broken), broken


def test_every_violation_in_the_engines_words_and_order() -> None:
    value = {"zeta": 1, "stepIds": 5, "alpha": 2, "type": "Nope"}
    got = validate_one(Payload("p.json", None, json.dumps(value).encode()))
    assert [f"{e.path}: {e.message}" for e in got] == payload_violations(value)
    assert [(e.path, e.column) for e in got] == [("$.zeta", 2), ("$.alpha", 27), ("$.stepIds", 24), ("$.type", 47)]


def test_jsonschema_is_not_imported_to_check_or_word_payloads() -> None:
    """Valid payloads, bad JSON and schema violations alike: jsonschema-rs gives the verdict and the words."""
    code = textwrap.dedent(
        """
        import sys
        from stepchart.tools.validate import Payload, validate_one
        assert validate_one(Payload("a", None, b'{"type": "Run", "stepIds": ["x"]}')) == []
        assert validate_one(Payload("a", None, b'{"type": nope')), "invalid JSON"
        got = validate_one(Payload("a", None, b'{"type": 5, "x": [1], "stepIds": [2]}'))
        assert [e.path for e in got] == ["$.x", "$.stepIds[0]", "$.type", "$.type"], got
        assert "jsonschema" not in sys.modules, sorted(m for m in sys.modules if "jsonschema" in m)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("text", "path", "at_key", "where"),
    [
        ('{"type": "Run"}', ("type",), False, (1, 10)),
        ('{"type": "Run"}', ("type",), True, (1, 2)),
        ('{\n  "a": 1,\n  "stepIds": ["x", 3]\n}', ("stepIds", 1), False, (3, 20)),
        ('{"a": {"b": [1, {"c": [true]}]}}', ("a", "b", 1, "c", 0), False, (1, 24)),
        ('{"a": "\\"}", "b": 2}', ("b",), False, (1, 19)),
        ('{"a": 1}', ("missing",), False, (1, 1)),
        ("[1, 2]", ("x",), False, (1, 1)),
    ],
)
def test_locate(text: str, path: tuple[str | int, ...], at_key: bool, where: tuple[int, int]) -> None:
    assert locate(text, path, at_key) == where


@pytest.mark.parametrize(
    ("text", "path", "at_key", "where"),
    [
        ('{"stepIds": ["type"], "type": 5}', ("type",), False, (1, 31)),  # "type" spelled twice: walked
        ('{"x": {"type": 1}, "type": 5}', ("type",), True, (1, 20)),  # a nested key of the same name
        ('{"x": "y", ", ": 1, "type": 5}', (", ",), False, (1, 18)),  # a spelling across two strings
        ('{"a\\u0022": 1, "type": 5}', ("type",), False, (1, 24)),  # a backslash: every string walked
        ('{\n  "type": "Run",\n  "stepIds": [1, 2]\n}', ("stepIds", 1), False, (3, 18)),
    ],
)
def test_a_key_spelled_once_is_found_by_one_search_and_any_other_is_walked(
    text: str, path: tuple[str | int, ...], at_key: bool, where: tuple[int, int]
) -> None:
    """Given the parsed value, a top-level key the text spells once is found with one search; the answer is
    the walk's whatever the text."""
    value = json.loads(text)
    assert locate(text, path, at_key, value) == where == locate(text, path, at_key)


json_keys = st.text(alphabet='ab"\\ ,:{}[]\u00e9', max_size=4)
json_values = st.recursive(
    st.none() | st.integers() | json_keys,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_keys, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(json_keys, json_values, min_size=1, max_size=4),
    st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]),
    st.sampled_from([None, 2]),
    st.booleans(),
)
def test_the_quick_search_for_a_key_answers_as_the_walk(
    value: dict[str, Any], separators: tuple[str, str], indent: int | None, at_key: bool
) -> None:
    text = json.dumps(value, separators=separators, indent=indent, ensure_ascii=False)
    for key, inner in value.items():
        paths: list[tuple[str | int, ...]] = [(key,)]
        if isinstance(inner, list):
            paths += [(key, i) for i in range(len(inner))]
        for path in paths:
            assert locate(text, path, at_key, value) == locate(text, path, at_key), (text, path)


def test_folders_files_and_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text('{"type": "Run"}')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.json").write_text('{\n  "type": "Run",\n  "stepIds": 5\n}')
    (tmp_path / "notes.txt").write_text("not a payload")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.json").write_text("nope")
    r = cli("validate", str(tmp_path))
    assert r.code == 1
    assert r.lines == [
        f"{tmp_path / 'sub' / 'bad.json'}:3:14: $.stepIds: expected array, found number 5",
        "2 payloads checked: 1 valid, 1 invalid",
    ]
    r = cli("validate", str(tmp_path / "ok.json"))
    assert (r.code, r.lines) == (0, ["1 payload checked: 1 valid, 0 invalid"])
    assert cli("validate", str(tmp_path / "ok.json"), "-q").out == ""
    assert cli("validate", str(tmp_path / "missing.json")).code == 2
    assert cli("validate").code == 2


def test_json_lines_and_standard_input(tmp_path: Path) -> None:
    lines = b'{"type": "Run"}\n\n{"type": "Hold", "holdScheduledRelease": "2026-02-30T10:00:00Z"}\n{"type":\n'
    (tmp_path / "batch.jsonl").write_bytes(lines)
    r = cli("validate", str(tmp_path / "batch.jsonl"))
    assert r.lines == [
        f'{tmp_path / "batch.jsonl"}:3:42: $.holdScheduledRelease: "2026-02-30T10:00:00Z" is not a date-time '
        "(RFC 3339, zone required)",
        f"{tmp_path / 'batch.jsonl'}:4:9: $: invalid JSON: Expecting value",
        "3 payloads checked: 1 valid, 2 invalid",
    ]
    r = cli("validate", "--jsonl", "-", "--format", "json", stdin=lines)
    assert r.code == 1
    data = json.loads(r.out)
    assert (data["checked"], data["valid"], data["invalid"]) == (3, 1, 2)
    assert data["errors"][0] == {
        "file": "<stdin>", "line": 3, "column": 42, "path": "$.holdScheduledRelease", "type": "SchemaViolation",
        "message": '"2026-02-30T10:00:00Z" is not a date-time (RFC 3339, zone required)',
    }  # fmt: skip
    r = cli("validate", "-", stdin=b'{"type": "Stop"}')
    assert (r.code, r.lines) == (0, ["1 payload checked: 1 valid, 0 invalid"])


def test_every_problem_of_a_payload_is_listed_in_the_engines_order(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{"stepIds": [1], "holdScheduledRelease": "soon", "why": null}')
    r = cli("validate", str(tmp_path / "p.json"))
    assert [line.split(": ", 1)[1].split(":")[0] for line in r.lines[:-1]] == [
        "$", "$.why", "$.holdScheduledRelease", "$.stepIds[0]",
    ]  # fmt: skip
    assert r.lines[1].startswith(f"{tmp_path / 'p.json'}:1:50: $.why: unknown key 'why'")


def test_progress_on_a_terminal_and_none_when_piped(tmp_path: Path) -> None:
    for i in range(3000):
        (tmp_path / f"p{i:04d}.json").write_text('{"type": "Run"}')
    piped = proc("validate", str(tmp_path))
    assert piped.code == 0
    assert piped.err == ""
    code, out, err = on_terminal("validate", str(tmp_path), env={"STEPCHART_PROGRESS_DELAY": "0"})
    assert code == 0
    assert "payloads " in err and "/3000" in err, err
    assert re.sub(r"\x1b\[[0-9;]*m", "", out).strip() == "3000 payloads checked: 3000 valid, 0 invalid"
    assert "\x1b[" in out  # a terminal gets colour


def test_progress_has_no_end_when_a_json_lines_file_is_among_the_inputs(tmp_path: Path) -> None:
    """A JSON Lines file holds any number of payloads: the bar counts them without a total."""
    for i in range(1500):
        (tmp_path / f"p{i:04d}.json").write_text('{"type": "Run"}')
    (tmp_path / "many.ndjson").write_text('{"type": "Run"}\n' * 600)
    code, out, err = on_terminal("validate", str(tmp_path), env={"STEPCHART_PROGRESS_DELAY": "0"})
    assert code == 0
    assert "payloads " in err and "/" not in err, err
    assert re.sub(r"\x1b\[[0-9;]*m", "", out).strip() == "2100 payloads checked: 2100 valid, 0 invalid"
