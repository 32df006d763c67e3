"""Terminal experience: colour only on a terminal and never with NO_COLOR; progress; JUnit XML; a fast --help."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli, on_terminal, proc

from stepchart.tools.reporting import JUnitCase, Progress, Style, junit_xml, use_color

ESC = "\x1b["


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_use_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(FakeTTY()) is True
    assert use_color(io.StringIO()) is False
    assert use_color(io.StringIO(), "always") is True
    assert use_color(FakeTTY(), "never") is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(FakeTTY()) is False
    monkeypatch.setenv("NO_COLOR", "")  # empty: not set, per no-color.org
    assert use_color(FakeTTY()) is True
    monkeypatch.setenv("TERM", "dumb")
    assert use_color(FakeTTY()) is False


def test_style_is_the_identity_without_colour() -> None:
    assert Style(False).severity("error") == "error"
    assert Style(True).severity("error") == "\x1b[1;31merror\x1b[0m"
    assert Style(True).paint("", "red") == ""


def test_progress_draws_only_when_enabled() -> None:
    quiet = io.StringIO()
    with Progress(10, "items", quiet, enabled=False, delay=0) as p:
        for _ in range(10):
            p.advance()
    assert quiet.getvalue() == ""
    loud = FakeTTY()
    with Progress(10, "items", loud, delay=0, interval=0) as p:
        p.advance(5)
        assert loud.getvalue().endswith("\ritems 5/10 (50%)\x1b[K")
    assert loud.getvalue().endswith("\r\x1b[K")  # erased on close
    late = FakeTTY()
    with Progress(None, "items", late, delay=60) as p:
        p.advance()
    assert late.getvalue() == ""  # a short run draws nothing


def test_junit_xml_is_well_formed() -> None:
    text = junit_xml([JUnitCase("a <b> & c", "f.yaml", 0.5), JUnitCase("d", "f.yaml", 0.25, "it broke\nhere")])
    root = ET.fromstring(text.split("\n", 1)[1])
    ts = root.find("testsuite")
    assert ts is not None and ts.get("failures") == "1" and ts.get("time") == "0.750"
    cases = ts.findall("testcase")
    assert cases[0].get("name") == "a <b> & c"
    fail = cases[1].find("failure")
    assert fail is not None and fail.get("message") == "it broke" and fail.text == "it broke\nhere"


def _bad_workflow(tmp_path: Path) -> Path:
    p = tmp_path / "wf.yaml"
    p.write_text("workflow: w\ninitialStep: a\nsteps: [{id: a, type: manual}, {id: b, type: manual}]\n")
    return p


def test_colour_on_a_terminal_plain_when_piped_or_no_color(tmp_path: Path) -> None:
    wf = _bad_workflow(tmp_path)
    code, out, _err = on_terminal("check", str(wf))
    assert code == 0
    assert ESC + "1;33mwarning" in out
    code, out, _err = on_terminal("check", str(wf), env={"NO_COLOR": "1"})
    assert ESC not in out
    assert "warning[unreachable-step]" in out
    piped = proc("check", str(wf))
    assert ESC not in piped.out
    forced = proc("check", str(wf), "--color", "always")
    assert ESC in forced.out


def test_no_colour_in_json_even_when_forced(tmp_path: Path) -> None:
    r = cli("check", str(_bad_workflow(tmp_path)), "--format", "json", "--color", "always")
    assert ESC not in r.out


def test_help_is_fast_and_imports_no_engine() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); from stepchart.cli import build_parser; build_parser(); "
        "print(time.perf_counter() - t); "
        "print(sorted(m for m in ('statemachine', 'jsonschema', 'stepchart.engine') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    _seconds, modules = done.stdout.splitlines()
    assert modules == "[]"
    started = time.perf_counter()
    r = proc("--help")
    assert r.code == 0
    for name in ("check", "diagram", "explain", "validate", "run", "new-job", "schema"):
        assert f"    {name} " in r.out
    assert time.perf_counter() - started < 5  # generous: a loaded CI machine; the import check above is the point


def test_every_command_documents_its_usage() -> None:
    for name in ("check", "diagram", "explain", "validate", "run", "new-job", "schema", "test"):
        r = cli(name, "--help")
        assert r.code == 0
        assert r.out.startswith(f"usage: stepchart {name}")


def test_docs_show_every_command() -> None:
    doc = (ROOT / "docs" / "tools.md").read_text("utf-8")
    for name in ("check", "diagram", "explain", "validate", "run", "new-job", "schema", "test"):
        assert f"$ stepchart {name} " in doc, name
    assert "$ stepchart test tests/scenarios examples/scenarios --coverage" in doc


def test_python_dash_m_stepchart_is_the_command() -> None:
    done = subprocess.run([sys.executable, "-m", "stepchart", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stepchart 0.1.0"
    bad = subprocess.run([sys.executable, "-m", "stepchart", "nosuchcommand"], capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert bad.returncode == 2
    code = (
        "import sys, runpy; sys.argv = ['stepchart', '--help']\n"
        "try:\n    runpy.run_module('stepchart', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "names = ('statemachine', 'jsonschema', 'stepchart.engine')\n"
        "print(sorted(m for m in names if m in sys.modules), file=sys.stderr)"
    )
    light = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert light.stderr.strip() == "[]", light.stderr
