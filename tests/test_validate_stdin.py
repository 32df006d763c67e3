"""``stepchart validate -``: one payload from standard input, located as ``<stdin>`` (R10, R14 words).

Standard input holds one payload (a whole JSON text, over as many lines as it likes), as a
file does; ``--jsonl`` reads it as JSON Lines. It can stand among files and folders, in
its place in the order, and is given at most once. Run in this process and as a child
process reading a real pipe.
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import cli, proc

PRETTY = b'{\n  "type": "Run",\n  "stepIds": 5\n}\n'


def test_a_valid_payload_from_standard_input() -> None:
    r = cli("validate", "-", stdin=b'{"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:00Z"}')
    assert (r.code, r.lines) == (0, ["1 payload checked: 1 valid, 0 invalid"])


def test_an_invalid_payload_is_located_in_stdin_by_line_and_column() -> None:
    r = cli("validate", "-", stdin=PRETTY)
    assert r.code == 1
    assert r.lines == [
        "<stdin>:3:14: $.stepIds: expected array, found number 5",
        "1 payload checked: 0 valid, 1 invalid",
    ]
    data = json.loads(cli("validate", "-", "--format", "json", stdin=PRETTY).out)
    assert data["errors"] == [
        {"file": "<stdin>", "line": 3, "column": 14, "path": "$.stepIds", "type": "SchemaViolation",
         "message": "expected array, found number 5"},
    ]  # fmt: skip


def test_standard_input_is_one_payload_unless_json_lines() -> None:
    two = b'{"type": "Run"}\n{"type": "Stop"}\n'
    r = cli("validate", "-", stdin=two)
    assert r.code == 1
    assert r.lines == ["<stdin>:2:1: $: invalid JSON: Extra data", "1 payload checked: 0 valid, 1 invalid"]
    r = cli("validate", "--jsonl", "-", stdin=two)
    assert (r.code, r.lines) == (0, ["2 payloads checked: 2 valid, 0 invalid"])


def test_empty_or_non_json_standard_input_is_invalid_json() -> None:
    r = cli("validate", "-", stdin=b"")
    assert (r.code, r.lines[0]) == (1, "<stdin>:1:1: $: invalid JSON: Expecting value")
    r = cli("validate", "-", stdin=b'{"type": "Run", "type": "Stop"}')
    assert (r.code, r.lines[0]) == (1, "<stdin>:1:1: $: invalid JSON: duplicate key 'type'")


def test_stdin_among_files_keeps_its_place(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"type": "Nope"}')
    (tmp_path / "b.json").write_text('{"type": "Run", "why": 1}')
    r = cli("validate", str(tmp_path / "a.json"), "-", str(tmp_path / "b.json"), "-q", stdin=b'{"stepIds": []}')
    assert r.code == 1
    assert [line.split(": ", 1)[0] for line in r.lines] == [f"{tmp_path / 'a.json'}:1:10", "<stdin>:1:1",
                                                            f"{tmp_path / 'b.json'}:1:17"]  # fmt: skip
    assert r.lines[1] == "<stdin>:1:1: $: 'type' is a required property"


def test_stdin_at_most_once() -> None:
    r = cli("validate", "-", "-", stdin=b'{"type": "Run"}')
    assert r.code == 2
    assert "- (standard input) can be given once" in r.err


def test_a_real_pipe_and_a_file_named_dash(tmp_path: Path) -> None:
    """A child process reads its own standard input; ``./-`` is a file, not standard input."""
    r = proc("validate", "-", stdin=PRETTY)
    assert (r.code, r.lines[0]) == (1, "<stdin>:3:14: $.stepIds: expected array, found number 5")
    big = json.dumps({"type": "Run", "stepIds": [f"s{i}-" + "x" * 3000 for i in range(100)]}).encode()  # pipe buffers
    assert len(big) > 200_000
    r = proc("validate", "-", stdin=big)
    assert (r.code, r.lines) == (0, ["1 payload checked: 1 valid, 0 invalid"])
    # A pipe named as a file is read to its end too (one read of a pipe gives one buffer's worth).
    r = proc("validate", "/dev/stdin", stdin=big[:-1] + b', "dependentJobId": 5}')
    assert r.code == 1
    assert r.lines[0] == f"/dev/stdin:1:{len(big) + 20}: $.dependentJobId: expected string, found number 5"
    (tmp_path / "-").write_bytes(b'{"type": 7}')
    r = proc("validate", "./-", stdin=b'{"type": "Run"}', cwd=tmp_path)
    assert (r.code, r.lines[0]) == (1, "./-:1:10: $.type: expected string, found number 7")
