"""The order rules run in: a cause is concluded before any rule tests it.

A pure function of the rules: no diagnostics, no state.  A rule depends on
every rule that suspects a cause it tests, and a rule that is overridden
depends on the rules that override it.  Among rules that are ready, the
earliest in the source goes first, so the order is stable.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import attrs

from cramprules.model import RuleSpec
from cramprules.nodes import names_in

__all__ = ["Cycle", "Order", "rule_order"]


@attrs.frozen
class Cycle:
    """Rules that depend on each other in a circle, and why each step depends on the next."""

    rules: tuple[int, ...]
    """Indices of the rules, as a closed path: the last is the first again."""
    reasons: tuple[str, ...]
    """Why each rule depends on the next one, in words (``""`` where unknown)."""


@attrs.frozen
class Order:
    """Indices into the rules in dependency order, or the cycle that prevents one."""

    indices: tuple[int, ...]
    """Dependency order; with a cycle, simply source order."""
    cycle: Cycle | None = None


def rule_order(rules: Sequence[RuleSpec]) -> Order:
    """The order to run ``rules`` in: causes before the rules that test them."""
    concluders: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        for action in rule.actions:
            if action.kind == "suspect":
                concluders.setdefault(action.target, []).append(i)
    index = {r.name: i for i, r in enumerate(rules)}
    depends: list[set[int]] = [set() for _ in rules]
    why: dict[tuple[int, int], str] = {}
    for i, rule in enumerate(rules):
        for name in names_in(rule.condition, rule.unless):
            for j in concluders.get(name, ()):
                depends[i].add(j)
                why[(i, j)] = f"'{rule.name}' tests {name}, which '{rules[j].name}' suspects"
        for target in rule.overrides:
            if target in index:
                j = index[target]
                depends[j].add(i)
                why[(j, i)] = f"'{rule.name}' overrides '{target}'"
    order = topological_order(depends)
    if len(order) == len(rules):
        return Order(tuple(order))
    cycle = find_cycle(depends, {i for i in range(len(rules)) if i not in set(order)})
    reasons = tuple(why.get((cycle[k], cycle[k + 1]), "") for k in range(len(cycle) - 1))
    return Order(tuple(range(len(rules))), Cycle(tuple(cycle), reasons))


def topological_order(depends: Sequence[set[int]]) -> list[int]:
    """Nodes ``0..n-1`` with each after all it depends on, the lowest ready one first.

    Nodes on or behind a cycle are left out, so a short result means a cycle.
    """
    remaining = [len(d) for d in depends]
    users: list[list[int]] = [[] for _ in depends]
    for i, deps in enumerate(depends):
        for j in deps:
            users[j].append(i)
    ready = [i for i, n in enumerate(remaining) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for user in users[i]:
            remaining[user] -= 1
            if remaining[user] == 0:
                heapq.heappush(ready, user)
    return order


def find_cycle(depends: Sequence[set[int]], among: set[int]) -> list[int]:
    """One dependency cycle among ``among``, as a closed path.

    ``among`` must be the nodes :func:`topological_order` left out: each of
    them depends on another of them.
    """
    start = min(among)
    path = [start]
    seen = {start: 0}
    node = start
    while True:
        nxt = min(d for d in depends[node] if d in among)
        if nxt in seen:
            return [*path[seen[nxt] :], nxt]
        seen[nxt] = len(path)
        path.append(nxt)
        node = nxt
