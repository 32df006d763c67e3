"""The rule language: conditions over a closed vocabulary of facts, compiled into ordered rule sets."""

from ..vocabulary import ACTION_TYPES, ACTIONS, ERROR_TYPES, STEP_STATUSES
from .facts import FACTS, Fact
from .ruleset import Rule, RuleSet, load_rules, order_rules, parse_rules

__all__ = [
    "ACTIONS",
    "ACTION_TYPES",
    "ERROR_TYPES",
    "FACTS",
    "STEP_STATUSES",
    "Fact",
    "Rule",
    "RuleSet",
    "load_rules",
    "order_rules",
    "parse_rules",
]
