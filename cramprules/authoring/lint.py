"""``cramprules check``: every error, and what static analysis finds beyond them.

A ruleset that loads can still be wrong: a condition no input satisfies, a
rule whose every outcome always loses, ``prefer X`` and ``avoid X`` firing
together with nothing saying which the author meant, a recommendation that
cites no source, an invariant that does not hold.  Each finding is a
:class:`~cramprules.exceptions.Diagnostic` (code, severity, message,
file:line:column, hint), the same value the parser and checker report, so
one renderer and one SARIF writer serve them all.

The analyses that ask "can this ever happen?" try every combination of
representative values of the facts that matter (:mod:`.space`), and say so
(``analysis-skipped``) when there are too many to try.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from cramprules import nodes
from cramprules.authoring.findings import CODES, CheckOptions, CheckResult, Code
from cramprules.authoring.invariants import InvariantResult, verify_all
from cramprules.authoring.space import (
    Dependencies,
    Space,
    TooLarge,
    opaque_tests,
    representatives,
)
from cramprules.authoring.targets import Loader, loaders
from cramprules.checker import DiagnosticSink
from cramprules.claims import resolve
from cramprules.evaluator import Env, Value, interpret
from cramprules.exceptions import RulesetError, Severity
from cramprules.model import Program, RuleSpec
from cramprules.nodes import names_in
from cramprules.ruleset import Ruleset
from cramprules.states import State
from cramprules.unparse import invariant_body, unparse

if TYPE_CHECKING:
    from cramprules.engine import Engine

__all__ = [
    "CODES",
    "CheckOptions",
    "CheckResult",
    "Code",
    "analyse",
    "check_ruleset",
    "check_target",
]

_INFERRED = ("inferred-fact", "inferred-option", "inferred-cause")
_PLUGIN = re.compile(r"^<plugin ([^\s:>#]+)")


# ---------------------------------------------------------------- locations


def _where(rule: RuleSpec) -> str:
    return f"{rule.origin}:{rule.line}" if rule.span else "(unknown place)"


def _plugin_of(rule: RuleSpec) -> str | None:
    match = _PLUGIN.match(rule.origin or "")
    return match.group(1) if match else None


def _header(program: Program) -> nodes.RulesetHeader | None:
    for document in program.documents[:1]:
        for statement in document.statements:
            if isinstance(statement, nodes.RulesetHeader):
                return statement
    return None


# ---------------------------------------------------------------- the analyses


class _Analysis:
    def __init__(self, ruleset: Ruleset, options: CheckOptions) -> None:
        self.ruleset = ruleset
        self.program = ruleset.program
        self.options = options
        self.sink = DiagnosticSink.of_texts(self.program.texts)
        self.dependencies = Dependencies.of(self.program, ruleset.claims)
        self.values = representatives(self.program)
        self.skipped: dict[str, list[str]] = {}
        self.concluded = {a.target for r in self.program.rules for a in r.actions if a.kind == "suspect"}

    def add(
        self,
        code: str,
        message: str,
        span: nodes.Span | None,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        """Report a finding; its severity is its code's unless given."""
        self.sink.add(code, severity or CODES[code].severity, message, span, hint)

    def skip(self, analysis: str, what: str) -> None:
        self.skipped.setdefault(analysis, []).append(what)

    @property
    def all_rules(self) -> tuple[RuleSpec, ...]:
        return (*self.program.rules, *self.program.excluded)

    def run(self) -> None:
        self.checker_notes()
        never_true = self.conditions()
        self.reachability(never_true)
        self.redundant()
        self.conflicts()
        self.unused()
        self.provenance()
        self.safety()
        for analysis, what in self.skipped.items():
            shown = ", ".join(what[:5]) + (f" and {len(what) - 5} more" if len(what) > 5 else "")
            self.add(
                "analysis-skipped",
                f"{analysis} was not analysed for {shown}: too many combinations "
                f"(more than {self.options.limit:,})",
                None,
                hint="raise the limit with --max-combinations, or split large rules into causes",
            )

    def invariants(self, results: Sequence[InvariantResult]) -> None:
        """Report the invariants that fail or could not be verified."""
        for result in results:
            invariant = result.invariant
            if result.status == "fails":
                example = result.counterexample
                assert example is not None
                self.add(
                    "invariant-failed",
                    f'invariant "{invariant.label}" does not hold: with {example.describe_facts()} '
                    f"(all other facts unknown), {example.outcome}",
                    invariant.span,
                    hint=f"the invariant says: {invariant_body(invariant)}; fix the rules or the invariant",
                )
            elif result.status == "unverified":
                self.add(
                    "invariant-unverified",
                    f'invariant "{invariant.label}" was not verified: {result.reason}',
                    invariant.span,
                    hint="raise --max-combinations, or narrow the invariant",
                )

    # ------------------------------------------------------------ checker notes

    def checker_notes(self) -> None:
        for diagnostic in self.program.diagnostics:
            if diagnostic.code == "cause-never-suspected":
                continue  # reported as unused-cause
            if diagnostic.code in _INFERRED:
                if not self.options.strict:
                    continue
                diagnostic = attrs.evolve(diagnostic, severity="warning")
                if diagnostic.hint is None:
                    named = re.search(r"'([^']+)'", diagnostic.message)
                    kind = diagnostic.code.removeprefix("inferred-")
                    name = named.group(1) if named else "NAME"
                    diagnostic = attrs.evolve(diagnostic, hint=f'declare it: {kind} {name} "..."')
            self.sink.keep(diagnostic)

    # ------------------------------------------------------------ conditions that never hold

    def _local_space(self, *conditions: nodes.Condition | None) -> Iterator[Env]:
        """Every combination of the facts and causes of ``conditions``; causes are free."""
        names = names_in(*conditions)
        facts = [n for n in self.program.facts if n in names]
        causes = sorted(n for n in names if n in self.program.causes)
        domains: list[tuple[Value, ...]] = [(*self.values[f], None) for f in facts]
        for cause in causes:
            domains.append((True, False, None) if cause in self.concluded else (False,))
        space = Space(self.program, (*facts, *causes), tuple(domains))
        functions = self.ruleset.interpreter_functions
        for assignment in space.assignments(self.options.limit):
            yield Env(
                {f: assignment[f] for f in facts},
                {c: assignment[c] for c in causes},
                functions,
            )

    def _can_be_true(self, condition: nodes.Condition) -> bool | None:
        """Whether some input makes ``condition`` true; None when it cannot be told."""
        if opaque_tests([condition], self.program):
            return None
        try:
            return any(interpret(condition, env) is True for env in self._local_space(condition))
        except TooLarge:
            return None

    def conditions(self) -> set[str]:
        never: set[str] = set()
        for rule in self.all_rules:
            if self._can_be_true(rule.condition) is False:
                never.add(rule.name)
                self.add(
                    "never-true",
                    f"the condition of rule '{rule.name}' can never be true: {unparse(rule.condition)}",
                    rule.condition.span or rule.span,
                    hint="two of its tests contradict each other (or test a cause no rule "
                    "suspects); fix the condition or remove the rule",
                )
            elif rule.unless is not None and self._can_be_true(rule.unless) is False:
                self.add(
                    "unless-never-true",
                    f"the 'unless' of rule '{rule.name}' can never be true: {unparse(rule.unless)}",
                    rule.unless.span or rule.span,
                    hint="the exception never applies; fix it or remove the 'unless'",
                )
        for invariant in self.program.invariants:
            if invariant.condition is not None and self._can_be_true(invariant.condition) is False:
                self.add(
                    "never-true",
                    f'the condition of invariant "{invariant.label}" can never be true, so it proves nothing',
                    invariant.condition.span or invariant.span,
                    hint="fix the condition so that it describes inputs that can happen",
                )
        return never

    # ------------------------------------------------------------ rules that never fire or always lose

    def _states(self, rules: Iterable[int], *, claims: bool) -> Iterator[tuple[int, ...]]:
        cone = self.dependencies.cone(rules, claims=claims)
        facts = self.dependencies.facts(cone)
        space = Space.of(self.program, facts, self.values)
        decide = self.ruleset.compiled.decide
        for values in space.points(self.options.limit):
            yield decide(values)

    def reachability(self, never_true: set[str]) -> None:
        program = self.program
        for i, rule in enumerate(program.rules):
            if rule.name in never_true:
                continue
            if opaque_tests(self.dependencies.conditions(self.dependencies.cone([i])), program):
                continue
            has_claims = any(c.rule == i for c in self.ruleset.claims)
            shadowable = has_claims and not any(a.kind == "suspect" for a in rule.actions)
            try:
                seen = self._reach(i, claims=shadowable)
            except TooLarge:
                try:
                    seen = self._reach(i, claims=False)
                except TooLarge:
                    self.skip("reachability", f"rule '{rule.name}'")
                    continue
            states, shown, winners = seen
            if states & {State.FIRED, State.CONDITIONAL}:
                if shadowable and shown is False:
                    names = ", ".join(f"'{w}'" for w in sorted(winners))
                    self.add(
                        "shadowed-rule",
                        f"rule '{rule.name}' can fire, but what it advises always loses to rule {names}",
                        rule.span,
                        hint="give it a higher priority, make it 'override' the winner, or remove it",
                    )
                continue
            matched = states - {State.NOT_MATCHED, State.PENDING}
            by = ", ".join(f"'{program.rules[j].name}'" for j in self.dependencies.overriders.get(i, ()))
            if not matched:
                message = (
                    f"rule '{rule.name}' can never fire: the causes it tests are never concluded "
                    "together with the rest of its condition"
                )
                hint = "check the rules that suspect the causes it tests"
            elif matched == {State.DEFEATED}:
                message = (
                    f"rule '{rule.name}' can never fire: whenever its condition holds, so does its 'unless'"
                )
                hint = "narrow the 'unless', or remove the rule"
            elif matched == {State.OVERRIDDEN}:
                message = f"rule '{rule.name}' can never fire: whenever it would, rule {by} overrides it"
                hint = "remove it, or narrow the rules that override it"
            else:
                message = (
                    f"rule '{rule.name}' can never fire: whenever its condition holds, either its "
                    f"'unless' holds too or rule {by} overrides it"
                )
                hint = "narrow the 'unless' or the overriding rules, or remove the rule"
            self.add("never-fires", message, rule.span, hint=hint)

    def _reach(self, i: int, *, claims: bool) -> tuple[set[int], bool | None, set[str]]:
        """The states rule ``i`` can reach; whether a claim of it is ever shown; who beat it."""
        mine = [c for c in self.ruleset.claims if c.rule == i]
        states: set[int] = set()
        shown: bool | None = None if not claims else False
        winners: set[str] = set()
        for result in self._states([i], claims=claims):
            state = result[i]
            states.add(state)
            if claims and state <= State.CONDITIONAL and not shown:
                resolution = resolve(self.ruleset.claims, result)
                standing = set(resolution.shown)
                if any(c.index in standing for c in mine):
                    shown = True
                else:
                    for c in mine:
                        if c.index in resolution.lost:
                            winner = self.ruleset.claims[resolution.lost[c.index][0]]
                            winners.add(self.program.rules[winner.rule].name)
        return states, shown, winners

    # ------------------------------------------------------------ duplicates

    def _equivalent(self, a: nodes.Condition | None, b: nodes.Condition | None) -> bool:
        if a is None or b is None:
            return a is None and b is None
        if a == b:
            return True
        if opaque_tests([a, b], self.program):
            return False
        try:
            return all(interpret(a, env) == interpret(b, env) for env in self._local_space(a, b))
        except TooLarge:
            return False

    def redundant(self) -> None:
        groups: dict[frozenset[str], list[RuleSpec]] = {}
        for rule in self.all_rules:
            key = frozenset(str(a) for a in rule.actions)
            groups.setdefault(key, []).append(rule)
        for rules in groups.values():
            for k, later in enumerate(rules):
                for earlier in rules[:k]:
                    if self._equivalent(earlier.condition, later.condition) and self._equivalent(
                        earlier.unless, later.unless
                    ):
                        self.add(
                            "redundant-rule",
                            f"rule '{later.name}' repeats rule '{earlier.name}' ({_where(earlier)}): "
                            "the same outcomes under the same conditions",
                            later.span,
                            hint="remove one of them, or merge what differs (its text, sources) into one",
                        )
                        break

    # ------------------------------------------------------------ conflicts

    def _together(self, a: int, b: int) -> bool | None:
        """Whether rules ``a`` and ``b`` can both fire for one input; None when untold."""
        try:
            for states in self._states([a, b], claims=False):
                if states[a] <= State.CONDITIONAL and states[b] <= State.CONDITIONAL:
                    return True
        except TooLarge:
            return None
        return False

    def conflicts(self) -> None:
        program = self.program
        positives = [
            (i, a)
            for i, r in enumerate(program.rules)
            for a in r.actions
            if a.kind in ("prefer", "recommend")
        ]
        avoids = [(i, a) for i, r in enumerate(program.rules) for a in r.actions if a.kind == "avoid"]
        reported: set[tuple[int, int]] = set()
        for i, positive in positives:
            for j, avoid in avoids:
                if positive.target != avoid.target or i == j or (i, j) in reported:
                    continue
                good, bad = program.rules[i], program.rules[j]
                if good.name in bad.overrides or bad.name in good.overrides:
                    continue
                plugins = (_plugin_of(good), _plugin_of(bad))
                across = plugins[0] is not None and plugins[1] is not None and plugins[0] != plugins[1]
                if not across and good.priority != bad.priority:
                    continue
                together = self._together(i, j)
                if together is False:
                    continue
                reported.add((i, j))
                can = "can" if together else "may (too many combinations to tell)"
                later, other = (bad, good) if (j > i) else (good, bad)
                if across:
                    self.add(
                        "plugin-conflict",
                        f"plugin '{plugins[0]}' says '{unparse(positive)}' (rule "
                        f"'{good.name}') and plugin '{plugins[1]}' says '{unparse(avoid)}' (rule "
                        f"'{bad.name}'), and both {can} fire for the same person",
                        later.span,
                        hint="the plugins' authors should agree: one rule should 'override' the other",
                    )
                else:
                    self.add(
                        "unresolved-conflict",
                        f"rule '{later.name}' and rule '{other.name}' ({_where(other)}) {can} fire "
                        f"together, one saying '{unparse(positive)}' and the other "
                        f"'{unparse(avoid)}'; the default 'avoid wins' decides",
                        later.span,
                        hint=f"if avoiding is meant, add 'overrides {good.name}' to rule '{bad.name}'; "
                        f"if not, add 'overrides {bad.name}' to rule '{good.name}' or give it a "
                        "higher priority",
                    )

    # ------------------------------------------------------------ unused declarations

    def unused(self) -> None:
        program = self.program
        tested: set[str] = set()
        targets: set[str] = set()
        cited: set[str] = set()
        for rule in self.all_rules:
            tested |= names_in(rule.condition, rule.unless)
            cited.update(rule.sources)
            for action in rule.actions:
                targets.add(action.target)
                targets.update(action.over)
        suspected = {a.target for r in self.all_rules for a in r.actions if a.kind == "suspect"}
        for cause in program.causes.values():
            cited.update(cause.sources)
        for name, fact in program.facts.items():
            if not fact.inferred and name not in tested:
                self.add(
                    "unused-fact",
                    f"no rule tests the fact '{name}'",
                    fact.span,
                    hint="use it in a condition, or remove the declaration",
                )
        for name, option in program.options.items():
            if not option.inferred and name not in targets:
                self.add(
                    "unused-option",
                    f"no rule recommends, prefers or avoids the option '{name}'",
                    option.span,
                    hint=f"add a rule that says 'recommend {name}', or remove the declaration",
                )
        for name, cause in program.causes.items():
            if not cause.inferred and name not in suspected:
                self.add(
                    "unused-cause",
                    f"no rule suspects the cause '{name}'",
                    cause.span,
                    hint=f"add a rule with 'suspect {name}', or remove the declaration",
                )
        for name, source in program.sources.items():
            if name not in cited:
                self.add(
                    "unused-source",
                    f"nothing cites the source '{name}'",
                    source.span,
                    hint=f"cite it from the rules it supports ('cite {name}'), or remove it",
                )

    # ------------------------------------------------------------ provenance

    def provenance(self) -> None:
        options = self.options
        oldest = options.today - datetime.timedelta(days=options.max_review_age)
        header = _header(self.program)
        if header is not None and header.reviewed is not None and header.reviewed < oldest:
            self.add(
                "stale-review",
                f"ruleset '{header.name}' was last reviewed on {header.reviewed}, "
                f"more than {options.max_review_age} days ago",
                header.span,
                hint="review it and update 'reviewed'",
            )
        production = header is not None and header.status == "production"
        for rule in self.all_rules:
            advises = [a for a in rule.actions if a.kind in ("recommend", "prefer", "avoid", "refer")]
            if advises and not rule.sources:
                self.add(
                    "missing-citation",
                    f"rule '{rule.name}' says '{advises[0]}' but cites no source",
                    rule.span,
                    hint="add 'cite SOURCE' naming the evidence behind it",
                )
            if any(a.kind == "refer" for a in rule.actions) and not rule.because:
                self.add(
                    "referral-without-because",
                    f"rule '{rule.name}' refers without saying why",
                    rule.span,
                    hint="add 'because \"...\"' so the person knows why they should go",
                )
            if rule.reviewed is not None and rule.reviewed < oldest:
                self.add(
                    "stale-review",
                    f"rule '{rule.name}' was last reviewed on {rule.reviewed}, "
                    f"more than {options.max_review_age} days ago",
                    rule.span,
                    hint="review it against its sources and update 'reviewed'",
                )
            if production and rule.status == "testing":
                self.add(
                    "testing-in-production",
                    f"rule '{rule.name}' has status testing, in a ruleset marked for production",
                    rule.span,
                    hint="finish testing it and mark it production, or move it out of this ruleset",
                )

    # ------------------------------------------------------------ the safety tier

    def safety(self) -> None:
        program = self.program
        for rule in program.rules:
            if not rule.urgent:
                continue
            chain = self._hiding_chain(rule.condition, set())
            if chain:
                self.add(
                    "urgent-hidden",
                    f"the urgent referral of rule '{rule.name}' can be hidden: {chain}",
                    rule.span,
                    hint="test the facts directly in the urgent rule, or remove the 'unless' and "
                    "'overrides' from the rules it depends on",
                )

    def _hiding_chain(self, condition: nodes.Condition, seen: set[str]) -> str | None:
        """How a cause this condition needs can be suppressed, in words; None if it cannot."""
        program = self.program
        for cause in _positive_causes(condition, program.causes):
            if cause in seen:
                continue
            seen.add(cause)
            for j in self.dependencies.concluders.get(cause, ()):
                concluder = program.rules[j]
                step = f"it needs '{cause}', which rule '{concluder.name}' suspects"
                if concluder.unless is not None:
                    return f"{step}, and that rule has 'unless {unparse(concluder.unless)}'"
                overriders = self.dependencies.overriders.get(j, ())
                if overriders:
                    names = ", ".join(f"'{program.rules[k].name}'" for k in overriders)
                    return f"{step}, and that rule can be overridden by {names}"
                deeper = self._hiding_chain(concluder.condition, seen)
                if deeper:
                    return f"{step}; {deeper}"
        return None


def _positive_causes(condition: nodes.Condition, causes: Mapping[str, object]) -> list[str]:
    """Causes tested without negation: suppressing them can only make the condition false."""
    found: list[str] = []
    stack: list[tuple[nodes.Condition | nodes.Operand, bool]] = [(condition, True)]
    while stack:
        node, positive = stack.pop()
        if isinstance(node, nodes.Name):
            if positive and node.name in causes:
                found.append(node.name)
        elif isinstance(node, nodes.Not):
            stack.append((node.operand, not positive))
        elif isinstance(node, (nodes.All, nodes.Any)):
            stack.extend((c, positive) for c in node.operands)
    return list(dict.fromkeys(found))


# ---------------------------------------------------------------- entry points


def analyse(ruleset: Ruleset, options: CheckOptions | None = None) -> CheckResult:
    """Every finding in a loaded ruleset, and the verdict on each invariant."""
    options = options or CheckOptions()
    analysis = _Analysis(ruleset, options)
    analysis.run()
    invariants: tuple[InvariantResult, ...] = ()
    if options.invariants:
        invariants = verify_all(ruleset, limit=options.limit)
        analysis.invariants(invariants)
    findings = analysis.sink.in_source_order()
    origin = ruleset.program.texts[0][0] if ruleset.program.texts else ruleset.name
    return CheckResult(origin, tuple(findings), True, ruleset.name, invariants)


def check_ruleset(
    load: Loader,
    target: str,
    options: CheckOptions | None = None,
    *,
    base: Loader | None = None,
) -> CheckResult:
    """Load and analyse one ruleset; a load failure becomes findings, not an exception.

    ``base`` loads the ruleset this one ``extends``: findings that checking
    the base on its own also gives are left out (counted in ``hidden``).
    """
    options = options or CheckOptions()
    try:
        ruleset = load()
    except RulesetError as exc:
        return CheckResult(target, exc.diagnostics, False)
    result = analyse(ruleset, options)
    result = attrs.evolve(result, target=target)
    if base is None:
        return result
    try:
        inherited = analyse(base(), attrs.evolve(options, invariants=False))
    except RulesetError:
        return result
    known = {(d.code, d.origin, d.line, d.column, d.message) for d in inherited.findings}
    kept = tuple(d for d in result.findings if (d.code, d.origin, d.line, d.column, d.message) not in known)
    return attrs.evolve(result, findings=kept, hidden=len(result.findings) - len(kept))


def check_target(engine: Engine, target: str | None, options: CheckOptions | None = None) -> CheckResult:
    """Check a ruleset named on the command line: a path, a ruleset name, or None (the default)."""
    load, base, label = loaders(engine, target)
    return check_ruleset(load, label, options, base=base)
