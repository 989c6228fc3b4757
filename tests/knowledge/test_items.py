"""One test per numbered item of "What the article says, as rules" (KNOWLEDGE.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import cramprules

Evaluate = Callable[..., Any]
"""The ``outcome`` fixture (conftest.py): facts in, an ``Outcome`` out."""

RELIEF = ("stretching", "massage", "heat")


# 1. Immediate relief for a cramp: stretching, massage, heat, for everyone with a cramp.

NO_CLOT = {"one_leg_swollen_red_warm": False}


@pytest.mark.parametrize(
    "when",
    [
        {},
        {"night_cramps": True},
        {"exercise_cramps": True},
        {"night_cramps": False, "exercise_cramps": False},
    ],
    ids=["unsaid", "at night", "with exercise", "neither"],
)
def test_item_1_everyone_with_a_cramp_gets_stretching_massage_and_heat(
    outcome: Evaluate, when: dict[str, bool]
) -> None:
    out = outcome({**when, **NO_CLOT})
    assert set(RELIEF) <= set(out.recommended)
    assert all(out.recommended[o].status == "fired" for o in RELIEF)
    assert all(out.recommended[o].group == "relief" for o in RELIEF)
    assert all(s.name == "article" for o in RELIEF for s in out.recommended[o].sources)


def test_item_1_a_leg_with_the_signs_of_a_clot_is_stretched_but_not_massaged_or_heated(
    outcome: Evaluate,
) -> None:
    out = outcome(one_leg_swollen_red_warm=True)
    assert "stretching" in out.recommended
    assert {"massage", "heat"} <= set(out.avoided)
    assert not {"massage", "heat"} & set(out.recommended)
    assert all(
        "clot" in (out.avoided[o].because or "") or "swollen" in (out.avoided[o].because or "")
        for o in ("massage", "heat")
    )


# 2. Leg cramps may indicate magnesium deficiency; night and workout cramps point to it.


@pytest.mark.parametrize("when", ["night_cramps", "exercise_cramps"])
def test_item_2_night_or_exercise_cramps_point_to_low_magnesium_citing_rupa_health(
    outcome: Evaluate, when: str
) -> None:
    out = outcome({when: True})
    (cause,) = [c for c in out.report.causes if c.name == "magnesium_deficiency"]
    assert cause.status == "fired"
    assert cause.evidence == (f"{when} is yes",)
    assert "rupa" in {s.name for s in cause.sources}
    assert cause.because is not None
    assert "relax" in cause.because


def test_item_2_no_magnesium_suspicion_without_night_or_exercise_cramps(outcome: Evaluate) -> None:
    assert "magnesium_deficiency" not in outcome(night_cramps=False, exercise_cramps=False).causes


# 3. Glycinate and citrate are the two forms suggested; both are well absorbed.


def test_item_3_the_only_forms_ever_suggested_are_glycinate_and_citrate(rs: cramprules.Ruleset) -> None:
    forms = {a.target for r in rs.rules for a in r.actions if a.kind == "prefer"}
    assert forms == {"glycinate", "citrate"}


def test_item_3_the_advice_says_both_forms_are_well_absorbed(outcome: Evaluate) -> None:
    because = outcome(long_term=True).preferred["glycinate"].because
    assert because is not None
    assert "both well absorbed" in because


# 4. Glycinate is favoured for long-term use: minimal gastrointestinal side effects.


def test_item_4_long_term_prevention_prefers_glycinate_over_citrate_citing_berg(outcome: Evaluate) -> None:
    out = outcome(long_term=True, constipation=False, kidney_disease=False, magnesium_tried=False)
    glycinate = out.preferred["glycinate"]
    assert (glycinate.status, glycinate.over) == ("fired", ("citrate",))
    assert "citrate" not in out.preferred
    assert [s.name for s in glycinate.sources] == ["berg"]
    assert glycinate.because is not None
    assert "stomach" in glycinate.because


# 5. Citrate helps if also constipated (a laxative), but not at bedtime.


def test_item_5_constipation_prefers_citrate_when_not_taken_at_bedtime(outcome: Evaluate) -> None:
    out = outcome(
        long_term=True,
        constipation=True,
        bedtime=False,
        sensitive_stomach=False,
        kidney_disease=False,
        magnesium_tried=False,
    )
    citrate = out.preferred["citrate"]
    assert (citrate.status, citrate.over, citrate.caveat) == ("fired", ("glycinate",), None)
    assert "glycinate" not in out.preferred
    assert citrate.because is not None
    assert "laxative" in citrate.because


def test_item_5_at_bedtime_the_constipated_person_is_told_why_glycinate_instead(outcome: Evaluate) -> None:
    out = outcome(long_term=True, constipation=True, bedtime=True)
    assert "citrate" not in out.preferred
    assert out.preferred["glycinate"].rule == "glycinate_at_bedtime"
    assert "bedtime" in (out.preferred["glycinate"].because or "")
    assert out.report.explain_rule("citrate_for_constipation").outcome == "defeated"


# 6. If magnesium does not help, look at other causes: overuse, dehydration, one position.

OTHER_CAUSES = {"overuse": "muscle_overuse", "dehydrated": "dehydration", "static_position": "static_posture"}
OTHER_OPTIONS = {"overuse": "rest", "dehydrated": "hydration", "static_position": "movement_breaks"}


@pytest.mark.parametrize("fact", sorted(OTHER_CAUSES))
@pytest.mark.parametrize("tried", [True, False, None])
def test_item_6_each_other_cause_that_is_true_is_suspected_with_its_remedy(
    outcome: Evaluate, fact: str, tried: bool | None
) -> None:
    out = outcome({fact: True, "magnesium_tried": tried})
    assert OTHER_CAUSES[fact] in out.causes
    assert out.recommended[OTHER_OPTIONS[fact]].status == "fired"
    assert out.recommended[OTHER_OPTIONS[fact]].group == "prevention"


def test_item_6_when_magnesium_has_not_helped_the_questions_turn_to_the_other_causes(
    outcome: Evaluate,
) -> None:
    questions = outcome(magnesium_tried=True, night_cramps=True).report.questions
    first_non_urgent = [q.fact for q in questions if not _decides_urgent(q)][:3]
    assert set(first_non_urgent) == {"overuse", "dehydrated", "static_position"}


def test_item_6_without_the_failed_magnesium_the_other_causes_are_asked_after_the_magnesium_questions(
    outcome: Evaluate,
) -> None:
    questions = outcome(magnesium_tried=False, night_cramps=True).questions
    for other in ("overuse", "dehydrated", "static_position"):
        assert questions.index("constipation") < questions.index(other)
        assert questions.index("kidney_disease") < questions.index(other)


def test_item_6_when_magnesium_has_not_helped_the_other_causes_rank_above_low_magnesium(
    outcome: Evaluate,
) -> None:
    out = outcome(
        magnesium_tried=True, night_cramps=True, overuse=True, dehydrated=True, static_position=True
    )
    assert out.causes[-1] == "magnesium_deficiency"
    assert set(out.causes[:3]) == {"muscle_overuse", "dehydration", "static_posture"}
    for cause in out.report.causes[:3]:
        assert cause.because is not None
        assert cause.because.startswith("Magnesium has not helped")


def test_item_6_without_the_failed_magnesium_low_magnesium_is_listed_first(outcome: Evaluate) -> None:
    out = outcome(magnesium_tried=False, night_cramps=True, overuse=True)
    assert out.causes == ["magnesium_deficiency", "muscle_overuse"]


def _decides_urgent(question: cramprules.Question) -> bool:
    """Whether the question decides a referral (or the clot caution that goes with one)."""
    return question.fact in REFERRAL_FACTS


REFERRAL_FACTS = {
    "one_leg_swollen_red_warm",
    "breathless_or_chest_pain",
    "prolonged",
    "wound_tetanus_risk",
    "persistent",
    "pain",
    "pain_with_activity_eases_with_rest",
    "pain_walking_eases_leaning_forward",
    "disturbs_sleep",
    "numbness_or_swelling",
    "muscle_weakness",
}


# 7. Calf pain with walking that eases with rest: reduced blood flow, see a doctor (not urgently).


def test_item_7_walking_calf_pain_that_eases_with_rest_suspects_reduced_blood_flow_and_refers(
    outcome: Evaluate,
) -> None:
    out = outcome(pain_with_activity_eases_with_rest=True)
    assert out.causes[0] == "reduced_blood_flow"
    (referral,) = out.report.referrals
    assert (referral.to, referral.urgent, referral.rule) == ("doctor", False, "reduced_blood_flow_see_doctor")


def test_item_7_the_question_is_about_a_walking_distance_and_minutes_of_rest(rs: cramprules.Ruleset) -> None:
    question = rs.facts["pain_with_activity_eases_with_rest"].question or ""
    assert "walking a certain distance" in question
    assert "few minutes of rest" in question


# 8. Cramping while walking that eases leaning forward: spinal nerve compression, see a doctor.


def test_item_8_walking_cramping_that_eases_leaning_forward_suspects_a_spinal_nerve_and_refers(
    outcome: Evaluate,
) -> None:
    out = outcome(pain_walking_eases_leaning_forward=True)
    assert out.causes[0] == "spinal_nerve_compression"
    (referral,) = out.report.referrals
    assert (referral.to, referral.urgent, referral.rule) == ("doctor", False, "spinal_nerve_see_doctor")


# 9. Low potassium and calcium, especially with diuretics: have levels checked.


def test_item_9_diuretics_suspect_mineral_loss_and_ask_for_a_blood_test(outcome: Evaluate) -> None:
    out = outcome(diuretics=True)
    assert "mineral_loss" in out.causes
    test = out.recommended["mineral_levels_test"]
    assert (test.status, test.group) == ("fired", "tests")
    assert "potassium" in test.label
    assert "calcium" in test.label


def test_item_9_on_diuretics_no_electrolyte_product_without_a_doctor(outcome: Evaluate) -> None:
    avoid = outcome(diuretics=True).avoided["electrolytes"]
    assert avoid.status == "fired"
    assert [s.name for s in avoid.sources] == ["ods_potassium"]
    assert "potassium" in (avoid.because or "")
    assert "doctor" in (avoid.because or "")


def test_item_9_no_blood_test_without_diuretics(outcome: Evaluate) -> None:
    out = outcome(diuretics=False)
    assert "mineral_loss" not in out.causes
    assert "mineral_levels_test" not in out.recommended


# 10. Cramps can come with the keto diet (electrolyte loss).


def test_item_10_the_keto_diet_suspects_electrolyte_loss_and_suggests_electrolytes(outcome: Evaluate) -> None:
    out = outcome(keto_diet=True, kidney_disease=False, diuretics=False)
    assert "keto_electrolyte_loss" in out.causes
    assert out.recommended["electrolytes"].status == "fired"


# 11. Persistent or extremely painful cramps: see a doctor; prolonged ones: urgently (NHS).


@pytest.mark.parametrize(
    "facts",
    [{"persistent": True}, {"pain": 8}, {"pain": 9}, {"pain": 10}],
    ids=["persistent", "pain 8", "pain 9", "pain 10"],
)
def test_item_11_persistent_or_extremely_painful_cramps_refer_to_a_doctor_not_urgently(
    outcome: Evaluate, facts: dict[str, Any]
) -> None:
    out = outcome(facts)
    (referral,) = out.report.referrals
    assert (referral.to, referral.urgent, referral.status) == ("doctor", False, "fired")
    assert referral.rule == "persistent_or_very_painful"


def test_item_11_a_cramp_over_ten_minutes_refers_urgently(outcome: Evaluate) -> None:
    out = outcome(prolonged=True)
    (referral,) = out.report.referrals
    assert (referral.to, referral.urgent, referral.rule) == ("doctor", True, "prolonged_cramp")
    assert {s.name for s in referral.sources} == {"article", "nhs_cramps"}


def test_item_11_pain_below_8_without_other_flags_is_not_a_red_flag(outcome: Evaluate) -> None:
    out = outcome(
        pain=7,
        persistent=False,
        prolonged=False,
        pain_with_activity_eases_with_rest=False,
        pain_walking_eases_leaning_forward=False,
    )
    assert out.report.referrals == ()
