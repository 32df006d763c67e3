"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by pre-commit's own ``try-repo`` on a temporary git repo.

pre-commit installs a ``language: python`` hook by pip-installing the hook repository
and its dependencies into a new virtualenv, which needs a package index; tests reach no
network. So the test hands ``try-repo`` a copy of the manifest whose hooks say
``language: system``, with a ``stepchart`` on ``PATH`` that runs this checkout: every
other key (id, entry, args, files, require_serial) is the shipped one, read and applied
by pre-commit itself. That the shipped manifest installs as ``language: python`` rests
on the ``stepchart`` console script the wheel declares (tests/test_install.py builds it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from cli_helpers import ROOT, cli

MANIFEST = ROOT / ".pre-commit-hooks.yaml"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")

UNRELATED = {
    "docker-compose.yml": "x-common: &common\n  restart: always\n"
    "services:\n  web:\n    <<: *common\n    image: nginx\n",
    ".github/workflows/ci.yml": "name: CI\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - run: make test\n",
    "package.json": '{"name": "site", "version": "1.0.0"}\n',
    ".vscode/settings.json": '{"yaml.schemas": {}}\n',
}


def _hooks() -> dict[str, dict[str, object]]:
    return {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text("utf-8"))}


def test_the_manifest_declares_both_hooks_as_python_with_skip_unknown() -> None:
    hooks = _hooks()
    assert sorted(hooks) == ["stepchart-check", "stepchart-validate"]
    for hook_id, command in (("stepchart-check", "check"), ("stepchart-validate", "validate")):
        hook = hooks[hook_id]
        assert hook["language"] == "python"
        assert hook["entry"] == f"stepchart {command}"
        assert hook["args"] == ["--skip-unknown"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert scripts["stepchart"] == "stepchart.cli:run"  # what pip install gives the python hook's entry
    check_files = re.compile(str(hooks["stepchart-check"]["files"]))
    validate_files = re.compile(str(hooks["stepchart-validate"]["files"]))
    assert all(check_files.search(n) for n in ("a.yaml", "b/c.yml", "stepchart.yaml"))
    assert not check_files.search("a.json")
    assert all(validate_files.search(n) for n in ("p.json", "q.jsonl", "r.ndjson"))
    assert not validate_files.search("a.yaml")


def test_without_skip_unknown_the_unrelated_files_would_fail(tmp_path: Path) -> None:
    """What the hooks' ``--skip-unknown`` is for: the same files fail check and validate without it."""
    for rel, text in UNRELATED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    yml = [str(tmp_path / n) for n in UNRELATED if n.endswith(".yml")]
    jsn = [str(tmp_path / n) for n in UNRELATED if n.endswith(".json")]
    assert cli("check", "--no-project", *yml).code == 1
    assert cli("validate", *jsn).code == 1
    skipped = cli("check", "--no-project", "--skip-unknown", *yml)
    assert skipped.code == 0, skipped.out
    assert "2 other files skipped" in skipped.out
    v = cli("validate", "--skip-unknown", *jsn)
    assert v.code == 0 and "2 other documents skipped" in v.out, v.out


def _git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


@pytest.fixture()
def hook_env(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """(hook repository, project repository, environment): the manifest as ``language: system``, a ``stepchart``."""
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "PIP_NO_INDEX": "1",  # should anything try to install, it fails here instead of reaching out
    }  # fmt: skip
    env.pop("NO_COLOR", None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "stepchart"
    shim.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT / 'src')!r})\n"
        "from stepchart.cli import main\nsys.exit(main())\n"
    )
    shim.chmod(0o755)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    text = MANIFEST.read_text("utf-8")
    assert text.count("language: python") == 2
    (hooks / ".pre-commit-hooks.yaml").write_text(text.replace("language: python", "language: system"))
    _git(hooks, "init", "-q", env=env)
    _git(hooks, "add", "-A", env=env)
    _git(hooks, "commit", "-q", "-m", "hooks", env=env)
    project = tmp_path / "project"
    project.mkdir()
    for rel, body in UNRELATED.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(body)
    shutil.copy(ROOT / "examples" / "parcel-edit.yaml", project / "parcel-edit.yaml")
    (project / "run.json").write_text('{"type": "Run", "stepIds": ["edit"]}\n')
    _git(project, "init", "-q", env=env)
    _git(project, "add", "-A", env=env)
    return hooks, project, env


def _try_repo(
    hooks: Path, project: Path, env: dict[str, str], hook: str, *files: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), hook, "--files", *files],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_try_repo_stepchart_check_passes_unrelated_yaml_and_fails_a_broken_workflow(
    hook_env: tuple[Path, Path, dict[str, str]],
) -> None:
    hooks, project, env = hook_env
    files = ["docker-compose.yml", ".github/workflows/ci.yml", "parcel-edit.yaml", "package.json"]
    ok = _try_repo(hooks, project, env, "stepchart-check", *files)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"stepchart check\.+Passed", ok.stdout), ok.stdout
    (project / "parcel-edit.yaml").write_text(
        (ROOT / "examples" / "parcel-edit.yaml").read_text().replace("nextStep: review", "nextStep: reveiw", 1)
    )
    bad = _try_repo(hooks, project, env, "stepchart-check", *files)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"stepchart check\.+Failed", bad.stdout), bad.stdout
    assert re.search(r"parcel-edit\.yaml:\d+:\d+: error\[unknown-step\]", bad.stdout), bad.stdout
    assert "2 other files skipped" in bad.stdout  # the compose file and the CI workflow, counted


def test_try_repo_stepchart_validate_skips_unrelated_json_and_fails_a_bad_payload(
    hook_env: tuple[Path, Path, dict[str, str]],
) -> None:
    hooks, project, env = hook_env
    files = ["package.json", ".vscode/settings.json", "run.json", "docker-compose.yml"]
    ok = _try_repo(hooks, project, env, "stepchart-validate", *files)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"stepchart validate\.+Passed", ok.stdout), ok.stdout
    (project / "run.json").write_text('{"type": "Run", "stepIds": [7]}\n')
    bad = _try_repo(hooks, project, env, "stepchart-validate", *files)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "run.json:1:29: $.stepIds[0]: expected string" in bad.stdout, bad.stdout
