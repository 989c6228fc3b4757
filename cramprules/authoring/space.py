"""The input space of a ruleset, cut into the partitions its conditions induce.

Static analysis and invariant checking both ask "is there an input such
that ...?".  Facts are infinite (numbers) but conditions only ever compare
them with a few constants, so every fact has finitely many *representative
values*: each threshold, a point inside every interval between thresholds,
the bounds of its range, every value of an enum, ``True``/``False``, and
``None`` (unknown).  Trying every combination of representatives of the facts
that matter is a proof, as long as no test is *opaque*: a plugin function, or
two facts compared with each other.

Which facts matter is the *cone of influence* of the rules in question: the
facts they test, and transitively those of the rules that conclude the causes
they test, that override them, or whose outcomes can beat theirs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import nodes
from cramprules.claims import ClaimSpec
from cramprules.model import FactSpec, Program
from cramprules.nodes import names_in
from cramprules.unparse import unparse

__all__ = [
    "DEFAULT_MAX_COMBINATIONS",
    "Dependencies",
    "Space",
    "TooLarge",
    "opaque_tests",
    "representatives",
]

DEFAULT_MAX_COMBINATIONS = 200_000
"""How many combinations an analysis tries before it gives up and says so."""

Value = AnyType


class TooLarge(Exception):
    """The space has more combinations than the analysis may try."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size:,} combinations (limit {limit:,})")
        self.size = size
        self.limit = limit


def _walk(conditions: Iterable[nodes.Condition | None]) -> Iterator[AnyType]:
    return nodes.walk(*conditions)


def _thresholds(conditions: Iterable[nodes.Condition | None]) -> dict[str, set[float | int]]:
    found: dict[str, set[float | int]] = {}
    for node in _walk(conditions):
        if isinstance(node, nodes.Compare):
            for mine, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(mine, nodes.Name) and isinstance(other, nodes.Number):
                    found.setdefault(mine.name, set()).add(other.value)
        elif isinstance(node, nodes.Between) and isinstance(node.subject, nodes.Name):
            for bound in (node.low, node.high):
                if isinstance(bound, nodes.Number):
                    found.setdefault(node.subject.name, set()).add(bound.value)
    return found


def _number_points(cuts: Sequence[float | int], spec: FactSpec) -> tuple[Value, ...]:
    """One value per region: every cut, a point between cuts, and both ends."""
    low, high = spec.low, spec.high
    if not cuts:
        return tuple(dict.fromkeys(p for p in (low, high) if p is not None)) or (0,)
    points: list[float | int] = [cuts[0] - 1 if low is None else low]
    for a, b in itertools.zip_longest(cuts, cuts[1:]):
        points.append(a)
        if b is not None:
            middle = (a + b) / 2
            points.append(int(middle) if float(middle).is_integer() else middle)
    points.append(cuts[-1] + 1 if high is None else high)
    inside = (p for p in points if (low is None or p >= low) and (high is None or p <= high))
    return tuple(dict.fromkeys(inside))


def representatives(
    program: Program, extra: Iterable[nodes.Condition | None] = ()
) -> dict[str, tuple[Value, ...]]:
    """Known values of every fact that reach every branch of the rules and of ``extra``.

    ``extra`` are conditions beyond the rules' own (an invariant's ``if``):
    their thresholds cut the numbers too, or a counterexample could hide
    between two points.  ``None`` is not included; the caller adds it.
    """
    conditions: list[nodes.Condition | None] = list(extra)
    for rule in (*program.rules, *program.excluded):
        conditions.extend((rule.condition, rule.unless))
    cuts = _thresholds(conditions)
    out: dict[str, tuple[Value, ...]] = {}
    for name, spec in program.facts.items():
        if spec.kind == "bool":
            out[name] = (True, False)
        elif spec.kind == "enum":
            out[name] = tuple(spec.values)
        else:
            points = sorted(v for v in cuts.get(name, ()) if math.isfinite(v))
            out[name] = _number_points(points, spec)
    return out


def opaque_tests(conditions: Iterable[nodes.Condition | None], program: Program) -> list[str]:
    """Tests whose truth the partitions cannot pin down: calls, fact-to-fact comparisons."""
    found: list[str] = []
    for node in _walk(conditions):
        if isinstance(node, nodes.Call):
            found.append(unparse(node))
        elif isinstance(node, (nodes.Compare, nodes.Between)):
            operands = (
                (node.left, node.right)
                if isinstance(node, nodes.Compare)
                else (node.subject, node.low, node.high)
            )
            named = [o for o in operands if isinstance(o, nodes.Name) and o.name in program.facts]
            if len(named) > 1:
                found.append(unparse(node))
    return list(dict.fromkeys(found))


@attrs.frozen
class Dependencies:
    """Which rules can change the outcome of which: causes, overrides, claims."""

    program: Program
    claims: tuple[ClaimSpec, ...]
    concluders: Mapping[str, tuple[int, ...]]
    overriders: Mapping[int, tuple[int, ...]]

    @classmethod
    def of(cls, program: Program, claims: Sequence[ClaimSpec]) -> Dependencies:
        concluders: dict[str, list[int]] = {}
        for i, rule in enumerate(program.rules):
            for action in rule.actions:
                if action.kind == "suspect":
                    concluders.setdefault(action.target, []).append(i)
        index = {rule.name: i for i, rule in enumerate(program.rules)}
        overriders: dict[int, list[int]] = {}
        for i, rule in enumerate(program.rules):
            for target in rule.overrides:
                if target in index:
                    overriders.setdefault(index[target], []).append(i)
        return cls(
            program,
            tuple(claims),
            {k: tuple(v) for k, v in concluders.items()},
            {k: tuple(v) for k, v in overriders.items()},
        )

    def direct(self, rule: int, *, claims: bool) -> set[int]:
        """The rules whose state decides ``rule``'s state (and, with ``claims``, its claims)."""
        spec = self.program.rules[rule]
        out: set[int] = set(self.overriders.get(rule, ()))
        for name in names_in(spec.condition, spec.unless):
            out.update(self.concluders.get(name, ()))
        if claims:
            for claim in self.claims:
                if claim.rule == rule:
                    out.update(self.claims[w].rule for w, _ in claim.beaten_by)
        return out

    def cone(self, rules: Iterable[int], *, claims: bool = True) -> frozenset[int]:
        """``rules`` and every rule that can change their state or their claims."""
        seen: set[int] = set()
        todo = list(rules)
        while todo:
            rule = todo.pop()
            if rule in seen:
                continue
            seen.add(rule)
            todo.extend(self.direct(rule, claims=claims) - seen)
        return frozenset(seen)

    def facts(self, rules: Iterable[int], extra: Iterable[nodes.Condition | None] = ()) -> list[str]:
        """The input facts tested by ``rules`` and ``extra``, in declaration order."""
        names: set[str] = set()
        for i in rules:
            spec = self.program.rules[i]
            names |= names_in(spec.condition, spec.unless)
        names |= names_in(*extra)
        return [n for n in self.program.facts if n in names]

    def conditions(self, rules: Iterable[int]) -> list[nodes.Condition | None]:
        out: list[nodes.Condition | None] = []
        for i in rules:
            out.extend((self.program.rules[i].condition, self.program.rules[i].unless))
        return out


@attrs.frozen
class Space:
    """The combinations of representative values of some facts; all others unknown."""

    program: Program
    facts: tuple[str, ...]
    domains: tuple[tuple[Value, ...], ...]

    @classmethod
    def of(
        cls,
        program: Program,
        facts: Iterable[str],
        values: Mapping[str, Sequence[Value]],
        *,
        unknown: bool = True,
    ) -> Space:
        names = tuple(facts)
        domains = tuple((*values[name], None) if unknown else tuple(values[name]) for name in names)
        return cls(program, names, domains)

    @property
    def size(self) -> int:
        return math.prod(len(d) for d in self.domains)

    def points(self, limit: int = DEFAULT_MAX_COMBINATIONS) -> Iterator[tuple[Value, ...]]:
        """Full value tuples (in ``program.facts`` order), one per combination.

        Raises :class:`TooLarge` before yielding anything when the space
        holds more than ``limit`` combinations.
        """
        size = self.size
        if size > limit:
            raise TooLarge(size, limit)
        positions = {name: i for i, name in enumerate(self.program.facts)}
        slots = [positions[name] for name in self.facts]
        base = [None] * len(self.program.facts)
        for combination in itertools.product(*self.domains):
            values = list(base)
            for slot, value in zip(slots, combination):
                values[slot] = value
            yield tuple(values)

    def assignments(self, limit: int = DEFAULT_MAX_COMBINATIONS) -> Iterator[dict[str, Value]]:
        """The same combinations as mappings of the space's own facts."""
        size = self.size
        if size > limit:
            raise TooLarge(size, limit)
        for combination in itertools.product(*self.domains):
            yield dict(zip(self.facts, combination))
