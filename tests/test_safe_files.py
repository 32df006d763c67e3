"""Files are read with a bound and only when regular (issue 11): a located error, never a MemoryError or a hang.

A link to ``/dev/zero`` never ends and a FIFO blocks its reader: both are refused before
they are read, through the real commands (``check``, ``serve``, ``users list``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stepchart.io.files import FileRefused, read_bounded
from stepchart.io.yamldoc import MAX_BYTES

ROOT = Path(__file__).resolve().parent.parent


def stepchart(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # a memory limit well under what reading /dev/zero would take: a MemoryError shows as a traceback
    return subprocess.run(
        [sys.executable, "-c", "import resource,sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
         "from stepchart.cli.main import main; sys.exit(main(sys.argv[1:]))", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "wf"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "parcel-edit.yaml", folder)
    (folder / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.yaml")
    (folder / "big.yaml").write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    return folder


@pytest.mark.parametrize(("name", "code"), [("zero.yaml", "unreadable"), ("fifo.yaml", "unreadable"),
                                            ("big.yaml", "too-large")])  # fmt: skip
def test_check_refuses_a_device_a_fifo_and_a_huge_file_with_a_location(hostile: Path, name: str, code: str) -> None:
    r = stepchart("check", f"wf/{name}", cwd=hostile.parent)
    assert r.returncode == 1, (r.stdout, r.stderr)
    out = r.stdout + r.stderr
    assert f"wf/{name}:1:1: error[{code}]" in out, out
    assert ("not a regular file" if code == "unreadable" else "the limit is") in out, out
    assert "Traceback" not in out and "MemoryError" not in out


def test_serve_refuses_a_workflow_that_is_a_device(hostile: Path) -> None:
    r = stepchart("serve", "--port", "0", "--database", "memory:", "--workflow", "wf/zero.yaml", cwd=hostile.parent)
    assert r.returncode == 1
    assert "wf/zero.yaml:1:1: error[unreadable]" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr


@pytest.mark.parametrize("users", ["/dev/zero", "wf/fifo.yaml"])
def test_serve_and_users_list_refuse_a_users_file_that_is_not_regular(hostile: Path, users: str) -> None:
    for args in (["serve", "--port", "0", "--database", "memory:"], ["users", "list"]):
        r = stepchart(*args, "--users", users, cwd=hostile.parent)
        assert r.returncode in (1, 2), (args, r.stderr)
        assert f"{users}:1:1: cannot read the users file: not a regular file" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_a_folder_walk_skips_what_it_cannot_read(hostile: Path) -> None:
    """Inside a folder only regular *.yaml files are taken; the named ones above are refused."""
    (hostile / "big.yaml").unlink()
    r = stepchart("check", "wf", cwd=hostile.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 file" in r.stdout


def test_read_bounded_reads_at_most_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    assert read_bounded(f, 3) == b"abc"
    with pytest.raises(FileRefused) as too_big:
        read_bounded(f, 2)
    assert too_big.value.code == "too-large"
    with pytest.raises(FileRefused) as device:
        read_bounded("/dev/zero", 10)
    assert device.value.code == "unreadable"
    with pytest.raises(FileRefused) as folder:
        read_bounded(tmp_path)
    assert folder.value.code == "unreadable"
    with pytest.raises(FileRefused) as missing:
        read_bounded(tmp_path / "nope")
    assert missing.value.code == "unreadable"


def test_import_refuses_a_device(hostile: Path) -> None:
    r = stepchart("import", "/dev/zero", "--store", "memory:", cwd=hostile.parent)
    assert r.returncode != 0
    assert "/dev/zero:1:1: not a regular file" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr
