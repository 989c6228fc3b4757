"""The checked ruleset: every name resolved, every fact typed.

The checker produces a :class:`Program` from syntax trees; the compiler, the
static analyses and the explanations all read it.  It is plain data.
"""

from __future__ import annotations

import datetime
from typing import Literal

import attrs

from cramprules import nodes
from cramprules.exceptions import Diagnostic

__all__ = [
    "CauseSpec",
    "FactKind",
    "FactSpec",
    "OptionSpec",
    "Program",
    "RuleSpec",
    "SourceSpec",
    "rule_links",
]

FactKind = Literal["bool", "number", "enum"]


@attrs.frozen
class FactSpec:
    """An input fact: its type, its allowed values and the question to ask."""

    name: str
    kind: FactKind
    question: str | None = None
    low: float | int | None = None
    high: float | int | None = None
    values: tuple[str, ...] = ()
    unit: str | None = None
    derived: bool = False
    inferred: bool = False
    span: nodes.Span | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def prompt(self) -> str:
        """The question to ask a person, or a plain one made from the name."""
        if self.question:
            return self.question
        words = self.name.replace("_", " ")
        if self.kind == "bool":
            return f"{words[:1].upper()}{words[1:]}?"
        return f"What is your {words}?"

    def describe_type(self) -> str:
        if self.kind == "bool":
            return "yes/no"
        if self.kind == "enum":
            return "one of " + ", ".join(self.values)
        if self.low is not None and self.high is not None:
            return f"a number from {self.low} to {self.high}"
        return "a number"


@attrs.frozen
class OptionSpec:
    """Something a rule can recommend, prefer or advise against."""

    name: str
    label: str
    group: str | None = None
    inferred: bool = False
    span: nodes.Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class CauseSpec:
    """A cause rules can suspect; other rules test it like a fact."""

    name: str
    label: str
    sources: tuple[str, ...] = ()
    inferred: bool = False
    span: nodes.Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class SourceSpec:
    name: str
    label: str
    url: str | None = None
    span: nodes.Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class RuleSpec:
    """A rule with its names resolved, ready to compile."""

    name: str
    anonymous: bool
    condition: nodes.Condition
    actions: tuple[nodes.Action, ...]
    unless: nodes.Condition | None = None
    because: str | None = None
    detail: str | None = None
    sources: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    priority: int = 0
    evidence: str | None = None
    reviewed: datetime.date | None = None
    status: str = "production"
    author: str | None = None
    specificity: int = 1
    span: nodes.Span | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def urgent(self) -> bool:
        """Whether the rule gives an urgent referral: the safety tier."""
        return any(a.kind == "refer" and a.urgent for a in self.actions)

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def origin(self) -> str | None:
        return self.span.origin if self.span else None


@attrs.frozen
class Program:
    """A whole checked ruleset, with its includes, base and extensions merged."""

    name: str
    title: str | None
    version: str | None
    author: str | None
    reviewed: datetime.date | None
    status: str
    facts: dict[str, FactSpec]
    options: dict[str, OptionSpec]
    causes: dict[str, CauseSpec]
    sources: dict[str, SourceSpec]
    groups: dict[str, str]
    """Option groups: name -> heading, in declaration order."""
    rules: tuple[RuleSpec, ...]
    """The rules that take part in evaluation, in source order."""
    excluded: tuple[RuleSpec, ...]
    """Rules left out: ``testing`` ones (unless asked for) and ``retired`` ones."""
    order: tuple[int, ...]
    """Indices into ``rules`` in dependency order: causes before their users."""
    functions: tuple[str, ...]
    invariants: tuple[nodes.Invariant, ...]
    examples: tuple[nodes.Example, ...]
    texts: tuple[tuple[str, str], ...] = attrs.field(repr=False)
    """``(origin, text)`` of every file read, in order, for the source hash."""
    diagnostics: tuple[Diagnostic, ...] = ()
    """Warnings and notes found while checking (inferred names, ...)."""
    documents: tuple[nodes.Document, ...] = attrs.field(default=(), repr=False, eq=False)

    def rule(self, name: str) -> RuleSpec:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


def rule_links(program: Program) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Which rules suspect each cause, and which rules override each rule, by index.

    The deciders, the interpreter and the columnar evaluator all follow these
    links; building them once per ruleset keeps every one of them linear."""
    concluders: dict[str, list[int]] = {}
    overriders: dict[str, list[int]] = {}
    for index, rule in enumerate(program.rules):
        for action in rule.actions:
            if action.kind == "suspect":
                concluders.setdefault(action.target, []).append(index)
        for name in rule.overrides:
            overriders.setdefault(name, []).append(index)
    return concluders, overriders
