"""One dialect on every command: one spelling per option (old ones kept), usage errors, exit codes.

Issue 12 ("One dialect"): the options, the actor, usage errors with the command's usage and
"did you mean", the exit codes the README promises (0, 1, 2, and 5 for ``test`` selecting
nothing), ``diagram -o`` deciding the format by suffix, and the README's HTTP example.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli

from stepchart.bootstrap import open_engine
from stepchart.cli import build_parser

PARCEL = str(ROOT / "examples" / "parcel-edit.yaml")
NOW = "2026-03-01T09:00:00Z"
OLD_SPELLINGS = {"--database", "--workflows", "--groups", "--privileges", "--json"}


# -- one spelling ------------------------------------------------------------------------------------


def test_every_command_shows_one_spelling_per_option() -> None:
    from stepchart.cli.completion import command_tree  # the walk of the parser that completion uses

    tree = command_tree(build_parser())
    seen: dict[str, set[str]] = {}
    for command in tree.walk():
        for option in command.options:
            assert not OLD_SPELLINGS & set(option.flags), (command.path, option.flags)
            for flag in option.flags:
                seen.setdefault(flag, set()).add(" ".join(command.path))
    # the canonical spellings are the ones on every command that has the option
    assert {"demo", "serve", "replay", "sweep", "export", "import", "jobs list", "jobs close"} <= seen["--store"]
    assert {"run", "explain", "serve", "sweep", "replay", "jobs upgrade"} <= seen["--workflow"]
    assert {"run", "explain", "jobs close", "users add"} <= seen["--group"] & seen["--privilege"]
    assert {"test", "check", "run", "explain", "validate", "jobs list"} <= seen["--format"]


def test_help_hides_the_old_spellings_but_they_still_work(tmp_path: Path) -> None:
    helped = cli("serve", "--help")
    assert helped.code == 0 and "--store" in helped.out and "--database" not in helped.out
    db = tmp_path / "old.db"
    old = cli("demo", "--database", str(db), "--now", NOW)
    assert old.code == 0, old.err
    assert f"jobs are kept in {db}" in old.out
    as_json = cli("jobs", "list", "--store", str(db), "--json")
    assert as_json.code == 0 and as_json.out == cli("jobs", "list", "--store", str(db), "--format", "json").out
    assert [j["jobId"] for j in json.loads(as_json.out)] == ["J1", "J2"]
    text = cli("jobs", "list", "--database", str(db))
    assert text.code == 0 and text.out.startswith("J1\tparcel-edit\tclosed")


@pytest.fixture
def job(tmp_path: Path) -> Path:
    r = cli("new-job", PARCEL, "--now", NOW)
    assert r.code == 0, r.err
    path = tmp_path / "job.json"
    path.write_text(r.out, encoding="utf-8")
    return path


def _explain(job: Path, *actor: str) -> str:
    r = cli("explain", "--job", str(job), "--workflows", PARCEL, *actor, "--now", NOW, '{"type": "Run"}')
    return r.out.splitlines()[0]


def test_groups_and_privileges_repeat_or_take_commas_in_either_spelling(job: Path) -> None:
    want = f"Run on job J1 as bob (groups: a, b, editors; privileges: p, q) at {NOW}"
    assert _explain(job, "--as", "bob", "--group", "a,b", "--group", "editors", "--privilege", "p,q") == want
    assert _explain(job, "--as", "bob", "--groups", "a,b,editors", "--privileges", "p", "--privilege", "q") == want


def test_as_system_is_the_engine_only_without_groups_or_privileges(tmp_path: Path, job: Path) -> None:
    """R16 and the management rules: the engine passes ``actor.isEngine``; a user named system does not."""
    assert _explain(job).startswith("Run on job J1 as the engine")
    assert _explain(job, "--as", "system", "--group", "x").startswith("Run on job J1 as system (groups: x;")
    db = tmp_path / "jobs.db"
    engine = open_engine(str(db), workflows=[Path(PARCEL)])
    for job_id in ("J1", "J2"):
        engine.create_job("parcel-edit", job_id, now=NOW)
    engine.store.close()
    store = ("--store", str(db), "--now", NOW)
    refused = cli("jobs", "close", *store, "--as", "system", "--group", "editors", "J1")
    assert refused.code == 1 and "J1: InsufficientPrivileges" in refused.err  # once the engine itself
    assert cli("jobs", "close", *store, "--as", "system", "--privilege", "jobClose", "J1").code == 0
    assert cli("jobs", "close", *store, "--as", "system", "J2").code == 0


# -- usage errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "usage", "hint"),
    [
        (["chek", "examples"], "stepchart", "invalid choice: 'chek'; did you mean check?"),
        (["jobs", "lsit"], "stepchart jobs", "invalid choice: 'lsit'; did you mean list?"),
        (["test", "x", "--format", "jsno"], "stepchart test", "invalid choice: 'jsno'; did you mean json?"),
        (["jobs", "list", "--sotre", "x.db"], "stepchart jobs list",
         "unrecognized arguments: --sotre x.db; did you mean --store?"),
    ],
)  # fmt: skip
def test_a_mistyped_command_choice_or_option_gets_did_you_mean(argv: list[str], usage: str, hint: str) -> None:
    r = cli(*argv)
    assert r.code == 2
    assert r.err.startswith(f"usage: {usage} "), r.err  # the usage of the command it was given to
    last = r.err.splitlines()[-1]
    assert last.startswith(f"{usage}: error: ") and hint in last, r.err


def test_usage_errors_found_after_parsing_print_the_command_usage(job: Path, tmp_path: Path) -> None:
    late = cli("run", "--job", str(job), "--workflow", PARCEL, "--now", "yesterday", '{"type": "Run"}')
    assert late.code == 2
    assert late.err.startswith("usage: stepchart run ")
    assert late.err.splitlines()[-1].startswith("stepchart run: error: --now: ")
    missing = cli("run", "--job", str(job), '{"type": "Run"}')
    assert missing.code == 2 and "stepchart run: error: the following arguments are required: --workflow" in missing.err
    contradiction = cli("diagram", PARCEL, "-o", str(tmp_path / "x.svg"), "--format", "dot")
    assert contradiction.code == 2 and contradiction.err.startswith("usage: stepchart diagram ")
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["demo", "nope.yaml"], "stepchart demo: error: argument WORKFLOW: no such file or folder: nope.yaml"),
        (["serve", "--workflow", "nope.yaml"], "stepchart serve: error: argument --workflow: no such file"),
        (["sweep", "--workflow", "nope.yaml"], "stepchart sweep: error: argument --workflow: no such file"),
        (["run", "--job", "nope.json", "--workflow", PARCEL, "{}"], "stepchart run: error: no such file: nope.json"),
        (["new-job", "nope.yaml"], "stepchart new-job: error: no such file: nope.yaml"),
        (["diagram", "nope.yaml"], "stepchart diagram: error: no such file: nope.yaml"),
        (["test", "nope"], "stepchart test: error: no such file or folder: nope"),
        (["import", "nope.jsonl"], "stepchart import: error: nope.jsonl: no such file"),
    ],
)
def test_a_missing_path_is_exit_2_with_one_message_prefix(argv: list[str], prefix: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    r = cli(*argv)
    assert r.code == 2, r.err
    assert r.err.splitlines()[-1].startswith(prefix), r.err
    assert not (tmp_path / "stepchart.db").exists()  # nothing was created


def test_serve_with_a_missing_workflow_answers_2_as_a_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stepchart", "serve", "--port", "0", "--workflow", "nope.yaml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "nope.yaml" in done.stderr and "Traceback" not in done.stderr


# -- test: nothing selected ----------------------------------------------------------------------------


def test_test_that_selects_no_scenario_exits_5(tmp_path: Path) -> None:
    empty = cli("test", str(tmp_path))
    assert empty.code == 5
    assert "stepchart test: error: no scenario was found (0 scenarios in 0 files)" in empty.err
    scenarios = str(ROOT / "examples" / "scenarios")
    none = cli("test", scenarios, "-k", "nothingmatches")
    assert none.code == 5
    assert re.search(r"stepchart test: error: no scenario matches -k 'nothingmatches' \(\d+ scenarios? in 1 file\)",
                     none.err), none.err  # fmt: skip
    assert cli("test", scenarios).code == 0  # the same folder without -k runs


# -- diagram: the suffix decides ------------------------------------------------------------------------


HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = pytest.mark.skipif(not HAS_DOT and os.environ.get("CI") != "true",
                               reason="Graphviz's dot is not installed (CI installs it)")  # fmt: skip


@NEEDS_DOT
def test_diagram_writes_a_pdf_for_a_pdf_suffix(tmp_path: Path) -> None:
    out = tmp_path / "parcel.pdf"
    r = cli("diagram", PARCEL, "-o", str(out))
    assert r.code == 0, r.err
    assert out.read_bytes().startswith(b"%PDF-")
    assert cli("diagram", PARCEL, "-o", str(tmp_path / "same.pdf"), "--format", "pdf").code == 0


def test_diagram_text_formats_by_suffix(tmp_path: Path) -> None:
    mermaid = cli("diagram", PARCEL).out
    dot = cli("diagram", PARCEL, "--format", "dot").out
    for name, want in (("a.mmd", mermaid), ("a.md", f"```mermaid\n{mermaid}```\n"), ("a.dot", dot), ("a.gv", dot)):
        assert cli("diagram", PARCEL, "-o", str(tmp_path / name)).code == 0
        assert (tmp_path / name).read_text("utf-8") == want, name


@pytest.mark.parametrize(
    ("name", "extra", "message"),
    [
        ("x.txt", (), "the suffix .txt names no format"),
        ("x.pdf", ("--format", "mermaid"), "--format mermaid contradicts -o"),
        ("x.mmd", ("--format", "svg"), "--format svg contradicts -o"),
    ],
)
def test_diagram_refuses_an_unknown_or_contradicted_suffix(tmp_path: Path, name: str, extra: tuple[str, ...],
                                                           message: str) -> None:  # fmt: skip
    r = cli("diagram", PARCEL, "-o", str(tmp_path / name), *extra)
    last = r.err.splitlines()[-1]
    assert r.code == 2 and last.startswith("stepchart diagram: error: ") and message in last, r.err
    assert not (tmp_path / name).exists()


# -- the README's HTTP example --------------------------------------------------------------------------


def _shell_blocks(section: str) -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index(section)
    body = text[start : text.index("\n## ", start + 1)]
    return re.findall(r"```sh\n(.*?)```", body, re.S)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's example calls curl, which is not installed")
def test_the_readme_http_example_works_right_after_the_quickstart(tmp_path: Path) -> None:
    """The Quickstart's demo leaves closed jobs J1, J2; the example makes its own job and runs it."""
    from http_helpers import ServeProcess

    quick = _shell_blocks("## Quickstart")[0]
    setup, calls = _shell_blocks("## Serving `jobAction` over HTTP")
    assert "stepchart demo" in quick and "stepchart serve &" in setup
    shim = f'stepchart() {{ "{sys.executable}" -m stepchart "$@"; }}\npython() {{ "{sys.executable}" "$@"; }}\n'
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    first = "stepchart demo\n" + "\n".join(
        line for line in setup.splitlines() if "pip install" not in line and "stepchart serve" not in line
    )  # the Quickstart's demo, then the service's setup as written (serve is started below)
    done = subprocess.run(["bash", "-ec", shim + first + '\nprintf %s "$TOKEN"'], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]
    assert token.startswith("sc_")
    srv = ServeProcess([], cwd=tmp_path).start()
    try:
        script = calls.replace("http://127.0.0.1:8080", srv.url)
        ran = subprocess.run(["bash", "-ec", shim + script], cwd=tmp_path, env={**env, "TOKEN": token},
                             capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    finally:
        srv.stop()
    assert ran.returncode == 0, ran.stderr
    promised = [line[2:] for line in calls.splitlines() if line.startswith("# {")]
    assert json.loads(ran.stdout) == json.loads(promised[-1])
