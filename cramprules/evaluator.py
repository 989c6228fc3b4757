"""Everything about evaluation that is not the hot path.

The compiled deciders (:mod:`cramprules.compiler`) say which rules fired.
This module turns that compact outcome into decisions: it resolves conflicts
between claims on the same option, finds the questions whose answers would
change the outcome, searches for the smallest change of facts that flips a
recommendation, and explains a condition in words.  Its interpreter is also
the reference the generated code is tested against.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import nodes
from cramprules.compiler import CONDITIONAL, FIRED, NOT_MATCHED
from cramprules.model import FactSpec, Program, RuleSpec
from cramprules.unparse import unparse

__all__ = [
    "ClaimSpec",
    "Env",
    "Resolution",
    "build_claims",
    "candidate_values",
    "cause_values",
    "describe_value",
    "explain",
    "interpret",
    "resolve",
]

Value = AnyType  # bool | int | float | str | None
_ACTION_RANK = {"refer": 0, "prefer": 1, "recommend": 2, "avoid": 3, "suspect": 4}


# ---------------------------------------------------------------- interpreter


@attrs.frozen
class Env:
    """What names mean while interpreting: fact values, cause values, functions."""

    facts: Mapping[str, Value]
    causes: Mapping[str, Value]
    functions: Mapping[str, Callable[..., object]] = attrs.field(factory=dict)

    def lookup(self, name: str) -> Value:
        if name in self.facts:
            return self.facts[name]
        return self.causes.get(name)


def _k_and(values: Iterable[Value]) -> Value:
    result: Value = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _k_or(values: Iterable[Value]) -> Value:
    result: Value = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def interpret(node: nodes.Condition | nodes.Operand, env: Env) -> Value:
    """Kleene three-valued evaluation by walking the tree: True, False or None."""
    if isinstance(node, nodes.Name):
        return env.lookup(node.name)
    if isinstance(node, (nodes.Number, nodes.Text)):
        return node.value
    if isinstance(node, nodes.Not):
        value = interpret(node.operand, env)
        return None if value is None else not value
    if isinstance(node, nodes.All):
        return _k_and(interpret(c, env) for c in node.operands)
    if isinstance(node, nodes.Any):
        return _k_or(interpret(c, env) for c in node.operands)
    if isinstance(node, nodes.Compare):
        left, right = interpret(node.left, env), interpret(node.right, env)
        if left is None or right is None:
            return None
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
            "=": left == right,
            "!=": left != right,
        }[node.op]
    if isinstance(node, nodes.Between):
        subject, low, high = (interpret(n, env) for n in (node.subject, node.low, node.high))
        if subject is None or low is None or high is None:
            return None
        return bool(low <= subject <= high)
    if isinstance(node, nodes.IsKnown):
        return (env.lookup(node.name.name) is not None) == node.known
    if isinstance(node, nodes.InValues):
        value = env.lookup(node.name.name)
        if value is None:
            return None
        return (value in node.values) != node.negated
    if isinstance(node, nodes.Call):
        args = [interpret(a, env) for a in node.arguments]
        return env.functions[node.function](*args)
    raise TypeError(f"cannot interpret {node!r}")  # pragma: no cover


def cause_values(program: Program, states: Sequence[int]) -> dict[str, Value]:
    """The three-valued value of every cause, given the rules' states."""
    values: dict[str, Value] = {name: False for name in program.causes}
    for rule, state in zip(program.rules, states):
        for action in rule.actions:
            if action.kind != "suspect":
                continue
            current = values[action.target]
            if state == FIRED:
                values[action.target] = True
            elif state < NOT_MATCHED and current is not True:
                values[action.target] = None
    return values


# ---------------------------------------------------------------- explanations


def describe_value(value: Value, spec: FactSpec | None = None) -> str:
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if spec is not None and spec.unit and isinstance(value, (int, float)):
        return f"{value} {spec.unit}"
    return str(value)


@attrs.frozen
class Atom:
    """One test of a condition, with its value and the facts it looked at."""

    text: str
    value: Value
    facts: tuple[tuple[str, Value], ...]

    def __str__(self) -> str:
        shown = ", ".join(f"{name} is {describe_value(v)}" for name, v in self.facts)
        if len(self.facts) == 1 and self.text in (self.facts[0][0], f"not {self.facts[0][0]}"):
            return shown
        return f"{self.text} ({shown})" if shown else self.text


def _names(node: nodes.Condition | nodes.Operand) -> list[str]:
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, (nodes.IsKnown, nodes.InValues)):
        return [node.name.name]
    if isinstance(node, nodes.Compare):
        return _names(node.left) + _names(node.right)
    if isinstance(node, nodes.Between):
        return _names(node.subject) + _names(node.low) + _names(node.high)
    if isinstance(node, nodes.Call):
        return [n for a in node.arguments for n in _names(a)]
    if isinstance(node, nodes.Not):
        return _names(node.operand)
    if isinstance(node, (nodes.All, nodes.Any)):
        return [n for c in node.operands for n in _names(c)]
    return []


def explain(node: nodes.Condition, env: Env) -> tuple[Value, list[Atom]]:
    """The value of a condition and the tests that decided it.

    For ``a and b`` that is false, the false tests; true, all of them; unknown,
    the unknown ones.  ``or`` mirrors it.  This is what a trace shows.
    """
    value = interpret(node, env)
    if isinstance(node, nodes.Not):
        _, atoms = explain(node.operand, env)
        flipped = [
            attrs.evolve(a, text=f"not {a.text}", value=None if a.value is None else not a.value)
            for a in atoms
        ]
        return value, flipped
    if isinstance(node, (nodes.All, nodes.Any)):
        decisive: list[Atom] = []
        for operand in node.operands:
            sub_value, sub_atoms = explain(operand, env)
            if sub_value is value:
                decisive.extend(sub_atoms)
        return value, decisive
    facts = tuple(dict.fromkeys((n, env.lookup(n)) for n in _names(node)))
    return value, [Atom(unparse(node), value, facts)]


# ---------------------------------------------------------------- conflicts


@attrs.frozen
class ClaimSpec:
    """One action of one rule that can appear in a report."""

    index: int
    rule: int
    position: int
    action: nodes.Action
    beaten_by: tuple[tuple[int, str], ...] = ()
    """``(claim index, why)`` for every claim that wins over this one."""


def _claim_key(claim: ClaimSpec, rules: Sequence[RuleSpec]) -> tuple[AnyType, ...]:
    rule = rules[claim.rule]
    kind = claim.action.kind
    return (
        not (kind == "refer" and claim.action.urgent),
        -rule.priority,
        0 if kind == "avoid" else 1,
        -rule.specificity,
        claim.rule,
        claim.position,
    )


def build_claims(program: Program) -> tuple[ClaimSpec, ...]:
    """Every claim, ordered so that a claim can only be beaten by earlier ones."""
    claims = [
        ClaimSpec(0, i, k, action)
        for i, rule in enumerate(program.rules)
        for k, action in enumerate(rule.actions)
        if action.kind != "suspect"
    ]
    claims.sort(key=lambda c: _claim_key(c, program.rules))
    claims = [attrs.evolve(c, index=i) for i, c in enumerate(claims)]
    # Only claims on the same option, or preferences naming each other, can
    # conflict: index them so that large rulesets stay linear.
    by_target: dict[str, list[ClaimSpec]] = {}
    preferred_over: dict[str, list[ClaimSpec]] = {}
    for claim in claims:
        by_target.setdefault(claim.action.target, []).append(claim)
        for other in claim.action.over:
            preferred_over.setdefault(other, []).append(claim)
    out = []
    for b in claims:
        rivals = {c.index: c for c in by_target.get(b.action.target, ())}
        rivals.update((c.index, c) for c in preferred_over.get(b.action.target, ()))
        for other in b.action.over:
            rivals.update((c.index, c) for c in by_target.get(other, ()))
        beaten: list[tuple[int, str]] = []
        for index in sorted(i for i in rivals if i < b.index):
            why = _beats(rivals[index], b, program.rules)
            if why:
                beaten.append((index, why))
        out.append(attrs.evolve(b, beaten_by=tuple(beaten)))
    return tuple(out)


def _beats(a: ClaimSpec, b: ClaimSpec, rules: Sequence[RuleSpec]) -> str | None:
    """Why claim ``a`` (earlier in the order) wins over ``b``, or None."""
    x, y = a.action, b.action
    ra, rb = rules[a.rule], rules[b.rule]
    if "refer" in (x.kind, y.kind) or a.rule == b.rule:
        return None
    if x.target == y.target:
        if x.kind == "avoid" and y.kind != "avoid":
            if ra.priority > rb.priority:
                return f"'{ra.name}' has higher priority ({ra.priority} > {rb.priority})"
            return f"'avoid {x.target}' wins over '{y.kind} {y.target}' (avoid beats {y.kind})"
        if y.kind == "avoid" and x.kind != "avoid" and ra.priority > rb.priority:
            return f"'{ra.name}' has higher priority ({ra.priority} > {rb.priority})"
        return None
    if x.kind == "prefer" and y.kind == "prefer" and (y.target in x.over or x.target in y.over):
        if ra.priority != rb.priority:
            return f"'{ra.name}' has higher priority ({ra.priority} > {rb.priority})"
        if ra.specificity != rb.specificity:
            return f"'{ra.name}' is more specific ({ra.specificity} tests against {rb.specificity})"
        return f"'{ra.name}' comes first (same priority and specificity)"
    return None


@attrs.frozen
class Resolution:
    """Which claims stand and which lost, and to whom."""

    shown: tuple[int, ...]
    """Claim indices that stand, in claim order."""
    lost: Mapping[int, tuple[int, str]]
    """Claim index -> (winning claim index, why)."""


def resolve(claims: Sequence[ClaimSpec], states: Sequence[int]) -> Resolution:
    shown: list[int] = []
    standing: set[int] = set()
    lost: dict[int, tuple[int, str]] = {}
    for claim in claims:
        if states[claim.rule] > CONDITIONAL:
            continue
        winner = next(((w, why) for w, why in claim.beaten_by if w in standing), None)
        if winner is not None:
            lost[claim.index] = winner
            continue
        standing.add(claim.index)
        shown.append(claim.index)
    return Resolution(tuple(shown), lost)


# ---------------------------------------------------------------- what-if


def candidate_values(program: Program) -> dict[str, tuple[Value, ...]]:
    """For each fact, values that reach every branch the rules distinguish."""
    thresholds: dict[str, set[float]] = {name: set() for name in program.facts}
    conditions: list[nodes.Condition] = []
    for rule in program.rules:
        conditions.append(rule.condition)
        if rule.unless is not None:
            conditions.append(rule.unless)
    for node in nodes.walk(*conditions):
        if isinstance(node, nodes.Compare):
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(mine, nodes.Name) and isinstance(other, nodes.Number):
                    thresholds.setdefault(mine.name, set()).add(other.value)
        elif isinstance(node, nodes.Between):
            if isinstance(node.subject, nodes.Name):
                for bound in (node.low, node.high):
                    if isinstance(bound, nodes.Number):
                        thresholds.setdefault(node.subject.name, set()).add(bound.value)
    out: dict[str, tuple[Value, ...]] = {}
    for name, spec in program.facts.items():
        if spec.kind == "bool":
            out[name] = (True, False)
        elif spec.kind == "enum":
            out[name] = spec.values
        else:
            out[name] = _number_points(sorted(thresholds.get(name, ())), spec)
    return out


def _number_points(cuts: list[float], spec: FactSpec) -> tuple[Value, ...]:
    low, high = spec.low, spec.high
    if not cuts:
        ends = [p for p in (low, high) if p is not None] or [0]
        return tuple(dict.fromkeys(ends))
    points: list[float] = []
    first = cuts[0] - 1 if low is None else low
    points.append(first)
    for a, b in itertools.zip_longest(cuts, cuts[1:]):
        points.append(a)
        if b is not None and b - a > 0:
            middle = (a + b) / 2
            points.append(int(middle) if float(middle).is_integer() else middle)
    points.append(cuts[-1] + 1 if high is None else high)
    inside = [p for p in points if (low is None or p >= low) and (high is None or p <= high)]
    return tuple(dict.fromkeys(inside))


def changes(
    names: Sequence[str],
    values: Mapping[str, Value],
    candidates: Mapping[str, Sequence[Value]],
    size: int,
) -> Iterator[tuple[tuple[str, Value], ...]]:
    """Every way to give ``size`` of the ``names`` a value other than their own."""
    for chosen in itertools.combinations(names, size):
        options = [[v for v in candidates[n] if v != values.get(n) or values.get(n) is None] for n in chosen]
        for picked in itertools.product(*options):
            yield tuple(zip(chosen, picked))
