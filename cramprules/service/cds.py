"""CDS Hooks 2.0: the services a ruleset offers, the FHIR data they need, and their cards.

Reading FHIR and writing cards belong to plugins (``cramprules-fhir`` offers
the ``fhir`` loader and the ``cds-hooks`` format); this module goes through
the engine's registries to reach them, and adds what only a live call knows:
the patient, the draft orders, the FHIR server to ask for what prefetch
lacks, and the card parts that depend on them (suggested orders, links to
the cited sources, override reasons).

Specification: https://cds-hooks.hl7.org/2.0/
"""

from __future__ import annotations

import importlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from typing import Any as AnyType
from urllib.parse import quote

import attrs

from cramprules.service.problems import Problem

if TYPE_CHECKING:
    from cramprules.engine import Engine
    from cramprules.report import Report, Source
    from cramprules.ruleset import Ruleset

__all__ = [
    "DEFAULT_ORDERS",
    "HOOKS",
    "OVERRIDE_REASONS",
    "CdsService",
    "LabOrder",
    "cds_available",
    "discover",
    "make_cards",
    "order_topics",
    "patient_facts",
    "render_template",
    "resources_of",
    "split_prefetch",
]

HOOKS = ("patient-view", "order-select")
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}\Z")
_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z]+)\s*\}\}")
_SAFE_URL = re.compile(r"https?://[^\s<>\"']+\Z", re.IGNORECASE)
_NAMESPACE = uuid.UUID("0f6d7c1e-2b1a-4c3e-9a55-4f1e8f7b2d90")


@attrs.frozen
class LabOrder:
    """A blood test a card can suggest ordering, by LOINC code."""

    loinc: str
    display: str


DEFAULT_ORDERS: Mapping[str, tuple[LabOrder, ...]] = {
    "mineral_levels_test": (
        LabOrder("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
        LabOrder("17861-6", "Calcium [Mass/volume] in Serum or Plasma"),
    ),
}
"""Options that are orders: advising one suggests a draft ServiceRequest per test."""

OVERRIDE_REASONS = (
    {"system": "urn:cramprules:override-reason", "code": "already-addressed", "display": "Already addressed"},
    {"system": "urn:cramprules:override-reason", "code": "patient-declined", "display": "Patient declined"},
    {
        "system": "urn:cramprules:override-reason",
        "code": "not-applicable",
        "display": "Does not apply to this patient",
    },
)
"""Offered on cautions (warning and critical cards), so a clinician can say why they go on."""

_TOPICS = ("diuretic", "magnesium", "potassium")


@attrs.frozen
class CdsService:
    """One entry of the discovery document: a ruleset answering one hook."""

    id: str
    hook: str
    ruleset: str
    title: str
    description: str
    prefetch: Mapping[str, str] = attrs.field(hash=False)

    def to_dict(self) -> dict[str, AnyType]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
        }


def cds_available(engine: Engine) -> bool:
    """Whether a plugin reads FHIR (loader ``fhir``) and writes cards (format ``cds-hooks``)."""
    return "fhir" in engine.loaders() and "cds-hooks" in engine.formats()


def _fhir_codes() -> AnyType:
    # The FHIR plugin's public code tables (LOINC of the labs, diuretic classes and names).
    try:
        return importlib.import_module("cramprules_fhir.codes")
    except ImportError:  # pragma: no cover - cds_available() is checked first
        return None


def lab_loincs(ruleset: Ruleset) -> dict[str, tuple[str, ...]]:
    """LOINC codes of the lab results that fill the ruleset's facts, by fact."""
    codes = _fhir_codes()
    found: dict[str, tuple[str, ...]] = {}
    labs: dict[str, str] = dict(codes.default().labs) if codes is not None else {}
    for loinc, fact in labs.items():
        if fact in ruleset.facts:
            found[fact] = (*found.get(fact, ()), loinc)
    return found


def _mentions(ruleset: Ruleset, word: str) -> bool:
    labels = [o.label for o in ruleset.options.values()] + [c.label for c in ruleset.causes.values()]
    labels += [f.prompt for f in ruleset.facts.values()] + list(ruleset.facts)
    return any(word in label.lower() for label in labels)


def touched_topics(ruleset: Ruleset) -> tuple[str, ...]:
    """The kinds of order that change this ruleset's advice."""
    topics = []
    if "diuretics" in ruleset.facts:
        topics.append("diuretic")
    topics += [t for t in ("magnesium", "potassium") if _mentions(ruleset, t)]
    return tuple(topics)


def prefetch_templates(ruleset: Ruleset) -> dict[str, str]:
    """Prefetch templates: the patient, conditions, medications and the labs the ruleset reads."""
    patient = "{{context.patientId}}"
    templates = {
        "patient": f"Patient/{patient}",
        "conditions": f"Condition?patient={patient}",
        "medicationRequests": f"MedicationRequest?patient={patient}&status=active",
        "medicationStatements": f"MedicationStatement?patient={patient}&status=active",
    }
    loincs = [code for codes in lab_loincs(ruleset).values() for code in codes]
    if loincs:
        wanted = ",".join(f"{LOINC}|{code}" for code in loincs)
        templates["observations"] = f"Observation?patient={patient}&code={wanted}&_sort=-date"
    return templates


def service_id(ruleset: Ruleset, hook: str) -> str:
    return f"{ruleset.name.replace('_', '-')}-{hook}"


def discover(rulesets: Iterable[Ruleset]) -> list[CdsService]:
    """The services of every ruleset: ``patient-view`` always, ``order-select`` when orders matter."""
    services = []
    for ruleset in rulesets:
        title = ruleset.title or ruleset.name
        templates = prefetch_templates(ruleset)
        services.append(
            CdsService(
                service_id(ruleset, "patient-view"),
                "patient-view",
                ruleset.name,
                title,
                f"{title}: causes, advice and referrals from the patient's record, with cited sources.",
                templates,
            )
        )
        topics = touched_topics(ruleset)
        if topics:
            services.append(
                CdsService(
                    service_id(ruleset, "order-select"),
                    "order-select",
                    ruleset.name,
                    f"{title}: orders",
                    f"{title}: advice when a {', '.join(topics)} order is selected.",
                    templates,
                )
            )
    return services


# ---------------------------------------------------------------- the request


def check_patient_id(context: Mapping[str, AnyType]) -> str:
    patient = context.get("patientId")
    if not isinstance(patient, str) or not _FHIR_ID.match(patient):
        raise Problem(400, "context.patientId must be a FHIR id (letters, digits, '-' and '.', up to 64)")
    return patient


def render_template(template: str, context: Mapping[str, AnyType]) -> str:
    """A prefetch template with its ``{{context.X}}`` tokens filled in, URL-quoted."""

    def fill(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        if not isinstance(value, str):
            raise Problem(412, f"the prefetch template needs context.{match.group(1)}")
        return quote(value, safe="")

    return _TOKEN.sub(fill, template)


def resources_of(value: object) -> list[dict[str, AnyType]]:
    """A prefetched value as resources: a Bundle's entries, or the resource itself."""
    if not isinstance(value, dict):
        raise Problem(400, "each prefetch value must be a FHIR resource or Bundle (a JSON object)")
    if value.get("resourceType") == "Bundle":
        out = []
        for entry in value.get("entry") or ():
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict):
                out.append(resource)
        return out
    if not isinstance(value.get("resourceType"), str):
        raise Problem(400, "a prefetch value lacks its resourceType")
    return [value]


def split_prefetch(
    prefetch: Mapping[str, AnyType] | None, templates: Mapping[str, str]
) -> tuple[list[dict[str, AnyType]], list[str]]:
    """The resources prefetched for our templates, and the keys the client left out (or null)."""
    resources: list[dict[str, AnyType]] = []
    missing: list[str] = []
    for key in templates:
        value = (prefetch or {}).get(key)
        if value is None:
            missing.append(key)
        else:
            resources.extend(resources_of(value))
    return resources, missing


def _about(resource: Mapping[str, AnyType], patient: str) -> bool:
    """Whether a resource is this patient's (or names no patient at all)."""
    if resource.get("resourceType") == "Patient":
        return resource.get("id") in (None, patient)
    for field in ("subject", "patient"):
        ref = resource.get(field)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return bool(ref["reference"].rstrip("/").endswith(f"Patient/{patient}"))
    return True


def _when(resource: Mapping[str, AnyType]) -> str:
    for key in ("effectiveDateTime", "effectiveInstant", "issued"):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict):
        return str(period.get("end") or period.get("start") or "")
    return ""


def lab_dates(resources: Iterable[Mapping[str, AnyType]], ruleset: Ruleset) -> dict[str, str]:
    """When each lab fact was measured (the most recent result), as a date."""
    by_code = {code: fact for fact, codes in lab_loincs(ruleset).items() for code in codes}
    dates: dict[str, str] = {}
    for resource in resources:
        if resource.get("resourceType") != "Observation":
            continue
        code = resource.get("code")
        codings = code.get("coding") if isinstance(code, dict) else None
        for coding in codings if isinstance(codings, list) else ():
            if isinstance(coding, dict) and coding.get("system") == LOINC and coding.get("code") in by_code:
                fact, when = by_code[coding["code"]], _when(resource)
                if when and when > dates.get(fact, ""):
                    dates[fact] = when
    return {fact: when[:10] for fact, when in dates.items()}


def patient_facts(
    engine: Engine, ruleset: Ruleset, resources: Sequence[Mapping[str, AnyType]], patient: str
) -> dict[str, object]:
    """The patient's facts from FHIR resources, through the engine's ``fhir`` loader."""
    mine = [r for r in resources if _about(r, patient)]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in mine]}
    records = engine.load_facts(json.dumps(bundle), "fhir")
    facts = records[0] if records else {}
    return {name: value for name, value in facts.items() if name in ruleset.facts}


def _order_text(resource: Mapping[str, AnyType]) -> tuple[str, list[str]]:
    """The words and ATC codes of an order's medication or test."""
    words: list[str] = []
    atc: list[str] = []
    codes = _fhir_codes()
    for key in ("medicationCodeableConcept", "code", "productCodeableConcept"):
        concept = resource.get(key)
        if isinstance(concept, dict):
            if isinstance(concept.get("text"), str):
                words.append(concept["text"])
            for coding in concept.get("coding") or ():
                if not isinstance(coding, dict):
                    continue
                if isinstance(coding.get("display"), str):
                    words.append(coding["display"])
                if coding.get("system") == getattr(codes, "ATC", None) and isinstance(
                    coding.get("code"), str
                ):
                    atc.append(coding["code"].upper())
    reference = resource.get("medicationReference")
    if isinstance(reference, dict) and isinstance(reference.get("display"), str):
        words.append(reference["display"])
    return " ".join(words), atc


def order_topics(context: Mapping[str, AnyType]) -> tuple[str, ...]:
    """What the selected draft orders touch: a diuretic, magnesium, potassium."""
    drafts = context.get("draftOrders")
    selections = context.get("selections")
    if not isinstance(drafts, dict) or drafts.get("resourceType") != "Bundle":
        raise Problem(400, "context.draftOrders must be a FHIR Bundle")
    if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
        raise Problem(400, "context.selections must be a list of references like 'MedicationRequest/123'")
    codes = _fhir_codes()
    found: set[str] = set()
    for resource in resources_of(drafts):
        ref = f"{resource.get('resourceType')}/{resource.get('id')}"
        if ref not in selections:
            continue
        text, atc = _order_text(resource)
        lowered = text.lower()
        prefixes = tuple(getattr(codes, "DIURETIC_ATC_PREFIXES", ()))
        if (codes is not None and codes.is_diuretic_name(text)) or any(c.startswith(prefixes) for c in atc):
            found.add("diuretic")
        for topic in ("magnesium", "potassium"):
            if topic in lowered:
                found.add(topic)
    return tuple(t for t in _TOPICS if t in found)


# ---------------------------------------------------------------- the cards


def _fact_words(ruleset: Ruleset, name: str, value: object, dates: Mapping[str, str]) -> str:
    spec = ruleset.facts.get(name)
    question = spec.question if spec is not None else None
    label = question if question and not question.endswith("?") else name.replace("_", " ")
    if isinstance(value, bool):
        shown = f"{label}: {'yes' if value else 'no'}"
    else:
        unit = f" {spec.unit}" if spec is not None and spec.unit else ""
        shown = f"{label} {value}{unit}"
    return shown + (f" (measured {dates[name]})" if name in dates else "")


def _detail(report: Report, item: AnyType, patient_item: AnyType, dates: Mapping[str, str]) -> str:
    from cramprules.formats.markdown import escape

    ruleset = report.ruleset
    parts = []
    if item.note:
        parts.append(escape(item.note))
    if patient_item is not None and patient_item.caveat:
        parts.append(f"*Unless: {escape(patient_item.caveat)}*")
    findings = []
    for cause in report.causes:
        if cause.rule == item.rule:
            findings += [_fact_words(ruleset, n, v, dates) for n, v in cause.facts]
    if findings:
        parts.append("**Findings:** " + escape("; ".join(dict.fromkeys(findings))) + ".")
    cited = [
        f"[{escape(s.label)}](<{s.url}>)" if s.url and _SAFE_URL.match(s.url) else escape(s.label)
        for s in item.sources
    ]
    if cited:
        parts.append("**Sources:** " + "; ".join(cited))
    version = f" {escape(ruleset.version)}" if ruleset.version else ""
    parts.append(f"*From {escape(ruleset.title or ruleset.name)}{version}.*")
    return "\n\n".join(parts)


def _links(sources: Iterable[Source]) -> list[dict[str, str]]:
    links: dict[str, dict[str, str]] = {}
    for source in sources:
        if source.url and _SAFE_URL.match(source.url) and source.url not in links:
            links[source.url] = {"label": source.label[:200], "url": source.url, "type": "absolute"}
    return list(links.values())


def _suggestion(
    option: str, label: str, tests: Sequence[LabOrder], patient: str, card: str
) -> dict[str, AnyType]:
    actions = []
    for test in tests:
        actions.append(
            {
                "type": "create",
                "description": f"Order {test.display} (LOINC {test.loinc})",
                "resource": {
                    "resourceType": "ServiceRequest",
                    "status": "draft",
                    "intent": "proposal",
                    "category": [
                        {
                            "coding": [
                                {"system": SNOMED, "code": "108252007", "display": "Laboratory procedure"}
                            ]
                        }
                    ],
                    "code": {
                        "coding": [{"system": LOINC, "code": test.loinc, "display": test.display}],
                        "text": test.display,
                    },
                    "subject": {"reference": f"Patient/{patient}"},
                },
            }
        )
    return {
        "label": f"Order: {label}",
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{card}:{option}")),
        "isRecommended": True,
        "actions": actions,
    }


def _entries(report: Report, audience: str) -> list[tuple[AnyType, AnyType]]:
    """(section, item) for each card, in the order the ``cds-hooks`` format writes them."""
    from cramprules.formats import sections

    out: list[tuple[AnyType, AnyType]] = []
    for section in sections(report, audience):  # type: ignore[arg-type]
        if section.key == "sources":
            continue
        if section.key == "questions":
            out.append((section, None))
        else:
            out.extend((section, item) for item in section.items)
    return out


def make_cards(
    engine: Engine,
    report: Report,
    *,
    patient: str,
    dates: Mapping[str, str] | None = None,
    orders: Mapping[str, Sequence[LabOrder]] = DEFAULT_ORDERS,
    questions: bool = True,
) -> list[dict[str, AnyType]]:
    """The report as CDS Hooks cards, completed for this patient."""
    cards: list[dict[str, AnyType]] = json.loads(engine.render(report, "cds-hooks", audience="clinician"))[
        "cards"
    ]
    clinician, patient_view = _entries(report, "clinician"), _entries(report, "patient")
    matched = len(clinician) == len(cards) == len(patient_view)
    ruleset = report.ruleset
    out = []
    for index, card in enumerate(cards):
        section, item = clinician[index] if matched else (None, None)
        if section is not None and section.key == "questions" and not questions:
            continue
        source = dict(card.get("source") or {"label": ruleset.title or ruleset.name})
        source["topic"] = {
            "system": f"urn:cramprules:ruleset:{ruleset.name}",
            "code": (item.rule if item is not None and item.rule else None)
            or (section.key if section else "report"),
            "display": section.title if section is not None else ruleset.title or ruleset.name,
        }
        card["source"] = source
        if item is not None:
            card["detail"] = _detail(report, item, patient_view[index][1], dates or {})
            links = _links(item.sources)
            if links:
                card["links"] = links
            suggestions = [
                _suggestion(rec.option, rec.label, orders[rec.option], patient, str(card.get("uuid")))
                for rec in report.recommendations
                if rec.rule == item.rule
                and rec.action != "avoid"
                and rec.option in orders
                and rec.label in item.text
            ]
            if suggestions:
                card["suggestions"] = suggestions
                card["selectionBehavior"] = "any"
        if card.get("indicator") in ("warning", "critical"):
            card["overrideReasons"] = [dict(reason) for reason in OVERRIDE_REASONS]
        out.append(card)
    return out
