"""A non-editable install finds the shipped charts, rules, schemas and examples from any directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build a wheel of this checkout (no network: dependencies come from the running environment)."""
    work = tmp_path_factory.mktemp("install")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv*", "build", "*.egg-info", "__pycache__"))
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)],
        check=True,
        cwd=work,
    )
    site = work / "site"
    wheel = next(wheels.glob("stepchart-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        cwd=work,
    )
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_wheel_carries_the_data_and_works_elsewhere(installed: Path, tmp_path: Path) -> None:
    data = installed / "stepchart" / "data"
    assert sorted(p.name for p in (data / "statecharts").glob("*.yaml")) == [
        "gp.yaml",
        "manual.yaml",
        "openApp.yaml",
        "question.yaml",
    ]
    assert list((data / "rules").glob("*.yaml"))
    assert (installed / "stepchart" / "schemas" / "payload.schema.json").is_file()
    code = (
        "import stepchart, json;"
        "from stepchart import Engine, data_dir;"
        "e = Engine();"
        "print(json.dumps([str(data_dir('statecharts')), sorted(e.step_types), len(e.rules.rules)]))"
    )
    out = _run(installed, tmp_path, "-c", code)
    assert out.returncode == 0, out.stderr
    assert str(installed) in out.stdout
    assert '"gp", "manual", "openApp", "question"' in out.stdout


def test_installed_cli_runs_the_demo_and_a_scenario_from_another_folder(installed: Path, tmp_path: Path) -> None:
    demo = _run(installed, tmp_path, "-m", "stepchart.cli", "demo")
    assert demo.returncode == 0, demo.stderr
    assert "walked 2 workflow(s)" in demo.stdout
    (tmp_path / "wf.yaml").write_text((ROOT / "examples" / "parcel-edit.yaml").read_text())
    (tmp_path / "s.yaml").write_text(
        (ROOT / "examples" / "scenarios" / "parcel-edit.yaml").read_text().replace("../parcel-edit.yaml", "wf.yaml")
    )
    run = _run(installed, tmp_path, "-m", "stepchart.cli", "test", "s.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith("1 passed, 0 failed")


def test_installed_yaml_modelines_name_schemas_that_exist_there(installed: Path) -> None:
    """Issue 12: the copies under stepchart/data keep modelines, pointing at the installed schemas."""
    import re

    from stepchart.io.yamldoc import read_yaml_file
    from stepchart.tools.lint import document_kind

    data = installed / "stepchart" / "data"
    copies = sorted(p for p in data.rglob("*") if p.suffix in (".yaml", ".yml"))
    originals = sorted(p for f in ("statecharts", "rules", "examples") for p in (ROOT / f).rglob("*.yaml"))
    assert [p.relative_to(data) for p in copies] == [p.relative_to(ROOT) for p in originals]  # scenarios too
    for copy in copies:
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", copy.read_text("utf-8").splitlines()[0])
        assert m, f"{copy}: no modeline"
        kind = document_kind(read_yaml_file(copy).value)
        target = (copy.parent / m.group(1)).resolve()
        assert target == (installed / "stepchart" / "schemas" / f"{kind}.schema.json").resolve(), copy
        assert target.is_file()
        assert copy.read_text("utf-8").splitlines()[1:] == (ROOT / copy.relative_to(data)).read_text(
            "utf-8"
        ).splitlines()[1:]  # only the modeline changed
