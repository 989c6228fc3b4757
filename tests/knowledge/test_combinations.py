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

RED_FLAG_FACTS = (
    "persistent",
    "prolonged",
    "pain",
    "pain_with_activity_eases_with_rest",
    "pain_walking_eases_leaning_forward",
)


# ---------------------------------------------------------------- red flags with other advice


def test_a_red_flag_comes_first_and_the_supplement_advice_still_follows(outcome: Evaluate) -> None:
    out = outcome(pain=9, night_cramps=True, long_term=True, constipation=True, bedtime=False)
    assert out.report.referrals[0].urgent
    assert out.causes[0] == "magnesium_deficiency"
    assert out.preferred["citrate"].status == "fired"
    assert {"stretching", "massage", "heat"} <= set(out.recommended)


def test_all_three_urgent_patterns_together_put_the_urgent_referral_and_both_medical_causes_first(
    outcome: Evaluate,
) -> None:
    out = outcome(
        persistent=True,
        pain_with_activity_eases_with_rest=True,
        pain_walking_eases_leaning_forward=True,
        kidney_disease=True,
    )
    referrals = out.report.referrals
    assert referrals[0].urgent
    assert not referrals[-1].urgent
    assert [r.urgent for r in referrals] == sorted((r.urgent for r in referrals), reverse=True)
    assert {r.rule for r in referrals if r.urgent} <= {
        "red_flags",
        "reduced_blood_flow_pattern",
        "spinal_nerve_pattern",
    }
    assert out.causes[:2] == ["reduced_blood_flow", "spinal_nerve_compression"]


def test_an_urgent_referral_never_depends_on_an_answer_still_missing(outcome: Evaluate) -> None:
    out = outcome(pain=9)
    assert out.report.referrals[0].status == "fired"
    assert out.report.referrals[0].caveat is None


# ---------------------------------------------------------------- kidney disease


@pytest.mark.parametrize("bedtime", [True, False, None])
def test_kidney_disease_with_constipation_recommends_no_magnesium_at_any_time_of_day(
    outcome: Evaluate, bedtime: bool | None
) -> None:
    out = outcome(kidney_disease=True, constipation=True, long_term=True, bedtime=bedtime)
    assert out.preferred == {}
    assert set(out.avoided) == {"glycinate", "citrate"}
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
    assert out.preferred["glycinate"].status == "fired"
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
    out = outcome(constipation=True, long_term=True, bedtime=bedtime)
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
    out = outcome(constipation=True, long_term=True, sensitive_stomach=True)
    assert list(out.preferred) == ["glycinate"]
    assert out.preferred["glycinate"].status == "fired"
    assert out.avoided["citrate"].status == "fired"
    assert out.report.explain_rule("citrate_for_constipation").outcome == "overridden"


def test_bedtime_alone_does_not_rule_out_glycinate(outcome: Evaluate) -> None:
    out = outcome(long_term=True, bedtime=True)
    assert out.preferred["glycinate"].status == "fired"


# ---------------------------------------------------------------- nothing known, everything known


def test_empty_facts_do_not_crash_and_ask_the_red_flags_first(
    outcome: Evaluate, bundled_engine: cramprules.Engine
) -> None:
    out = outcome({})
    assert out.report.recommendations == ()
    assert out.report.referrals == ()
    assert out.report.causes == ()
    assert out.questions[:5] == list(RED_FLAG_FACTS)
    assert {"kidney_disease", "night_cramps", "exercise_cramps", "long_term"} <= set(out.questions)
    json.dumps(out.report.to_dict())
    text = bundled_engine.render(out.report, "text")
    assert "Questions that would sharpen this answer" in text


def test_everything_answered_no_leaves_nothing_to_ask_or_advise(
    outcome: Evaluate, rs: cramprules.Ruleset
) -> None:
    facts: dict[str, object] = {name: False for name in rs.facts}
    facts["pain"] = 0
    out = outcome(facts)
    assert out.report.questions == ()
    assert out.report.recommendations == ()
    assert out.report.causes == ()


def test_everything_answered_yes_gives_a_coherent_report(outcome: Evaluate, rs: cramprules.Ruleset) -> None:
    facts: dict[str, object] = {name: True for name in rs.facts}
    facts["pain"] = 10
    out = outcome(facts)
    assert out.report.referrals[0].urgent
    assert out.preferred == {}
    assert {"glycinate", "citrate", "electrolytes"} <= set(out.avoided)
    assert set(out.causes) == set(rs.causes)
    assert out.report.questions == ()


# ---------------------------------------------------------------- the text a person reads


def _headings(text: str) -> list[str]:
    lines = text.splitlines()
    return [lines[i - 1] for i, line in enumerate(lines) if i and line and set(line) == {"-"}]


def test_the_text_report_reads_urgent_causes_advice_relief_questions_sources_then_the_disclaimer(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine
) -> None:
    report = rs.evaluate(
        {
            "pain": 9,
            "night_cramps": True,
            "constipation": True,
            "long_term": True,
            "dehydrated": True,
            "diuretics": True,
        }
    )
    text = bundled_engine.render(report, "text")
    assert _headings(text) == [
        "SEE A DOCTOR URGENTLY",
        "Likely causes",
        "What to take",
        "Relief now",
        "Prevent the next cramp",
        "Tests to ask for",
        "Questions that would sharpen this answer",
        "Sources",
    ]
    assert "(depends on your answer to: Would you take the supplement at bedtime?)" in text
    assert "not medical advice" in text.splitlines()[-2] + text.splitlines()[-1]


def test_the_kidney_report_says_who_to_see_and_why(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine
) -> None:
    text = bundled_engine.render(rs.evaluate({"kidney_disease": True, "long_term": True}), "text")
    assert "Who to see" in _headings(text)
    assert "Avoid" in _headings(text)
    assert "Office of Dietary Supplements" in text
    assert "What to take" not in _headings(text)
