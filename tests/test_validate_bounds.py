"""``stepchart validate`` reads with a bound (issue 11): no device, no endless pipe, no input past the limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import cli

from stepchart.tools import payload_inputs as tool


def test_a_link_to_a_device_is_refused_before_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    r = cli("validate", str(tmp_path / "zero.json"))
    assert r.code == 1
    assert r.lines[0] == f"{tmp_path / 'zero.json'}:1:1: $: cannot read the file: not a regular file or a pipe " \
        "(a device, folder or socket is not read)"  # fmt: skip


def test_inputs_past_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tool, "MAX_INPUT_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_bytes(b'{"type": "Run", "stepIds": ["' + b"x" * 2000 + b'"]}')
    r = cli("validate", str(big))
    assert r.code == 1 and "over 1000 bytes; the limit of one input" in r.lines[0]
    r = cli("validate", "-", stdin=big.read_bytes())
    assert r.code == 1 and r.lines[0].startswith("<stdin>:1:1: $: cannot read the file: over 1000 bytes")
    small = tmp_path / "small.json"
    small.write_bytes(b'{"type": "Run"}')
    assert cli("validate", str(small)).code == 0


def test_a_pipe_past_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(tool, "MAX_INPUT_BYTES", 200_000)
    fifo = tmp_path / "endless.json"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            with open(fifo, "wb") as f:
                for _ in range(100):
                    f.write(b" " * 65536)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    r = cli("validate", str(fifo))
    writer.join(10)
    assert r.code == 1 and "over 200000 bytes" in r.lines[0]


def test_files_found_in_a_folder_are_read_whole_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder's files are read with one short read (FolderFile): a big one is still read to its end, and bounded."""
    folder = tmp_path / "in"
    folder.mkdir()
    ids = [f"step-{i:06d}-{'x' * 60}" for i in range(100)]
    (folder / "big.json").write_bytes(b'{"type": "Run", "stepIds": ' + repr(ids).replace("'", '"').encode() + b"}")
    (folder / "huge.json").write_bytes(b'{"type": "Run", "dependentJobId": "' + b"j" * 300_000 + b'"}')
    (folder / "tail.json").write_bytes(b'{"type": "Run"}' + b" " * 70_000 + b"x")  # what lies past 64 KiB counts
    r = cli("validate", str(folder))
    assert r.lines == [
        f"{folder / 'tail.json'}:1:70016: $: invalid JSON: Extra data",
        "3 payloads checked: 2 valid, 1 invalid",
    ]
    monkeypatch.setattr(tool, "MAX_INPUT_BYTES", 1000)
    r = cli("validate", str(folder))
    assert r.code == 1
    assert [line.split(": $: ")[1] for line in r.lines[:3]] == [
        "cannot read the file: over 1000 bytes; the limit of one input"
    ] * 3
