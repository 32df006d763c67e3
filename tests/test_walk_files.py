"""The one folder walker, and the commands that read folders through it (scenarios, validate, charts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stepchart.engine.actions import ACTION_TABLE
from stepchart.io.files import JSON_SUFFIXES, YAML_SUFFIXES, folder_files, walk_files
from stepchart.load.charts import load_chart_dir
from stepchart.load.jobs import initial_assignment
from stepchart.model import StepDef
from stepchart.tools.scenarios import discover
from stepchart.tools.scenarios.runner import OPERATIONS, STEP_OPERATIONS
from stepchart.tools.validate import expand_inputs
from stepchart.vocabulary import ASSIGNMENT_TYPES

SCENARIO = "workflow: wf.yaml\ndo: []\n"


def _touch(root: Path, *names: str, text: str = "x: 1\n") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_folder_gives_its_files_in_the_order_of_sorted_rglob(tmp_path: Path) -> None:
    """Paths compare part by part: ``a/x`` before ``a-b/x`` (a plain string sort puts ``-`` before ``/``)."""
    _touch(tmp_path, "b.yaml", "a/x.yaml", "a-b/x.yaml", "a/c/y.yml", "a/z.yaml", "note.txt")
    found, missing = walk_files([tmp_path])
    expected = [p for p in sorted(tmp_path.rglob("*")) if p.suffix in YAML_SUFFIXES]
    assert [f.path for f in found] == expected
    assert [f.path.relative_to(tmp_path).as_posix() for f in found] == [
        "a/c/y.yml",
        "a/x.yaml",
        "a/z.yaml",
        "a-b/x.yaml",
        "b.yaml",
    ]
    assert missing == []
    assert not any(f.named for f in found)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_one_folder_gives_regular_files_and_links_to_them_sorted_as_rglob(tmp_path: Path) -> None:
    """A folder named like a file is entered, a link to a file is taken, a pipe is not; a folder given with a
    trailing ``/`` spells its files as ``DirEntry.path`` does, and the order is sorted(rglob)'s."""
    _touch(tmp_path, "m.json", "k.json/inner.json", "k-a.json", "k/z.json", "b.txt")
    (tmp_path / "link.json").symlink_to(tmp_path / "m.json")
    os.mkfifo(tmp_path / "pipe.json")
    expected = [
        p for p in sorted(tmp_path.rglob("*")) if p.suffix == ".json" and p.is_file() and p.name != "pipe.json"
    ]
    assert [Path(f) for f in folder_files(str(tmp_path), JSON_SUFFIXES)] == expected
    assert [p.relative_to(tmp_path).as_posix() for p in expected] == [
        "k/z.json", "k-a.json", "k.json/inner.json", "link.json", "m.json",
    ]  # fmt: skip
    assert folder_files(f"{tmp_path}/", JSON_SUFFIXES)[0] == f"{tmp_path}/k/z.json"
    assert folder_files(str(tmp_path), JSON_SUFFIXES, recursive=False) == [
        f"{tmp_path}/k-a.json", f"{tmp_path}/link.json", f"{tmp_path}/m.json",
    ]  # fmt: skip


def test_hidden_files_and_folders_are_skipped_and_named_files_always_taken(tmp_path: Path) -> None:
    _touch(tmp_path, ".hidden/a.yaml", ".b.yaml", "c.yaml", "d.txt")
    found, missing = walk_files([tmp_path, tmp_path / "d.txt", tmp_path / "gone.yaml"])
    assert [(f.path.name, f.named) for f in found] == [("c.yaml", False), ("d.txt", True)]
    assert missing == [str(tmp_path / "gone.yaml")]


def test_one_level_and_a_file_reached_twice_comes_once(tmp_path: Path) -> None:
    _touch(tmp_path, "a.yaml", "sub/b.yaml")
    found, _ = walk_files([tmp_path, tmp_path / "a.yaml"], recursive=False)
    assert [f.path.name for f in found] == ["a.yaml"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_folder_link_cycle_ends(tmp_path: Path) -> None:
    _touch(tmp_path, "a/x.json")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    found, _ = walk_files([tmp_path], JSON_SUFFIXES)
    assert [f.path.relative_to(tmp_path).as_posix() for f in found] == ["a/x.json"]


def test_scenario_discovery_reads_folders_through_the_walker(tmp_path: Path) -> None:
    """In a folder only scenario files count (hidden folders are passed over); a named file always counts."""
    _touch(tmp_path, "s1.yaml", "sub/s2.yml", ".hidden/s3.yaml", text=SCENARIO)
    _touch(tmp_path, "wf.yaml", text="workflow: w\n")
    named = tmp_path / "wf.yaml"
    files, missing = discover([tmp_path, named, tmp_path / "nope", tmp_path / "s1.yaml"])
    assert files == [tmp_path / "s1.yaml", tmp_path / "sub" / "s2.yml", named, tmp_path / "s1.yaml"]
    assert missing == [str(tmp_path / "nope")]


def test_validate_inputs_keep_stdin_and_the_folder_as_it_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _touch(tmp_path, "in/b.json", "in/a.jsonl", "in/sub/c.ndjson", "in/.h/d.json", "in/e.yaml", "one.json")
    monkeypatch.chdir(tmp_path)
    files, missing = expand_inputs(["./in", "-", "one.json", "gone.json", "in/b.json"])
    assert files == ["./in/a.jsonl", "./in/b.json", "./in/sub/c.ndjson", "-", "one.json", "in/b.json"]
    assert missing == ["gone.json"]


def test_chart_folders_are_read_one_level_and_a_missing_path_is_located(tmp_path: Path) -> None:
    from stepchart.errors import DefinitionError
    from stepchart.io.files import data_dir

    shipped = load_chart_dir(data_dir("statecharts"))
    assert shipped
    with pytest.raises(DefinitionError) as exc:
        load_chart_dir(tmp_path / "missing")
    assert exc.value.problems[0].code == "unreadable"


def test_scenario_step_operations_are_the_action_tables() -> None:
    rows = [a for a in ACTION_TABLE.values() if a.operation is not None]
    assert STEP_OPERATIONS == tuple(a.operation for a in rows) == ("respond", "complete", "fail", "assign")
    assert ("act", *STEP_OPERATIONS, "advance") == OPERATIONS


def test_initial_assignment_is_an_assignment_type() -> None:
    for kind, to, want in [
        ("User", "ann", ("User", "ann")),
        ("Group", "ops", ("Group", "ops")),
        ("Unassigned", None, ("Unassigned", None)),
        (None, None, ("Unassigned", None)),
    ]:
        got = initial_assignment(StepDef("s", "manual", assigned_type=kind, assigned_to=to))
        assert got == want and got[0] in ASSIGNMENT_TYPES
