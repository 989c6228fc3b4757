"""Combinations: red flags with supplement advice, kidney disease with
constipation, bedtime yes / no / unknown, nothing known at all, and the text
report a person reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import cramprules

Evaluate = Callable[..., Any]
"""The ``outcome`` fixture (conftest.py): facts in, an ``Outcome`` out."""

URGENT_FACTS = ("one_leg_swollen_red_warm", "breathless_or_chest_pain", "prolonged", "wound_tetanus_risk")
RELIEF = {"stretching", "massage", "heat"}
SETTLED = {"kidney_disease": False, "magnesium_tried": False, "sensitive_stomach": False}
"""The answers that would otherwise leave any magnesium advice conditional."""


# ---------------------------------------------------------------- red flags with other advice


def test_a_red_flag_comes_first_and_the_supplement_advice_still_follows(outcome: Evaluate) -> None:
    out = outcome(pain=9, night_cramps=True, long_term=True, constipation=True, bedtime=False, **SETTLED)
    assert (out.report.referrals[0].to, out.report.referrals[0].urgent) == ("doctor", False)
    assert out.causes[0] == "magnesium_deficiency"
    assert out.preferred["citrate"].status == "fired"
    assert {"stretching", "massage", "heat"} <= set(out.recommended)


def test_every_tier_at_once_lists_the_urgent_referrals_first_then_the_plain_ones(outcome: Evaluate) -> None:
    out = outcome(
        prolonged=True,
        wound_tetanus_risk=True,
        one_leg_swollen_red_warm=True,
        breathless_or_chest_pain=True,
        persistent=True,
        pain_with_activity_eases_with_rest=True,
        pain_walking_eases_leaning_forward=True,
        kidney_disease=True,
        long_term=True,
    )
    referrals = out.report.referrals
    assert (referrals[0].to, referrals[0].urgent) == ("emergency", True)
    assert [r.urgent for r in referrals] == sorted((r.urgent for r in referrals), reverse=True)
    assert {r.rule for r in referrals if r.urgent} == {
        "clot_with_breathlessness",
        "clot_signs",
        "prolonged_cramp",
        "tetanus_risk",
    }
    assert {r.rule for r in referrals if not r.urgent} == {
        "persistent_or_very_painful",
        "reduced_blood_flow_see_doctor",
        "spinal_nerve_see_doctor",
        "kidney_disease_see_doctor",
    }
    assert set(out.causes[:2]) == {"reduced_blood_flow", "spinal_nerve_compression"}


def test_an_urgent_referral_never_depends_on_an_answer_still_missing(outcome: Evaluate) -> None:
    out = outcome(prolonged=True)
    assert out.report.referrals[0].status == "fired"
    assert out.report.referrals[0].caveat is None


# ---------------------------------------------------------------- kidney disease


@pytest.mark.parametrize("bedtime", [True, False, None])
def test_kidney_disease_with_constipation_recommends_no_magnesium_at_any_time_of_day(
    outcome: Evaluate, bedtime: bool | None
) -> None:
    out = outcome(kidney_disease=True, constipation=True, long_term=True, bedtime=bedtime)
    assert out.preferred == {}
    assert set(out.avoided) == {"glycinate", "citrate", "electrolytes"}
    assert out.referred_to_doctor
    assert not out.urgent


def test_kidney_disease_on_keto_advises_against_electrolyte_supplements_without_a_doctor(
    outcome: Evaluate,
) -> None:
    out = outcome(kidney_disease=True, keto_diet=True)
    assert "electrolytes" not in out.recommended
    assert out.avoided["electrolytes"].status == "fired"
    assert "keto_electrolyte_loss" in out.causes


def test_kidney_disease_unknown_leaves_the_advice_standing_and_is_asked_before_the_form_questions(
    outcome: Evaluate,
) -> None:
    out = outcome(long_term=True)
    assert "glycinate" in out.preferred
    questions = out.questions
    for later in ("constipation", "sensitive_stomach", "night_cramps", "keto_diet"):
        assert questions.index("kidney_disease") < questions.index(later), later


# ---------------------------------------------------------------- bedtime yes / no / unknown


@pytest.mark.parametrize(
    ("bedtime", "form", "status"),
    [(True, "glycinate", "fired"), (False, "citrate", "fired"), (None, "citrate", "conditional")],
    ids=["at bedtime", "not at bedtime", "bedtime unknown"],
)
def test_constipated_long_term_the_form_follows_the_bedtime_answer(
    outcome: Evaluate, bedtime: bool | None, form: str, status: str
) -> None:
    out = outcome(constipation=True, long_term=True, bedtime=bedtime, **SETTLED)
    assert list(out.preferred) == [form]
    assert out.preferred[form].status == status
    assert ("bedtime" in out.questions) is (bedtime is None)


def test_answering_bedtime_is_what_would_change_the_citrate_advice(outcome: Evaluate) -> None:
    out = outcome(constipation=True, long_term=True)
    changes = {str(c) for w in out.report.what_would_change("citrate") for c in w.changes}
    assert "bedtime: unknown -> yes" in changes


def test_a_sensitive_stomach_points_the_constipated_person_to_glycinate_even_before_bedtime_is_known(
    outcome: Evaluate,
) -> None:
    out = outcome(
        constipation=True, long_term=True, sensitive_stomach=True, kidney_disease=False, magnesium_tried=False
    )
    assert list(out.preferred) == ["glycinate"]
    assert out.preferred["glycinate"].status == "fired"
    assert out.avoided["citrate"].status == "fired"
    assert out.report.explain_rule("citrate_for_constipation").outcome == "overridden"


def test_bedtime_alone_does_not_rule_out_glycinate(outcome: Evaluate) -> None:
    out = outcome(
        long_term=True, bedtime=True, constipation=False, kidney_disease=False, magnesium_tried=False
    )
    assert out.preferred["glycinate"].status == "fired"


# ---------------------------------------------------------------- nothing known, everything known


def test_empty_facts_give_relief_and_ask_the_urgent_questions_first(
    outcome: Evaluate, bundled_engine: cramprules.Engine
) -> None:
    out = outcome({})
    assert {r.option for r in out.report.recommendations} == RELIEF
    assert out.report.referrals == ()
    assert out.report.causes == ()
    assert set(out.questions[:4]) == set(URGENT_FACTS)
    assert out.questions[0] == "one_leg_swollen_red_warm"
    assert {"kidney_disease", "night_cramps", "exercise_cramps", "long_term"} <= set(out.questions)
    json.dumps(out.report.to_dict())
    text = bundled_engine.render(out.report, "text")
    assert "Questions that would sharpen this answer" in text


def test_everything_answered_no_leaves_nothing_to_ask_and_only_relief(
    outcome: Evaluate, rs: cramprules.Ruleset
) -> None:
    facts: dict[str, object] = {name: False for name in rs.facts}
    facts["pain"] = 0
    out = outcome(facts)
    assert out.report.questions == ()
    assert {(r.action, r.option, r.status) for r in out.report.recommendations} == {
        ("recommend", option, "fired") for option in RELIEF
    }
    assert out.report.causes == ()
    assert out.report.referrals == ()


def test_everything_answered_yes_gives_a_coherent_report(outcome: Evaluate, rs: cramprules.Ruleset) -> None:
    facts: dict[str, object] = {name: True for name in rs.facts}
    facts["pain"] = 10
    out = outcome(facts)
    assert (out.report.referrals[0].to, out.report.referrals[0].urgent) == ("emergency", True)
    assert out.preferred == {}
    assert {"glycinate", "citrate", "electrolytes", "massage", "heat"} <= set(out.avoided)
    assert set(out.causes) == set(rs.causes)
    assert out.report.questions == ()


# ---------------------------------------------------------------- the text a person reads


def _headings(text: str) -> list[str]:
    lines = text.splitlines()
    return [lines[i - 1] for i, line in enumerate(lines) if i and line and set(line) == {"-"}]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_text_report_reads_referrals_causes_advice_questions_sources_then_the_disclaimer(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine
) -> None:
    report = rs.evaluate(
        {
            "prolonged": True,
            "pain": 9,
            "night_cramps": True,
            "constipation": True,
            "long_term": True,
            "dehydrated": True,
            "diuretics": True,
        }
    )
    text = _flat(bundled_engine.render(report, "text"))
    in_order = [
        "A single cramp that lasts longer than ten minutes needs a doctor today.",
        "Cramps that keep coming back despite what you tried, or that are extremely painful",
        "Calcium makes muscles contract",
        "Magnesium citrate, rather than magnesium glycinate",
        "Stretching the cramping muscle",
        "Drinking enough through the day",
        "Blood test for potassium and calcium",
        "Electrolytes (sodium, potassium, magnesium)",
        "Questions that would sharpen this answer",
        "Sources",
        "not medical advice",
    ]
    positions = [text.find(part) for part in in_order]
    assert -1 not in positions, [p for p, at in zip(in_order, positions) if at == -1]
    assert positions == sorted(positions)
    assert "Would you take the supplement at bedtime?" in text


def test_the_kidney_report_says_who_to_see_why_and_what_to_avoid(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine
) -> None:
    text = bundled_engine.render(rs.evaluate({"kidney_disease": True, "long_term": True}), "text")
    assert "Avoid" in _headings(text)
    assert "Ask your doctor before you take magnesium" in _flat(text)
    assert "Office of Dietary Supplements" in text
    assert "What to take" not in _headings(text)
