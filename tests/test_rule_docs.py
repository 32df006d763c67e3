"""The README's fact table and the rules schema's fact names are generated from the fact registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stepchart.io.schemas import read_schema_file
from stepchart.rules import FACTS
from stepchart.rules.docs import fact_table, readme_with_fact_table, rules_schema, rules_schema_text

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_fact_table_is_the_generated_one() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    assert fact_table() in text
    assert readme_with_fact_table(text) == text


def test_the_rules_schema_is_the_generated_one() -> None:
    path = ROOT / "src" / "stepchart" / "schemas" / "rules.schema.json"
    shipped = json.loads(path.read_text("utf-8"))
    assert path.read_text("utf-8") == rules_schema_text(shipped)
    assert read_schema_file("rules") == rules_schema(shipped)


def test_the_schema_enum_names_every_fact_and_the_keys_complete_beside_all_any_not() -> None:
    definitions = read_schema_file("rules")["definitions"]
    assert definitions["fact"]["enum"] == list(FACTS)
    assert list(definitions["conditionParts"]["properties"]) == ["all", "any", "not", *FACTS]
    assert definitions["condition"]["allOf"] == [{"$ref": "#/definitions/conditionParts"}]


@pytest.mark.parametrize(
    "condition",
    ["step.isCursed", 5, None, [], {"all": [5, "nope", {"x.y": 1}]}, {"not": {"any": 3}}, {"step.status": 5}],
)
def test_the_completion_hints_refuse_nothing(condition: Any) -> None:
    """Unknown facts and bad arguments stay the loader's to report, located, with the names close to them."""
    schema = read_schema_file("rules")
    hints = {**schema["definitions"]["conditionParts"], "definitions": schema["definitions"]}
    jsonschema.Draft7Validator(hints).validate(condition)
