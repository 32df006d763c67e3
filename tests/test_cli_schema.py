"""Schemas for editors: ``stepchart schema``, draft-07, descriptions, ``$schema`` lines, examples, doc snippets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ROOT, cli
from jsonschema import Draft7Validator

from stepchart.io.schemas import SCHEMA_NAMES, check_document, load_schema
from stepchart.io.yamldoc import parse_yaml, read_yaml_file
from stepchart.tools.lint import document_kind

DESIGNER = ("workflow", "chart", "rules", "scenario")
SHIPPED_YAML = sorted(
    p
    for folder in ("statecharts", "rules", "examples")
    for p in (ROOT / folder).rglob("*")
    if p.suffix in (".yaml", ".yml")
)
DOCS = [p for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))] if p.is_file()]


def test_schema_lists_and_prints_each_shipped_schema() -> None:
    r = cli("schema")
    assert r.code == 0
    assert [line.split()[0] for line in r.lines] == list(SCHEMA_NAMES)
    for name in SCHEMA_NAMES:
        r = cli("schema", name)
        assert r.code == 0
        assert json.loads(r.out) == load_schema(name)
    bad = cli("schema", "nope")
    assert bad.code == 2
    assert "schemas are: payload, response" in bad.err


def test_schema_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "payload.schema.json"
    assert cli("schema", "payload", "-o", str(out)).code == 0
    assert json.loads(out.read_text()) == load_schema("payload")


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_is_valid_draft_07(name: str) -> None:
    schema = load_schema(name)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)
    assert schema.get("description"), f"{name} has no description"


def _properties_without_description(node: Any, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            if not (isinstance(sub, dict) and isinstance(sub.get("description"), str) and sub["description"].strip()):
                out.append(f"{path}/properties/{key}")
        for key, sub in node.items():
            out.extend(_properties_without_description(sub, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            out.extend(_properties_without_description(sub, f"{path}/{i}"))
    return out


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_property_has_a_description(name: str) -> None:
    """What an editor's YAML extension shows on hover and completion."""
    assert _properties_without_description(load_schema(name)) == []


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=[str(p.relative_to(ROOT)) for p in SHIPPED_YAML])
def test_every_shipped_yaml_names_its_schema_for_editors(path: Path) -> None:
    first = path.read_text("utf-8").splitlines()[0]
    m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert m, f"{path}: the first line must be '# yaml-language-server: $schema=...'"
    target = (path.parent / m.group(1)).resolve()
    kind = document_kind(read_yaml_file(path).value)
    assert target == (ROOT / "src" / "stepchart" / "schemas" / f"{kind}.schema.json").resolve()


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=[str(p.relative_to(ROOT)) for p in SHIPPED_YAML])
def test_every_shipped_example_passes_its_schema(path: Path) -> None:
    doc = read_yaml_file(path)
    kind = document_kind(doc.value)
    assert kind in DESIGNER
    assert check_document(doc, kind) == []


def _snippets() -> list[tuple[str, str, str]]:
    """(where, language, text) of every fenced yaml/json block of the docs not marked ``<!-- fragment -->``."""
    out = []
    for doc in DOCS:
        text = doc.read_text("utf-8")
        for m in re.finditer(r"(<!-- fragment -->\s*\n)?```(yaml|json)\n(.*?)```", text, re.S):
            if m.group(1):
                continue
            line = text.count("\n", 0, m.start(2)) + 1
            out.append((f"{doc.relative_to(ROOT)}:{line}", m.group(2), m.group(3)))
    return out


SNIPPETS = _snippets()


@pytest.mark.parametrize(("where", "lang", "text"), SNIPPETS, ids=[s[0] for s in SNIPPETS])
def test_every_doc_snippet_passes_its_schema(where: str, lang: str, text: str) -> None:
    doc = parse_yaml(text, where)
    value = doc.value
    kind = document_kind(value)
    if kind == "unknown" and isinstance(value, dict):
        if "type" in value and lang == "json":
            kind = "payload"
        elif "stepResponses" in value:
            kind = "response"
        elif "error" in value:
            kind = "error"
    assert kind != "unknown", f"{where}: a snippet of no known kind; mark it <!-- fragment --> if it is part of one"
    assert [str(p) for p in check_document(doc, kind)] == []


def test_there_are_doc_snippets_to_check() -> None:
    assert len(SNIPPETS) >= 3
