"""What the fact registry generates for people and editors: the README's fact table, the schema's fact names.

``python -m stepchart.rules.docs`` rewrites both from :data:`~stepchart.rules.facts.FACTS`
in a source checkout (``--check`` only reports whether they are current); the tests
hold the shipped files to what these functions generate.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .facts import FACTS

__all__ = ["condition_parts_schema", "fact_table", "readme_with_fact_table", "rules_schema", "rules_schema_text"]

TABLE_HEADER = "| fact | argument | true when |"

_COMBINATORS: dict[str, dict[str, Any]] = {
    "all": {
        "description": "Every condition of the list holds.",
        "items": {"$ref": "#/definitions/conditionParts"},
    },
    "any": {
        "description": "Some condition of the list holds.",
        "items": {"$ref": "#/definitions/conditionParts"},
    },
    "not": {
        "description": "The condition does not hold.",
        "allOf": [{"$ref": "#/definitions/conditionParts"}],
    },
}


def fact_table() -> str:
    """The markdown table of every fact, in registry order (the README's, under "### Rules")."""
    lines = [TABLE_HEADER, "| --- | --- | --- |"]
    for fact in FACTS.values():
        argument = f" {fact.argument_doc} " if fact.argument_doc else " "
        lines.append(f"| `{fact.name}` |{argument}| {fact.doc} |")
    return "\n".join(lines) + "\n"


def readme_with_fact_table(text: str) -> str:
    """``text`` (the README) with the fact table after the "### Rules" heading replaced by :func:`fact_table`."""
    lines = text.splitlines(keepends=True)
    section = next(i for i, line in enumerate(lines) if line.startswith("### Rules"))
    start = next(i for i in range(section, len(lines)) if lines[i].startswith(TABLE_HEADER))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "".join([*lines[:start], fact_table(), *lines[end:]])


def condition_parts_schema() -> dict[str, Any]:
    """The schema that lets editors complete conditions: fact names, and fact keys beside all/any/not.

    It refuses nothing (every part is an annotation, or ``true``), so the loader keeps
    reporting an unknown fact itself, located, with the names close to it.
    """
    properties: dict[str, Any] = dict(_COMBINATORS)
    for fact in FACTS.values():
        argument = f" (argument: {fact.argument_doc})" if fact.argument_doc else ""
        properties[fact.name] = {"description": f"{fact.level} fact: {fact.doc}{argument}."}
    return {
        "description": "What editors complete in a condition; it refuses nothing (the loader names unknown facts).",
        "anyOf": [{"$ref": "#/definitions/fact"}, True],
        "properties": properties,
    }


def rules_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The rules schema ``schema`` with its generated parts (``definitions.fact``, ``conditionParts``) current."""
    out = json.loads(json.dumps(schema))
    definitions = out.setdefault("definitions", {})
    definitions["fact"] = {
        "description": "A fact of the rule vocabulary (generated from stepchart.rules.facts).",
        "type": "string",
        "enum": list(FACTS),
    }
    definitions["conditionParts"] = condition_parts_schema()
    definitions["condition"]["allOf"] = [{"$ref": "#/definitions/conditionParts"}]
    result: dict[str, Any] = out
    return result


def rules_schema_text(schema: dict[str, Any]) -> str:
    """The schema file's text, formatted as shipped."""
    return json.dumps(rules_schema(schema), indent=2) + "\n"


def _source_files() -> tuple[Path, Path]:
    package = Path(__file__).resolve().parent.parent
    return package.parent.parent / "README.md", package / "schemas" / "rules.schema.json"


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check``, compare) the README's fact table and the rules schema."""
    parser = argparse.ArgumentParser(prog="python -m stepchart.rules.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report whether the files are current")
    args = parser.parse_args(argv)
    readme, schema = _source_files()
    wanted = {
        readme: readme_with_fact_table(readme.read_text("utf-8")),
        schema: rules_schema_text(json.loads(schema.read_text("utf-8"))),
    }
    stale = [path for path, text in wanted.items() if path.read_text("utf-8") != text]
    for path in stale:
        if args.check:
            print(f"{path} is not what the fact registry generates", file=sys.stderr)
        else:
            path.write_text(wanted[path], "utf-8")
            print(f"rewrote {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
