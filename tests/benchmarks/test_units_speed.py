"""Speed of quantities: values with units against plain numbers, in the same process.

Run with ``tox -e bench`` (or ``pytest -m bench -s tests/benchmarks``).  The
baseline is the same ruleset without units (no conversion step at all); the
figures are medians of several rounds, reported as ratios.  Nothing here
asserts a time.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest

import cramprules
from cramprules import hookimpl
from cramprules.units import Substance

pytestmark = pytest.mark.bench

RECORDS = 10_000
ROUNDS = 5
RULESET = """
fact mg: number 0..20{unit}
fact k: number 0..15{unit_k}
fact night_cramps: bool
rule low_mg: if mg < 1.7 then suspect low_magnesium
rule low_k: if k < 3.5 then suspect low_potassium
rule relief: if night_cramps then recommend stretching
"""


class Substances:
    @hookimpl
    def cramprules_substances(self) -> dict[str, Substance]:
        return {
            "mg": Substance("magnesium", 24.305, 2, ("mg/dL", "mmol/L", "mEq/L"), (1.2, 6.0)),
            "k": Substance("potassium", 39.098, 1, ("mmol/L", "mEq/L", "mg/dL"), (1.5, 9.0)),
        }


def per_record(run: Callable[[list[dict[str, Any]]], object], records: list[dict[str, Any]]) -> float:
    times = []
    for _ in range(ROUNDS):
        gc.collect()
        start = time.perf_counter()
        run(records)
        times.append((time.perf_counter() - start) / len(records))
    return statistics.median(times)


def test_speed_of_values_with_units() -> None:
    engine = cramprules.Engine(plugins=[Substances()], autoload=False)
    plain = engine.parse_ruleset(RULESET.format(unit="", unit_k=""))
    with_units = engine.parse_ruleset(RULESET.format(unit=' unit "mg/dL"', unit_k=' unit "mmol/L"'))
    rng = random.Random(7)
    numbers = [
        {"mg": round(rng.uniform(1.3, 2.6), 2), "k": round(rng.uniform(3.0, 5.0), 1), "night_cramps": True}
        for _ in range(RECORDS)
    ]
    text = [
        {"mg": f"{r['mg'] / 2.4305:.3f} mmol/L", "k": f"{r['k']} mEq/L", "night_cramps": True}
        for r in numbers
    ]
    mappings = [
        {"mg": {"value": r["mg"] / 2.4305, "unit": "mmol/L"}, "k": {"value": r["k"], "unit": "meq/L"}}
        for r in numbers
    ]
    baseline = per_record(plain.evaluate_many, numbers)
    rows = [
        ("no units declared (baseline)", baseline),
        ("units declared, plain numbers", per_record(with_units.evaluate_many, numbers)),
        ('units declared, "0.7 mmol/L" text', per_record(with_units.evaluate_many, text)),
        ('units declared, {"value", "unit"}', per_record(with_units.evaluate_many, mappings)),
    ]
    print(f"\n{RECORDS:,} records, 2 quantities each; median of {ROUNDS} rounds")
    for label, seconds in rows:
        print(f"  {label:<42} {seconds * 1e6:8.2f} us/record   {seconds / baseline:6.2f}x")
    assert baseline > 0
