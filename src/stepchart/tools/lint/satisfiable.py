"""Rules that can never pass, or never fail, whatever the facts.

A condition is decided by enumerating the truth values of the facts it reads (where
few enough) and keeping only the worlds the facts' own metadata allows: a fact holds
only ``within`` another (no record, no running), ``implies`` or ``excludes`` others,
or asks which value a ``variable`` has (a step has a status exactly when it is current).
Facts made of others (``any_of``, ``any_of_each``) are read as what they are made of.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from ...errors import Problem
from ...io.yamldoc import Document
from ...rules import FACTS, RuleSet
from ...rules.conditions import AllOf, AnyOf, Const, FactRef, Node, Not, fact_refs, parse_condition
from ...rules.facts import Fact, Variable

__all__ = ["MAX_WORLDS", "decide", "rule_problems"]

MAX_WORLDS = 1 << 16
"""Rules whose facts admit more truth assignments than this are not decided."""

_OTHER = "\x00other"
"""A variable's value that no condition names."""

Key = tuple[str, Any]
World = Mapping[Any, Any]


def _values(argument: Any) -> frozenset[Any]:
    return argument if isinstance(argument, frozenset) else frozenset([argument])


def _parts(ref: FactRef) -> list[tuple[Fact, Any]]:
    """(fact, argument) of the plain readings a fact reference stands for."""
    fact = ref.fact
    if fact.any_of:
        return [(FACTS[n], None) for n in fact.any_of]
    if fact.any_of_each is not None:
        return [(FACTS[fact.any_of_each], n) for n in sorted(_values(ref.argument))]
    return [(fact, ref.argument)]


def _holds(node: Node, world: World) -> bool:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, FactRef):
        return any(_reading(fact, arg, world) for fact, arg in _parts(node))
    if isinstance(node, Not):
        return not _holds(node.part, world)
    if isinstance(node, AllOf):
        return all(_holds(p, world) for p in node.parts)
    return any(_holds(p, world) for p in node.parts)


def _reading(fact: Fact, argument: Any, world: World) -> bool:
    if fact.variable is not None:
        return world[("var", fact.variable.name)] in _values(argument)
    return bool(world[(fact.name, argument)])


def _space(node: Node) -> tuple[set[Key], dict[str, set[Any]], dict[str, Variable]]:
    """The atoms and variable domains a condition's worlds range over."""
    atoms: set[Key] = set()
    domains: dict[str, set[Any]] = {}
    variables: dict[str, Variable] = {}
    readings = [part for ref in fact_refs(node) for part in _parts(ref)]
    for fact, argument in readings:
        if fact.variable is not None:
            variables[fact.variable.name] = fact.variable
            domains.setdefault(fact.variable.name, set()).update(_values(argument))
        else:
            atoms.add((fact.name, argument))
        if fact.implies_value is not None:
            domains.setdefault(fact.implies_value[0], set()).add(fact.implies_value[1])
    todo = [fact for fact, _ in readings]
    while todo:  # a fact read is only true within its context fact: that one is read too
        within = todo.pop().within
        if within is not None and (within, None) not in atoms:
            atoms.add((within, None))
            todo.append(FACTS[within])
    for name, values in domains.items():
        values.add(_OTHER)
        var = variables.get(name)
        if var is not None and var.present in atoms:
            values.add(var.empty)
    return atoms, domains, variables


def _valid(world: World, variables: Mapping[str, Variable]) -> bool:
    """The facts' own dependencies: a world that breaks one cannot happen."""
    for key, value in world.items():
        if key[0] == "var" or not value:
            continue
        fact = FACTS[key[0]]
        if fact.within is not None and world.get((fact.within, None)) is False:
            return False
        if any(world.get((other, None)) for other in fact.excludes):
            return False
        if any(world.get(k) is False for k in fact.implies):
            return False
        if fact.implies_value is not None:
            has = world.get(("var", fact.implies_value[0]))
            if has is not None and has != fact.implies_value[1]:
                return False
    for name, var in variables.items():
        present = world.get(var.present) if var.present is not None else None
        if present is not None and present != (world[("var", name)] != var.empty):
            return False
    return True


def _worlds(atoms: set[Key], domains: dict[str, set[Any]]) -> Iterator[dict[Any, Any]]:
    atom_list = sorted(atoms, key=repr)
    var_list = sorted(domains)
    var_values = [sorted(domains[n], key=repr) for n in var_list]
    for bits in itertools.product((False, True), repeat=len(atom_list)):
        for choice in itertools.product(*var_values):
            world: dict[Any, Any] = dict(zip(atom_list, bits, strict=True))
            world.update({("var", n): v for n, v in zip(var_list, choice, strict=True)})
            yield world


def decide(require: Any) -> tuple[bool, bool] | None:
    """(can pass, can fail) of a condition (a node, or as written) over every possible world.

    None when there are too many worlds, or the condition does not parse.
    """
    if isinstance(require, Const | FactRef | AllOf | AnyOf | Not):
        node: Node = require
    else:
        problems: list[Problem] = []
        node = parse_condition(require, problems=problems)
        if problems:
            return None
    atoms, domains, variables = _space(node)
    size = 1 << len(atoms)
    for values in domains.values():
        size *= len(values)
    if size > MAX_WORLDS:
        return None
    can_pass = can_fail = False
    for world in _worlds(atoms, domains):
        if not _valid(world, variables):
            continue
        if _holds(node, world):
            can_pass = True
        else:
            can_fail = True
        if can_pass and can_fail:
            return True, True
    return can_pass, can_fail


def rule_problems(doc: Document, ruleset: RuleSet | None = None) -> list[Problem]:
    """Rules of one file whose ``require`` can never pass, or never fail.

    A literal ``require: false`` is taken as meant (the action is forbidden); a literal
    ``true`` never refuses and is reported. The conditions are the rule set's parsed ones.
    """
    parsed = {r.name: r.condition for r in ruleset.rules if r.file == doc.file} if ruleset is not None else {}
    problems: list[Problem] = []
    for i, r in enumerate(doc.value.get("rules", [])):
        if not isinstance(r, dict) or "require" not in r or r["require"] is False:
            continue
        verdict = decide(parsed.get(str(r.get("name")), r["require"]))
        if verdict is None:
            continue
        can_pass, can_fail = verdict
        actions = ", ".join(r.get("actions", []))
        if not can_pass:
            problems.append(
                doc.problem(
                    ("rules", i, "require"), "rule-never-passes",
                    f"rule {r.get('name')!r} can never pass whatever the facts: {actions} always yields "
                    f"{r.get('yields')} (write require: false if that is meant)",
                )
            )  # fmt: skip
        elif not can_fail:
            problems.append(
                doc.problem(
                    ("rules", i, "require"), "rule-never-fails",
                    f"rule {r.get('name')!r} holds whatever the facts: it never refuses {actions}",
                    severity="warning",
                )
            )  # fmt: skip
    return problems
