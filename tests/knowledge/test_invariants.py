"""The safety invariants hold for every input, checked by enumeration.

`cramprules check` proves the ruleset's `invariant` statements (see
test_tooling.py); independently of it, these tests enumerate combinations of
the facts the invariants depend on (yes, no and unknown; pain unknown, 0, 7,
8 and 10), and a seeded sample of all the facts together.  They check the
invariants twice: as KNOWLEDGE.md states them (plain Python below), and
exactly as the ruleset writes them (its `invariant` statements, interpreted
over each report).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

import cramprules
from cramprules import nodes

TRI = (True, False, None)
PAINS = (None, 0, 7, 8, 10)
MAGNESIUM = (
    "night_cramps",
    "exercise_cramps",
    "constipation",
    "long_term",
    "bedtime",
    "sensitive_stomach",
    "kidney_disease",
    "magnesium_tried",
    "keto_diet",
)
URGENT = (
    "one_leg_swollen_red_warm",
    "breathless_or_chest_pain",
    "prolonged",
    "wound_tetanus_risk",
    "persistent",
    "pain_with_activity_eases_with_rest",
)
SEE_A_DOCTOR = (
    "pain_walking_eases_leaning_forward",
    "disturbs_sleep",
    "numbness_or_swelling",
    "muscle_weakness",
    "kidney_disease",
    "long_term",
    "keto_diet",
    "diuretics",
)


def grid(names: tuple[str, ...], *, pains: tuple[Any, ...] = PAINS, **fixed: Any) -> Iterator[dict[str, Any]]:
    """Every combination of yes / no / unknown for ``names``, times each pain."""
    for values in itertools.product(TRI, repeat=len(names)):
        for pain in pains:
            yield {**fixed, **dict(zip(names, values)), "pain": pain}


def sample(rs: cramprules.Ruleset, count: int, seed: int = 20261125) -> Iterator[dict[str, Any]]:
    """Random inputs over every fact at once."""
    rng = random.Random(seed)
    for _ in range(count):
        facts: dict[str, Any] = {name: rng.choice(TRI) for name in rs.facts if name != "pain"}
        facts["pain"] = rng.choice(PAINS)
        yield facts


def inputs(rs: cramprules.Ruleset) -> Iterator[dict[str, Any]]:
    yield from grid(MAGNESIUM, pains=(None, 0, 8))
    yield from grid(URGENT)
    yield from grid(SEE_A_DOCTOR, pains=(None, 8))
    yield from sample(rs, 20_000)


@pytest.fixture(scope="module")
def reports(rs: cramprules.Ruleset) -> list[cramprules.Report]:
    return [rs.evaluate(facts) for facts in inputs(rs)]


def shown(report: cramprules.Report, kind: str, target: str, urgent: bool = False) -> bool:
    """Whether the report gives this outcome, fired or conditional."""
    if kind == "refer":  # `refer doctor` is any referral to a doctor, as in `check`
        return any(r.to == target and (r.urgent or not urgent) for r in report.referrals)
    if kind == "suspect":
        return any(c.name == target for c in report.causes)
    return any(r.action == kind and r.option == target for r in report.recommendations)


def counterexample(reports: list[cramprules.Report], holds: Any) -> Mapping[str, Any] | None:
    for report in reports:
        if not holds(report.facts, report):
            return report.facts
    return None


# ---------------------------------------------------------------- as the issue states them


def test_the_enumeration_is_large_enough_to_mean_something(reports: list[cramprules.Report]) -> None:
    assert len(reports) == 3**9 * 3 + 3**6 * 5 + 3**8 * 2 + 20_000


def _refers(report: cramprules.Report, to: str, *, urgent: bool) -> bool:
    """A fired referral to ``to``: urgent when asked, any when not."""
    return any(r.to == to and r.status == "fired" and (r.urgent or not urgent) for r in report.referrals)


def test_clot_signs_with_breathlessness_always_call_the_emergency_number(
    reports: list[cramprules.Report],
) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        clot = facts.get("one_leg_swollen_red_warm") and facts.get("breathless_or_chest_pain")
        return not clot or (
            _refers(report, "emergency", urgent=True) and report.referrals[0].to == "emergency"
        )

    assert counterexample(reports, holds) is None


def test_a_long_cramp_possible_tetanus_and_clot_signs_always_refer_urgently(
    reports: list[cramprules.Report],
) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        flagged = (
            facts.get("prolonged") or facts.get("wound_tetanus_risk") or facts.get("one_leg_swollen_red_warm")
        )
        return not flagged or _refers(report, "doctor", urgent=True)

    assert counterexample(reports, holds) is None


def test_persistent_very_painful_and_the_walking_patterns_always_refer_to_a_doctor(
    reports: list[cramprules.Report],
) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        flagged = (
            facts.get("persistent")
            or (facts.get("pain") or 0) >= 8
            or facts.get("pain_with_activity_eases_with_rest")
            or facts.get("pain_walking_eases_leaning_forward")
            or facts.get("disturbs_sleep")
            or facts.get("numbness_or_swelling")
            or facts.get("muscle_weakness")
        )
        return not flagged or any(
            r.to == "doctor" and not r.urgent and r.status == "fired" for r in report.referrals
        )

    assert counterexample(reports, holds) is None


def test_no_urgent_referral_without_an_urgent_sign(reports: list[cramprules.Report]) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        sign = (
            facts.get("prolonged") or facts.get("wound_tetanus_risk") or facts.get("one_leg_swollen_red_warm")
        )
        return bool(sign) or not any(r.urgent for r in report.referrals)

    assert counterexample(reports, holds) is None


def test_urgent_referrals_come_first_the_emergency_before_the_doctor(
    reports: list[cramprules.Report],
) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        ranks = [(not r.urgent, r.to != "emergency") for r in report.referrals]
        return ranks == sorted(ranks)

    assert counterexample(reports, holds) is None


def test_never_two_magnesium_forms_preferred_at_once(reports: list[cramprules.Report]) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        return not (shown(report, "prefer", "glycinate") and shown(report, "prefer", "citrate"))

    assert counterexample(reports, holds) is None


def test_no_magnesium_form_is_preferred_or_recommended_with_kidney_disease(
    reports: list[cramprules.Report],
) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        if not facts.get("kidney_disease"):
            return True
        forms = [
            shown(report, kind, form) for kind in ("prefer", "recommend") for form in ("glycinate", "citrate")
        ]
        suggested = any(facts.get(f) for f in ("night_cramps", "exercise_cramps", "long_term", "keto_diet"))
        return not any(forms) and (not suggested or shown(report, "refer", "doctor"))

    assert counterexample(reports, holds) is None


def test_no_magnesium_form_again_after_magnesium_has_not_helped(reports: list[cramprules.Report]) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        if not facts.get("magnesium_tried"):
            return True
        return not any(
            shown(report, kind, form) for kind in ("prefer", "recommend") for form in ("glycinate", "citrate")
        )

    assert counterexample(reports, holds) is None


def test_no_electrolyte_product_on_diuretics_or_with_kidney_disease(reports: list[cramprules.Report]) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        if not (facts.get("diuretics") or facts.get("kidney_disease")):
            return True
        return not shown(report, "recommend", "electrolytes") and shown(report, "avoid", "electrolytes")

    assert counterexample(reports, holds) is None


def test_citrate_is_never_preferred_at_bedtime(reports: list[cramprules.Report]) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        return not facts.get("bedtime") or not shown(report, "prefer", "citrate")

    assert counterexample(reports, holds) is None


def test_citrate_is_never_preferred_with_a_sensitive_stomach(reports: list[cramprules.Report]) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        return not facts.get("sensitive_stomach") or not shown(report, "prefer", "citrate")

    assert counterexample(reports, holds) is None


def test_whenever_citrate_is_preferred_without_a_bedtime_answer_it_is_conditional_on_bedtime(
    reports: list[cramprules.Report],
) -> None:
    def holds(facts: Mapping[str, Any], report: cramprules.Report) -> bool:
        citrate = [r for r in report.recommendations if r.action == "prefer" and r.option == "citrate"]
        if not citrate or "bedtime" in facts:
            return True
        return citrate[0].status == "conditional" and "bedtime" in (citrate[0].caveat or "")

    assert counterexample(reports, holds) is None


# ---------------------------------------------------------------- as the ruleset writes them


def kleene(node: nodes.Condition | nodes.Operand, facts: Mapping[str, Any]) -> Any:
    """Three-valued value of an invariant's condition (the forms invariants use)."""
    if isinstance(node, nodes.Name):
        return facts.get(node.name)
    if isinstance(node, nodes.Number):
        return node.value
    if isinstance(node, nodes.Not):
        value = kleene(node.operand, facts)
        return None if value is None else not value
    if isinstance(node, (nodes.All, nodes.Any)):
        values = [kleene(c, facts) for c in node.operands]
        decisive = isinstance(node, nodes.Any)
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    if isinstance(node, nodes.Compare):
        left, right = kleene(node.left, facts), kleene(node.right, facts)
        if left is None or right is None:
            return None
        ops = {
            ">=": left >= right,
            ">": left > right,
            "<=": left <= right,
            "<": left < right,
            "=": left == right,
            "!=": left != right,
        }
        return ops[node.op]
    raise AssertionError(f"invariant uses a form this test does not know: {node!r}")


def claim_holds(claim: nodes.Claim, report: cramprules.Report) -> bool:
    if isinstance(claim, nodes.Action):
        return shown(report, claim.kind, claim.target, claim.urgent)
    if isinstance(claim, nodes.ClaimNot):
        return not claim_holds(claim.operand, report)
    if isinstance(claim, nodes.ClaimAll):
        return all(claim_holds(c, report) for c in claim.operands)
    return any(claim_holds(c, report) for c in claim.operands)


def test_the_ruleset_states_the_invariants_of_the_knowledge(rs: cramprules.Ruleset) -> None:
    labels = {i.label for i in rs.program.invariants}
    assert {
        "clot signs with breathlessness or chest pain: call the emergency number",
        "a cramp over ten minutes, possible tetanus and clot signs refer urgently",
        "persistent or extremely painful cramps and the walking patterns refer to a doctor",
        "never two magnesium forms preferred at once",
        "no magnesium form with kidney disease",
        "no magnesium form again after magnesium has not helped",
        "citrate never preferred at bedtime",
        "citrate never preferred with a sensitive stomach",
        "no electrolyte product on diuretics or with kidney disease",
    } <= labels


def test_every_invariant_written_in_the_ruleset_holds_on_every_enumerated_input(
    rs: cramprules.Ruleset, reports: list[cramprules.Report]
) -> None:
    assert len(rs.program.invariants) >= 9
    for invariant in rs.program.invariants:
        for report in reports:
            applies = invariant.condition is None or kleene(invariant.condition, report.facts) is True
            if applies:
                assert claim_holds(invariant.claim, report), (invariant.label, report.facts)


def test_the_invariant_check_itself_can_fail(rs: cramprules.Ruleset) -> None:
    """A claim that is false for a known input is reported as false."""
    label = "persistent or extremely painful cramps and the walking patterns refer to a doctor"
    (red_flags,) = [i for i in rs.program.invariants if i.label == label]
    calm = rs.evaluate(
        {
            "persistent": False,
            "prolonged": False,
            "pain": 2,
            "pain_with_activity_eases_with_rest": False,
            "pain_walking_eases_leaning_forward": False,
        }
    )
    assert not claim_holds(red_flags.claim, calm)
    assert red_flags.condition is not None
    assert kleene(red_flags.condition, calm.facts) is False
    assert kleene(red_flags.condition, {"pain": 8}) is True
    assert kleene(red_flags.condition, {}) is None
