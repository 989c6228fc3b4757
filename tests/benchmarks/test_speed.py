"""Speed: the engine against a hand-written function doing the same checks.

Run with ``tox -e bench`` (or ``pytest -m bench -s tests/benchmarks``).  Both
run in the same process on the same 10,000 generated fact sets; the figures
are medians of several rounds, reported as ratios, because the machine is
shared and noisy.  Nothing here asserts a time.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest

import cramprules

pytestmark = pytest.mark.bench

RECORDS = 10_000
ROUNDS = 7

# Fourteen rules over eighteen facts: the shape of the leg-cramps ruleset.
RULESET = """
ruleset bench "Benchmark: fourteen rules"
fact night_cramps: bool
fact exercise_cramps: bool
fact constipation: bool
fact long_term: bool
fact bedtime: bool
fact sensitive_stomach: bool
fact magnesium_tried: bool
fact dehydrated: bool
fact overuse: bool
fact static_position: bool
fact pain_with_activity_eases_with_rest: bool
fact pain_walking_eases_leaning_forward: bool
fact diuretics: bool
fact keto_diet: bool
fact kidney_disease: bool
fact persistent: bool
fact prolonged: bool
fact pain: number 0..10

rule red_flags priority 100: if persistent or prolonged or pain >= 8 then refer doctor urgent
rule blood_flow priority 90: if pain_with_activity_eases_with_rest then suspect reduced_blood_flow and refer doctor urgent
rule nerve priority 90: if pain_walking_eases_leaning_forward then suspect spinal_nerve_compression and refer doctor urgent
rule relief: if night_cramps or exercise_cramps then recommend stretching and recommend massage and recommend heat
rule magnesium: if (night_cramps or exercise_cramps) and not magnesium_tried then suspect magnesium_deficiency
rule glycinate: if long_term or magnesium_deficiency then prefer glycinate over citrate
rule citrate: if constipation and long_term then prefer citrate over glycinate unless bedtime
rule stomach: if sensitive_stomach then avoid citrate
rule kidney priority 50: if kidney_disease then avoid glycinate and avoid citrate and refer doctor
rule dehydration: if dehydrated then suspect dehydration and recommend hydration
rule overuse: if overuse then suspect muscle_overuse and recommend rest
rule posture: if static_position then suspect static_posture and recommend movement_breaks
rule minerals: if diuretics then suspect mineral_loss and recommend mineral_levels_test
rule keto: if keto_diet then suspect keto_electrolyte_loss and recommend electrolytes
"""

BOOL_FACTS = [
    "night_cramps", "exercise_cramps", "constipation", "long_term", "bedtime",
    "sensitive_stomach", "magnesium_tried", "dehydrated", "overuse", "static_position",
    "pain_with_activity_eases_with_rest", "pain_walking_eases_leaning_forward",
    "diuretics", "keto_diet", "kidney_disease", "persistent", "prolonged",
]  # fmt: skip


def generate(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        record: dict[str, Any] = {name: rng.random() < 0.3 for name in BOOL_FACTS}
        record["pain"] = rng.randint(0, 10)
        records.append(record)
    return records


def hand_written(f: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The same fourteen checks and the same conflict resolution, by hand."""
    out: list[tuple[str, str]] = []
    if f["persistent"] or f["prolonged"] or f["pain"] >= 8:
        out.append(("refer", "doctor urgent"))
    if f["pain_with_activity_eases_with_rest"]:
        out.append(("refer", "doctor urgent"))
    if f["pain_walking_eases_leaning_forward"]:
        out.append(("refer", "doctor urgent"))
    cramps = f["night_cramps"] or f["exercise_cramps"]
    if cramps:
        out += [("recommend", "stretching"), ("recommend", "massage"), ("recommend", "heat")]
    deficiency = cramps and not f["magnesium_tried"]
    kidney = f["kidney_disease"]
    stomach = f["sensitive_stomach"]
    citrate = f["constipation"] and f["long_term"] and not f["bedtime"] and not kidney and not stomach
    glycinate = (f["long_term"] or deficiency) and not kidney and not citrate
    if glycinate:
        out.append(("prefer", "glycinate"))
    if citrate:
        out.append(("prefer", "citrate"))
    if kidney:
        out += [("avoid", "glycinate"), ("avoid", "citrate"), ("refer", "doctor")]
    elif stomach:
        out.append(("avoid", "citrate"))
    if f["dehydrated"]:
        out.append(("recommend", "hydration"))
    if f["overuse"]:
        out.append(("recommend", "rest"))
    if f["static_position"]:
        out.append(("recommend", "movement_breaks"))
    if f["diuretics"]:
        out.append(("recommend", "mineral_levels_test"))
    if f["keto_diet"]:
        out.append(("recommend", "electrolytes"))
    return out


def per_record(run: Callable[[list[dict[str, Any]]], object], records: list[dict[str, Any]]) -> float:
    """Median seconds per record over several rounds."""
    times = []
    for _ in range(ROUNDS):
        gc.collect()
        start = time.perf_counter()
        run(records)
        times.append((time.perf_counter() - start) / len(records))
    return statistics.median(times)


@pytest.fixture(scope="module")
def ruleset() -> cramprules.Ruleset:
    return cramprules.Engine(autoload=False).parse_ruleset(RULESET, "bench.cramp")


def test_engine_decides_the_same_as_the_hand_written_function(ruleset: cramprules.Ruleset) -> None:
    for record in generate(2_000, seed=11):
        report = ruleset.evaluate(record)
        decided = sorted(
            [(r.action, r.option) for r in report.recommendations]
            + [("refer", f"{r.to} urgent" if r.urgent else r.to) for r in report.referrals]
        )
        expected = sorted(set(hand_written(record)))
        assert sorted(set(decided)) == expected, record


def test_speed_against_hand_written_code(ruleset: cramprules.Ruleset) -> None:
    records = generate(RECORDS)
    baseline = per_record(lambda rs: [hand_written(r) for r in rs], records)
    evaluate = per_record(lambda rs: [ruleset.evaluate(r) for r in rs], records)
    many = per_record(ruleset.evaluate_many, records)
    decision = per_record(lambda rs: [r.recommendations for r in ruleset.evaluate_many(rs)], records)
    partial_records = [{k: v for i, (k, v) in enumerate(r.items()) if i % 3} for r in records]
    partial = per_record(ruleset.evaluate_many, partial_records)
    rows = [
        ("hand-written function (baseline)", baseline),
        ("Ruleset.evaluate, one call per record", evaluate),
        ("Ruleset.evaluate_many", many),
        ("evaluate_many + .recommendations", decision),
        ("evaluate_many, a third of facts unknown", partial),
    ]
    print(f"\n{RECORDS:,} records, 14 rules, 18 facts; median of {ROUNDS} rounds")
    for label, seconds in rows:
        print(f"  {label:<42} {seconds * 1e6:8.2f} us/record   {seconds / baseline:6.2f}x")
    assert baseline > 0
