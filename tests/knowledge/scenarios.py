"""Clinical scenarios for the bundled ``leg_cramps`` ruleset, version 2.

Each scenario is a consultation as a clinician would write it up: a short
story, the facts the person gave (everything else is unknown: a partial
answer), the referral tier the report must reach, and what it must and must
not say.  ``test_scenarios.py`` checks each one, and checks what must hold
for every scenario (the tier, no contradiction, every avoid with its reason,
no plain referral worded as urgent, fired means sure).

Outcomes are written as in the DSL: ``prefer citrate``, ``avoid citrate``,
``recommend rest``, ``suspect dehydration``, ``refer doctor``, ``refer
doctor urgent``, ``refer emergency urgent``.  ``refer doctor`` means a plain
(non-urgent) referral to a doctor.

The cases of KNOWLEDGE.md "Expected behaviour" come first (``kb-``), then
the tiers, the cautions and partial answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

__all__ = ["FACT_WORDS", "REFERRAL_FACTS", "SCENARIOS", "Scenario", "Tier"]

Tier = Literal["emergency", "urgent", "doctor", "none"]
"""The most urgent referral the report gives: call the emergency number, see
a doctor today, see a doctor, or no referral at all."""

REFERRAL_FACTS = frozenset(
    {
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
)
"""Facts that decide a referral: their questions may come before any other."""

FACT_WORDS: Mapping[str, tuple[str, ...]] = {
    "bedtime": ("bedtime",),
    "sensitive_stomach": ("sensitive_stomach", "sensitive stomach", "stomach react"),
    "kidney_disease": ("kidney_disease", "kidney disease"),
    "magnesium_tried": ("magnesium_tried", "magnesium tried", "taken magnesium"),
    "diuretics": ("diuretics",),
    "constipation": ("constipation", "constipated"),
    "one_leg_swollen_red_warm": ("one_leg_swollen_red_warm", "swollen", "one leg"),
}
"""How a caveat may name a fact: its name, or its words (any one will do)."""


@attrs.frozen
class Scenario:
    """One consultation and what the report must make of it."""

    name: str
    story: str
    facts: Mapping[str, Any]
    tier: Tier
    must: tuple[str, ...] = ()
    """Outcomes the report gives, fired or conditional."""
    fired: tuple[str, ...] = ()
    """Outcomes the report gives as settled advice."""
    conditional: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Outcomes the report gives conditionally, and the open facts their caveat names."""
    must_not: tuple[str, ...] = ()
    """Outcomes the report does not give at all."""
    asked_first: tuple[str, ...] = ()
    """Facts asked before any question that decides no referral and is not listed here."""
    asked: tuple[str, ...] = ()
    not_asked: tuple[str, ...] = ()
    referral_order: tuple[str, ...] = ()
    """The referrals, in the report's order (``refer doctor urgent``, ...)."""
    causes_first: tuple[str, ...] = ()
    """Causes listed first, in any order among themselves."""
    text_has: tuple[str, ...] = ()
    text_lacks: tuple[str, ...] = ()


NO_RED_FLAGS: Mapping[str, Any] = {
    "one_leg_swollen_red_warm": False,
    "prolonged": False,
    "wound_tetanus_risk": False,
    "persistent": False,
    "pain": 5,
    "pain_with_activity_eases_with_rest": False,
    "pain_walking_eases_leaning_forward": False,
    "disturbs_sleep": False,
    "numbness_or_swelling": False,
    "muscle_weakness": False,
}
"""A screen with every referral question answered "no" (pain 5 of 10)."""

SCENARIOS: tuple[Scenario, ...] = (
    # ------------------------------------------------------------ KNOWLEDGE.md, "Expected behaviour"
    Scenario(
        "kb-constipated-long-term",
        "A 45-year-old office worker with chronic constipation wants to stop her calf cramps for good. "
        "She has answered nothing else yet.",
        {"constipation": True, "long_term": True},
        "none",
        conditional={"prefer citrate": ("bedtime", "sensitive_stomach", "kidney_disease")},
        must_not=("prefer glycinate",),
        asked_first=("bedtime", "sensitive_stomach", "kidney_disease", "magnesium_tried"),
    ),
    Scenario(
        "kb-constipated-long-term-bedtime",
        "The same woman would take her supplement at bedtime.",
        {"constipation": True, "long_term": True, "bedtime": True},
        "none",
        conditional={"prefer glycinate": ("kidney_disease",)},
        must_not=("prefer citrate",),
        not_asked=("bedtime",),
    ),
    Scenario(
        "kb-citrate-settled",
        "She takes it in the morning, has no kidney disease, a robust stomach, and has never taken "
        "magnesium. (KNOWLEDGE.md leaves magnesium_tried unsaid here; see the next scenario.)",
        {
            "constipation": True,
            "long_term": True,
            "kidney_disease": False,
            "sensitive_stomach": False,
            "bedtime": False,
            "magnesium_tried": False,
        },
        "none",
        fired=("prefer citrate",),
        must_not=("prefer glycinate", "avoid citrate"),
        not_asked=("bedtime", "sensitive_stomach", "kidney_disease", "magnesium_tried"),
    ),
    Scenario(
        "kb-citrate-magnesium-tried-unsaid",
        "As above, but she has not said whether she has taken magnesium before. A failed course would "
        "rule every form out (KNOWLEDGE.md, item 6), so citrate stays conditional on that one answer.",
        {
            "constipation": True,
            "long_term": True,
            "kidney_disease": False,
            "sensitive_stomach": False,
            "bedtime": False,
        },
        "none",
        conditional={"prefer citrate": ("magnesium_tried",)},
        asked_first=("magnesium_tried",),
    ),
    Scenario(
        "kb-long-term-not-constipated",
        "A retired teacher with occasional cramps wants to prevent them; his bowels are regular.",
        {"long_term": True, "constipation": False},
        "none",
        conditional={"prefer glycinate": ("kidney_disease", "magnesium_tried")},
        must_not=("prefer citrate",),
        asked_first=("kidney_disease", "magnesium_tried"),
    ),
    Scenario(
        "kb-kidney-disease-and-magnesium",
        "A 70-year-old with chronic kidney disease (stage 3) has night cramps and wants to prevent them.",
        {"kidney_disease": True, "night_cramps": True, "long_term": True},
        "doctor",
        fired=("avoid glycinate", "avoid citrate", "refer doctor", "suspect magnesium_deficiency"),
        must_not=("prefer glycinate", "prefer citrate", "recommend glycinate", "recommend citrate"),
        not_asked=("bedtime", "sensitive_stomach", "constipation"),
        text_has=("kidney disease", "build up in your blood", "Ask your doctor before you take magnesium"),
    ),
    Scenario(
        "kb-pain-9",
        "A cyclist rates his worst cramp 9 out of 10. Nothing else is known.",
        {"pain": 9},
        "doctor",
        fired=("refer doctor",),
        must_not=("refer doctor urgent",),
        referral_order=("refer doctor",),
        text_lacks=("urgent", "URGENT"),
    ),
    Scenario(
        "kb-prolonged",
        "A woman's calf cramp last night lasted a quarter of an hour.",
        {"prolonged": True},
        "urgent",
        fired=("refer doctor urgent",),
        referral_order=("refer doctor urgent",),
    ),
    Scenario(
        "kb-clot-and-breathless",
        "Three days after a long-haul flight a man's left calf is swollen, hot, red and tender, and he is "
        "short of breath.",
        {"one_leg_swollen_red_warm": True, "breathless_or_chest_pain": True},
        "emergency",
        fired=("refer emergency urgent", "refer doctor urgent", "avoid massage", "avoid heat"),
        must_not=("recommend massage", "recommend heat"),
        referral_order=("refer emergency urgent", "refer doctor urgent"),
        text_has=("Call the emergency number",),
    ),
    Scenario(
        "kb-athlete-exercise-cramps",
        "A 24-year-old footballer gets calf cramps late in matches after doubling his training load.",
        {"exercise_cramps": True, "overuse": True},
        "none",
        must=("recommend stretching", "recommend massage", "recommend heat"),
        fired=("recommend rest", "suspect muscle_overuse"),
        must_not=("refer doctor", "refer doctor urgent", "refer emergency urgent"),
        asked=("pain_with_activity_eases_with_rest",),
    ),
    Scenario(
        "kb-magnesium-tried-constipated",
        "A constipated woman took magnesium for a month; the cramps did not change.",
        {"magnesium_tried": True, "constipation": True},
        "none",
        fired=("avoid glycinate", "avoid citrate"),
        must_not=("prefer glycinate", "prefer citrate", "recommend glycinate", "recommend citrate"),
        asked_first=("overuse", "dehydrated", "static_position"),
        text_has=("taken magnesium without relief",),
    ),
    Scenario(
        "kb-keto-on-diuretics",
        "A man on a keto diet who also takes a water tablet for his blood pressure gets cramps.",
        {"keto_diet": True, "diuretics": True},
        "none",
        fired=(
            "avoid electrolytes",
            "recommend mineral_levels_test",
            "suspect keto_electrolyte_loss",
            "suspect mineral_loss",
        ),
        must_not=("recommend electrolytes",),
        text_has=("Not without your doctor: some diuretics keep potassium in the body",),
    ),
    # ------------------------------------------------------------ the tiers
    Scenario(
        "clot-signs-not-breathless",
        "A woman on the pill has a swollen, warm, red left calf that hurts to touch; her breathing is fine.",
        {"one_leg_swollen_red_warm": True, "breathless_or_chest_pain": False},
        "urgent",
        fired=("refer doctor urgent", "avoid massage", "avoid heat", "recommend stretching"),
        must_not=("refer emergency urgent", "recommend massage", "recommend heat"),
        text_has=("blood clot",),
    ),
    Scenario(
        "clot-signs-breathing-not-asked",
        "A man reports one swollen, red, warm calf; nobody has asked about his breathing yet.",
        {"one_leg_swollen_red_warm": True},
        "urgent",
        fired=("refer doctor urgent",),
        must_not=("refer emergency urgent",),
        asked=("breathless_or_chest_pain",),
        asked_first=("breathless_or_chest_pain",),
    ),
    Scenario(
        "tetanus-risk",
        "A gardener cut his shin on a rusty fork in the vegetable bed last week; now his legs cramp at night.",
        {"wound_tetanus_risk": True, "night_cramps": True},
        "urgent",
        fired=("refer doctor urgent", "suspect magnesium_deficiency"),
        text_has=("tetanus",),
    ),
    Scenario(
        "prolonged-and-persistent",
        "Cramps keep coming back despite stretching, and last night's lasted twelve minutes.",
        {"prolonged": True, "persistent": True},
        "urgent",
        fired=("refer doctor urgent", "refer doctor"),
        referral_order=("refer doctor urgent", "refer doctor"),
    ),
    Scenario(
        "persistent-moderate-pain",
        "Cramps several times a week for months despite stretching; pain 5 out of 10.",
        {"persistent": True, "pain": 5},
        "doctor",
        fired=("refer doctor",),
        text_lacks=("urgent", "URGENT"),
    ),
    Scenario(
        "sleep-disturbed",
        "A 58-year-old is woken by calf cramps most nights and is exhausted at work.",
        {"disturbs_sleep": True, "night_cramps": True, "pain": 6},
        "doctor",
        fired=("refer doctor", "suspect magnesium_deficiency"),
        text_lacks=("urgent", "URGENT"),
    ),
    Scenario(
        "numbness-or-swelling",
        "A man with diabetes has cramps and numb feet.",
        {"numbness_or_swelling": True},
        "doctor",
        fired=("refer doctor",),
        text_lacks=("urgent", "URGENT"),
    ),
    Scenario(
        "weakening-muscles",
        "A 62-year-old notices his calves are thinner and he trips on stairs; he also has cramps.",
        {"muscle_weakness": True},
        "doctor",
        fired=("refer doctor",),
        text_lacks=("urgent", "URGENT"),
    ),
    Scenario(
        "claudication",
        "A 68-year-old smoker gets calf pain after walking 200 metres that goes after two minutes' rest.",
        {"pain_with_activity_eases_with_rest": True, "pain_walking_eases_leaning_forward": False},
        "doctor",
        fired=("suspect reduced_blood_flow", "refer doctor"),
        must_not=("refer doctor urgent", "suspect spinal_nerve_compression"),
        causes_first=("reduced_blood_flow",),
        text_lacks=("urgent", "URGENT"),
    ),
    Scenario(
        "spinal-stenosis",
        "A 72-year-old's legs cramp as she walks to the shops and ease when she leans on the trolley.",
        {"pain_walking_eases_leaning_forward": True, "pain_with_activity_eases_with_rest": False},
        "doctor",
        fired=("suspect spinal_nerve_compression", "refer doctor"),
        must_not=("suspect reduced_blood_flow", "refer doctor urgent"),
        causes_first=("spinal_nerve_compression",),
    ),
    Scenario(
        "screened-and-calm",
        "A student with a few mild night cramps answers no to every warning sign; pain 5.",
        {**NO_RED_FLAGS, "night_cramps": True},
        "none",
        must=("prefer glycinate", "suspect magnesium_deficiency"),
        fired=("recommend stretching", "recommend massage", "recommend heat"),
        must_not=("refer doctor", "refer doctor urgent", "refer emergency urgent"),
        not_asked=tuple(sorted(REFERRAL_FACTS)),
    ),
    Scenario(
        "red-flag-keeps-the-advice",
        "Extremely painful night cramps (8 of 10) in a man with healthy kidneys, regular bowels, who has "
        "never taken magnesium and wants to prevent them.",
        {
            "pain": 8,
            "night_cramps": True,
            "long_term": True,
            "constipation": False,
            "kidney_disease": False,
            "magnesium_tried": False,
        },
        "doctor",
        fired=("refer doctor", "prefer glycinate"),
        must_not=("prefer citrate",),
    ),
    # ------------------------------------------------------------ the cautions
    Scenario(
        "sensitive-stomach-constipated",
        "A constipated woman with an irritable bowel; morning dose; kidneys fine; never took magnesium.",
        {
            "constipation": True,
            "long_term": True,
            "sensitive_stomach": True,
            "bedtime": False,
            "kidney_disease": False,
            "magnesium_tried": False,
        },
        "none",
        fired=("avoid citrate", "prefer glycinate"),
        must_not=("prefer citrate",),
        text_has=("does not suit a sensitive stomach",),
    ),
    Scenario(
        "kidney-disease-on-keto",
        "A man with kidney disease started a keto diet and now has cramps.",
        {"kidney_disease": True, "keto_diet": True},
        "doctor",
        fired=("avoid electrolytes", "refer doctor", "suspect keto_electrolyte_loss"),
        must_not=("recommend electrolytes",),
        text_has=("which your kidneys may not clear",),
    ),
    Scenario(
        "kidney-disease-no-supplement-reason",
        "A woman with kidney disease cramps only after gardening; she is not after long-term prevention "
        "and is not on keto.",
        {
            "kidney_disease": True,
            "night_cramps": False,
            "exercise_cramps": False,
            "long_term": False,
            "keto_diet": False,
        },
        "none",
        fired=("avoid glycinate", "avoid citrate", "avoid electrolytes"),
        must_not=("refer doctor",),
    ),
    Scenario(
        "diuretics-night-cramps",
        "An 80-year-old on furosemide for heart failure has night cramps.",
        {"diuretics": True, "night_cramps": True},
        "none",
        fired=("suspect mineral_loss", "recommend mineral_levels_test", "avoid electrolytes"),
        must=("prefer glycinate",),
        conditional={"prefer glycinate": ("kidney_disease",)},
        must_not=("recommend electrolytes",),
    ),
    Scenario(
        "kidney-diuretics-keto-constipated",
        "A man with kidney disease, on diuretics and a keto diet, constipated, wants long-term prevention.",
        {
            "kidney_disease": True,
            "diuretics": True,
            "keto_diet": True,
            "constipation": True,
            "long_term": True,
        },
        "doctor",
        fired=("avoid glycinate", "avoid citrate", "avoid electrolytes", "refer doctor"),
        must_not=("prefer glycinate", "prefer citrate", "recommend electrolytes"),
    ),
    Scenario(
        "magnesium-tried-other-causes",
        "A nurse took magnesium for six weeks without relief; she stands all shift, drinks little and "
        "has started running.",
        {
            "magnesium_tried": True,
            "night_cramps": True,
            "overuse": True,
            "dehydrated": True,
            "static_position": True,
        },
        "none",
        fired=(
            "suspect muscle_overuse",
            "suspect dehydration",
            "suspect static_posture",
            "recommend rest",
            "recommend hydration",
            "recommend movement_breaks",
            "avoid glycinate",
            "avoid citrate",
        ),
        must_not=("prefer glycinate", "prefer citrate"),
        causes_first=("muscle_overuse", "dehydration", "static_posture"),
        text_has=("Magnesium has not helped",),
    ),
    Scenario(
        "office-worker-static",
        "A programmer sits ten hours a day and gets cramps at night; he has never taken magnesium.",
        {"static_position": True, "night_cramps": True, "magnesium_tried": False},
        "none",
        fired=("suspect static_posture", "recommend movement_breaks", "suspect magnesium_deficiency"),
        text_has=("Get up, move and stretch your legs",),
    ),
    # ------------------------------------------------------------ partial answers
    Scenario(
        "nothing-known",
        "Someone opens the consultation and has not answered anything yet.",
        {},
        "none",
        fired=("recommend stretching",),
        must=("recommend massage", "recommend heat"),
        must_not=("refer doctor", "refer doctor urgent", "refer emergency urgent"),
        asked=("one_leg_swollen_red_warm", "prolonged", "wound_tetanus_risk", "kidney_disease"),
    ),
    Scenario(
        "keto-only",
        "A woman on a keto diet gets cramps; nothing else is known.",
        {"keto_diet": True},
        "none",
        fired=("suspect keto_electrolyte_loss",),
        conditional={"recommend electrolytes": ("kidney_disease", "diuretics")},
        asked_first=("kidney_disease", "diuretics"),
    ),
    Scenario(
        "night-cramps-constipated-bedtime-unsaid",
        "A constipated man has night cramps; he has not said when he would take a supplement.",
        {"night_cramps": True, "constipation": True},
        "none",
        fired=("suspect magnesium_deficiency",),
        conditional={"prefer citrate": ("bedtime", "sensitive_stomach", "kidney_disease", "magnesium_tried")},
        must_not=("prefer glycinate",),
        asked=("bedtime",),
    ),
    Scenario(
        "everything-yes",
        "A test record with every answer yes and pain 10.",
        {
            "one_leg_swollen_red_warm": True,
            "breathless_or_chest_pain": True,
            "prolonged": True,
            "wound_tetanus_risk": True,
            "persistent": True,
            "pain": 10,
            "pain_with_activity_eases_with_rest": True,
            "pain_walking_eases_leaning_forward": True,
            "disturbs_sleep": True,
            "numbness_or_swelling": True,
            "muscle_weakness": True,
            "kidney_disease": True,
            "diuretics": True,
            "magnesium_tried": True,
            "night_cramps": True,
            "exercise_cramps": True,
            "long_term": True,
            "constipation": True,
            "bedtime": True,
            "sensitive_stomach": True,
            "dehydrated": True,
            "overuse": True,
            "static_position": True,
            "keto_diet": True,
        },
        "emergency",
        fired=("refer emergency urgent", "refer doctor urgent", "refer doctor"),
        must_not=(
            "prefer glycinate",
            "prefer citrate",
            "recommend electrolytes",
            "recommend massage",
            "recommend heat",
        ),
    ),
)
