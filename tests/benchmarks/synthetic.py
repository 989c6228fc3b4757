"""Synthetic rulesets for the benchmarks: N rules over fifty facts.

The shape the issue measures: bool, number and enum facts; each rule a
conjunction of two to four comparisons, some with an ``or``; recommend,
prefer, avoid, suspect and refer actions; a few ``unless`` and ``overrides``.
Deterministic for a given seed, so every run measures the same text.
"""

from __future__ import annotations

import random
from typing import Any

__all__ = ["FACTS", "records", "ruleset_text"]

BOOLS = [f"b{i}" for i in range(25)]
NUMBERS = [f"n{i}" for i in range(15)]
ENUMS = [f"e{i}" for i in range(10)]
LEVELS = ["low", "mid", "high", "none"]
FACTS = [*BOOLS, *NUMBERS, *ENUMS]


def _test(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        name = rng.choice(BOOLS)
        return f"not {name}" if rng.random() < 0.3 else name
    if kind < 0.8:
        name = rng.choice(NUMBERS)
        op = rng.choice([">=", "<=", ">", "<"])
        return f"{name} {op} {rng.randint(0, 100)}"
    name = rng.choice(ENUMS)
    return f"{name} is {rng.choice(LEVELS)}"


def ruleset_text(count: int, seed: int = 3, *, chained: bool = True) -> str:
    """The DSL text of a ruleset with ``count`` rules.

    ``chained=False`` leaves out causes and overrides, for comparing with
    engines that have neither: every rule then fires on its own condition."""
    rng = random.Random(seed)
    options = max(4, count // 5)
    causes = max(2, count // 20)
    lines = [f'ruleset synthetic{count} "Synthetic: {count} rules"']
    lines += [f"fact {name}: bool" for name in BOOLS]
    lines += [f"fact {name}: number 0..100" for name in NUMBERS]
    lines += [f"fact {name}: one of {', '.join(LEVELS)}" for name in ENUMS]
    lines += [f"option o{i}" for i in range(options)]
    suspected = set()
    urgent = set()
    for i in range(count):
        tests = [_test(rng) for _ in range(rng.randint(2, 4))]
        if rng.random() < 0.25:
            tests[-1] = f"({tests[-1]} or {_test(rng)})"
        if chained and i > count // 2 and suspected and rng.random() < 0.1:
            tests[0] = f"c{rng.choice(sorted(suspected))}"
        roll = rng.random()
        if roll < 0.45:
            action = f"recommend o{rng.randrange(options)}"
        elif roll < 0.6:
            a, b = rng.sample(range(options), 2)
            action = f"prefer o{a} over o{b}"
        elif roll < 0.75:
            action = f"avoid o{rng.randrange(options)}"
        elif chained and roll < 0.9 and i < count // 2:
            cause = rng.randrange(causes)
            suspected.add(cause)
            action = f"suspect c{cause}"
        else:
            action = "refer doctor"
            if rng.random() < 0.3:
                action += " urgent"
                urgent.add(i)
        clauses = [f"rule r{i} priority {rng.choice([0, 0, 0, 10, 50])}:", f"    if {' and '.join(tests)}"]
        clauses.append(f"    then {action}")
        if i not in urgent and rng.random() < 0.1:
            clauses.append(f"    unless {_test(rng)}")
        if chained and i > 0 and rng.random() < 0.05 and (target := rng.randrange(i)) not in urgent:
            clauses.append(f"    overrides r{target}")
        lines += clauses
    return "\n".join(lines) + "\n"


def records(count: int, seed: int = 5, unknown: float = 0.0) -> list[dict[str, Any]]:
    """``count`` fact sets for the synthetic rulesets; ``unknown`` leaves that share out."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        record: dict[str, Any] = {}
        for name in BOOLS:
            record[name] = rng.random() < 0.4
        for name in NUMBERS:
            record[name] = rng.randint(0, 100)
        for name in ENUMS:
            record[name] = rng.choice(LEVELS)
        if unknown:
            record = {k: v for k, v in record.items() if rng.random() >= unknown}
        out.append(record)
    return out
