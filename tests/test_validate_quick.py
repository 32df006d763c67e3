"""``stepchart validate``'s quick verdict: it passes only what the engine accepts, and passes the usual payloads.

:func:`stepchart.tools.validate.looks_valid` judges a payload with one strict scan and one
jsonschema-rs call; what it does not pass goes to :func:`validate_one` (the engine's
verdict and R14 words, R10's date-time included). So a True must never be wrong, and
the payloads a real folder holds (compact or indented, valid) must get True, or the
command is slow again without any output changing.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, cli

from stepchart.tools import validate as tool
from stepchart.tools.validate import Payload, looks_valid, validate_one

sys.path.insert(0, str(ROOT / "bench"))
from bench_validate import make_payload

ODD = [
    b' {"type": "Run"}', b'\n{"type": "Run"}', b'{"type": "Run"}\r\n', b'{"type": "Run"}  \t', b'{"type": "Run"} x',
    b'{"type": "Run"}{}', b"\xef\xbb\xbf{\"type\": \"Run\"}", b'{"type": "Run", "type": "Stop"}', b'{"type": NaN}',
    b'{"type": "Run", "stepIds": [Infinity]}', b"\xff", b"", b"[" * 5000 + b"]" * 5000, b'{"type": "Run"',
    b'{"type": "Run", "stepIds": ["\\ud800"]}', b'{"type": "R\\u0075n"}', b'{"type": "Run", "dependentJobId": null}',
    b'{"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:60Z"}', b"null", b"5", b'"Run"',
]  # fmt: skip


def corpus() -> list[tuple[bytes, bool]]:
    rng = random.Random(3)
    made = [make_payload(rng) for _ in range(2000)]
    return [(text.encode(), valid) for text, valid in made] + [(data, False) for data in ODD]


def test_a_quick_pass_is_the_engines_verdict() -> None:
    for data, _by_construction in corpus():
        if looks_valid(data):
            assert validate_one(Payload("p.json", None, data)) == [], data


def test_the_usual_valid_payloads_take_the_quick_path() -> None:
    usual = [data for data, valid in corpus() if valid]
    assert len(usual) > 1000
    assert all(looks_valid(data) for data in usual)
    assert looks_valid(json.dumps({"type": "Run"}, indent=2).encode() + b"\n")


def test_odd_texts_are_left_to_the_full_check_which_may_still_accept_them(tmp_path: Path) -> None:
    for i, data in enumerate([b' {"type": "Run"}', b'\n{"type": "Run"}', b'{"type": "R\\u0075n"}']):
        (tmp_path / f"ok{i}.json").write_bytes(data)
    (tmp_path / "dup.json").write_bytes(b'{"type": "Run", "type": "Stop"}')
    (tmp_path / "nan.json").write_bytes(b'{"type": NaN}')
    r = cli("validate", str(tmp_path))
    assert r.lines == [
        f"{tmp_path / 'dup.json'}:1:1: $: invalid JSON: duplicate key 'type'",
        f"{tmp_path / 'nan.json'}:1:1: $: invalid JSON: NaN is not JSON",
        "5 payloads checked: 3 valid, 2 invalid",
    ]


def test_only_payloads_the_quick_verdict_does_not_pass_are_worded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(300):
        (tmp_path / f"v{i:03d}.json").write_text(json.dumps({"type": "Stop", "stepIds": [f"s{i}"]}))
    (tmp_path / "x1.json").write_text('{"type": "Stop", "stepIds": "s1"}')
    (tmp_path / "x2.json").write_text('{"type": "Nope"}')
    worded: list[str] = []

    words = tool._worded

    def counting(payload: Payload, value: Any, text: str, valid: bool | None = None) -> list[tool.PayloadError]:
        worded.append(Path(payload.source).name)
        return words(payload, value, text, valid)

    monkeypatch.setattr(tool, "_worded", counting)  # the one wording step, from the quick scan or the full check
    r = cli("validate", str(tmp_path), "-q")
    assert r.code == 1
    assert worded == ["x1.json", "x2.json"]
    assert len(r.lines) == 2
