"""The Python examples of the README and docs/ run as written (from the repository root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A block right after this marker needs a running server: the test it names runs it against one.
SERVED = "<!-- run against a real server by "
BLOCKS = [
    (doc.name, code)
    for doc in DOCS
    for before, code in re.findall(r"(.{0,120})```python\n(.*?)```", doc.read_text("utf-8"), re.S)
    if SERVED not in before
]


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize(("doc", "code"), BLOCKS, ids=[f"{d}-{i}" for i, (d, _) in enumerate(BLOCKS)])
def test_docs_python_block_runs(doc: str, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "docs"}
    exec(compile(code, doc, "exec"), namespace)  # the docs' own example, from this repository
    assert os.getcwd() == str(ROOT)
