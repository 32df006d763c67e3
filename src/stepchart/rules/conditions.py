"""The condition AST: a rule's ``require`` parsed once into nodes that every tool walks.

A condition is a fact name (``step.current``), a fact with its argument
(``{actor.privilege: jobForceStop}``), a combinator (``all``, ``any``, ``not``) or a
literal ``true``/``false``. :func:`parse_condition` turns the document's value into
:data:`Node` s, each knowing where it is written, and reports what is wrong as located
problems. The compiler (to predicates), ``check``'s three-valued evaluation on chart
states and its satisfiability walk all read these nodes; nothing reads the raw YAML twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from ..io.yamldoc import Document
from ..vocabulary import RuleLevel
from .facts import FACTS, Fact

__all__ = ["AllOf", "AnyOf", "Const", "FactRef", "Node", "Not", "Tri", "evaluate", "fact_refs", "parse_condition"]

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Const:
    """``true`` or ``false``."""

    value: bool
    path: Location = ()


@dataclass(frozen=True)
class FactRef:
    """A fact read with its argument: None (plain fact), a name, a frozenset of names, or a number.

    ``path`` is where the fact's name is written: the string itself, or the key of
    ``{fact: argument}`` (then ``at_key`` is true).
    """

    fact: Fact
    argument: Any
    path: Location = ()
    at_key: bool = False

    @property
    def name(self) -> str:
        return self.fact.name


@dataclass(frozen=True)
class AllOf:
    """``{all: [...]}``: every part holds."""

    parts: tuple[Node, ...]
    path: Location = ()


@dataclass(frozen=True)
class AnyOf:
    """``{any: [...]}``: some part holds."""

    parts: tuple[Node, ...]
    path: Location = ()


@dataclass(frozen=True)
class Not:
    """``{not: ...}``: the part does not hold."""

    part: Node
    path: Location = ()


Node = Const | FactRef | AllOf | AnyOf | Not

Tri = bool | None
"""A three-valued truth: None where it is not known."""

_SHAPE = "a condition is a fact name, {fact: argument}, {all: [...]}, {any: [...]}, {not: ...}, true or false"


class _Parser:
    """One condition's parse: problems go to ``problems``, located in ``doc`` when there is one."""

    def __init__(self, doc: Document | None, level: RuleLevel, problems: list[Problem]) -> None:
        self.doc = doc
        self.level = level
        self.problems = problems

    def report(self, path: Location, code: str, message: str, *, key: bool = False) -> None:
        if self.doc is not None:
            self.problems.append(self.doc.problem(path, code, message, key=key))
        else:
            self.problems.append(Problem("", 0, 0, code, message, path))

    def node(self, value: Any, path: Location) -> Node:
        if isinstance(value, bool):
            return Const(value, path)
        if isinstance(value, str):
            return self.fact(value, None, path, bare=True)
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key in ("all", "any"):
                if not isinstance(arg, list) or not arg:
                    self.report(path, "bad-condition", f"{key} takes a non-empty list of conditions")
                    return Const(False, path)
                parts = tuple(self.node(x, (*path, key, i)) for i, x in enumerate(arg))
                return AllOf(parts, path) if key == "all" else AnyOf(parts, path)
            if key == "not":
                return Not(self.node(arg, (*path, "not")), path)
            return self.fact(key, arg, (*path, key), bare=False)
        self.report(path, "bad-condition", _SHAPE)
        return Const(False, path)

    def fact(self, name: str, arg: Any, path: Location, *, bare: bool) -> Node:
        fact = FACTS.get(name)
        if fact is None:
            close = [n for n in FACTS if n.split(".")[0] == name.split(".")[0]] or list(FACTS)
            self.report(
                path, "unknown-fact", f"unknown fact {name!r}; known facts: {', '.join(sorted(close))}", key=not bare
            )
            return Const(False, path)
        if fact.level == "step" and self.level == "request":
            self.report(
                path,
                "step-fact-in-request-rule",
                f"{name} is about a target step; a request-level rule cannot use it",
                key=not bare,
            )
        value: Any
        if fact.arg == "none":
            if not bare and arg is not True:
                self.report(path, "bad-argument", f"{name} takes no argument; write it as a plain name")
            value = None
        elif bare:
            self.report(path, "missing-argument", f"{name} needs an argument: {{{name}: ...}} ({fact.arg})")
            return Const(False, path)
        elif fact.arg == "int":
            if not isinstance(arg, int) or isinstance(arg, bool):
                self.report(path, "bad-argument", f"{name} takes a whole number")
            value = arg
        elif fact.arg == "str":
            if not isinstance(arg, str):
                self.report(path, "bad-argument", f"{name} takes one name")
            value = arg
        else:
            items = [arg] if isinstance(arg, str) else arg
            if not isinstance(items, list) or not items or not all(isinstance(x, str) for x in items):
                self.report(path, "bad-argument", f"{name} takes a name or a list of names")
                items = []
            value = frozenset(items)
        return FactRef(fact, value, path, not bare)


def parse_condition(
    value: Any,
    path: Location = (),
    doc: Document | None = None,
    level: RuleLevel = "step",
    problems: list[Problem] | None = None,
) -> Node:
    """The node tree of one condition written at ``path`` of ``doc``.

    Problems (``unknown-fact``, ``bad-argument``, ...) are appended to ``problems``; a
    constant ``false`` stands in for each bad part, so the tree is whole either way.
    Without a document the problems carry no position.
    """
    return _Parser(doc, level, problems if problems is not None else []).node(value, path)


def fact_refs(node: Node) -> Iterator[FactRef]:
    """Every fact the condition reads, in document order."""
    if isinstance(node, FactRef):
        yield node
    elif isinstance(node, AllOf | AnyOf):
        for part in node.parts:
            yield from fact_refs(part)
    elif isinstance(node, Not):
        yield from fact_refs(node.part)


def evaluate(node: Node, fact: Callable[[FactRef], Tri]) -> Tri:
    """Kleene three-valued evaluation: ``fact`` gives each fact's value, None where unknown."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, FactRef):
        return fact(node)
    if isinstance(node, Not):
        inner = evaluate(node.part, fact)
        return None if inner is None else not inner
    parts = [evaluate(p, fact) for p in node.parts]
    if isinstance(node, AllOf):
        return False if False in parts else (True if all(p is True for p in parts) else None)
    return True if True in parts else (False if all(p is False for p in parts) else None)
