"""The paths that make ``stepchart validate`` fast change nothing it says (issue 12).

* Start-up: ``stepchart validate`` registers only its own command module, so its help and
  usage errors are those of the full parser, and it imports neither the other commands
  nor jsonschema, the job model or the JUnit writer.
* A large run is checked in two processes (:mod:`stepchart.tools.payload_split`): the
  output, its order, the counts and the exit code are those of one process, the child's
  half is reported after the parent's, and a child that fails is replaced by the parent.
Each split run is a real ``stepchart validate`` process (the fork happens there, not in
the test runner), with :data:`SPLIT_AT` lowered so a small folder is split.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli

from stepchart.cli.main import build_parser, subcommands

RUN = textwrap.dedent(
    """
    import sys
    from stepchart.tools import payload_split
    payload_split.SPLIT_AT = int(sys.argv[1])
    payload_split._load = lambda: 0.0  # split whatever else this machine is doing
    if sys.argv[2] == "crash":  # the child dies before it answers: the parent must check its half
        real = payload_split.start
        def start(files, check):
            def dying(part):
                raise MemoryError("the child ran out of memory")
            return real(files, dying)
        payload_split.start = start
    seen = []
    real_split = payload_split.split_point
    def split_point(files):
        at = real_split(files)
        seen.append(at)
        return at
    payload_split.split_point = split_point
    import stepchart.tools.validate as tool
    tool.split_point = split_point
    tool.start = payload_split.start
    from stepchart.cli import main
    code = main(sys.argv[3:])
    sys.stderr.write(f"split at {seen}\\n")
    sys.exit(code)
    """
)


def _run(split_at: int, mode: str, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(split_at), mode, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Valid and invalid payloads, a JSON Lines file, broken JSON and other JSON, in a known order."""
    root = tmp_path_factory.mktemp("split")
    for i in range(240):
        body: object = {"type": "Run", "stepIds": [f"s{i}"]}
        if i % 7 == 0:
            body = {"type": "Hold", "holdScheduledRelease": "2026-03-01T10:00:00", "x": i}
        elif i % 11 == 0:
            body = {"name": "package", "version": i}  # no type: skipped with --skip-unknown
        elif i % 13 == 0:
            (root / f"p{i:03d}.json").write_text('{"type": "Run"')
            continue
        elif i % 17 == 0:
            body = {"type": "ReleaseHold", "webhookConnectionId": "w"}
        (root / f"p{i:03d}.json").write_text(json.dumps(body, indent=2 if i % 2 else None))
    (root / "p120.jsonl").write_text('{"type": "Run"}\n{"type": 5}\n\n{"type": "Stop", "stepIds": "x"}\n')
    return root


@pytest.mark.parametrize(
    "args", [(), ("--format", "json"), ("--skip-unknown",), ("--format", "json", "--skip-unknown")]
)
def test_a_split_run_says_what_one_process_says(folder: Path, args: tuple[str, ...]) -> None:
    one = _run(100_000, "split", "validate", str(folder), *args)
    two = _run(8, "split", "validate", str(folder), *args)
    assert one[2].splitlines()[-1] == "split at [0]"
    assert two[2].splitlines()[-1] == "split at [120]"  # 241 inputs: the child took the second half
    assert two[:2] == one[:2]
    assert one[0] == 1 and one[1].count(str(folder)) > 40
    assert cli("validate", str(folder), *args).out == one[1]  # and the in-process run, never split here


def test_a_child_that_fails_is_replaced_by_the_parent(folder: Path) -> None:
    one = _run(100_000, "split", "validate", str(folder), "--format", "json")
    crashed = _run(8, "crash", "validate", str(folder), "--format", "json")
    assert crashed[2].splitlines()[-1] == "split at [120]"
    assert crashed[:2] == one[:2]
    assert json.loads(crashed[1])["checked"] == 243  # 241 files, one of them 3 JSON Lines


def test_the_split_needs_enough_files_no_stdin_an_idle_core_and_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from stepchart.tools import payload_split

    monkeypatch.setattr(payload_split, "_cores", lambda: 2)
    monkeypatch.setattr(payload_split, "_threads", lambda: 1)
    monkeypatch.setattr(payload_split, "_load", lambda: 1.2)  # another process on one core: the other is free
    files = [f"f{i}.json" for i in range(payload_split.SPLIT_AT)]
    assert payload_split.split_point(files) == payload_split.SPLIT_AT // 2
    assert payload_split.split_point(files[:-1]) == 0
    assert payload_split.split_point([*files, "-"]) == 0
    monkeypatch.setattr(payload_split, "_threads", lambda: 2)
    assert payload_split.split_point(files) == 0
    monkeypatch.setattr(payload_split, "_threads", lambda: 1)
    monkeypatch.setattr(payload_split, "_load", lambda: 1.5)  # the second core is busy
    assert payload_split.split_point(files) == 0
    monkeypatch.setattr(payload_split, "_load", lambda: 0.4)
    monkeypatch.setattr(payload_split, "_cores", lambda: 1)
    assert payload_split.split_point(files) == 0


def test_validate_registers_only_its_module_with_the_same_help_and_usage_errors(tmp_path: Path) -> None:
    full = dict((name, sub) for name, _help, sub in subcommands(build_parser()))["validate"]
    assert cli("validate", "--help").out == full.format_help()
    bad = cli("validate", str(tmp_path), "--jsonn")
    assert bad.code == 2
    assert bad.err.startswith(full.format_usage())
    assert "unrecognized arguments: --jsonn; did you mean --jsonl?" in bad.err
    assert cli("valdate", "x").code == 2  # a mistyped command still meets the full parser
    assert "did you mean validate?" in cli("valdate", "x").err
    store = cli("store", "x")  # cli/store.py registers replay, sweep, export and import, not 'store'
    assert store.code == 2 and "'validate'" in store.err and "'serve'" in store.err, store.err


def test_validate_start_up_imports_only_what_it_needs(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text('{"type": "Run"}')
    (tmp_path / "bad.json").write_text('{"type": 5, "x": 1}')
    code = textwrap.dedent(
        f"""
        import sys
        already = set(sys.modules)  # what this interpreter's start-up (site, .pth files) imported itself
        from stepchart.cli import main
        assert main(["validate", {str(tmp_path)!r}, "-q"]) == 1
        heavy = ["jsonschema", "xml.etree", "stepchart.model.definitions", "stepchart.model.job", "importlib.resources",
                 "stepchart.engine", "statemachine", "yaml", "stepchart.cli.serve", "stepchart.cli.check",
                 # standard modules jsonschema-rs does not import either: a few milliseconds each
                 "dataclasses", "inspect", "pathlib", "shutil", "difflib"]
        print(sorted(name for name in heavy if name in sys.modules and name not in already))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


QUICK = textwrap.dedent(
    """
    import atexit, sys
    atexit.register(lambda: sys.stderr.write("interpreter teardown\\n"))
    from stepchart.cli import run
    sys.argv = ["stepchart", *sys.argv[1:]]
    sys.exit(run())
    """
)


def test_validate_ends_its_process_once_its_output_is_flushed_and_loses_none(tmp_path: Path) -> None:
    for i in range(1500):  # about 400 KB of JSON: far more than a pipe holds
        (tmp_path / f"p{i:04d}.json").write_text(json.dumps({"type": "Run", "stepIds": "s", "x": i}))
    done = subprocess.run(
        [sys.executable, "-c", QUICK, "validate", str(tmp_path), "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "interpreter teardown" not in done.stderr  # os._exit: no teardown of every module and object
    doc = json.loads(done.stdout)
    assert doc["invalid"] == 1500 and len(doc["errors"]) == 3000  # two problems a file, none lost
    text = subprocess.run(
        [sys.executable, "-c", QUICK, "validate", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert text.stdout.splitlines()[-1] == "1500 payloads checked: 0 valid, 1500 invalid"
    assert len(text.stdout.splitlines()) == 3001
    other = subprocess.run(
        [sys.executable, "-c", QUICK, "schema", "payload"], capture_output=True, text=True, timeout=120, check=False
    )  # fmt: skip
    assert other.returncode == 0 and "interpreter teardown" in other.stderr  # every other command ends as usual


def test_validate_called_in_a_process_that_lives_on_returns_and_collects_again(tmp_path: Path) -> None:
    import gc

    from stepchart.cli import main

    (tmp_path / "bad.json").write_text('{"type": 5}')
    assert gc.isenabled()
    assert main(["validate", str(tmp_path), "-q"]) == 1  # a library caller's process is not ended
    assert gc.isenabled()  # the run turned the collector off for its loop only
