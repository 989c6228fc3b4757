"""Running the ``example`` blocks of rulesets, and measuring what they cover.

An example gives facts and expects outcomes::

    example "constipated, at bedtime":
        given constipation, long_term, bedtime
        expect prefer glycinate
        expect not prefer citrate

Each ``expect`` is checked against the report the engine produces for the
given facts (every other fact unknown), so an example tests exactly what a
person would see.  An outcome is expected *fired or conditional*, unless the
expectation says ``conditional``, which requires a conditional one.

Coverage says which parts of the rules no example exercised: rules that
never fired, ``unless`` clauses that never defeated their rule, and atomic
tests of conditions never seen both true and false.

Test files: a ``.cramp`` file that ``extends`` a ruleset and holds only
examples tests that ruleset from outside (a clinic's own test cases for
``leg_cramps``).  A ruleset's base examples are not run when testing a
ruleset that extends it; they belong to the base.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import nodes
from cramprules.evaluator import environment, interpret
from cramprules.exceptions import CramprulesError, RulesetError
from cramprules.nodes import names_in
from cramprules.outcomes import describe_value
from cramprules.report import Report, TraceEntry
from cramprules.ruleset import Ruleset
from cramprules.states import State
from cramprules.unparse import unparse

__all__ = [
    "ConditionCoverage",
    "Coverage",
    "ExampleResult",
    "ExampleRun",
    "Failure",
    "RuleCoverage",
    "run_example",
    "run_examples",
    "run_ruleset",
]


# ---------------------------------------------------------------- results


@attrs.frozen
class Failure:
    """One expectation that did not hold: what was expected, what happened, and why."""

    expectation: nodes.Expectation
    expected: str
    actual: str
    trace: tuple[TraceEntry, ...]

    @property
    def line(self) -> int | None:
        return self.expectation.span.line if self.expectation.span else None


@attrs.frozen
class ExampleResult:
    """The outcome of one example."""

    example: nodes.Example
    facts: Mapping[str, AnyType]
    failures: tuple[Failure, ...] = ()
    error: str | None = None
    """Why the example could not run at all (a fact the ruleset rejects)."""
    report: Report | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def passed(self) -> bool:
        return self.error is None and not self.failures

    @property
    def label(self) -> str:
        return self.example.label

    @property
    def origin(self) -> str | None:
        return self.example.span.origin if self.example.span else None

    @property
    def line(self) -> int | None:
        return self.example.span.line if self.example.span else None

    def describe(self) -> str:
        """The failure as a person reads it: expected, actual, and the trace of the rules involved."""
        where = f"{self.origin}:{self.line}" if self.line else (self.origin or "?")
        lines = [f'example "{self.label}" ({where})']
        lines.append(f"  given {describe_given(self.facts)}")
        if self.error is not None:
            lines.append(f"  error: {self.error}")
        for failure in self.failures:
            at = f" (line {failure.line})" if failure.line else ""
            lines.append(f"  {unparse(failure.expectation)}{at}")
            lines.append(f"    expected: {failure.expected}")
            lines.append(f"    actual:   {failure.actual}")
            lines.extend(f"    - {describe_entry(entry)}" for entry in failure.trace)
        return "\n".join(lines)


@attrs.frozen
class ConditionCoverage:
    """One atomic test of a rule's condition or ``unless``, and the values examples gave it."""

    rule: str
    text: str
    clause: str
    """``if`` or ``unless``."""
    origin: str | None
    line: int | None
    seen_true: bool
    seen_false: bool

    @property
    def covered(self) -> bool:
        return self.seen_true and self.seen_false


@attrs.frozen
class RuleCoverage:
    rule: str
    origin: str | None
    line: int | None
    fired: bool
    has_unless: bool
    defeated: bool
    conditions: tuple[ConditionCoverage, ...]


def _percent(part: int, whole: int) -> float:
    return 100.0 if whole == 0 else 100.0 * part / whole


@attrs.frozen
class Coverage:
    """What the examples exercised, rule by rule."""

    rules: tuple[RuleCoverage, ...]

    @property
    def rules_fired(self) -> int:
        return sum(r.fired for r in self.rules)

    @property
    def rule_percent(self) -> float:
        return _percent(self.rules_fired, len(self.rules))

    @property
    def unless_total(self) -> int:
        return sum(r.has_unless for r in self.rules)

    @property
    def unless_defeated(self) -> int:
        return sum(r.has_unless and r.defeated for r in self.rules)

    @property
    def unless_percent(self) -> float:
        return _percent(self.unless_defeated, self.unless_total)

    @property
    def conditions(self) -> tuple[ConditionCoverage, ...]:
        return tuple(c for r in self.rules for c in r.conditions)

    @property
    def condition_percent(self) -> float:
        tests = self.conditions
        return _percent(sum(c.covered for c in tests), len(tests))

    def to_dict(self) -> dict[str, AnyType]:
        return {
            "rules": {
                "covered": self.rules_fired,
                "total": len(self.rules),
                "percent": round(self.rule_percent, 1),
                "missed": [
                    {"rule": r.rule, "origin": r.origin, "line": r.line} for r in self.rules if not r.fired
                ],
            },
            "unless": {
                "covered": self.unless_defeated,
                "total": self.unless_total,
                "percent": round(self.unless_percent, 1),
                "missed": [
                    {"rule": r.rule, "origin": r.origin, "line": r.line}
                    for r in self.rules
                    if r.has_unless and not r.defeated
                ],
            },
            "conditions": {
                "covered": sum(c.covered for c in self.conditions),
                "total": len(self.conditions),
                "percent": round(self.condition_percent, 1),
                "missed": [
                    {
                        "rule": c.rule,
                        "clause": c.clause,
                        "test": c.text,
                        "origin": c.origin,
                        "line": c.line,
                        "seen_true": c.seen_true,
                        "seen_false": c.seen_false,
                    }
                    for c in self.conditions
                    if not c.covered
                ],
            },
        }


@attrs.frozen
class ExampleRun:
    """Every example of one ruleset, and the coverage they reach."""

    target: str
    ruleset: str | None
    results: tuple[ExampleResult, ...]
    coverage: Coverage | None
    load_error: RulesetError | None = attrs.field(default=None, eq=False)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.passed for r in self.results)


# ---------------------------------------------------------------- expectations


def describe_entry(entry: TraceEntry) -> str:
    """One trace entry on one line: the rule, where it is, what happened and why."""
    place = f"{entry.origin}:{entry.line}" if entry.origin else f"line {entry.line}"
    outcome = entry.outcome.replace("_", " ")
    reason = entry.reason if entry.reason.startswith(outcome) else f"{outcome}: {entry.reason}"
    return f"rule '{entry.rule}' ({place}): {reason}"


def describe_given(facts: Mapping[str, AnyType]) -> str:
    if not facts:
        return "nothing (every fact unknown)"
    return ", ".join(
        f"{name} = {'yes' if value is True else 'no' if value is False else describe_value(value)}"
        for name, value in facts.items()
    )


def _outcomes(report: Report, action: nodes.Action) -> list[tuple[str, str]]:
    """``(description, status)`` of everything in the report about the action's target."""
    out: list[tuple[str, str]] = []
    if action.kind in ("recommend", "prefer", "avoid"):
        for rec in report.recommendations:
            if rec.option == action.target:
                out.append((unparse(nodes.Action(rec.action, rec.option, over=rec.over)), rec.status))
    elif action.kind == "refer":
        for ref in report.referrals:
            if ref.to == action.target:
                out.append((unparse(nodes.Action("refer", ref.to, urgent=ref.urgent)), ref.status))
    else:
        for cause in report.causes:
            if cause.name == action.target:
                out.append((unparse(nodes.Action("suspect", cause.name)), cause.status))
    return out


def _matches(report: Report, action: nodes.Action, conditional: bool) -> bool:
    statuses = ("conditional",) if conditional else ("fired", "conditional")
    if action.kind in ("recommend", "prefer", "avoid"):
        return any(
            rec.action == action.kind
            and rec.option == action.target
            and rec.status in statuses
            and set(action.over) <= set(rec.over)
            for rec in report.recommendations
        )
    if action.kind == "refer":
        return any(
            ref.to == action.target and (ref.urgent or not action.urgent) and ref.status in statuses
            for ref in report.referrals
        )
    return any(c.name == action.target and c.status in statuses for c in report.causes)


def _relevant_rules(report: Report, expectation: nodes.Expectation) -> set[str]:
    """The rules that could give (or did give) the expected outcome."""
    program = report.ruleset.program
    out: set[str] = set()
    if expectation.question is not None:
        for rule in program.rules:
            if expectation.question in names_in(rule.condition, rule.unless):
                out.add(rule.name)
        return out
    action = expectation.action
    assert action is not None
    for rule in program.rules:
        for mine in rule.actions:
            if action.kind in ("recommend", "prefer", "avoid"):
                if mine.kind in ("recommend", "prefer", "avoid") and mine.target == action.target:
                    out.add(rule.name)
            elif mine.kind == action.kind and mine.target == action.target:
                out.add(rule.name)
    return out


def _check(report: Report, expectation: nodes.Expectation) -> Failure | None:
    if expectation.question is not None:
        asked = [q.fact for q in report.questions]
        holds = expectation.question in asked
        expected = f"'{expectation.question}' among the questions"
        actual = "questions: " + (", ".join(asked) if asked else "none")
    else:
        action = expectation.action
        assert action is not None
        holds = _matches(report, action, expectation.conditional)
        expected = f"'{action}' ({'conditional' if expectation.conditional else 'fired or conditional'})"
        found = _outcomes(report, action)
        actual = (
            "; ".join(f"{text} ({status})" for text, status in found)
            if found
            else f"nothing about {action.target}"
        )
    if holds != expectation.negated:
        return None
    if expectation.negated:
        expected = "no " + expected
    names = _relevant_rules(report, expectation)
    trace = tuple(t for t in report.trace if t.rule in names)
    return Failure(expectation, expected, actual, trace)


def example_facts(example: nodes.Example) -> dict[str, AnyType]:
    """The input of an example: ``given x`` is true, ``x is unknown`` is left out."""
    return {g.fact: g.value for g in example.given if g.value is not None}


def run_example(ruleset: Ruleset, example: nodes.Example) -> ExampleResult:
    facts = example_facts(example)
    try:
        report = ruleset.evaluate(facts)
        failures = tuple(f for e in example.expectations if (f := _check(report, e)) is not None)
    except CramprulesError as exc:
        return ExampleResult(example, facts, error=str(exc))
    return ExampleResult(example, facts, failures, report=report)


# ---------------------------------------------------------------- coverage


def _leaves(node: nodes.Condition) -> Iterator[nodes.Condition]:
    """The atomic tests of a condition, left to right."""
    if isinstance(node, nodes.Not):
        yield from _leaves(node.operand)
    elif isinstance(node, (nodes.All, nodes.Any)):
        for operand in node.operands:
            yield from _leaves(operand)
    else:
        yield node


def coverage(ruleset: Ruleset, reports: Sequence[Report], origins: Iterable[str] | None = None) -> Coverage:
    """What ``reports`` (one per example) exercised of ``ruleset``'s rules.

    With ``origins``, only the rules written in those files count.
    """
    wanted = None if origins is None else set(origins)
    program = ruleset.program
    envs = [environment(program, r.values, r.states, ruleset.interpreter_functions) for r in reports]
    rules = []
    for i, rule in enumerate(program.rules):
        if wanted is not None and rule.origin not in wanted:
            continue
        states = [r.states[i] for r in reports]
        tests: list[ConditionCoverage] = []
        clauses: list[tuple[str, nodes.Condition]] = [("if", rule.condition)]
        if rule.unless is not None:
            clauses.append(("unless", rule.unless))
        for clause, condition in clauses:
            for leaf in _leaves(condition):
                values = [interpret(leaf, env) for env in envs]
                tests.append(
                    ConditionCoverage(
                        rule=rule.name,
                        text=unparse(leaf),
                        clause=clause,
                        origin=leaf.span.origin if leaf.span else rule.origin,
                        line=leaf.span.line if leaf.span else rule.line,
                        seen_true=any(v is True for v in values),
                        seen_false=any(v is False for v in values),
                    )
                )
        rules.append(
            RuleCoverage(
                rule=rule.name,
                origin=rule.origin,
                line=rule.line,
                fired=any(s in (State.FIRED, State.CONDITIONAL) for s in states),
                has_unless=rule.unless is not None,
                defeated=any(s == State.DEFEATED for s in states),
                conditions=tuple(tests),
            )
        )
    return Coverage(tuple(rules))


# ---------------------------------------------------------------- whole rulesets


def run_examples(
    ruleset: Ruleset,
    examples: Iterable[nodes.Example] | None = None,
    origins: Iterable[str] | None = None,
) -> tuple[tuple[ExampleResult, ...], Coverage]:
    """Run ``examples`` (default: all of the ruleset's) and measure their coverage
    (of the rules written in ``origins``, default all)."""
    chosen = tuple(ruleset.program.examples if examples is None else examples)
    results = tuple(run_example(ruleset, e) for e in chosen)
    reports = [r.report for r in results if r.report is not None]
    return results, coverage(ruleset, reports, origins)


def own_examples(ruleset: Ruleset, base: Ruleset | None) -> tuple[nodes.Example, ...]:
    """The ruleset's examples, less those that come with the ruleset it extends."""
    examples = ruleset.program.examples
    if base is None:
        return examples
    inherited = {origin for origin, _ in base.program.texts}
    return tuple(e for e in examples if e.span is None or e.span.origin not in inherited)


def own_rule_origins(ruleset: Ruleset, base: Ruleset | None) -> set[str] | None:
    """The files whose rules coverage counts: those not from the base ruleset.

    A file that extends a ruleset and adds no rules of its own is a test
    file for that ruleset: then every rule counts (None).
    """
    if base is None:
        return None
    inherited = {origin for origin, _ in base.program.texts}
    own = {r.origin for r in ruleset.program.rules if r.origin is not None and r.origin not in inherited}
    return own or None


def run_ruleset(
    load: Callable[[], Ruleset],
    target: str,
    *,
    base: Callable[[], Ruleset] | None = None,
) -> ExampleRun:
    """Load a ruleset and run its examples; a ruleset that does not load is reported, not raised."""
    try:
        ruleset = load()
    except RulesetError as exc:
        return ExampleRun(target, None, (), None, load_error=exc)
    base_ruleset = None
    if base is not None:
        try:
            base_ruleset = base()
        except RulesetError:
            base_ruleset = None
    results, measured = run_examples(
        ruleset, own_examples(ruleset, base_ruleset), own_rule_origins(ruleset, base_ruleset)
    )
    return ExampleRun(target, ruleset.name, results, measured)
