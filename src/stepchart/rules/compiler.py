"""Conditions compiled into predicates over a :class:`~stepchart.rules.context.Context`.

Each fact node becomes a call of its fact's evaluator with the argument bound once; an
attached tracer (``ctx.tracer``) hears every fact read, so explain and coverage observe
the rules without a second interpreter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .conditions import AllOf, Const, FactRef, Node, Not

if TYPE_CHECKING:
    from .context import Context

__all__ = ["Predicate", "compile_condition"]

Predicate = Callable[["Context"], bool]


def compile_condition(node: Node) -> Predicate:
    """The predicate of a condition: true when the condition holds in the context."""
    if isinstance(node, Const):
        value = node.value
        return lambda _c: value
    if isinstance(node, FactRef):
        return _fact_predicate(node)
    if isinstance(node, Not):
        inner = compile_condition(node.part)
        return lambda c: not inner(c)
    parts = [compile_condition(p) for p in node.parts]
    if isinstance(node, AllOf):
        return lambda c: all(p(c) for p in parts)
    return lambda c: any(p(c) for p in parts)


def _fact_predicate(node: FactRef) -> Predicate:
    name, value, fn = node.fact.name, node.argument, node.fact.fn

    def predicate(c: Context) -> bool:
        result = fn(c, value)
        tracer = c.tracer
        if tracer is not None:
            tracer.fact_read(name, value, result)
        return result

    return predicate
