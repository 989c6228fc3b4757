"""The examples under "Expected behaviour" in KNOWLEDGE.md, one test each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import cramprules

Evaluate = Callable[..., Any]
"""The ``outcome`` fixture (conftest.py): facts in, an ``Outcome`` out."""

MAGNESIUM_SUGGESTIONS = [
    {"long_term": True},
    {"night_cramps": True},
    {"exercise_cramps": True},
    {"constipation": True, "long_term": True},
    {"constipation": True, "long_term": True, "bedtime": False},
    {"constipation": True, "night_cramps": True, "sensitive_stomach": False},
]


def test_constipated_long_term_prefers_citrate_conditionally_on_bedtime(outcome: Evaluate) -> None:
    out = outcome(constipation=True, long_term=True)
    citrate = out.preferred["citrate"]
    assert citrate.status == "conditional"
    assert citrate.caveat == "unless bedtime"
    assert "glycinate" not in out.preferred
    assert "bedtime" in out.questions


def test_constipated_long_term_at_bedtime_prefers_glycinate_and_not_citrate(outcome: Evaluate) -> None:
    out = outcome(constipation=True, long_term=True, bedtime=True)
    assert "citrate" not in out.preferred
    assert out.preferred["glycinate"].status == "fired"
    assert "bedtime" not in out.questions


def test_long_term_without_constipation_prefers_glycinate(outcome: Evaluate) -> None:
    out = outcome(long_term=True, constipation=False)
    assert out.preferred["glycinate"].status == "fired"
    assert "citrate" not in out.preferred


@pytest.mark.parametrize("facts", MAGNESIUM_SUGGESTIONS, ids=lambda f: "+".join(f))
def test_kidney_disease_with_anything_that_suggests_magnesium_recommends_no_form_and_refers_why(
    outcome: Evaluate, facts: dict[str, Any]
) -> None:
    without = outcome(facts)
    assert without.preferred, "these facts should suggest a magnesium form"
    out = outcome({**facts, "kidney_disease": True})
    for form in ("glycinate", "citrate"):
        assert form not in out.preferred
        assert form not in out.recommended
        assert out.avoided[form].status == "fired"
    (referral,) = [r for r in out.report.referrals if not r.urgent]
    assert referral.to == "doctor"
    assert referral.because is not None
    assert "kidney" in referral.because
    assert "magnesium" in referral.because
    assert [s.name for s in referral.sources] == ["ods"]


def test_the_lost_magnesium_preference_stays_visible_in_the_trace(outcome: Evaluate) -> None:
    out = outcome(long_term=True, kidney_disease=True)
    entry = out.report.explain_rule("glycinate_for_long_term")
    assert entry.outcome == "overridden"
    assert "kidney_disease_no_magnesium" in entry.reason


@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_pain_9_puts_an_urgent_referral_first_in_every_output_format(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine, audience: str
) -> None:
    report = rs.evaluate({"pain": 9, "night_cramps": True, "long_term": True})
    assert report.referrals[0].urgent
    assert report.referrals[0].to == "doctor"
    assert report.to_dict()["referrals"][0]["urgent"] is True
    formats = bundled_engine.formats()
    assert {"text", "json"} <= set(formats)
    for name in formats:
        text = bundled_engine.render(report, name, audience=audience)
        if name == "json":
            continue
        urgent = text.lower().find("urgent")
        assert urgent != -1, f"{name}: no urgent referral"
        for later in ("Low magnesium", "Magnesium glycinate", "Stretching"):
            assert later in text, (name, later)
            assert urgent < text.find(later), f"{name}: '{later}' comes before the urgent referral"
