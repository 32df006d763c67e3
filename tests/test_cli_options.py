"""The options every command shares (``stepchart.cli.options``): workflow folders, the actor, the time."""

from __future__ import annotations

import argparse
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stepchart.cli.options import acting_user, add_actor, request_time, workflow_files
from stepchart.model import SYSTEM, Actor

ROOT = Path(__file__).resolve().parent.parent
PARCEL = ROOT / "examples" / "parcel-edit.yaml"
PERMIT = ROOT / "examples" / "permit-review.yaml"
SCENARIO = ROOT / "examples" / "scenarios" / "parcel-edit.yaml"


def test_a_workflow_folder_gives_the_workflow_documents_below_it_in_path_order(tmp_path: Path) -> None:
    shutil.copy(PERMIT, tmp_path / "b-permit.yaml")
    (tmp_path / "sub").mkdir()
    shutil.copy(PARCEL, tmp_path / "sub" / "a-parcel.yml")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(SCENARIO, tmp_path / "scenarios" / "parcel-edit.yaml")  # a scenario beside them: passed over
    (tmp_path / ".hidden").mkdir()
    shutil.copy(PARCEL, tmp_path / ".hidden" / "parcel.yaml")  # hidden: passed over
    (tmp_path / "notes.yaml").write_text("title: not a workflow\n")
    (tmp_path / "broken.yaml").write_text("workflow: [unclosed\n")  # not YAML: passed over
    shutil.copy(PARCEL, tmp_path / "parcel.json")  # not a YAML suffix
    assert workflow_files([str(tmp_path)]) == [tmp_path / "b-permit.yaml", tmp_path / "sub" / "a-parcel.yml"]


def test_a_named_file_is_taken_as_it_is_and_a_missing_path_is_refused_or_kept(tmp_path: Path) -> None:
    notes = tmp_path / "notes.yaml"
    notes.write_text("title: not a workflow\n")
    assert workflow_files([str(notes), str(PARCEL)]) == [notes, PARCEL]
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml: no such file or folder"):
        workflow_files([str(PARCEL), str(tmp_path / "nope.yaml")])
    kept = workflow_files([str(tmp_path / "nope.yaml"), str(PARCEL)], missing="keep")
    assert kept == [tmp_path / "nope.yaml", PARCEL]  # in order, for the loader to report


def _actor(*argv: str) -> object:
    parser = argparse.ArgumentParser()
    add_actor(parser)
    return acting_user(parser.parse_args(list(argv)))


def test_one_spelling_of_the_actor_with_the_old_ones_as_aliases() -> None:
    assert _actor() is SYSTEM
    assert _actor("--as", "system") is SYSTEM  # a bare --as system is the engine itself
    bob = Actor.of("bob", ["a", "b", "c"], ["p", "q"])
    assert _actor("--as", "bob", "--group", "a, b", "--group", "c", "--privilege", "p,q") == bob
    assert _actor("--as", "bob", "--groups", "a,b", "--group", "c", "--privileges", "p", "--privilege", "q") == bob
    assert _actor("--groups", "a") == Actor.of("system", ["a"])  # a user named system holding the group


def test_request_time_reads_rfc_3339_or_the_clock() -> None:
    assert request_time("2026-03-01T10:00:00.5+01:00") == datetime(2026, 3, 1, 9, 0, 0, 500000, tzinfo=UTC)
    assert request_time(None, whole_seconds=True).microsecond == 0
    assert request_time(None).tzinfo is not None
    with pytest.raises(ValueError, match="not an RFC 3339"):
        request_time("yesterday")
