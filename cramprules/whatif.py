"""What-if searches: which answers would change what a person sees.

One search serves "what would change it" (:meth:`Report.what_would_change`),
"what would make it stand" (:mod:`cramprules.explain`) and the consultation's
"is this question still worth asking" (``cramprules ask``).  Each re-runs the
compiled three-valued decider on changed fact values; only *what counts as a
change* differs, and that is a function the caller passes.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from cramprules import nodes
from cramprules.claims import resolve
from cramprules.evaluator import Value, cause_values
from cramprules.model import FactSpec, Program
from cramprules.states import State

if TYPE_CHECKING:
    from cramprules.ruleset import Ruleset

__all__ = [
    "Change",
    "alike",
    "candidate_values",
    "changes",
    "outcome_of",
    "search",
    "visible",
]

Change = tuple[tuple[str, Value], ...]
"""Facts and the values they would take: ``(("pain", 9), ("prolonged", True))``."""


def _conditions(program: Program) -> list[nodes.Condition]:
    return [c for rule in program.rules for c in (rule.condition, rule.unless) if c is not None]


def _thresholds(program: Program) -> dict[str, set[float]]:
    """The constants each fact is compared with (``pain >= 7``, ``pain between 3 and 6``)."""
    thresholds: dict[str, set[float]] = {name: set() for name in program.facts}
    for node in nodes.walk(*_conditions(program)):
        if isinstance(node, nodes.Compare):
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(mine, nodes.Name) and isinstance(other, nodes.Number):
                    thresholds.setdefault(mine.name, set()).add(other.value)
        elif isinstance(node, nodes.Between):
            if isinstance(node.subject, nodes.Name):
                for bound in (node.low, node.high):
                    if isinstance(bound, nodes.Number):
                        thresholds.setdefault(node.subject.name, set()).add(bound.value)
    return thresholds


def candidate_values(program: Program) -> dict[str, tuple[Value, ...]]:
    """For each fact, values that reach every branch the rules distinguish."""
    thresholds = _thresholds(program)
    out: dict[str, tuple[Value, ...]] = {}
    for name, spec in program.facts.items():
        if spec.kind == "bool":
            out[name] = (True, False)
        elif spec.kind == "enum":
            out[name] = spec.values
        else:
            out[name] = _number_points(sorted(thresholds.get(name, ())), spec)
    return out


def alike(program: Program) -> Callable[[Sequence[Value]], Hashable]:
    """A key of fact values that is the same for values the rules cannot tell apart.

    Two value tuples with the same key give the same rule states, the same
    open questions and the same what-ifs: only the values of facts the rules
    use count, and a number that the rules only compare with constants
    (``pain >= 7``, ``pain between 3 and 6``, ``pain is known``) counts only by
    where it falls among those constants.  A number used any other way (beside
    another fact, in a function call) counts by its value.  Batches use it to
    work out a flat table row once for every record that looks the same.
    """
    used: dict[str, int] = {}
    plain: dict[str, int] = {}  # uses beside a constant, or `is known`: only the value's place counts
    for node in nodes.walk(*_conditions(program)):
        if isinstance(node, nodes.Name):
            used[node.name] = used.get(node.name, 0) + 1
        elif isinstance(node, nodes.IsKnown):
            plain[node.name.name] = plain.get(node.name.name, 0) + 1
        elif isinstance(node, nodes.Compare):
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(mine, nodes.Name) and isinstance(other, nodes.Number):
                    plain[mine.name] = plain.get(mine.name, 0) + 1
        elif (
            isinstance(node, nodes.Between)
            and isinstance(node.subject, nodes.Name)
            and isinstance(node.low, nodes.Number)
            and isinstance(node.high, nodes.Number)
        ):
            plain[node.subject.name] = plain.get(node.subject.name, 0) + 1
    cuts = _thresholds(program)
    # The values as they are, but each number the rules only compare with
    # constants as its place among them (a small integer).
    as_is: list[int] = []
    placed: list[tuple[int, list[float]]] = []
    for position, (name, spec) in enumerate(program.facts.items()):
        if name not in used:
            continue
        if spec.kind == "number" and plain.get(name, 0) == used[name]:
            placed.append((position, sorted(cuts.get(name, ()))))
        else:
            as_is.append(position)
    pick = operator.itemgetter(*as_is) if as_is else (lambda values: ())

    def place(value: Value, among: list[float]) -> int | None:
        if value is None:
            return None
        if math.isnan(value):  # every comparison is false
            return -1
        at = bisect.bisect_left(among, value)
        return 2 * at + (at < len(among) and among[at] == value)

    def key(values: Sequence[Value]) -> Hashable:
        if not placed:
            return pick(values)
        return (pick(values), *[place(values[p], among) for p, among in placed])

    return key


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
) -> Iterator[Change]:
    """Every way to give ``size`` of the ``names`` a value other than their own."""
    for chosen in itertools.combinations(names, size):
        options = [[v for v in candidates[n] if v != values.get(n) or values.get(n) is None] for n in chosen]
        for picked in itertools.product(*options):
            yield tuple(zip(chosen, picked))


def search(
    ruleset: Ruleset,
    values: tuple[Value, ...],
    flip: Callable[[tuple[int, ...]], str | None],
    *,
    max_changes: int = 3,
    budget: int = 20_000,
) -> list[tuple[Change, str]]:
    """The smallest sets of fact changes after which ``flip(states)`` says something.

    ``flip`` gets the rule states after a change and returns what the
    outcome became, or ``None`` when the change does not count.  Returns
    ``(change, after)`` for every alternative of the smallest size found, up
    to ``max_changes`` facts and ``budget`` changes tried; answers to open
    questions come before changes of facts already given.
    """
    program = ruleset.program
    relevant = [n for n, spec in program.facts.items() if n in ruleset.used_facts and not spec.derived]
    named = dict(zip(program.facts, values))
    positions = {n: i for i, n in enumerate(program.facts)}
    decide = ruleset.compiled.decide
    spent = 0
    for size in range(1, max_changes + 1):
        found: list[tuple[Change, str]] = []
        for change in changes(relevant, named, ruleset.candidates, size):
            spent += 1
            if spent > budget:
                return found
            new_values = list(values)
            for fact, value in change:
                new_values[positions[fact]] = value
            after = flip(decide(tuple(new_values)))
            if after is not None:
                found.append((change, after))
        if found:
            found.sort(key=lambda pair: sum(named[fact] is not None for fact, _ in pair[0]))
            return found
    return []


def _standing(ruleset: Ruleset, states: Sequence[int]) -> Iterator[tuple[nodes.Action, bool]]:
    """Every claim that stands, and whether it is only conditional (not sure)."""
    claims = ruleset.claims
    resolution = resolve(claims, states)
    for index in resolution.shown:
        yield claims[index].action, index not in resolution.sure


def outcome_of(ruleset: Ruleset, name: str, states: Sequence[int]) -> str:
    """What a report says about one option, cause or referral target, in words."""
    parts = [
        f"{action}{' (conditional)' if conditional else ''}"
        for action, conditional in _standing(ruleset, states)
        if action.target == name
    ]
    program = ruleset.program
    if name in program.causes:
        value = cause_values(program, states)[name]
        if value is True:
            parts.append(f"suspect {name}")
        elif value is None and any(
            states[i] == State.CONDITIONAL
            for i, r in enumerate(program.rules)
            if any(a.kind == "suspect" and a.target == name for a in r.actions)
        ):
            parts.append(f"suspect {name} (conditional)")
    return ", ".join(sorted(set(parts))) or f"nothing about {name}"


def visible(ruleset: Ruleset, states: Sequence[int]) -> frozenset[tuple[object, ...]]:
    """What a person sees of an outcome: the standing claims (firm or conditional) and the causes."""
    seen: set[tuple[object, ...]] = {
        (action.kind, action.target, action.urgent, conditional)
        for action, conditional in _standing(ruleset, states)
    }
    for name, value in cause_values(ruleset.program, states).items():
        if value is not False:
            seen.add(("suspect", name, value))
    return frozenset(seen)
