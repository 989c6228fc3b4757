"""The code lists that map FHIR resources to leg-cramps facts, and where they come from.

The lists are data files (``cramprules_fhir/data/*.json``), each with its
provenance: the published value set or code list it is taken from, its
version and date.  Matching is by code system and code, never by a display
text: there is no terminology server, so a concept that is not listed (a
descendant, a newer code) is not found.  :class:`CodeSets` holds them; a
clinic extends them with :meth:`CodeSets.extended` and passes the result to
:func:`cramprules_fhir.loader.patients`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from importlib.resources import files
from typing import Any as AnyType

import attrs

__all__ = [
    "ATC",
    "CONDITION_CLINICAL",
    "CONDITION_VERIFICATION",
    "DIURETIC_ATC_PREFIXES",
    "DIURETIC_NAMES",
    "ICD10",
    "LOINC",
    "RXNORM",
    "SNOMED",
    "CodeSets",
    "default",
    "is_diuretic_name",
    "provenance",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
ATC = "http://www.whocc.no/atc"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"

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
"""WHO ATC classes (ATC/DDD index) that contain a diuretic, matched as prefixes."""

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
    }
)  # fmt: skip
"""Generic names, the fallback for a medication whose codes are not in the lists.

A medication written as text only, or coded with a code the lists lack (a
potassium-sparing diuretic alone: no published RxNorm list of them was
found), is recognised by a generic name as a whole word in its text.
"""


def _load(name: str) -> dict[str, AnyType]:
    data: dict[str, AnyType] = json.loads((files("cramprules_fhir") / "data" / name).read_text("utf-8"))
    return data


def provenance(name: str) -> dict[str, AnyType]:
    """A data file's description and sources, without its codes: what to cite."""
    return {k: v for k, v in _load(name).items() if k not in ("codes",)}


@attrs.frozen
class CodeSets:
    """Every code list the loader matches, by what it means."""

    labs: Mapping[str, str] = attrs.field(hash=False)
    """LOINC code -> the lab fact it fills."""
    diuretics_rxnorm: frozenset[str]
    kidney_disease_snomed: frozenset[str]
    kidney_disease_icd10_prefixes: tuple[str, ...]

    def extended(
        self,
        *,
        labs: Mapping[str, str] | None = None,
        diuretics_rxnorm: Iterable[str] = (),
        kidney_disease_snomed: Iterable[str] = (),
        kidney_disease_icd10_prefixes: Iterable[str] = (),
    ) -> CodeSets:
        """These lists with more codes added: a clinic's own codes, say."""
        return CodeSets(
            labs={**self.labs, **(labs or {})},
            diuretics_rxnorm=self.diuretics_rxnorm | frozenset(diuretics_rxnorm),
            kidney_disease_snomed=self.kidney_disease_snomed | frozenset(kidney_disease_snomed),
            kidney_disease_icd10_prefixes=(
                *self.kidney_disease_icd10_prefixes,
                *(p.replace(".", "").upper() for p in kidney_disease_icd10_prefixes),
            ),
        )

    def is_diuretic(self, system: str | None, code: str) -> bool:
        if system == RXNORM:
            return code in self.diuretics_rxnorm
        if system == ATC:
            return code.upper().startswith(DIURETIC_ATC_PREFIXES)
        return False

    def is_kidney_disease(self, system: str | None, code: str) -> bool:
        if system == SNOMED:
            return code in self.kidney_disease_snomed
        if system in ICD10:
            return code.replace(".", "").upper().startswith(self.kidney_disease_icd10_prefixes)
        return False


@functools.cache
def default() -> CodeSets:
    """The shipped lists, read from the data files once."""
    return CodeSets(
        labs={c["code"]: c["fact"] for c in _load("labs_loinc.json")["codes"]},
        diuretics_rxnorm=frozenset(c["code"] for c in _load("diuretics_rxnorm.json")["codes"]),
        kidney_disease_snomed=frozenset(c["code"] for c in _load("ckd_snomed.json")["codes"]),
        kidney_disease_icd10_prefixes=tuple(_load("ckd_icd10.json")["prefixes"]),
    )


def is_diuretic_name(text: str) -> bool:
    """Whether a medication's name mentions a diuretic, as a whole word."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    return bool(words & DIURETIC_NAMES) or "ethacrynic acid" in lowered
