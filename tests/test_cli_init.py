"""``stepchart init`` makes a starter project that passes ``check`` and ``test`` at once; ``schema --all -o DIR``."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import pytest
from cli_helpers import ROOT, cli, proc

from stepchart.io.schemas import SCHEMA_NAMES
from stepchart.io.yamldoc import read_yaml_file
from stepchart.tools.lint import document_kind

SHIPPED_SCHEMAS = sorted(p.name for p in (ROOT / "src" / "stepchart" / "schemas").glob("*.schema.json"))


def test_schema_all_writes_every_schema_creating_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    r = cli("schema", "--all", "-o", str(out))
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == SHIPPED_SCHEMAS
    assert "http-job-list.schema.json" in SHIPPED_SCHEMAS  # the HTTP ones too
    assert {f"{n}.schema.json" for n in SCHEMA_NAMES} <= set(SHIPPED_SCHEMAS)
    for name in SHIPPED_SCHEMAS:
        assert (out / name).read_bytes() == (ROOT / "src" / "stepchart" / "schemas" / name).read_bytes()
        # every $ref to another file resolves inside the folder written
        for ref in re.findall(r'"\$ref":\s*"([^"#]+)', (out / name).read_text("utf-8")):
            assert (out / ref).is_file(), (name, ref)
    assert f"wrote {len(SHIPPED_SCHEMAS)} schemas" in r.out


def test_schema_all_needs_a_folder_and_reports_one_it_cannot_write(tmp_path: Path) -> None:
    assert cli("schema", "--all").code == 2
    assert cli("schema", "--all", "payload", "-o", str(tmp_path)).code == 2
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = cli("schema", "--all", "-o", str(blocker / "sub"))
    assert r.code == 2
    assert "cannot write" in r.err


def test_init_makes_a_project_that_passes_check_and_test_at_once(tmp_path: Path) -> None:
    root = tmp_path / "permits"
    made = proc("init", str(root), cwd=tmp_path)
    assert made.code == 0, made.err
    check = proc("check", cwd=root)  # no paths: the project file and its folders
    assert check.code == 0, check.out + check.err
    assert "0 errors, 0 warnings in 5 files (1 chart, 1 project file, 1 rules file, 1 scenario file, 1 workflow)" in (
        check.out
    )
    test = proc("test", "-v", cwd=root / "scenarios")  # found upward from a folder inside the project
    assert test.code == 0, test.out + test.err
    assert test.out.strip().endswith("2 passed, 0 failed")
    assert "checklistReset" in test.out  # the scenario exercising the project's own rule ran
    # without the project (another working folder, no stepchart.yaml above) its chart is unknown
    outside = proc("test", str(root / "scenarios"), cwd=tmp_path)
    assert outside.code == 1
    assert "unknown step type 'checklist'" in outside.out


def test_init_writes_editor_settings_and_modelines_that_point_at_the_written_schemas(tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "p")).code == 0
    root = tmp_path / "p"
    assert sorted(p.name for p in (root / "schemas").iterdir()) == SHIPPED_SCHEMAS
    settings = json.loads((root / ".vscode" / "settings.json").read_text("utf-8"))["yaml.schemas"]
    yaml_files = sorted(p for p in root.rglob("*.yaml") if "schemas" not in p.parts)
    assert len(yaml_files) == 5
    for path in yaml_files:
        rel = path.relative_to(root).as_posix()
        kind = document_kind(read_yaml_file(path).value)
        matching = [schema for schema, globs in settings.items() if any(fnmatch.fnmatch(rel, g) for g in globs)]
        assert matching == [f"./schemas/{kind}.schema.json"], rel
        assert (root / matching[0]).is_file()
        first = path.read_text("utf-8").splitlines()[0]
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert m, rel
        assert (path.parent / m.group(1)).resolve() == (root / "schemas" / f"{kind}.schema.json").resolve()


def test_init_refuses_a_folder_that_is_not_empty_unless_force(tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    r = cli("init", str(tmp_path))
    assert r.code == 2
    assert "is not empty; nothing written" in r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    (tmp_path / "stepchart.yaml").write_text("project: old\n")
    forced = cli("init", "--force", str(tmp_path))
    assert forced.code == 0, forced.err
    assert mine.read_text() == "keep me"
    assert "charts: charts" in (tmp_path / "stepchart.yaml").read_text()  # the starter file replaced it
    f = tmp_path / "a-file"
    f.write_text("")
    assert cli("init", str(f)).code == 2


@pytest.mark.parametrize("where", ["here", "new/deeper"])
def test_init_into_the_working_folder_or_a_new_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["init"] if where == "here" else ["init", where]
    assert cli(*args).code == 0
    root = tmp_path if where == "here" else tmp_path / where
    assert (root / "stepchart.yaml").is_file()
    name = read_yaml_file(root / "stepchart.yaml").value["project"]
    assert name == root.name
