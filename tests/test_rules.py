"""The guard-rule compiler: vocabulary, refusals at load time, and the triad of questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepchart import Actor, DefinitionError, Engine
from stepchart.io.yamldoc import parse_yaml
from stepchart.model import Request
from stepchart.model.times import parse_datetime
from stepchart.rules import FACTS, RuleSet, load_rules, parse_rules
from stepchart.rules.context import Context

WF = {
    "workflow": "w",
    "initialStep": "a",
    "steps": [
        {"id": "a", "type": "manual", "assignedType": "User", "assignedTo": "alice", "paths": [{"nextStep": "b"}]},
        {"id": "b", "type": "gp"},
    ],
}


def rules_of(text: str) -> RuleSet:
    return RuleSet(parse_rules(parse_yaml(text, "r.yaml")))


def ctx_for(engine: Engine, actor: Actor, action: str = "Run", step: str = "a") -> Context:
    engine.add_workflow(WF)
    engine.create_job("w", "J1", now="2026-01-01T00:00:00Z")
    job = engine.store.get("J1")
    assert job is not None
    c = engine.context(job, actor, Request(action, [step]), parse_datetime("2026-01-02T00:00:00Z"))
    c.set_target(step)
    return c


def test_shipped_rules_use_only_known_facts_and_every_action_has_rules(base_engine: Engine) -> None:
    """R14/R15: every jobAction type and every side operation is checked by some rule."""
    for rule in base_engine.rules.rules:
        assert rule.facts <= set(FACTS), rule.name
    for action in (
        "Run",
        "Finish",
        "Stop",
        "SetCurrentStep",
        "Hold",
        "ReleaseHold",
        "RefreshStatus",
        "Respond",
        "Complete",
        "Fail",
        "Assign",
    ):
        assert base_engine.rules.for_action("step", action) or base_engine.rules.for_action("request", action)


def test_triad_iter_first_allows(engine: Engine) -> None:
    rs = rules_of(
        """
rules:
  - {name: one, actions: [Run], require: step.current, yields: StepNotCurrent}
  - {name: two, actions: [Run], require: {actor.privilege: p}, yields: InsufficientPrivileges}
  - {name: three, actions: [Run], require: {step.status: [Running]}, yields: NotRunning}
"""
    )
    c = ctx_for(engine, Actor.of("alice"))
    assert [r.name for r in rs.iter_failures(c, "step", "Run")] == ["two", "three"]
    first = rs.first_failure(c, "step", "Run")
    assert first is not None and first.name == "two"
    assert not rs.allows(c, "step", "Run")
    c2 = ctx_for(engine.spawn(), Actor.of("alice", privileges=["p"]))
    assert rs.first_failure(c2, "step", "Run") is not None and rs.first_failure(c2, "step", "Run").name == "three"  # type: ignore[union-attr]


def test_combinators_and_literals(engine: Engine) -> None:
    rs = rules_of(
        """
rules:
  - {name: a, actions: [Run], require: {all: [true, {not: false}, {any: [false, step.inDiagram]}]}, yields: Held}
  - {name: b, actions: [Stop], require: false, yields: NotRunning}
"""
    )
    c = ctx_for(engine, Actor.of("bob"))
    assert rs.allows(c, "step", "Run")
    assert not rs.allows(c, "step", "Stop")


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("rules:\n  - {name: x, actions: [Run], require: step.nope, yields: Held}\n", "unknown-fact", 2),
        (
            "rules:\n  - name: x\n    actions: [Run]\n    require: {step.status: 5}\n    yields: Held\n",
            "bad-argument",
            4,
        ),
        ("rules:\n  - {name: x, actions: [Run], require: step.current, yields: Nope}\n", "bad-value", 2),
        ("rules:\n  - {name: x, actions: [Jump], require: step.current, yields: Held}\n", "bad-value", 2),
        (
            "rules:\n  - {name: x, level: request, actions: [Run], require: step.current, yields: InvalidRequest}\n",
            "step-fact-in-request-rule",
            2,
        ),
        (
            "rules:\n  - {name: x, level: request, actions: [Run], require: true, yields: Held}\n",
            "status-in-request-rule",
            2,
        ),
        (
            "rules:\n  - {name: x, actions: [Run], require: {step.status: [a], step.held: true}, yields: Held}\n",
            "bad-condition",
            2,
        ),
        ("rules:\n  - {name: x, actions: [Run], require: actor.privilege, yields: Held}\n", "missing-argument", 2),
        ("rules:\n  - {name: x, actions: [Run], require: {all: []}, yields: Held}\n", "bad-condition", 2),
        ("rules:\n  - {name: x, actions: [Run], require: true, yields: Held, python: os.system}\n", "unknown-key", 2),
    ],
)
def test_bad_rules_are_refused_with_location(text: str, code: str, line: int) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_rules(parse_yaml(text, "bad.yaml"))
    assert info.value.code == code
    assert info.value.line == line
    assert info.value.file == "bad.yaml"


def test_duplicate_rule_names_and_unknown_before(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rules:\n  - {name: x, actions: [Run], require: true, yields: Held}\n")
    (tmp_path / "b.yaml").write_text(
        "rules:\n  - {name: x, actions: [Run], require: false, yields: Held}\n"
        "  - {name: y, actions: [Run], require: true, yields: Held, before: nowhere}\n"
    )
    with pytest.raises(DefinitionError) as info:
        load_rules(tmp_path)
    codes = {p.code for p in info.value.problems}
    assert codes == {"duplicate-rule", "unknown-rule"}


def test_the_same_rule_twice_counts_once(tmp_path: Path) -> None:
    """A copy of a rules file (a shipped one beside its installed copy) is one definition, not a duplicate."""
    (tmp_path / "a.yaml").write_text("rules:\n  - {name: x, actions: [Run], require: true, yields: Held}\n")
    (tmp_path / "b.yaml").write_text("# a copy\nrules:\n  - {name: x, actions: [Run], require: true, yields: Held}\n")
    assert [r.name for r in load_rules(tmp_path).rules] == ["x"]


def test_before_places_a_rule(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "rules:\n  - {name: x, actions: [Run], require: true, yields: Held}\n"
        "  - {name: y, actions: [Run], require: true, yields: Held}\n"
    )
    (tmp_path / "b.yaml").write_text("rules:\n  - {name: z, actions: [Run], require: true, yields: Held, before: y}\n")
    assert [r.name for r in load_rules(tmp_path).rules] == ["x", "z", "y"]


def test_documents_cannot_name_python() -> None:
    """No fact resolves to an arbitrary callable: names outside the vocabulary are refused."""
    for name in ("os.system", "__import__", "builtins.eval", "step.__class__"):
        with pytest.raises(DefinitionError) as info:
            parse_rules(parse_yaml(f"rules:\n  - {{name: x, actions: [Run], require: {name}, yields: Held}}\n"))
        assert info.value.code == "unknown-fact"


def test_a_condition_is_parsed_once_into_located_nodes() -> None:
    from stepchart.rules.conditions import AllOf, AnyOf, Const, FactRef, Not, fact_refs, parse_condition

    doc = parse_yaml(
        "require: {all: [step.current, {not: {step.status: [Held, Running]}},"
        " {any: [true, {request.stepCount: 1}]}]}\n",
        "c.yaml",
    )
    node = parse_condition(doc.value["require"], ("require",), doc)
    assert isinstance(node, AllOf) and node.path == ("require",)
    current, negated, either = node.parts
    assert current == FactRef(FACTS["step.current"], None, ("require", "all", 0), False)
    assert isinstance(negated, Not) and isinstance(negated.part, FactRef)
    assert negated.part.argument == frozenset({"Held", "Running"})
    assert negated.part.path == ("require", "all", 1, "not", "step.status") and negated.part.at_key
    assert isinstance(either, AnyOf) and either.parts[0] == Const(True, ("require", "all", 2, "any", 0))
    assert [r.name for r in fact_refs(node)] == ["step.current", "step.status", "request.stepCount"]
    text = "rules:\n  - {name: x, actions: [Run], require: {not: job.closed}, yields: Held}\n"
    rule = parse_rules(parse_yaml(text))[0]
    assert isinstance(rule.condition, Not) and rule.facts == {"job.closed"}


def test_fact_metadata_names_only_facts_and_what_it_reads() -> None:
    from stepchart.rules.facts import Fact

    for fact in FACTS.values():
        assert isinstance(fact, Fact) and fact.doc and fact.reads, fact.name
        for other in (fact.within, *fact.excludes, *fact.any_of, fact.any_of_each):
            assert other is None or FACTS[other].arg == ("str" if other == fact.any_of_each else "none"), fact.name
        assert all(FACTS[name].arg == ("none" if arg is None else "str") for name, arg in fact.implies), fact.name
        if fact.within == "step.current":
            assert "record" in fact.reads, fact.name
        if fact.on_chart is not None:
            assert fact.level == "step", fact.name


def test_a_tracer_hears_every_fact_read_and_every_rule_checked(engine: Engine) -> None:
    from stepchart.trace import CheckedRule, Tracer

    class Recorder(Tracer):
        def __init__(self) -> None:
            self.seen: list[tuple[str, ...]] = []

        def fact_read(self, name: str, argument: object, value: bool) -> None:
            self.seen.append(("fact", name, repr(argument), str(value)))

        def rule_checked(self, rule: CheckedRule, action: str, step_id: str | None, passed: bool) -> None:
            self.seen.append(("rule", rule.name, action, str(step_id), str(passed)))

    rs = rules_of(
        """
rules:
  - {name: open, level: request, actions: [Run], require: {not: job.closed}, yields: InvalidRequest}
  - {name: one, actions: [Run], require: step.current, yields: StepNotCurrent}
  - {name: two, actions: [Run], require: {actor.anyPrivilege: [p]}, yields: InsufficientPrivileges}
  - {name: three, actions: [Run], require: step.held, yields: Held}
"""
    )
    c = ctx_for(engine, Actor.of("alice"))
    tracer = Recorder()
    c.tracer = tracer  # type: ignore[attr-defined]
    assert rs.first_failure(c, "request", "Run") is None
    failed = rs.first_failure(c, "step", "Run")
    assert failed is not None and failed.name == "two"
    assert tracer.seen == [
        ("fact", "job.closed", "None", "False"),
        ("rule", "open", "Run", "None", "True"),
        ("fact", "step.current", "None", "True"),
        ("rule", "one", "Run", "a", "True"),
        ("fact", "actor.anyPrivilege", "frozenset({'p'})", "False"),
        ("rule", "two", "Run", "a", "False"),
    ]
    tracer.seen.clear()
    assert [r.name for r in rs.iter_failures(c, "step", "Run")] == ["two", "three"]
    assert [s[1] for s in tracer.seen if s[0] == "rule"] == ["one", "two", "three"]
