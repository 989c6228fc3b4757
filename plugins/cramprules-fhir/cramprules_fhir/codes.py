"""The codes that map FHIR resources to leg-cramps facts, with where they come from.

Kept as data, apart from the code that reads them, so a clinic can review
them in one place.  Matching is by listed codes only: there is no
terminology server, so a descendant concept that is not listed is not found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

__all__ = [
    "ATC",
    "CKD_ICD10_PREFIXES",
    "CKD_SNOMED",
    "DIURETIC_ATC_PREFIXES",
    "DIURETIC_NAMES",
    "ICD10",
    "LABS",
    "LOINC",
    "SNOMED",
    "Lab",
    "is_diuretic_name",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
ATC = "http://www.whocc.no/atc"


@attrs.frozen
class Lab:
    """A LOINC code, the fact it fills, and factors from each unit to the fact's unit."""

    loinc: str
    fact: str
    unit: str
    factors: Mapping[str, float] = attrs.field(hash=False)


# Molar masses: magnesium 24.305 g/mol, calcium 40.078 g/mol; both ions carry
# two charges, so 1 mEq/L is half a mmol/L.  Units are compared in lower case
# (UCUM writes "meq/L", labs often "mEq/L").
_MG = {"mg/dl": 1.0, "mg/l": 0.1, "mmol/l": 2.4305, "meq/l": 1.21525}
_CA = {"mg/dl": 1.0, "mg/l": 0.1, "mmol/l": 4.0078, "meq/l": 2.0039}
_K = {"mmol/l": 1.0, "meq/l": 1.0}

LABS: dict[str, Lab] = {
    lab.loinc: lab
    for lab in (
        # LOINC names, as listed in HL7's PDDI CDS IG value sets (Top 2000 lab results, US).
        Lab("19123-9", "serum_magnesium", "mg/dL", _MG),  # Magnesium [Mass/volume] in Serum or Plasma
        Lab("2601-3", "serum_magnesium", "mg/dL", _MG),  # Magnesium [Moles/volume] in Serum or Plasma
        Lab("2823-3", "serum_potassium", "mmol/L", _K),  # Potassium [Moles/volume] in Serum or Plasma
        Lab("17861-6", "serum_calcium", "mg/dL", _CA),  # Calcium [Mass/volume] in Serum or Plasma
    )
}
"""Serum lab results by LOINC code."""

CKD_SNOMED = frozenset(
    {
        "709044004",  # Chronic kidney disease
        "431855005",  # Chronic kidney disease stage 1
        "431856006",  # Chronic kidney disease stage 2
        "433144002",  # Chronic kidney disease stage 3
        "431857002",  # Chronic kidney disease stage 4
        "433146000",  # Chronic kidney disease stage 5
        "46177005",  # End-stage renal disease
    }
)
"""SNOMED CT: chronic kidney disease, its stages, and end-stage renal disease."""

CKD_ICD10_PREFIXES = ("N18",)
"""ICD-10 and ICD-10-CM: N18, chronic kidney disease (N18.1 to N18.9)."""

DIURETIC_ATC_PREFIXES = (
    "C03",  # diuretics
    "C02L",  # antihypertensives and diuretics in combination
    "C07B",  # beta blockers and thiazides
    "C07C",  # beta blockers and other diuretics
    "C07D",  # beta blockers, thiazides and other diuretics
    "C08G",  # calcium channel blockers and diuretics
    "C09BA",  # ACE inhibitors and diuretics
    "C09DA",  # angiotensin II receptor blockers and diuretics
    "C09XA52",  # aliskiren and hydrochlorothiazide
)
"""WHO ATC classes that contain a diuretic."""

DIURETIC_NAMES = frozenset(
    {
        # loop
        "furosemide", "frusemide", "bumetanide", "torsemide", "torasemide", "ethacrynic acid",
        # thiazide and thiazide-like
        "hydrochlorothiazide", "chlorothiazide", "chlorthalidone", "chlortalidone", "indapamide",
        "metolazone", "bendroflumethiazide", "bendrofluazide", "methyclothiazide", "hctz",
        # potassium-sparing
        "spironolactone", "eplerenone", "amiloride", "triamterene",
        # carbonic anhydrase inhibitor
        "acetazolamide",
        # common US brand names
        "lasix", "bumex", "demadex", "edecrin", "microzide", "hygroton", "thalitone", "lozol",
        "zaroxolyn", "aldactone", "inspra", "midamor", "dyazide", "maxzide", "diamox",
    }
)  # fmt: skip
"""Generic and brand names, matched as whole words in a medication's text or display.

RxNorm codes are not matched: a MedicationStatement usually carries a clinical
drug code (``furosemide 40 MG Oral Tablet``) whose class is not in the code,
but whose display names the ingredient, and that is matched here.
"""


def is_diuretic_name(text: str) -> bool:
    """Whether a medication's name mentions a diuretic, as a whole word."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    return bool(words & DIURETIC_NAMES) or "ethacrynic acid" in lowered
