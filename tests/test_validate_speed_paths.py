"""The paths that make ``stepchart validate`` fast change nothing it says (issue 12).

* Start-up: ``stepchart validate`` registers only its own command module, so its help and
  usage errors are those of the full parser, and it imports neither the other commands
  nor jsonschema, the job model or the JUnit writer.
* A large run is shared with a forked helper (:mod:`stepchart.tools.payload_split`) that
  checks from the back while the parent checks from the front: the output, its order,
  the counts and the exit code are those of one process, the helper's part is reported
  after the parent's, a helper that fails is replaced by the parent, and no child is left.
Each shared run is a real ``stepchart validate`` process (the fork happens there, not in
the test runner), with :data:`SPLIT_AT` and :data:`CHUNK` lowered so a small folder is shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli

from stepchart.cli.main import build_parser, subcommands

RUN = textwrap.dedent(
    """
    import os, sys, time
    from stepchart.tools import payload_split
    payload_split.SPLIT_AT = int(sys.argv[1])
    payload_split.CHUNK = 8
    payload_split._load = lambda: 0.0  # split whatever else this machine is doing
    import stepchart.tools.validate as tool
    parent, mode = os.getpid(), sys.argv[2]
    real_check, chunks = tool._check_into, [0]
    def check_into(run, files, *rest):
        if os.getpid() == parent:
            time.sleep(0.02)  # a slow parent: the helper, warm by now, takes chunks from the back
        else:
            chunks[0] += 1
            if mode == "crash" or (mode == "dies" and chunks[0] == 3):  # before it answers: the parent checks its part
                raise MemoryError("the helper ran out of memory")
        return real_check(run, files, *rest)
    tool._check_into = check_into
    helped = []
    real_finish = tool.finish
    def finish(helper, total):
        start, done = real_finish(helper, total)
        helped.append((start, done is not None))
        return start, done
    tool.finish = finish
    from stepchart.cli import main
    code = main(sys.argv[3:])
    try:
        os.waitpid(-1, os.WNOHANG)
        left = "a child left"
    except ChildProcessError:
        left = "no child left"
    sys.stderr.write(f"helped {helped}; {left}\\n")
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


def _helped(err: str) -> tuple[list[tuple[int, bool]], str]:
    import ast

    helped, left = err.splitlines()[-1].removeprefix("helped ").split("; ")
    return ast.literal_eval(helped), left


@pytest.mark.parametrize(
    "args", [(), ("--format", "json"), ("--skip-unknown",), ("--format", "json", "--skip-unknown")]
)
def test_a_shared_run_says_what_one_process_says(folder: Path, args: tuple[str, ...]) -> None:
    one = _run(100_000, "share", "validate", str(folder), *args)
    two = _run(8, "share", "validate", str(folder), *args)
    assert _helped(one[2]) == ([], "no child left")  # forked for the folder, dismissed: too few files
    [(start, sent)], left = _helped(two[2])
    assert sent and 0 < start < 241 and left == "no child left"  # the helper took the files from `start` on
    assert two[:2] == one[:2]
    assert one[0] == 1 and one[1].count(str(folder)) > 40
    assert cli("validate", str(folder), *args).out == one[1]  # and the in-process run, never shared here


@pytest.mark.parametrize("mode", ["crash", "dies"])
def test_a_helper_that_fails_is_replaced_by_the_parent(folder: Path, mode: str) -> None:
    one = _run(100_000, "share", "validate", str(folder), "--format", "json")
    failed = _run(8, mode, "validate", str(folder), "--format", "json")
    [(start, sent)], left = _helped(failed[2])
    assert not sent and start < 241 and left == "no child left"  # its claimed chunks are checked by the parent
    assert failed[:2] == one[:2]
    assert json.loads(failed[1])["checked"] == 243  # 241 files, one of them 3 JSON Lines


def test_the_parent_and_the_helper_claim_every_chunk_once_from_either_end() -> None:
    from stepchart.tools import payload_split

    helper = payload_split.fork_helper(lambda: None, lambda files: (len(files), 0, []))
    assert helper is not None
    files = [f"f{i}.json" for i in range(1000)]
    mine = []
    for chunk in payload_split.give(helper, files):
        mine.append(chunk)
        time.sleep(0.001)  # a slow parent: the helper takes its part
    start, done = payload_split.finish(helper, len(files))
    assert done is not None and helper.reaped
    assert mine == [(i, min(i + payload_split.CHUNK, 1000)) for i in range(0, start, payload_split.CHUNK)]
    assert done.checked == 1000 - start > 0  # the helper's part, from the back: together, every file once
    payload_split.dismiss(helper)  # nothing: reaped already (its id may be another process's by now)


def test_a_share_needs_no_stdin_an_idle_core_and_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from stepchart.tools import payload_split

    monkeypatch.setattr(payload_split, "_cores", lambda: 2)
    monkeypatch.setattr(payload_split, "_threads", lambda: 1)
    monkeypatch.setattr(payload_split, "_load", lambda: 1.2)  # another process on one core: the other is free
    assert payload_split.can_split(["a.json", "folder"])
    assert not payload_split.can_split(["a.json", "-"])
    monkeypatch.setattr(payload_split, "_threads", lambda: 2)
    assert not payload_split.can_split(["folder"])
    monkeypatch.setattr(payload_split, "_threads", lambda: 1)
    monkeypatch.setattr(payload_split, "_load", lambda: 1.5)  # the second core is busy
    assert not payload_split.can_split(["folder"])
    monkeypatch.setattr(payload_split, "_load", lambda: 0.4)
    monkeypatch.setattr(payload_split, "_cores", lambda: 1)
    assert not payload_split.can_split(["folder"])


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
                 "dataclasses", "inspect", "pathlib", "shutil", "difflib",
                 # what its build record would import but for stepchart.io.rs_import
                 "email.utils", "socket", "urllib.parse", "random"]
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
