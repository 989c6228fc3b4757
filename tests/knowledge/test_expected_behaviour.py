"""KNOWLEDGE.md "Expected behaviour", where it speaks of every output format,
of the kidney caution across everything that suggests magnesium, and of the
explanation of a conditional recommendation.  (Each case is also a scenario
in scenarios.py, checked on the report by test_scenarios.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

import cramprules
from cramprules.cli import App, cli

Evaluate = Callable[..., Any]
"""The ``outcome`` fixture (conftest.py): facts in, an ``Outcome`` out."""

HUMAN_FORMATS = ("text", "markdown", "html")

MAGNESIUM_SUGGESTIONS = [
    {"long_term": True},
    {"night_cramps": True},
    {"exercise_cramps": True},
    {"constipation": True, "long_term": True},
    {"constipation": True, "long_term": True, "bedtime": False},
    {"constipation": True, "night_cramps": True, "sensitive_stomach": False},
]


def visible(rendered: str, fmt: str) -> str:
    """What a reader sees: for html, not the style sheet or the tags."""
    if fmt == "html":
        rendered = re.sub(r"<style.*?</style>|<[^>]+>", " ", rendered, flags=re.DOTALL)
    return re.sub(r"\s+", " ", rendered)


# ---------------------------------------------------------------- kidney disease


@pytest.mark.parametrize("facts", MAGNESIUM_SUGGESTIONS, ids=lambda f: "+".join(f))
def test_kidney_disease_with_anything_that_suggests_magnesium_recommends_no_form_and_refers_why(
    outcome: Evaluate, facts: dict[str, Any]
) -> None:
    without = outcome({**facts, "kidney_disease": False})
    assert without.preferred, "these facts should suggest a magnesium form"
    out = outcome({**facts, "kidney_disease": True})
    for form in ("glycinate", "citrate"):
        assert form not in out.preferred
        assert form not in out.recommended
        assert out.avoided[form].status == "fired"
        assert out.avoided[form].rule == f"kidney_disease_no_{form}"
    (referral,) = [r for r in out.report.referrals if r.rule == "kidney_disease_see_doctor"]
    assert (referral.to, referral.urgent, referral.status) == ("doctor", False, "fired")
    assert referral.because is not None
    assert "kidney disease" in referral.because
    assert "magnesium" in referral.because
    assert [s.name for s in referral.sources] == ["ods_magnesium", "ods_potassium"]


def test_the_lost_magnesium_preference_stays_visible_in_the_trace(outcome: Evaluate) -> None:
    out = outcome(long_term=True, kidney_disease=True)
    entry = out.report.explain_rule("glycinate_for_long_term")
    assert entry.outcome == "overridden"
    assert "kidney_disease_no_glycinate" in entry.reason


# ---------------------------------------------------------------- the tiers, in every format


@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_prolonged_puts_the_urgent_referral_first_in_every_output_format(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine, audience: str
) -> None:
    report = rs.evaluate({"prolonged": True, "night_cramps": True, "long_term": True})
    assert report.referrals[0].urgent
    assert report.referrals[0].to == "doctor"
    assert report.to_dict()["referrals"][0]["urgent"] is True
    formats = bundled_engine.formats()
    assert set(HUMAN_FORMATS) | {"json"} <= set(formats)
    for name in formats:
        if name == "json":
            continue
        text = visible(bundled_engine.render(report, name, audience=audience), name)
        urgent = text.lower().find("urgent")
        assert urgent != -1, f"{name}: no urgent referral"
        for later in ("Low magnesium", "Magnesium glycinate", "Stretching"):
            assert later in text, (name, later)
            assert urgent < text.find(later), f"{name}: '{later}' comes before the urgent referral"


@pytest.mark.parametrize("fmt", HUMAN_FORMATS)
def test_clot_signs_with_breathlessness_put_the_emergency_first_in_every_format(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine, fmt: str
) -> None:
    report = rs.evaluate(
        {"one_leg_swollen_red_warm": True, "breathless_or_chest_pain": True, "night_cramps": True}
    )
    assert [(r.to, r.urgent) for r in report.referrals] == [("emergency", True), ("doctor", True)]
    text = visible(bundled_engine.render(report, fmt), fmt)
    emergency = text.find("Call the emergency number")
    doctor = text.find("See a doctor today")
    assert -1 < emergency < doctor < text.find("Low magnesium")
    assert "a emergency" not in text.lower()


@pytest.mark.parametrize("fmt", HUMAN_FORMATS)
def test_pain_9_refers_to_a_doctor_first_and_never_says_urgent(
    rs: cramprules.Ruleset, bundled_engine: cramprules.Engine, fmt: str
) -> None:
    report = rs.evaluate({"pain": 9, "night_cramps": True})
    assert [(r.to, r.urgent) for r in report.referrals] == [("doctor", False)]
    text = visible(bundled_engine.render(report, fmt), fmt)
    assert "urgent" not in text.lower()
    referral = text.find("extremely painful, should be checked by a doctor")
    assert referral != -1
    for later in ("Low magnesium", "Stretching"):
        assert referral < text.find(later), f"{fmt}: '{later}' comes before the referral"


def test_the_json_report_lists_urgent_then_plain_referrals(rs: cramprules.Ruleset) -> None:
    report = rs.evaluate({"prolonged": True, "persistent": True, "one_leg_swollen_red_warm": False})
    data = json.loads(json.dumps(report.to_dict()))
    assert [(r["to"], r["urgent"]) for r in data["referrals"]] == [("doctor", True), ("doctor", False)]


# ---------------------------------------------------------------- explaining a conditional recommendation


def test_explain_names_everything_that_could_still_defeat_a_conditional_recommendation() -> None:
    app = App(engine=cramprules.Engine(autoload=False))
    result = CliRunner().invoke(cli, ["explain", "--fact", "constipation", "--fact", "long_term"], obj=app)
    assert result.exit_code == 0, result.output
    block = result.output.split("prefer citrate", 1)[1].split("what would change it", 1)[0].lower()
    assert "conditional" in block
    for fact in ("bedtime", "sensitive stomach", "kidney disease"):
        assert fact in block or fact.replace(" ", "_") in block, fact
