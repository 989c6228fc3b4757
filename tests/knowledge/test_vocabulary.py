"""The vocabulary of the bundled ruleset is a contract: names, types, questions.

Also: every rule is written for a patient (a ``because``), cites at least one
source, and carries its provenance (evidence grade, review date).
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

import cramprules

FACTS = {
    "night_cramps": "Do the cramps come at night?",
    "exercise_cramps": "Do they come during or after exercise?",
    "constipation": "Are you constipated?",
    "long_term": "Do you want to prevent cramps over the long term?",
    "bedtime": "Would you take the supplement at bedtime?",
    "sensitive_stomach": "Does your stomach react easily (loose stools, upset)?",
    "magnesium_tried": "Have you already taken magnesium without relief?",
    "dehydrated": "Do you often drink too little or sweat a lot?",
    "overuse": "Have you worked the muscles harder than usual?",
    "static_position": "Do you sit or stand in one position for long periods?",
    "pain_with_activity_eases_with_rest": (
        "Does walking a certain distance bring on calf pain that goes away after a few minutes of rest?"
    ),
    "pain_walking_eases_leaning_forward": "Does cramping while walking ease when you lean forward?",
    "diuretics": "Do you take diuretics or medicines that make you pass more urine?",
    "keto_diet": "Are you on a keto diet?",
    "kidney_disease": "Do you have kidney disease?",
    "persistent": "Do the cramps keep coming back despite what you tried?",
    "prolonged": "Does a single cramp last longer than ten minutes?",
    "pain": "How painful is the worst cramp (0-10)?",
    "disturbs_sleep": "Do the cramps wake you or disturb your sleep?",
    "numbness_or_swelling": "Do you also have numbness or swelling in your legs?",
    "muscle_weakness": "Are the muscles of your legs getting weaker or smaller?",
    "wound_tetanus_risk": (
        "Could a wound have given you a tetanus infection (for example a cut contaminated with soil)?"
    ),
    "one_leg_swollen_red_warm": "Is one leg swollen, warm, and red or darker than usual, and painful to touch?",
    "breathless_or_chest_pain": "Are you short of breath, or do you have chest pain?",
}
OPTIONS = (
    "glycinate",
    "citrate",
    "stretching",
    "massage",
    "heat",
    "hydration",
    "rest",
    "movement_breaks",
    "mineral_levels_test",
    "electrolytes",
)
CAUSES = (
    "magnesium_deficiency",
    "muscle_overuse",
    "dehydration",
    "static_posture",
    "reduced_blood_flow",
    "spinal_nerve_compression",
    "mineral_loss",
    "keto_electrolyte_loss",
)
ARTICLE_SOURCES = {"article", "rupa", "berg"}
SOURCE_ASIDES = ("beyond the article", "beyond it", "as quoted", "quoted in the article", "via the article")
RULESETS = Path(__file__).resolve().parents[2] / "rulesets"


# ---------------------------------------------------------------- facts, options, causes


@pytest.mark.parametrize(("name", "question"), sorted(FACTS.items()))
def test_every_fact_of_the_vocabulary_is_declared_with_its_type_and_question(
    rs: cramprules.Ruleset, name: str, question: str
) -> None:
    spec = rs.facts[name]
    assert not spec.inferred, f"{name} is inferred, not declared"
    assert spec.question == question
    assert not spec.derived
    if name == "pain":
        assert (spec.kind, spec.low, spec.high) == ("number", 0, 10)
    else:
        assert spec.kind == "bool"


def test_the_ruleset_declares_no_fact_beyond_the_vocabulary(rs: cramprules.Ruleset) -> None:
    assert set(rs.facts) == set(FACTS)


def test_every_fact_is_used_by_some_rule(rs: cramprules.Ruleset) -> None:
    assert set(FACTS) <= rs.used_facts


@pytest.mark.parametrize("name", OPTIONS)
def test_every_option_exists_with_a_human_label_and_a_report_section(
    rs: cramprules.Ruleset, name: str
) -> None:
    option = rs.options[name]
    assert not option.inferred
    assert option.label
    assert option.label[0].isupper()
    assert "_" not in option.label
    assert option.group in rs.program.groups


def test_the_ruleset_declares_no_option_beyond_the_vocabulary(rs: cramprules.Ruleset) -> None:
    assert set(rs.options) == set(OPTIONS)


def test_options_are_grouped_into_the_sections_a_person_reads(rs: cramprules.Ruleset) -> None:
    groups = {name: rs.options[name].group for name in OPTIONS}
    assert groups == {
        "glycinate": "supplements",
        "citrate": "supplements",
        "electrolytes": "supplements",
        "stretching": "relief",
        "massage": "relief",
        "heat": "relief",
        "hydration": "prevention",
        "rest": "prevention",
        "movement_breaks": "prevention",
        "mineral_levels_test": "tests",
    }
    assert rs.program.groups == {
        "supplements": "What to take",
        "relief": "Relief now",
        "prevention": "Prevent the next cramp",
        "tests": "Tests to ask for",
    }


@pytest.mark.parametrize("name", CAUSES)
def test_every_cause_exists_with_a_human_label_and_a_source(rs: cramprules.Ruleset, name: str) -> None:
    cause = rs.causes[name]
    assert not cause.inferred
    assert cause.label
    assert cause.label[0].isupper()
    assert "_" not in cause.label
    assert cause.sources, f"cause {name} cites no source"


@pytest.mark.parametrize("name", CAUSES)
def test_every_cause_is_suspected_by_some_rule(rs: cramprules.Ruleset, name: str) -> None:
    assert any(a.kind == "suspect" and a.target == name for r in rs.rules for a in r.actions)


def test_the_ruleset_declares_no_cause_beyond_the_vocabulary(rs: cramprules.Ruleset) -> None:
    assert set(rs.causes) == set(CAUSES)


def test_no_cause_repeats_the_name_of_a_fact(rs: cramprules.Ruleset) -> None:
    assert not set(rs.causes) & set(rs.facts)


def test_the_referral_targets_are_a_doctor_and_the_emergency_number(rs: cramprules.Ruleset) -> None:
    assert rs.referral_targets == {"doctor", "emergency"}


def test_nothing_is_inferred_and_checking_leaves_no_notes(rs: cramprules.Ruleset) -> None:
    assert rs.diagnostics == ()


# ---------------------------------------------------------------- rules and provenance


def test_every_rule_is_named_and_speaks_to_the_patient(rs: cramprules.Ruleset) -> None:
    for rule in rs.rules:
        assert not rule.anonymous, f"rule at line {rule.line} has no name"
        assert rule.because is not None, f"{rule.name}: no 'because'"
        assert len(rule.because) > 40, f"{rule.name}: no real 'because'"
        assert "_" not in rule.because, f"{rule.name}: a name leaks into the patient text"


def test_every_rule_cites_at_least_one_source(rs: cramprules.Ruleset) -> None:
    for rule in rs.rules:
        assert rule.sources, f"{rule.name} cites no source"
        for name in rule.sources:
            assert rs.source(name).label


def test_every_rule_carries_an_evidence_grade_a_review_date_and_a_clinician_detail(
    rs: cramprules.Ruleset,
) -> None:
    for rule in rs.rules:
        assert rule.evidence in {"A", "B", "C", "D"}, rule.name
        assert rule.reviewed == datetime.date(2026, 11, 30), rule.name
        assert rule.detail, rule.name
        assert rule.status == "production", rule.name


def test_the_article_claims_are_graded_as_expert_opinion_or_consensus(rs: cramprules.Ruleset) -> None:
    for rule in rs.rules:
        if set(rule.sources) <= ARTICLE_SOURCES:
            assert rule.evidence in {"C", "D"}, rule.name


def test_every_rule_that_goes_beyond_the_article_cites_a_public_source_and_says_so_to_the_clinician(
    rs: cramprules.Ruleset,
) -> None:
    beyond = [r for r in rs.rules if set(r.sources) - ARTICLE_SOURCES]
    assert {r.name for r in beyond} >= {
        "clot_with_breathlessness",
        "clot_signs",
        "prolonged_cramp",
        "tetanus_risk",
        "sleep_disturbed",
        "numbness_or_swelling_present",
        "weakening_muscles",
        "kidney_disease_no_glycinate",
        "kidney_disease_no_citrate",
        "kidney_disease_no_electrolytes",
        "kidney_disease_see_doctor",
        "diuretics_no_electrolytes",
    }
    for rule in beyond:
        for name in set(rule.sources) - ARTICLE_SOURCES:
            assert (rs.source(name).url or "").startswith("https://"), name
        assert rule.detail is not None
        assert re.search(r"[Bb]eyond the article", rule.detail), (
            f"{rule.name} does not tell the clinician it goes beyond the article"
        )


def test_the_patient_text_carries_no_source_asides(rs: cramprules.Ruleset) -> None:
    for rule in rs.rules:
        because = (rule.because or "").lower()
        for aside in SOURCE_ASIDES:
            assert aside not in because, (rule.name, aside)


def test_every_avoid_says_why_in_its_own_rule(rs: cramprules.Ruleset) -> None:
    avoids = [r for r in rs.rules if any(a.kind == "avoid" for a in r.actions)]
    assert len(avoids) >= 9
    for rule in avoids:
        assert len(rule.actions) == 1, f"{rule.name}: one avoid per rule, so its reason sits beside it"
        label = rs.options[rule.actions[0].target].label.lower()
        because = (rule.because or "").lower()
        assert because, rule.name
        named = label in because or label.split(" (")[0] in because or rule.actions[0].target in because
        assert named or because.startswith(("not without your doctor", "do not")), rule.name


NHS_AND_ODS = {
    "nhs_cramps": "https://www.nhs.uk/conditions/leg-cramps/",
    "nhs_dvt": "https://www.nhs.uk/conditions/deep-vein-thrombosis-dvt/",
    "ods_magnesium": "https://ods.od.nih.gov/factsheets/Magnesium-HealthProfessional/",
    "ods_potassium": "https://ods.od.nih.gov/factsheets/Potassium-HealthProfessional/",
}


@pytest.mark.parametrize(("name", "url"), sorted(NHS_AND_ODS.items()))
def test_the_safety_sources_are_the_nhs_and_nih_pages(rs: cramprules.Ruleset, name: str, url: str) -> None:
    assert rs.source(name).url == url


def test_each_caution_cites_the_page_that_says_it(rs: cramprules.Ruleset) -> None:
    cites = {r.name: set(r.sources) for r in rs.rules}
    assert cites["clot_with_breathlessness"] == {"nhs_dvt"}
    assert cites["clot_signs"] == {"nhs_dvt"}
    assert "nhs_cramps" in cites["prolonged_cramp"]
    assert cites["tetanus_risk"] == {"nhs_cramps"}
    assert cites["kidney_disease_no_glycinate"] == {"ods_magnesium"}
    assert cites["diuretics_no_electrolytes"] == {"ods_potassium"}


def test_the_article_source_says_what_it_is(rs: cramprules.Ruleset) -> None:
    label = rs.source("article").label
    assert "article" in label
    assert "leg cramps" in label
    assert len(label) > len("The leg cramps article this ruleset is built from")


def test_the_ruleset_header_names_version_and_review(rs: cramprules.Ruleset) -> None:
    assert (rs.name, rs.title, rs.version) == (
        "leg_cramps",
        "Leg cramps: root causes and what to take",
        "2.0",
    )
    assert rs.program.reviewed == datetime.date(2026, 11, 30)


# ---------------------------------------------------------------- layout


def test_each_cause_is_declared_in_its_own_file(rs: cramprules.Ruleset) -> None:
    files = {
        "magnesium_deficiency": "magnesium.cramp",
        "muscle_overuse": "overuse.cramp",
        "dehydration": "dehydration.cramp",
        "static_posture": "posture.cramp",
        "reduced_blood_flow": "blood_flow.cramp",
        "spinal_nerve_compression": "nerve_compression.cramp",
        "mineral_loss": "minerals.cramp",
        "keto_electrolyte_loss": "keto.cramp",
    }
    for cause, file in files.items():
        span = rs.causes[cause].span
        assert span is not None
        assert Path(span.origin).name == file, (cause, span.origin)


def test_every_file_of_the_ruleset_directory_is_included(rs: cramprules.Ruleset) -> None:
    read = {Path(origin).name for origin, _ in rs.program.texts}
    on_disk = {p.name for p in (RULESETS / "leg_cramps").glob("*.cramp")}
    assert on_disk
    assert on_disk <= read
    for path in (RULESETS / "leg_cramps").glob("*.cramp"):
        assert not re.search(r"^\s*ruleset\b", path.read_text(), re.MULTILINE), path.name
