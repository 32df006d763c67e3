"""Rules: named preconditions parsed from YAML, placed in checking order, indexed by level and action."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DefinitionError, Problem
from ..io.files import walk_files
from ..io.schemas import check_document
from ..io.yamldoc import Document, read_yaml_file
from ..vocabulary import ACTIONS, RULE_ERROR_TYPES, RULE_LEVELS, STEP_STATUSES, RuleLevel
from .compiler import Predicate, compile_condition
from .conditions import Const, Node, fact_refs, parse_condition

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Rule", "RuleSet", "load_rules", "order_rules", "parse_rules"]


@dataclass(frozen=True)
class Rule:
    """A named precondition: when ``require`` is false the action yields ``yields``.

    ``require`` is the condition as written; ``condition`` its parsed tree, which the
    ``predicate`` was compiled from and tools walk.
    """

    name: str
    actions: frozenset[str]
    level: RuleLevel
    yields: str
    predicate: Predicate = field(compare=False)
    require: Any = None
    description: str = ""
    before: str | None = None
    file: str = ""
    line: int = 0
    facts: frozenset[str] = frozenset()
    condition: Node = field(default=Const(True), compare=False)


class RuleSet:
    """Rules in checking order, indexed by level and action.

    The jsonschema triad: :meth:`iter_failures` lists every failing rule,
    :meth:`first_failure` gives the one that decides, :meth:`allows` just answers.
    With a tracer on the context (``ctx.tracer``), each rule checked is reported to it.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self._index: dict[tuple[str, str], tuple[Rule, ...]] = {}
        for level in RULE_LEVELS:
            for action in ACTIONS:
                self._index[(level, action)] = tuple(r for r in self.rules if r.level == level and action in r.actions)

    def for_action(self, level: RuleLevel, action: str) -> tuple[Rule, ...]:
        return self._index[(level, action)]

    def iter_failures(self, ctx: Context, level: RuleLevel, action: str) -> Iterator[Rule]:
        tracer = ctx.tracer
        step_id = ctx.step_id if level == "step" else None
        for rule in self._index[(level, action)]:
            passed = rule.predicate(ctx)
            if tracer is not None:
                tracer.rule_checked(rule, action, step_id, passed)
            if not passed:
                yield rule

    def first_failure(self, ctx: Context, level: RuleLevel, action: str) -> Rule | None:
        tracer = ctx.tracer
        if tracer is None:
            for rule in self._index[(level, action)]:
                if not rule.predicate(ctx):
                    return rule
            return None
        step_id = ctx.step_id if level == "step" else None
        for rule in self._index[(level, action)]:
            passed = rule.predicate(ctx)
            tracer.rule_checked(rule, action, step_id, passed)
            if not passed:
                return rule
        return None

    def allows(self, ctx: Context, level: RuleLevel, action: str) -> bool:
        return self.first_failure(ctx, level, action) is None


def parse_rules(doc: Document) -> list[Rule]:
    """Check a parsed rules document and compile each rule."""
    problems = check_document(doc, "rules")
    if problems:
        raise DefinitionError(problems)
    rules: list[Rule] = []
    for i, r in enumerate(doc.value["rules"]):
        level: RuleLevel = r.get("level", "step")
        condition = parse_condition(r["require"], ("rules", i, "require"), doc, level, problems)
        if level == "request" and r["yields"] in STEP_STATUSES:
            problems.append(
                doc.problem(
                    ("rules", i, "yields"),
                    "status-in-request-rule",
                    f"a request-level rule yields a request error type ({', '.join(RULE_ERROR_TYPES)}), "
                    f"not the step status {r['yields']!r}",
                )
            )
        rules.append(
            Rule(
                r["name"],
                frozenset(r["actions"]),
                level,
                r["yields"],
                compile_condition(condition),
                r["require"],
                r.get("description", ""),
                r.get("before"),
                doc.file,
                doc.mark(("rules", i))[0],
                frozenset(f.name for f in fact_refs(condition)),
                condition,
            )
        )
    if problems:
        raise DefinitionError(problems)
    return rules


def order_rules(rules: Sequence[Rule], unknown_hint: str = "") -> tuple[list[Problem], list[Rule]]:
    """Refuse duplicate names and place every ``before:`` rule; returns (problems, checking order).

    The same rule twice (equal in all but its file and line: a copy of a shipped rules
    file) counts once; two different rules of one name are ``duplicate-rule``.
    """
    problems: list[Problem] = []
    seen: dict[str, Rule] = {}
    unique: list[Rule] = []
    for r in rules:
        if r.name in seen and replace(r, file="", line=0) == replace(seen[r.name], file="", line=0):
            continue  # the same rule twice (a copy of a shipped rules file): counted once
        unique.append(r)
        if r.name in seen:
            where = f"{seen[r.name].file}:{seen[r.name].line}"
            problems.append(
                Problem(r.file, r.line, 1, "duplicate-rule", f"rule {r.name!r} is already defined at {where}")
            )
        seen[r.name] = r
    ordered = [r for r in unique if r.before is None]
    for r in unique:
        if r.before is None:
            continue
        at = next((i for i, x in enumerate(ordered) if x.name == r.before), None)
        if at is None:
            message = f"rule {r.name!r} goes before {r.before!r}, which is not a rule{unknown_hint}"
            problems.append(Problem(r.file, r.line, 1, "unknown-rule", message))
            continue
        ordered.insert(at, r)
    return problems, ordered


def _rule_files(entry: str | Path) -> list[Path]:
    """The rules files of one entry: a file as named, or a folder's ``*.yaml``/``*.yml`` in name order (one level)."""
    p = Path(entry)
    if not p.is_dir():
        return [p]
    found, _missing = walk_files([p], recursive=False)
    return [f.path for f in found]


def load_rules(*dirs_or_files: str | Path) -> RuleSet:
    """Load rules files (folders: every ``*.yaml``/``*.yml`` in name order) into one ordered set.

    File order then position is checking order; a rule with ``before: NAME`` moves just
    before the named rule, so a designer's own file can slot a check in anywhere.
    """
    problems: list[Problem] = []
    rules: list[Rule] = []
    for entry in dirs_or_files:
        for f in _rule_files(entry):
            try:
                rules.extend(parse_rules(read_yaml_file(f)))
            except DefinitionError as exc:
                problems.extend(exc.problems)
    order_problems, ordered = order_rules(rules)
    problems.extend(order_problems)
    if problems:
        raise DefinitionError(problems)
    return RuleSet(ordered)
