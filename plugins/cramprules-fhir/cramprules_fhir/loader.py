"""Facts from FHIR R4 as hospitals send it: labs, diuretics and kidney disease, one record per patient.

Input is a Bundle (JSON text or parsed), or a list of resources (a CDS
Hooks prefetch).  Only the resources the rules use are read; every other
resource (Encounter, Claim, an R4-only MedicinalProduct, ...) is skipped
without being looked into.  The resources that are read are checked
narrowly and strictly against FHIR R4 (4.0.1): the fields read must have
their R4 types and codes; anything else is an error naming the entry and
the field, never a guess.  What is read:

* ``Observation`` with status final, amended or corrected, a LOINC code of
  a lab (:mod:`cramprules_fhir.codes`) and a ``valueQuantity`` -> the lab
  fact, as ``{"value": v, "unit": ucum}``, converted by cramprules to the
  fact's unit.  A ``comparator`` makes the value a bound: the plugin
  ``cramprules-labs`` tells which "below the range" facts it decides ("< 1.0"
  mg/dL of magnesium is low, "> 1.0" says nothing).  A ``dataAbsentReason``
  means no value.  The most recent usable result of each lab wins.
* ``MedicationRequest`` (active; not a proposal) and ``MedicationStatement``
  (active) of a diuretic, by RxNorm or ATC code, or by name when the codes
  are not listed -> ``diuretics = true``.
* ``Condition`` coding chronic kidney disease (SNOMED CT or ICD-10-CM), only
  when confirmed (``verificationStatus``) and active, recurrent or relapsed
  (``clinicalStatus``) -> ``kidney_disease = true``.

Absence is not evidence: no diuretic leaves ``diuretics`` unknown (so it is
still asked), since a Bundle may not hold the whole record.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any as AnyType

import attrs

from cramprules import FactError
from cramprules.facts import RECORD_ID
from cramprules.names import closest
from cramprules_fhir import codes as _codes

__all__ = [
    "COMPARATORS",
    "OBSERVATION_STATUSES",
    "PatientFacts",
    "load",
    "patients",
]

READ = ("Patient", "Observation", "Condition", "MedicationRequest", "MedicationStatement", "Medication")
"""The resource types the rules use; every other type is skipped unread."""

OBSERVATION_STATUSES = frozenset(
    {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
)
USABLE_OBSERVATION = frozenset({"final", "amended", "corrected"})
COMPARATORS = frozenset({"<", "<=", ">=", ">"})
CLINICAL_STATUSES = frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"})
ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
VERIFICATION_STATUSES = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)
REQUEST_STATUSES = frozenset(
    {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
)
REQUEST_INTENTS = frozenset(
    {
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    }
)
STATEMENT_STATUSES = frozenset(
    {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"}
)
_DATETIME = re.compile(
    r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?\Z"
)


@attrs.frozen
class PatientFacts:
    """The facts read for one patient, and who the patient is (``Patient/123``, or None)."""

    patient: str | None
    facts: Mapping[str, object] = attrs.field(hash=False)

    def record(self) -> dict[str, object]:
        """The facts as a loader record: with the patient under ``@id`` when known."""
        return {**({RECORD_ID: self.patient} if self.patient else {}), **self.facts}


class _Entry:
    """Where a resource is, for messages: ``entry 3 (Observation/mg1)``."""

    def __init__(self, index: int | None, resource: Mapping[str, AnyType]) -> None:
        self.index = index
        self.resource = resource
        kind = resource.get("resourceType")
        rid = resource.get("id")
        self.label = f"{kind}/{rid}" if isinstance(rid, str) else str(kind)

    def error(self, field: str, problem: str) -> FactError:
        where = f"entry {self.index} ({self.label})" if self.index is not None else self.label
        return FactError(f"FHIR {where}, field {field}: {problem}", fact="")


def _show(value: object) -> str:
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "an object" if isinstance(value, Mapping) else "a list"


def load(text: str) -> list[dict[str, object]]:
    """The loader behind ``--facts-format fhir`` and ``*.fhir.json`` files: one record per patient."""
    return [p.record() for p in patients(text)]


def patients(
    source: str | Mapping[str, AnyType] | Sequence[Mapping[str, AnyType]],
    *,
    codes: _codes.CodeSets | None = None,
) -> list[PatientFacts]:
    """The facts of each patient in a Bundle (text or parsed) or a list of resources.

    Patients come in the order they appear, then any that resources refer
    to without a Patient resource.  Raises :class:`cramprules.FactError`,
    one line naming the entry and the field, for anything that is not valid
    FHIR R4 where it is read.
    """
    return _Reader(_resources(source), codes or _codes.default()).read()


# ---------------------------------------------------------------- input


Found = list[tuple[int | None, Mapping[str, AnyType], str | None]]


def _resources(source: object) -> Found:
    """``(entry index, resource, fullUrl)`` for every entry, checked for shape."""
    if isinstance(source, (str, bytes)):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise FactError(
                f"the FHIR input is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                fact="",
            ) from None
        except RecursionError:
            raise FactError("the FHIR input is nested too deeply to read", fact="") from None
    out: Found = []
    if isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        for i, resource in enumerate(source):
            if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
                raise FactError(f"FHIR resource {i} is not a resource: it has no resourceType", fact="")
            out.append((i, resource, None))
        return out
    kind = source.get("resourceType") if isinstance(source, Mapping) else None
    if kind != "Bundle" or not isinstance(source, Mapping):
        what = f"a {kind} resource" if isinstance(kind, str) else f"JSON {_show(source)}"
        raise FactError(
            f'the FHIR input must be a Bundle ({{"resourceType": "Bundle", ...}}), but it is {what}', fact=""
        )
    entries = source.get("entry", [])
    if not isinstance(entries, list):
        raise FactError(
            f"FHIR Bundle, field entry: expected a list of entries, got {_show(entries)}", fact=""
        )
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise FactError(f"FHIR Bundle entry {i}: expected an object, got {_show(entry)}", fact="")
        if "resource" not in entry:
            continue  # a search or transaction entry without a resource (request only)
        resource = entry["resource"]
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            raise FactError(
                f"FHIR Bundle entry {i}, field resource: expected a resource with a resourceType", fact=""
            )
        full_url = entry.get("fullUrl")
        if full_url is not None and not isinstance(full_url, str):
            raise FactError(
                f"FHIR Bundle entry {i}, field fullUrl: expected a string, got {_show(full_url)}", fact=""
            )
        out.append((i, resource, full_url))
    return out


# ---------------------------------------------------------------- strict field access


def _string(entry: _Entry, data: Mapping[str, AnyType], name: str, path: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise entry.error(f"{path}{name}", f"expected a non-empty string, got {_show(value)}")
    return value


def _code(entry: _Entry, data: Mapping[str, AnyType], name: str, allowed: frozenset[str]) -> str | None:
    value = _string(entry, data, name, "")
    if value is not None and value not in allowed:
        guess = closest(value, sorted(allowed))
        hint = f"; did you mean '{guess}'?" if guess else ""
        raise entry.error(name, f"'{value}' is not an R4 code; use one of {', '.join(sorted(allowed))}{hint}")
    return value


def _object(
    entry: _Entry, data: Mapping[str, AnyType], name: str, path: str = ""
) -> Mapping[str, AnyType] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise entry.error(f"{path}{name}", f"expected an object, got {_show(value)}")
    return value


def _codings(entry: _Entry, concept: Mapping[str, AnyType] | None, path: str) -> list[tuple[str | None, str]]:
    """``(system, code)`` of a CodeableConcept's codings (display ignored), checked."""
    if concept is None:
        return []
    codings = concept.get("coding", [])
    if not isinstance(codings, list):
        raise entry.error(f"{path}.coding", f"expected a list of codings, got {_show(codings)}")
    out = []
    for i, coding in enumerate(codings):
        where = f"{path}.coding[{i}]"
        if not isinstance(coding, Mapping):
            raise entry.error(where, f"expected an object, got {_show(coding)}")
        system = _string(entry, coding, "system", where + ".")
        code = _string(entry, coding, "code", where + ".")
        _string(entry, coding, "display", where + ".")
        if code is not None:
            out.append((system, code.strip()))
    text = concept.get("text")
    if text is not None and not isinstance(text, str):
        raise entry.error(f"{path}.text", f"expected a string, got {_show(text)}")
    return out


def _texts(concept: Mapping[str, AnyType] | None) -> list[str]:
    """A concept's text and displays: only for the by-name fallback of medications."""
    if concept is None:
        return []
    out = [c.get("display") for c in concept.get("coding", []) if isinstance(c, Mapping)]
    out.append(concept.get("text"))
    return [t for t in out if isinstance(t, str)]


def _status_code(entry: _Entry, concept: Mapping[str, AnyType] | None, field: str, system: str,
                 allowed: frozenset[str]) -> str | None:  # fmt: skip
    codings = _codings(entry, concept, field)
    found = [code for s, code in codings if s == system or s is None]
    if concept is not None and not found:
        raise entry.error(field, f"expected a coding of {system}")
    for code in found:
        if code not in allowed:
            guess = closest(code, sorted(allowed))
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise entry.error(
                field, f"'{code}' is not an R4 code; use one of {', '.join(sorted(allowed))}{hint}"
            )
    return found[0] if found else None


def _when(entry: _Entry, resource: Mapping[str, AnyType]) -> str:
    """A sortable UTC time for a result: when it was taken, else when it was issued."""
    period = _object(entry, resource, "effectivePeriod")
    candidates = [
        ("effectiveDateTime", resource.get("effectiveDateTime")),
        ("effectiveInstant", resource.get("effectiveInstant")),
        ("effectivePeriod.end", period.get("end") if period else None),
        ("effectivePeriod.start", period.get("start") if period else None),
        ("issued", resource.get("issued")),
    ]
    for field, value in candidates:
        if value is None:
            continue
        if not isinstance(value, str) or not _DATETIME.match(value):
            raise entry.error(
                field, f"expected an R4 dateTime such as 2024-05-01T08:30:00Z, got {_show(value)}"
            )
        if "T" in value:
            try:
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise entry.error(field, f"{json.dumps(value)} is not a real date and time") from None
            return moment.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat()
        return value
    return ""


# ---------------------------------------------------------------- reading


class _Reader:
    def __init__(
        self, found: list[tuple[int | None, Mapping[str, AnyType], str | None]], codes: _codes.CodeSets
    ) -> None:
        self.codes = codes
        self.entries: list[_Entry] = []
        self.index: dict[str, Mapping[str, AnyType]] = {}
        for position, resource, full_url in found:
            kind = resource["resourceType"]
            if kind not in READ:
                guess = closest(kind, READ)
                if guess:
                    entry = _Entry(position, resource)
                    raise entry.error(
                        "resourceType", f"'{kind}' is not an R4 resource type; did you mean '{guess}'?"
                    )
                continue  # a resource the rules do not use: skipped, not rejected
            entry = _Entry(position, resource)
            rid = _string(entry, resource, "id", "")
            self.entries.append(entry)
            if full_url:
                self.index[full_url] = resource
            if rid:
                self.index[f"{kind}/{rid}"] = resource
        self.patients: list[str] = []
        for entry in self.entries:
            if entry.resource["resourceType"] == "Patient":
                self.patients.append(self._patient_key(entry.resource))

    @staticmethod
    def _patient_key(resource: Mapping[str, AnyType]) -> str:
        rid = resource.get("id")
        return f"Patient/{rid}" if isinstance(rid, str) else f"Patient#{id(resource)}"

    def resolve(self, reference: str | None) -> Mapping[str, AnyType] | None:
        if not reference:
            return None
        if reference in self.index:
            return self.index[reference]
        parts = reference.split("/_history/")[0].rstrip("/").split("/")
        return self.index.get("/".join(parts[-2:])) if len(parts) >= 2 else None

    def subject(self, entry: _Entry, field: str = "subject") -> str | None:
        """The patient a resource is about: ``Patient/123``, or None when it says nothing."""
        reference = _object(entry, entry.resource, field)
        if reference is None:
            return None
        target = _string(entry, reference, "reference", f"{field}.")
        if not target:
            return None
        found = self.resolve(target)
        if found is not None:
            if found.get("resourceType") != "Patient":
                raise entry.error(
                    f"{field}.reference", f"'{target}' is a {found.get('resourceType')}, not a Patient"
                )
            return self._patient_key(found)
        if target.startswith(("urn:uuid:", "#")):
            raise entry.error(f"{field}.reference", f"'{target}' is not in the Bundle")
        parts = target.split("/_history/")[0].rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != "Patient":
            raise entry.error(f"{field}.reference", f"'{target}' is not a Patient (Patient/<id>)")
        return "/".join(parts[-2:])

    def read(self) -> list[PatientFacts]:
        facts: dict[str | None, dict[str, object]] = {key: {} for key in self.patients}
        latest: dict[tuple[str | None, str], tuple[str, int]] = {}
        for position, entry in enumerate(self.entries):
            kind = entry.resource["resourceType"]
            if kind == "Observation":
                found = self.observation(entry)
                if found is None:
                    continue
                fact, values, when = found
                key = self.subject(entry)
                stamp = (when, position)
                if (key, fact) in latest and stamp <= latest[(key, fact)]:
                    continue
                latest[(key, fact)] = stamp
                record = facts.setdefault(key, {})
                for name in [n for n in record if n in _lab_facts(fact)]:
                    del record[name]  # an older result, or the bound it gave
                record.update(values)
            elif kind in ("MedicationRequest", "MedicationStatement"):
                if self.medication(entry):
                    facts.setdefault(self.subject(entry), {})["diuretics"] = True
            elif kind == "Condition":
                if self.condition(entry):
                    facts.setdefault(self.subject(entry), {})["kidney_disease"] = True
            elif kind == "Patient":
                _code(entry, entry.resource, "gender", frozenset({"male", "female", "other", "unknown"}))
        # Resources without a subject belong to the only patient, if there is one.
        if None in facts and len(facts) == 2:
            loose = facts.pop(None)
            (only,) = facts.values()
            for name, given in loose.items():
                only.setdefault(name, given)
        out = [PatientFacts(key if key and not key.startswith("Patient#") else None, values)
               for key, values in facts.items()]  # fmt: skip
        return out or [PatientFacts(None, {})]

    # ------------------------------------------------------------ Observation

    def observation(self, entry: _Entry) -> tuple[str, dict[str, object], str] | None:
        resource = entry.resource
        status = _code(entry, resource, "status", OBSERVATION_STATUSES)
        if status is None:
            raise entry.error("status", "missing; an R4 Observation has a status (final, amended, ...)")
        concept = _object(entry, resource, "code")
        if concept is None:
            raise entry.error("code", "missing; an R4 Observation has a code")
        fact = next(
            (self.codes.labs[code] for system, code in _codings(entry, concept, "code")
             if system == _codes.LOINC and code in self.codes.labs),
            None,
        )  # fmt: skip
        if fact is None or status not in USABLE_OBSERVATION:
            return None
        values = [name for name in resource if name.startswith("value")]
        absent = _object(entry, resource, "dataAbsentReason")
        if absent is not None:
            if values:
                raise entry.error("dataAbsentReason", f"given with {values[0]}; R4 allows one or the other")
            _codings(entry, absent, "dataAbsentReason")
            return None  # no value: the result stays unknown
        if not values:
            raise entry.error(
                "valueQuantity", "missing; a final lab result has a value or a dataAbsentReason"
            )
        if values != ["valueQuantity"]:
            other = next(v for v in values if v != "valueQuantity")
            raise entry.error(other, f"a {fact} result must be a valueQuantity with a number and a UCUM unit")
        quantity = _object(entry, resource, "valueQuantity")
        assert quantity is not None
        value = quantity.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise entry.error("valueQuantity.value", f"expected a number, got {_show(value)}")
        comparator = _string(entry, quantity, "comparator", "valueQuantity.")
        if comparator is not None and comparator not in COMPARATORS:
            raise entry.error("valueQuantity.comparator", f"'{comparator}' is not one of <, <=, >=, >")
        unit = self.unit(entry, quantity)
        when = _when(entry, resource)
        if comparator is None:
            return fact, {fact: {"value": value, "unit": unit}}, when
        return fact, _bound(entry, fact, comparator, float(value), unit), when

    @staticmethod
    def unit(entry: _Entry, quantity: Mapping[str, AnyType]) -> str:
        """The UCUM unit: ``code`` (system UCUM), else the human ``unit`` when it is a unit too."""
        from cramprules.ucum import kind

        system = _string(entry, quantity, "system", "valueQuantity.")
        code = _string(entry, quantity, "code", "valueQuantity.")
        human = _string(entry, quantity, "unit", "valueQuantity.")
        if code is not None and system not in (None, "http://unitsofmeasure.org"):
            raise entry.error("valueQuantity.system", f"'{system}' is not UCUM (http://unitsofmeasure.org)")
        unit = code or human
        if unit is None:
            raise entry.error(
                "valueQuantity.code", "missing; a lab result needs its UCUM unit, such as mg/dL"
            )
        if kind(unit) is None:
            field = "valueQuantity.code" if code else "valueQuantity.unit"
            raise entry.error(
                field, f"'{unit}' is not a UCUM unit of concentration (mg/dL, mmol/L, meq/L, ...)"
            )
        return unit

    # ------------------------------------------------------------ medications

    def medication(self, entry: _Entry) -> bool:
        resource = entry.resource
        if resource["resourceType"] == "MedicationRequest":
            status = _code(entry, resource, "status", REQUEST_STATUSES)
            intent = _code(entry, resource, "intent", REQUEST_INTENTS)
            if status is None or intent is None:
                raise entry.error("status" if status is None else "intent", "missing; R4 requires it")
            if status != "active" or intent in ("proposal", "option"):
                return False
        else:
            status = _code(entry, resource, "status", STATEMENT_STATUSES)
            if status is None:
                raise entry.error("status", "missing; R4 requires it")
            if status != "active":
                return False
        concept = _object(entry, resource, "medicationCodeableConcept")
        texts: list[str] = []
        if concept is None:
            reference = _object(entry, resource, "medicationReference")
            if reference is None:
                raise entry.error("medicationCodeableConcept", "missing, and no medicationReference either")
            target = _string(entry, reference, "reference", "medicationReference.")
            display = _string(entry, reference, "display", "medicationReference.")
            texts += [display] if display else []
            medication = (
                self.contained(entry, target) if target and target.startswith("#") else self.resolve(target)
            )
            if medication is not None:
                inner = _Entry(entry.index, medication)
                concept = _object(inner, medication, "code")
                where = "medicationReference"
            elif target and target.startswith(("urn:uuid:", "#")):
                raise entry.error("medicationReference.reference", f"'{target}' is not in the Bundle")
        else:
            where = "medicationCodeableConcept"
        if concept is not None:
            codings = _codings(entry, concept, where)
            if any(self.codes.is_diuretic(system, code) for system, code in codings):
                return True
            texts += _texts(concept)
        return any(_codes.is_diuretic_name(text) for text in texts)

    def contained(self, entry: _Entry, target: str) -> Mapping[str, AnyType] | None:
        contained = entry.resource.get("contained", [])
        if not isinstance(contained, list):
            raise entry.error("contained", f"expected a list of resources, got {_show(contained)}")
        for item in contained:
            if isinstance(item, Mapping) and item.get("id") == target[1:]:
                return item
        return None

    # ------------------------------------------------------------ Condition

    def condition(self, entry: _Entry) -> bool:
        resource = entry.resource
        clinical = _status_code(
            entry, _object(entry, resource, "clinicalStatus"), "clinicalStatus",
            _codes.CONDITION_CLINICAL, CLINICAL_STATUSES,
        )  # fmt: skip
        verification = _status_code(
            entry, _object(entry, resource, "verificationStatus"), "verificationStatus",
            _codes.CONDITION_VERIFICATION, VERIFICATION_STATUSES,
        )  # fmt: skip
        concept = _object(entry, resource, "code")
        codings = _codings(entry, concept, "code")
        if verification != "confirmed" or clinical not in ACTIVE_CLINICAL:
            return False
        return any(self.codes.is_kidney_disease(system, code) for system, code in codings)


def _lab_facts(fact: str) -> set[str]:
    """The fact and the "below the range" facts a result of it sets."""
    from cramprules_labs import RANGES

    return {fact} | {r.derived for r in RANGES if r.fact == fact}


def _bound(entry: _Entry, fact: str, comparator: str, value: float, unit: str) -> dict[str, object]:
    """The facts a result known only as a bound decides (the value itself stays unknown)."""
    from cramprules_labs import RANGES, SUBSTANCES, bound_facts

    from cramprules.ucum import convert

    declared = next(r.unit for r in RANGES if r.fact == fact)
    converted = convert(value, unit, declared, SUBSTANCES.get(fact))
    if converted is None:
        raise entry.error("valueQuantity.code", f"cannot convert '{unit}' to {declared} for {fact}")
    return dict(bound_facts(fact, comparator, converted))
