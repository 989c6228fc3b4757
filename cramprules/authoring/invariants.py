"""Verifying a ruleset's ``invariant`` statements over its whole input space.

``invariant "red flags refer": if pain >= 8 then refer doctor urgent`` must
hold for *every* input, including inputs where facts are unknown.  Only the
facts in the invariant's cone of influence can change the answer (see
:mod:`cramprules.authoring.space`), and each of them has finitely many
representative values plus *unknown*, so trying every combination is a
proof.  The compiled three-valued decider (``Compiled.decide``) and the
engine's own conflict resolution judge each combination, so the proof is
about the engine that runs, not a model of it.

A claim holds when the report would show that outcome, fired or
conditional: ``prefer X`` and ``avoid X`` as a standing recommendation,
``refer WHO urgent`` as an urgent referral (``refer WHO`` as any referral),
``suspect C`` as a listed cause.  This is what ``expect`` means in examples.

A failing invariant comes with a counterexample: the fewest known facts
that break it (facts are made unknown one by one while it still fails) and
the trace of the rules involved.  When the cone is too large to try (more
than ``limit`` combinations), the invariant is reported unverified, with
the count; the same happens, for a passing search only, when the cone has
tests the partitions cannot pin down (plugin functions, fact-to-fact
comparisons).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any as AnyType
from typing import Literal

import attrs

from cramprules import nodes
from cramprules.authoring.space import (
    DEFAULT_MAX_COMBINATIONS,
    Dependencies,
    Space,
    TooLarge,
    opaque_tests,
    representatives,
)
from cramprules.claims import resolve
from cramprules.evaluator import environment, interpret
from cramprules.nodes import names_in
from cramprules.outcomes import describe_value
from cramprules.report import Report, TraceEntry
from cramprules.ruleset import Ruleset
from cramprules.states import State
from cramprules.unparse import unparse

__all__ = [
    "Counterexample",
    "InvariantResult",
    "verify",
    "verify_all",
]

Status = Literal["holds", "fails", "unverified"]
Value = AnyType


@attrs.frozen
class Counterexample:
    """An input that breaks an invariant, and what the engine did with it."""

    facts: Mapping[str, Value]
    """The known facts of the input; every other fact is unknown."""
    outcome: str
    """What the report shows of the claim's outcomes."""
    trace: tuple[TraceEntry, ...]
    """The trace of the rules in the invariant's cone, in source order."""

    def describe_facts(self) -> str:
        if not self.facts:
            return "every fact unknown"
        return ", ".join(f"{name} = {_given(value)}" for name, value in self.facts.items())


@attrs.frozen
class InvariantResult:
    """The verdict on one invariant."""

    invariant: nodes.Invariant
    status: Status
    method: str
    """``exhaustive`` (every combination tried), or why nothing was tried."""
    combinations: int
    """How many combinations the proof covers (or would have needed)."""
    facts: tuple[str, ...]
    """The facts in the invariant's cone of influence."""
    counterexample: Counterexample | None = None
    reason: str | None = None
    """Why an invariant is unverified."""

    @property
    def label(self) -> str:
        return self.invariant.label


def _given(value: Value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return describe_value(value)


def _atoms(claim: nodes.Claim) -> list[nodes.Action]:
    if isinstance(claim, nodes.Action):
        return [claim]
    if isinstance(claim, nodes.ClaimNot):
        return _atoms(claim.operand)
    return [a for operand in claim.operands for a in _atoms(operand)]


class _Judge:
    """Decides whether a claim holds for given rule states, quickly."""

    def __init__(self, ruleset: Ruleset, claim: nodes.Claim, only: frozenset[int] | None = None) -> None:
        """``only``, when given, limits the claim to what these rules say."""
        self.ruleset = ruleset
        self.claim = claim
        program = ruleset.program
        self.matching: dict[nodes.Action, tuple[str, frozenset[int]]] = {}
        for atom in _atoms(claim):
            if atom.kind == "suspect":
                rules = frozenset(
                    i
                    for i, rule in enumerate(program.rules)
                    if any(a.kind == "suspect" and a.target == atom.target for a in rule.actions)
                    and (only is None or i in only)
                )
                self.matching[atom] = ("rules", rules)
            else:
                found = frozenset(
                    c.index
                    for c in ruleset.claims
                    if c.action.kind == atom.kind
                    and c.action.target == atom.target
                    and (c.action.urgent or not atom.urgent)
                    and (only is None or c.rule in only)
                )
                self.matching[atom] = ("claims", found)

    def rules(self) -> set[int]:
        """The rules whose claims or conclusions the claim speaks of."""
        out: set[int] = set()
        for kind, found in self.matching.values():
            if kind == "rules":
                out |= found
            else:
                out |= {self.ruleset.claims[c].rule for c in found}
        return out

    def atom(self, atom: nodes.Action, states: Sequence[int], shown: frozenset[int]) -> bool:
        kind, found = self.matching[atom]
        if kind == "rules":
            return any(states[i] <= State.CONDITIONAL for i in found)
        return not found.isdisjoint(shown)

    def holds(self, states: Sequence[int], claim: nodes.Claim | None = None) -> bool:
        shown = frozenset(resolve(self.ruleset.claims, states).shown)
        return self._eval(self.claim if claim is None else claim, states, shown)

    def _eval(self, claim: nodes.Claim, states: Sequence[int], shown: frozenset[int]) -> bool:
        if isinstance(claim, nodes.Action):
            return self.atom(claim, states, shown)
        if isinstance(claim, nodes.ClaimNot):
            return not self._eval(claim.operand, states, shown)
        if isinstance(claim, nodes.ClaimAll):
            return all(self._eval(c, states, shown) for c in claim.operands)
        return any(self._eval(c, states, shown) for c in claim.operands)

    def describe(self, states: Sequence[int]) -> str:
        shown = frozenset(resolve(self.ruleset.claims, states).shown)
        parts = []
        for atom in dict.fromkeys(_atoms(self.claim)):
            parts.append(f"{unparse(atom)}: {'yes' if self.atom(atom, states, shown) else 'no'}")
        return "; ".join(parts)


def _breaks(
    ruleset: Ruleset, invariant: nodes.Invariant, judge: _Judge, values: tuple[Value, ...]
) -> tuple[bool, tuple[int, ...]]:
    """Whether this input breaks the invariant; and the rule states."""
    states = ruleset.compiled.decide(values)
    if invariant.condition is not None:
        program = ruleset.program
        env = environment(program, values, states, ruleset.interpreter_functions)
        if interpret(invariant.condition, env) is not True:
            return False, states
    return not judge.holds(states), states


def verify(
    ruleset: Ruleset, invariant: nodes.Invariant, *, limit: int = DEFAULT_MAX_COMBINATIONS
) -> InvariantResult:
    """Prove ``invariant`` over every input, or find the smallest input that breaks it."""
    dependencies = Dependencies.of(ruleset.program, ruleset.claims)
    narrowed = _referral_rules_for(ruleset, invariant, dependencies)
    if narrowed is not None:
        result = _search(ruleset, invariant, _Judge(ruleset, invariant.claim, narrowed), dependencies, limit)
        if result.status == "holds":
            return result
    return _search(ruleset, invariant, _Judge(ruleset, invariant.claim), dependencies, limit)


def _positive_referrals(claim: nodes.Claim) -> bool:
    """Whether the claim only asks for referrals, with no ``not``."""
    if isinstance(claim, nodes.Action):
        return claim.kind == "refer"
    if isinstance(claim, nodes.ClaimNot):
        return False
    return all(_positive_referrals(c) for c in claim.operands)


def _referral_rules_for(
    ruleset: Ruleset, invariant: nodes.Invariant, dependencies: Dependencies
) -> frozenset[int] | None:
    """For ``if C then refer ...``: the referring rules whose cone shares a fact with C.

    A referral is never beaten by another claim, so whether a rule's referral
    is shown depends only on the facts of that rule's cone.  A claim made only
    of referrals, without ``not``, is monotone: if the rules that can meet the
    condition already make it hold on every input over their cone, every
    other rule can only add referrals, and it holds on every input.  Proving
    it over that smaller cone first keeps a ruleset with many referring rules
    within reach of an exhaustive proof.  ``None`` when this does not apply or
    leaves nothing out.
    """
    if invariant.condition is None or not _positive_referrals(invariant.claim):
        return None
    wanted = set(names_in(invariant.condition))
    for name in list(wanted):
        wanted.update(dependencies.facts(dependencies.cone(dependencies.concluders.get(name, ()))))
    judge = _Judge(ruleset, invariant.claim)
    every = judge.rules()
    chosen = frozenset(i for i in every if wanted & set(dependencies.facts(dependencies.cone({i}))))
    return chosen if chosen and chosen != every else None


def _search(
    ruleset: Ruleset,
    invariant: nodes.Invariant,
    judge: _Judge,
    dependencies: Dependencies,
    limit: int,
) -> InvariantResult:
    """Try every combination of the facts in the cone of ``judge``'s rules."""
    program = ruleset.program
    seeds = judge.rules()
    for name in names_in(invariant.condition):
        seeds.update(dependencies.concluders.get(name, ()))
    cone = dependencies.cone(seeds)
    extra = [invariant.condition]
    facts = dependencies.facts(cone, extra)
    space = Space.of(program, facts, representatives(program, extra))
    opaque = opaque_tests([*dependencies.conditions(cone), invariant.condition], program)
    try:
        points = list(space.points(limit))
    except TooLarge as exc:
        return InvariantResult(
            invariant,
            "unverified",
            "not tried",
            exc.size,
            tuple(facts),
            reason=f"its {len(facts)} facts make {exc.size:,} combinations, more than the limit of {limit:,}",
        )
    for values in points:
        broken, states = _breaks(ruleset, invariant, judge, values)
        if broken:
            values, states = _minimise(ruleset, invariant, judge, values, facts)
            return InvariantResult(
                invariant,
                "fails",
                "exhaustive",
                space.size,
                tuple(facts),
                counterexample=_counterexample(ruleset, judge, values, states, cone),
            )
    if opaque:
        return InvariantResult(
            invariant,
            "unverified",
            "exhaustive",
            space.size,
            tuple(facts),
            reason="no counterexample among the partitions, but these tests are opaque "
            "to them: " + ", ".join(opaque),
        )
    return InvariantResult(invariant, "holds", "exhaustive", space.size, tuple(facts))


def _minimise(
    ruleset: Ruleset,
    invariant: nodes.Invariant,
    judge: _Judge,
    values: tuple[Value, ...],
    facts: Iterable[str],
) -> tuple[tuple[Value, ...], tuple[int, ...]]:
    """Make facts unknown one at a time while the input still breaks the invariant."""
    positions = {name: i for i, name in enumerate(ruleset.program.facts)}
    current = list(values)
    for name in facts:
        slot = positions[name]
        if current[slot] is None:
            continue
        trial = list(current)
        trial[slot] = None
        if _breaks(ruleset, invariant, judge, tuple(trial))[0]:
            current = trial
    final = tuple(current)
    return final, ruleset.compiled.decide(final)


def _counterexample(
    ruleset: Ruleset,
    judge: _Judge,
    values: tuple[Value, ...],
    states: tuple[int, ...],
    cone: frozenset[int],
) -> Counterexample:
    program = ruleset.program
    report = Report(ruleset, values, states)
    names = {program.rules[i].name for i in cone}
    return Counterexample(
        facts={n: v for n, v in zip(program.facts, values) if v is not None},
        outcome=judge.describe(states),
        trace=tuple(t for t in report.trace if t.rule in names),
    )


def verify_all(ruleset: Ruleset, *, limit: int = DEFAULT_MAX_COMBINATIONS) -> tuple[InvariantResult, ...]:
    """Every invariant of the ruleset, in source order."""
    return tuple(verify(ruleset, inv, limit=limit) for inv in ruleset.program.invariants)
