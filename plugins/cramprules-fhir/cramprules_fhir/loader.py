"""Facts from a FHIR R4 Bundle: labs, diuretics and kidney disease, one record per patient.

The Bundle is validated with ``fhir.resources`` (its R4B models, which read
these R4 resources unchanged) before anything is taken from it.  What is
read, and what is left unknown:

* ``Observation`` (status final, amended or corrected) with a LOINC code of
  :data:`codes.LABS` and a ``valueQuantity`` -> ``serum_magnesium``,
  ``serum_potassium``, ``serum_calcium`` in the fact's unit; the most recent
  result wins.  A unit it cannot convert is an error, never a guess.
* ``MedicationStatement`` (status active) whose medication is a diuretic, by
  ATC class or by name -> ``diuretics = true``.
* ``Condition`` (clinical status active, recurrence or relapse, or none
  given without an abatement; not refuted) coding chronic kidney disease
  -> ``kidney_disease = true``.

Absence is not evidence: a Bundle without a diuretic leaves ``diuretics``
unknown (so it is still asked), since a Bundle may not hold the whole record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any as AnyType

from cramprules import FactError
from cramprules_fhir import codes

__all__ = ["load", "parse_bundle", "records"]

OBSERVATION_STATUSES = frozenset({"final", "amended", "corrected"})
ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
NOT_VERIFIED = frozenset({"refuted", "entered-in-error"})


def load(text: str) -> list[dict[str, object]]:
    """The loader behind ``--facts-format fhir`` and ``*.fhir.json`` files."""
    return records(parse_bundle(text))


def parse_bundle(text: str) -> AnyType:
    """A validated ``fhir.resources`` R4B Bundle, or a FactError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FactError(
            f"the FHIR input is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            fact="",
        ) from None
    except RecursionError:
        raise FactError("the FHIR input is nested too deeply to read", fact="") from None
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if kind != "Bundle":
        what = f"a {kind} resource" if isinstance(kind, str) else f"a JSON {type(data).__name__}"
        raise FactError(
            f'the FHIR input must be a Bundle ({{"resourceType": "Bundle", ...}}), but it is {what}',
            fact="",
        )
    from fhir.resources.R4B.bundle import Bundle  # heavy (pydantic models): load when used

    try:
        return Bundle.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError
        raise FactError(f"the FHIR Bundle is not valid FHIR R4: {_errors(exc)}", fact="") from None
    except KeyError as exc:
        raise FactError(f"the FHIR Bundle holds a resource of unknown type {exc}", fact="") from None
    except RecursionError:
        raise FactError("the FHIR Bundle is nested too deeply to read", fact="") from None


def _errors(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    found = errors()
    shown = [f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in found[:3]]
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(shown) + more


class _Bundle:
    """Resources by reference, and patients in the order they appear."""

    def __init__(self, bundle: AnyType) -> None:
        self.resources: list[AnyType] = []
        self.index: dict[str, AnyType] = {}
        for entry in bundle.entry or ():
            resource = entry.resource
            if resource is None:
                continue
            self.resources.append(resource)
            if entry.fullUrl:
                self.index[entry.fullUrl] = resource
            if resource.id:
                self.index[f"{resource.get_resource_type()}/{resource.id}"] = resource
        self.patients = [r for r in self.resources if r.get_resource_type() == "Patient"]

    def resolve(self, reference: str | None, container: AnyType = None) -> AnyType:
        if not reference:
            return None
        if reference.startswith("#") and container is not None:
            for contained in container.contained or ():
                if contained.id == reference[1:]:
                    return contained
            return None
        if reference in self.index:
            return self.index[reference]
        parts = reference.rstrip("/").split("/")
        return self.index.get("/".join(parts[-2:])) if len(parts) >= 2 else None

    def subject(self, resource: AnyType) -> str | None:
        """A key for the patient a resource is about."""
        reference = getattr(resource, "subject", None)
        target = reference.reference if reference is not None else None
        if not target:
            return None
        found = self.resolve(target)
        if found is not None and found.get_resource_type() == "Patient":
            return f"Patient#{self.patients.index(found)}"
        return str(target)


def records(bundle: AnyType) -> list[dict[str, object]]:
    """One fact set per patient: those in the Bundle first, in order, then others referred to."""
    view = _Bundle(bundle)
    facts: dict[str | None, dict[str, object]] = {f"Patient#{i}": {} for i in range(len(view.patients))}
    latest: dict[tuple[str | None, str], tuple[str, int]] = {}
    for position, resource in enumerate(view.resources):
        kind = resource.get_resource_type()
        if kind == "Observation":
            found = _observation(resource)
            if found is None:
                continue
            fact, value, when = found
            key = view.subject(resource)
            stamp = (when, position)
            if (key, fact) not in latest or stamp > latest[(key, fact)]:
                latest[(key, fact)] = stamp
                facts.setdefault(key, {})[fact] = value
        elif kind == "MedicationStatement":
            if resource.status == "active" and _is_diuretic(view, resource):
                facts.setdefault(view.subject(resource), {})["diuretics"] = True
        elif kind == "Condition" and _is_kidney_disease(resource):
            facts.setdefault(view.subject(resource), {})["kidney_disease"] = True
    # Resources without a subject belong to the only patient, if there is one.
    if None in facts and len(facts) == 2:
        loose = facts.pop(None)
        (only,) = facts.values()
        for name, given in loose.items():
            only.setdefault(name, given)
    return list(facts.values()) or [{}]


def _observation(resource: AnyType) -> tuple[str, float, str] | None:
    if resource.status not in OBSERVATION_STATUSES:
        return None
    lab = next((codes.LABS[c.code] for c in _codings(resource.code) if _is(c, codes.LOINC, codes.LABS)), None)
    quantity = resource.valueQuantity
    if lab is None or quantity is None or quantity.value is None:
        return None
    unit = (quantity.code or quantity.unit or "").strip()
    factor = lab.factors.get(unit.lower())
    if factor is None:
        where = f"Observation/{resource.id}" if resource.id else f"an Observation of LOINC {lab.loinc}"
        raise FactError(
            f"{where} gives {lab.fact} in '{unit or 'no unit'}'; cramprules-fhir converts "
            f"{', '.join(sorted(lab.factors))} to {lab.unit}",
            fact=lab.fact,
        )
    value = round(float(quantity.value) * factor, 4)
    return lab.fact, value, _when(resource)


def _when(resource: AnyType) -> str:
    """A sortable time for a result: when it was taken, else when it was issued."""
    period = resource.effectivePeriod
    for value in (
        resource.effectiveDateTime,
        resource.effectiveInstant,
        period.end if period is not None else None,
        period.start if period is not None else None,
        resource.issued,
    ):
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return value.isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)
    return ""


def _codings(concept: AnyType) -> Iterable[AnyType]:
    return (concept.coding or ()) if concept is not None else ()


def _is(coding: AnyType, system: str | tuple[str, ...], known: Mapping[str, object] | frozenset[str]) -> bool:
    systems = (system,) if isinstance(system, str) else system
    return coding.system in systems and coding.code in known


def _is_diuretic(view: _Bundle, statement: AnyType) -> bool:
    concept = statement.medicationCodeableConcept
    if concept is None and statement.medicationReference is not None:
        medication = view.resolve(statement.medicationReference.reference, statement)
        concept = medication.code if medication is not None else None
        if concept is None and statement.medicationReference.display:
            return codes.is_diuretic_name(statement.medicationReference.display)
    if concept is None:
        return False
    for coding in _codings(concept):
        if coding.system == codes.ATC and (coding.code or "").upper().startswith(codes.DIURETIC_ATC_PREFIXES):
            return True
        if coding.display and codes.is_diuretic_name(coding.display):
            return True
    return bool(concept.text) and codes.is_diuretic_name(concept.text)


def _is_kidney_disease(condition: AnyType) -> bool:
    clinical = {c.code for c in _codings(condition.clinicalStatus)}
    verification = {c.code for c in _codings(condition.verificationStatus)}
    if verification & NOT_VERIFIED:
        return False
    if clinical:
        if not clinical & ACTIVE_CLINICAL:
            return False
    elif any(getattr(condition, name) is not None for name in _ABATEMENT):
        return False
    for coding in _codings(condition.code):
        if coding.system == codes.SNOMED and coding.code in codes.CKD_SNOMED:
            return True
        if coding.system in codes.ICD10 and (coding.code or "").replace(".", "").upper().startswith(
            codes.CKD_ICD10_PREFIXES
        ):
            return True
    return False


_ABATEMENT = ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString")
