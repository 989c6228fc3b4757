"""cramprules-fhir through its entry point: FHIR R4 Bundles in, CDS Hooks cards out."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import cramprules
from cramprules import FactError
from cramprules.cli import cli
from cramprules.plugins import AUTOLOAD_ENV

BUNDLE = Path(__file__).parent / "data" / "patient.fhir.json"

CDS_HOOKS_RESPONSE = {
    # The card attributes of the CDS Hooks specification (https://cds-hooks.hl7.org/),
    # restricted to those this format writes, so a misspelt one fails.
    "type": "object",
    "required": ["cards"],
    "additionalProperties": False,
    "properties": {
        "cards": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["uuid", "summary", "indicator", "source"],
                "additionalProperties": False,
                "properties": {
                    "uuid": {
                        "type": "string",
                        "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                    },
                    "summary": {"type": "string", "minLength": 1, "maxLength": 139},
                    "detail": {"type": "string"},
                    "indicator": {"enum": ["info", "warning", "critical"]},
                    "source": {
                        "type": "object",
                        "required": ["label"],
                        "additionalProperties": False,
                        "properties": {
                            "label": {"type": "string", "minLength": 1},
                            "url": {"type": "string", "pattern": "^https?://"},
                        },
                    },
                },
            },
        }
    },
}


@pytest.fixture(scope="module")
def engine() -> cramprules.Engine:
    engine = cramprules.Engine(autoload=True)
    names = [i.name for i in engine.plugins()]
    assert {"fhir", "labs"} <= set(names), "pip install -e plugins/cramprules-labs -e plugins/cramprules-fhir"
    return engine


def bundle(*resources: dict, patient: str | None = "p1") -> str:
    entries = []
    if patient:
        entries.append({"resource": {"resourceType": "Patient", "id": patient}})
    for resource in resources:
        entry = dict(resource)
        if patient and "subject" not in entry and entry["resourceType"] != "Medication":
            entry["subject"] = {"reference": f"Patient/{patient}"}
        if entry.get("subject", "") is None:  # subject=None: leave it out
            del entry["subject"]
        entries.append({"resource": entry})
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def observation(code: str, value: float, unit: str, **more) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        **more,
    }


def medication(concept: dict | None = None, status: str = "active", **more) -> dict:
    out = {"resourceType": "MedicationStatement", "status": status, **more}
    if concept is not None:
        out["medicationCodeableConcept"] = concept
    return out


def request(concept: dict, status: str = "active", intent: str = "order") -> dict:
    return {"resourceType": "MedicationRequest", "status": status, "intent": intent,
            "medicationCodeableConcept": concept}  # fmt: skip


def status(kind: str, code: str) -> dict:
    system = {"clinical": "condition-clinical", "verification": "condition-ver-status"}[kind]
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]}


def condition(
    coding: dict, clinical: str | None = "active", verification: str | None = "confirmed", **more
) -> dict:
    out = {"resourceType": "Condition", "code": {"coding": [coding]}, **more}
    if clinical:
        out["clinicalStatus"] = status("clinical", clinical)
    if verification:
        out["verificationStatus"] = status("verification", verification)
    return out


def facts(engine, text: str) -> list[dict]:
    """The records without the patient id: just the facts."""
    return [{k: v for k, v in r.items() if k != "@id"} for r in engine.load_facts(text, "fhir")]


def rxnorm(code: str) -> dict:
    return {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code}]}


CKD = {"system": "http://snomed.info/sct", "code": "709044004", "display": "Chronic kidney disease"}
SYNTHEA = Path(__file__).parent / "data" / "synthea-style.fhir.json"


# ------------------------------------------------------------------ bundles as hospitals send them


def test_the_example_bundle(engine) -> None:
    assert engine.load_facts_file(BUNDLE) == [
        {
            "@id": "Patient/p1",
            "serum_magnesium": {"value": 1.4, "unit": "mg/dL"},
            "serum_potassium": {
                "value": 3.1,
                "unit": "meq/L",
            },  # the newest final result; not the cancelled one
            "serum_calcium": {"value": 2.0, "unit": "mmol/L"},
            "diuretics": True,
            "kidney_disease": True,
        }
    ]
    [record] = engine.load_facts_file(BUNDLE)
    report = engine.default_ruleset().evaluate({k: v for k, v in record.items() if k != "@id"})
    assert report.facts["serum_calcium"] == pytest.approx(8.0156)  # 2.0 mmol/L in mg/dL
    assert report.facts["serum_potassium"] == 3.1  # mEq/L is mmol/L for potassium
    assert {"lab_confirmed_hypocalcemia", "lab_confirmed_hypokalemia"} <= {c.name for c in report.causes}


def test_a_synthea_style_transaction_bundle(engine) -> None:
    # Encounters, Claims, ExplanationOfBenefits and Immunizations are skipped unread;
    # MedicationRequest of hydrochlorothiazide (RxNorm 310798) counts, the stopped one does not;
    # CKD 3B (SNOMED 700379002) is confirmed and active; potassium in blood (6298-4), latest 3.3;
    # magnesium "< 1.0 mg/dL" is a bound (low, value unknown); calcium has a dataAbsentReason.
    [record] = engine.load_facts_file(SYNTHEA)
    assert record == {
        "@id": "Patient/8c1b7d6e-2f3a-4d5e-9b0c-1a2b3c4d5e6f",
        "serum_potassium": {"value": 3.3, "unit": "mmol/L"},
        "kidney_disease": True,
        "diuretics": True,
        "low_magnesium_lab": True,
    }
    report = engine.default_ruleset().evaluate({k: v for k, v in record.items() if k != "@id"})
    assert {"magnesium_deficiency", "lab_confirmed_hypokalemia"} <= {c.name for c in report.causes}
    assert "serum_calcium" in {q.fact for q in report.questions}  # not measured: still asked


def test_the_cli_names_the_patient(monkeypatch) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    result = CliRunner().invoke(cli, ["eval", "--facts", str(SYNTHEA)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Patient/8c1b7d6e-2f3a-4d5e-9b0c-1a2b3c4d5e6f\n=====")
    assert "you answered 3.3 mmol/L" in result.output


def several_patients() -> str:
    """A searchset from a FHIR server: three patients, results in three units, references in three forms."""
    entries = [
        {"fullUrl": "https://ehr.example/fhir/Patient/a", "resource": {"resourceType": "Patient", "id": "a"},
         "search": {"mode": "match"}},
        {"fullUrl": "https://ehr.example/fhir/Patient/b", "resource": {"resourceType": "Patient", "id": "b"},
         "search": {"mode": "match"}},
        {"fullUrl": "https://ehr.example/fhir/Patient/c", "resource": {"resourceType": "Patient", "id": "c"},
         "search": {"mode": "match"}},
        {"resource": {**observation("2601-3", 0.62, "mmol/L"), "subject": {"reference": "Patient/a"}},
         "search": {"mode": "include"}},
        {"resource": {**observation("2823-3", 3.0, "meq/L"), "subject": {"reference": "https://ehr.example/fhir/Patient/b"}}},
        {"resource": {**observation("19123-9", 2.1, "mg/dL"), "subject": {"reference": "Patient/b/_history/2"}}},
        {"resource": {**condition(CKD, verification="provisional"), "subject": {"reference": "Patient/c"}}},
        {"resource": {**request(rxnorm("310798")), "subject": {"reference": "Patient/c"}}},
    ]  # fmt: skip
    return json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries})


def test_several_patients_each_named(engine) -> None:
    assert engine.load_facts(several_patients(), "fhir") == [
        {"@id": "Patient/a", "serum_magnesium": {"value": 0.62, "unit": "mmol/L"}},
        {"@id": "Patient/b", "serum_potassium": {"value": 3.0, "unit": "meq/L"},
         "serum_magnesium": {"value": 2.1, "unit": "mg/dL"}},
        {"@id": "Patient/c", "diuretics": True},  # the provisional CKD does not count
    ]  # fmt: skip


@pytest.mark.parametrize("format_name", ["text", "markdown", "json"])
def test_every_patient_s_report_names_the_patient(monkeypatch, tmp_path, format_name) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    path = tmp_path / "ward.fhir.json"
    path.write_text(several_patients())
    result = CliRunner().invoke(cli, ["eval", "--facts", str(path), "--format", format_name])
    assert result.exit_code == 0, result.output
    if format_name == "json":
        listed = json.loads(result.output)
        assert [item["record"] for item in listed] == ["Patient/a", "Patient/b", "Patient/c"]
        assert listed[0]["report"]["facts"]["serum_magnesium"] == pytest.approx(1.50691)  # 0.62 mmol/L
        assert listed[0]["report"]["facts"]["low_magnesium_lab"] is True
    else:
        positions = [result.output.index(f"Patient/{p}") for p in "abc"]
        assert positions == sorted(positions)
        assert "1.50691 mg/dL" in result.output


def test_a_list_of_resources_as_a_cds_hooks_prefetch_gives() -> None:
    from cramprules_fhir.loader import PatientFacts, patients

    prefetch = [
        {"resourceType": "Patient", "id": "p9"},
        {**observation("6298-4", 2.4, "mmol/L"), "subject": {"reference": "Patient/p9"}},
        {**medication(rxnorm("4603")), "subject": {"reference": "Patient/p9"}},  # furosemide, the ingredient
    ]
    assert patients(prefetch) == [
        PatientFacts("Patient/p9", {"serum_potassium": {"value": 2.4, "unit": "mmol/L"}, "diuretics": True})
    ]


def test_resources_the_rules_do_not_use_are_skipped_even_r4_only_ones(engine) -> None:
    r4_only = [
        {"resourceType": "MedicinalProduct", "id": "x", "name": [{"productName": "Hydrochlorothiazide 25"}]},
        {"resourceType": "EffectEvidenceSynthesis", "id": "y", "status": "active"},
        {"resourceType": "SubstanceSpecification", "id": "z"},
        {"resourceType": "Encounter", "id": "e", "status": "finished", "class": "not even valid here"},
    ]
    assert facts(engine, bundle(*r4_only, observation("2823-3", 3.9, "mmol/L"))) == [
        {"serum_potassium": {"value": 3.9, "unit": "mmol/L"}}
    ]


# ------------------------------------------------------------------ observations


@pytest.mark.parametrize(
    ("code", "value", "unit", "fact", "in_the_facts_unit"),
    [
        ("19123-9", 1.5, "mg/dL", "serum_magnesium", 1.5),
        ("2601-3", 0.7, "mmol/L", "serum_magnesium", 1.70135),
        ("19123-9", 1.4, "mEq/L", "serum_magnesium", 1.70135),
        ("2593-2", 0.6, "mmol/L", "serum_magnesium", 1.4583),  # in blood
        ("2823-3", 3.2, "mmol/L", "serum_potassium", 3.2),
        ("6298-4", 3.2, "meq/L", "serum_potassium", 3.2),  # in blood
        ("39789-3", 3.2, "mmol/L", "serum_potassium", 3.2),  # in venous blood
        ("17861-6", 9.1, "mg/dL", "serum_calcium", 9.1),
        ("17861-6", 91, "mg/L", "serum_calcium", 9.1),
        ("2000-8", 2.2, "mmol/L", "serum_calcium", 8.81716),
        ("1996-8", 4.4, "meq/L", "serum_calcium", 8.81716),  # in blood, in mEq/L
    ],
)
def test_each_lab_in_blood_serum_or_plasma_in_its_unit(
    engine, code, value, unit, fact, in_the_facts_unit
) -> None:
    [record] = facts(engine, bundle(observation(code, value, unit)))
    assert record == {fact: {"value": value, "unit": unit}}
    report = engine.default_ruleset().evaluate(record)
    assert report.facts[fact] == pytest.approx(in_the_facts_unit, abs=1e-4)


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [
        ("<", 1.0, {"low_magnesium_lab": True}),  # "< 1.0" is low
        (">", 1.0, {}),  # "> 1.0" could be anything above: unknown
        (">", 2.0, {"low_magnesium_lab": False}),
        ("<=", 1.7, {}),  # could be exactly 1.7, which is not low
    ],
)
def test_a_comparator_is_a_bound(engine, comparator, value, expected) -> None:
    quantity = {"value": value, "comparator": comparator, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                "code": "mg/dL"}  # fmt: skip
    [record] = facts(engine, bundle({**observation("19123-9", 0, "mg/dL"), "valueQuantity": quantity}))
    assert record == expected
    report = engine.default_ruleset().evaluate(record)
    assert ("magnesium_deficiency" in {c.name for c in report.causes}) is bool(
        expected.get("low_magnesium_lab")
    )


def test_a_bound_in_another_unit_is_converted_first(engine) -> None:
    quantity = {"value": 0.5, "comparator": "<", "system": "http://unitsofmeasure.org", "code": "mmol/L"}
    [record] = facts(engine, bundle({**observation("2601-3", 0, "mmol/L"), "valueQuantity": quantity}))
    assert record == {"low_magnesium_lab": True}  # < 0.5 mmol/L is < 1.22 mg/dL
    quantity = {"value": 2.4, "comparator": "<", "system": "http://unitsofmeasure.org", "code": "meq/L"}
    [record] = facts(engine, bundle({**observation("2823-3", 0, "meq/L"), "valueQuantity": quantity}))
    assert record == {"low_potassium_lab": True, "very_low_potassium_lab": True}


@pytest.mark.parametrize(
    "observation_status", ["preliminary", "registered", "cancelled", "entered-in-error", "unknown"]
)
def test_only_final_amended_or_corrected_results_count(engine, observation_status) -> None:
    assert facts(engine, bundle(observation("2823-3", 2.0, "mmol/L", status=observation_status))) == [{}]
    for usable in ("final", "amended", "corrected"):
        assert facts(engine, bundle(observation("2823-3", 2.0, "mmol/L", status=usable)))[0] != {}


def test_a_data_absent_reason_leaves_the_result_unknown(engine) -> None:
    absent = {**observation("2823-3", 0, "mmol/L"), "dataAbsentReason": {"text": "haemolysed"}}
    del absent["valueQuantity"]
    assert facts(engine, bundle(absent)) == [{}]


def test_other_codes_are_not_labs(engine) -> None:
    assert facts(engine, bundle(observation("2345-7", 300, "mg/dL"))) == [{}]  # glucose
    not_loinc = observation("2823-3", 3.0, "mmol/L")
    not_loinc["code"]["coding"][0]["system"] = "http://acme.example/labs"
    assert facts(engine, bundle(not_loinc)) == [{}]
    ionised = observation("1994-3", 1.0, "mmol/L")  # ionised calcium: another analyte
    assert facts(engine, bundle(ionised)) == [{}]


def test_the_most_recent_valid_result_wins_whatever_the_order(engine) -> None:
    new = observation("19123-9", 1.2, "mg/dL", effectiveDateTime="2026-05-01T09:00:00+02:00")
    old = observation("19123-9", 2.0, "mg/dL", effectiveDateTime="2026-05-01T08:00:00Z")
    issued = observation("19123-9", 1.9, "mg/dL", issued="2025-01-01T00:00:00Z")
    newest_but_preliminary = observation("19123-9", 9.0, "mg/dL", status="preliminary",
                                         effectiveDateTime="2026-06-01")  # fmt: skip
    expected = [{"serum_magnesium": {"value": 2.0, "unit": "mg/dL"}}]
    assert facts(engine, bundle(new, old, issued, newest_but_preliminary)) == expected
    assert facts(engine, bundle(newest_but_preliminary, issued, old, new)) == expected


def test_a_newer_bound_replaces_an_older_value(engine) -> None:
    old = observation("19123-9", 2.0, "mg/dL", effectiveDateTime="2026-01-01")
    new = observation("19123-9", 0, "mg/dL", effectiveDateTime="2026-02-01")
    new["valueQuantity"] = {
        "value": 1.0,
        "comparator": "<",
        "code": "mg/dL",
        "system": "http://unitsofmeasure.org",
    }
    assert facts(engine, bundle(old, new)) == [{"low_magnesium_lab": True}]
    assert facts(engine, bundle(new, old)) == [{"low_magnesium_lab": True}]


# ------------------------------------------------------------------ medications


@pytest.mark.parametrize(
    "concept",
    [
        rxnorm("310798"),  # hydrochlorothiazide 25 MG Oral Tablet: code only, no display
        rxnorm("313988"),  # furosemide 40 MG Oral Tablet
        rxnorm("5487"),  # hydrochlorothiazide, the ingredient
        rxnorm("1808"),  # bumetanide
        {"coding": [{"system": "http://www.whocc.no/atc", "code": "C03AA03"}]},
        {"coding": [{"system": "http://www.whocc.no/atc", "code": "C09BA03"}]},  # lisinopril + diuretic
        {"text": "Furosemide 40 mg tablet"},  # text only: the generic name
        {"text": "Spironolactone 25 mg"},  # potassium-sparing: by name (no published RxNorm list)
    ],
)
@pytest.mark.parametrize("kind", ["MedicationStatement", "MedicationRequest"])
def test_an_active_diuretic(engine, concept, kind) -> None:
    resource = medication(concept) if kind == "MedicationStatement" else request(concept)
    assert facts(engine, bundle(resource)) == [{"diuretics": True}]


@pytest.mark.parametrize(
    "resource",
    [
        medication({"text": "Furosemide 40 mg"}, status="stopped"),
        medication(rxnorm("310798"), status="completed"),
        request(rxnorm("310798"), status="draft"),
        request(rxnorm("310798"), intent="proposal"),
        medication({"text": "Amlodipine 5 mg"}),
        medication({"coding": [{"system": "http://www.whocc.no/atc", "code": "C08CA01"}]}),
        medication(rxnorm("197361")),  # a code not in the lists, with no text
        medication({"text": "Furosemidex"}),  # a whole word, not a prefix
    ],
)
def test_no_diuretic_leaves_the_fact_unknown(engine, resource) -> None:
    assert facts(engine, bundle(resource)) == [{}]


def test_a_medication_by_reference_or_contained(engine) -> None:
    med = {"resourceType": "Medication", "id": "m1", "code": rxnorm("310798")}
    by_reference = bundle(med, medication(medicationReference={"reference": "Medication/m1"}))
    assert facts(engine, by_reference) == [{"diuretics": True}]
    contained = bundle(
        medication(
            medicationReference={"reference": "#c1"},
            contained=[{"resourceType": "Medication", "id": "c1", "code": {"text": "Indapamide"}}],
        )
    )
    assert facts(engine, contained) == [{"diuretics": True}]


# ------------------------------------------------------------------ conditions


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (condition(CKD), [{"kidney_disease": True}]),
        (
            condition({"system": "http://snomed.info/sct", "code": "700379002"}),
            [{"kidney_disease": True}],
        ),  # 3B
        (
            condition({"system": "http://snomed.info/sct", "code": "433144002"}),
            [{"kidney_disease": True}],
        ),  # 3
        (condition({"system": "http://snomed.info/sct", "code": "714152005"}), [{"kidney_disease": True}]),
        (
            condition({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.32"}),
            [{"kidney_disease": True}],
        ),
        (condition({"system": "http://hl7.org/fhir/sid/icd-10", "code": "N183"}), [{"kidney_disease": True}]),
        (condition(CKD, clinical="relapse"), [{"kidney_disease": True}]),
        (condition(CKD, clinical="recurrence"), [{"kidney_disease": True}]),
        (condition(CKD, clinical="resolved"), [{}]),
        (condition(CKD, clinical="inactive"), [{}]),
        (condition(CKD, clinical="remission"), [{}]),
        (condition(CKD, clinical=None), [{}]),
        (condition(CKD, verification="provisional"), [{}]),
        (condition(CKD, verification="differential"), [{}]),
        (condition(CKD, verification="unconfirmed"), [{}]),
        (condition(CKD, verification="refuted"), [{}]),
        (condition(CKD, verification="entered-in-error"), [{}]),
        (condition(CKD, verification=None), [{}]),  # only confirmed diagnoses count
        (condition({"system": "http://snomed.info/sct", "code": "44054006"}), [{}]),  # diabetes
        (condition({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N17.9"}), [{}]),  # acute
        (condition({"code": "709044004"}), [{}]),  # a code without its system matches nothing
    ],
)
def test_only_confirmed_active_kidney_disease_counts(engine, resource, expected) -> None:
    assert facts(engine, bundle(resource)) == expected


def test_a_clinic_extends_the_code_lists() -> None:
    from cramprules_fhir import codes
    from cramprules_fhir.loader import patients

    esrd = condition({"system": "http://snomed.info/sct", "code": "46177005"})
    assert patients(json.loads(bundle(esrd)))[0].facts == {}
    extended = codes.default().extended(kidney_disease_snomed={"46177005"})
    assert patients(json.loads(bundle(esrd)), codes=extended)[0].facts == {"kidney_disease": True}


def test_every_code_list_names_its_sources() -> None:
    from cramprules_fhir import codes

    for name in ("labs_loinc.json", "diuretics_rxnorm.json", "ckd_snomed.json", "ckd_icd10.json"):
        about = codes.provenance(name)
        assert about["sources"], name
        assert about["description"], name
    for name in ("labs_loinc.json", "diuretics_rxnorm.json", "ckd_snomed.json"):
        data = json.loads((Path(codes.__file__).parent / "data" / name).read_text())
        known = set(data["sources"])
        assert all(set(c["sources"]) <= known and c["sources"] for c in data["codes"]), name


# ------------------------------------------------------------------ patients and subjects


def test_a_bundle_without_a_patient_is_one_record(engine) -> None:
    # Observation.subject is optional in R4.
    assert engine.load_facts(bundle(observation("2823-3", 3.0, "mmol/L"), patient=None), "fhir") == [
        {"serum_potassium": {"value": 3.0, "unit": "mmol/L"}}
    ]
    assert engine.load_facts(bundle(patient=None), "fhir") == [{}]


def test_resources_without_a_subject_join_the_only_patient(engine) -> None:
    text = bundle(observation("2823-3", 3.0, "mmol/L", subject=None), condition(CKD))
    assert engine.load_facts(text, "fhir") == [
        {"@id": "Patient/p1", "kidney_disease": True, "serum_potassium": {"value": 3.0, "unit": "mmol/L"}}
    ]


# ------------------------------------------------------------------ bad FHIR: one line, naming entry and field


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "the FHIR input is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ('{"resourceType": "Patient", "id": "p"}', 'the FHIR input must be a Bundle ({"resourceType": "Bundle", ...}), but it is a Patient resource'),
        ("[1, 2]", "FHIR resource 0 is not a resource: it has no resourceType"),
        ('{"resourceType": "Bundle", "entry": {}}', "FHIR Bundle, field entry: expected a list of entries, got an object"),
        ('{"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}', "FHIR Bundle entry 0, field resource: expected a resource with a resourceType"),
        (bundle({"resourceType": "Observation", "id": "k1", "status": "final"}), "FHIR entry 1 (Observation/k1), field code: missing; an R4 Observation has a code"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "status": "finished"}), "FHIR entry 1 (Observation/k1), field status: 'finished' is not an R4 code; use one of amended, cancelled, corrected, entered-in-error, final, preliminary, registered, unknown"),
        (bundle(observation("2823-3", "3.1", "mmol/L", id="k1")), "FHIR entry 1 (Observation/k1), field valueQuantity.value: expected a number, got the string \"3.1\""),
        (bundle(observation("2823-3", 3.1, "mmol/L", id="k1", valueString="3.1")), "FHIR entry 1 (Observation/k1), field valueString: a serum_potassium result must be a valueQuantity with a number and a UCUM unit"),
        (bundle({**observation("2823-3", 0, "mmol/L", id="k1"), "valueQuantity": None, "valueString": "3.1"}), "FHIR entry 1 (Observation/k1), field valueString: a serum_potassium result must be a valueQuantity"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "valueQuantity": {"value": 3.1, "comparator": "~", "code": "mmol/L"}}), "FHIR entry 1 (Observation/k1), field valueQuantity.comparator: '~' is not one of <, <=, >=, >"),
        (bundle(observation("2823-3", 3.1, "mmol/L", id="k1", dataAbsentReason={"text": "error"})), "FHIR entry 1 (Observation/k1), field dataAbsentReason: given with valueQuantity; R4 allows one or the other"),
        (bundle(observation("17861-6", 9.1, "mg%", id="k1")), "FHIR entry 1 (Observation/k1), field valueQuantity.code: 'mg%' is not a UCUM unit of concentration (mg/dL, mmol/L, meq/L, ...)"),
        (bundle(observation("2823-3", 3.1, "kg", id="k1")), "FHIR entry 1 (Observation/k1), field valueQuantity.code: 'kg' is not a UCUM unit of concentration"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "valueQuantity": {"value": 3.1}}), "FHIR entry 1 (Observation/k1), field valueQuantity.code: missing; a lab result needs its UCUM unit, such as mg/dL"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "valueQuantity": {"value": 3.1, "system": "http://snomed.info/sct", "code": "258718000"}}), "FHIR entry 1 (Observation/k1), field valueQuantity.system: 'http://snomed.info/sct' is not UCUM"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "effectiveDateTime": "yesterday"}), "FHIR entry 1 (Observation/k1), field effectiveDateTime: expected an R4 dateTime such as 2024-05-01T08:30:00Z, got the string \"yesterday\""),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "code": {"coding": {"code": "2823-3"}}}), "FHIR entry 1 (Observation/k1), field code.coding: expected a list of codings, got an object"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "code": {"coding": [{"system": "http://loinc.org", "code": 2823}]}}), "FHIR entry 1 (Observation/k1), field code.coding[0].code: expected a non-empty string, got the number 2823"),
        (bundle({"resourceType": "Observaton", "id": "k1"}), "FHIR entry 1 (Observaton/k1), field resourceType: 'Observaton' is not an R4 resource type; did you mean 'Observation'?"),
        (bundle(condition(CKD, clinical=None, id="c1", clinicalStatus={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "current"}]})), "FHIR entry 1 (Condition/c1), field clinicalStatus: 'current' is not an R4 code; use one of active, inactive, recurrence, relapse, remission, resolved"),
        (bundle(condition(CKD, verification=None, id="c1", verificationStatus={"text": "confirmed"})), "FHIR entry 1 (Condition/c1), field verificationStatus: expected a coding of http://terminology.hl7.org/CodeSystem/condition-ver-status"),
        (bundle({**request(rxnorm("310798")), "id": "r1", "intent": "prescription"}), "FHIR entry 1 (MedicationRequest/r1), field intent: 'prescription' is not an R4 code; use one of filler-order, instance-order, option, order, original-order, plan, proposal, reflex-order"),
        (bundle({"resourceType": "MedicationRequest", "id": "r1", "status": "active", "intent": "order"}), "FHIR entry 1 (MedicationRequest/r1), field medicationCodeableConcept: missing, and no medicationReference either"),
        (bundle(medication(id="s1", medicationReference={"reference": "urn:uuid:missing"})), "FHIR entry 1 (MedicationStatement/s1), field medicationReference.reference: 'urn:uuid:missing' is not in the Bundle"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "subject": {"reference": "urn:uuid:nobody"}}), "FHIR entry 1 (Observation/k1), field subject.reference: 'urn:uuid:nobody' is not in the Bundle"),
        (bundle({"resourceType": "Medication", "id": "m1"}, {**observation("2823-3", 3.1, "mmol/L", id="k1"), "subject": {"reference": "Medication/m1"}}), "FHIR entry 2 (Observation/k1), field subject.reference: 'Medication/m1' is a Medication, not a Patient"),
        (bundle({**observation("2823-3", 3.1, "mmol/L", id="k1"), "subject": {"reference": "Group/ward-3"}}), "FHIR entry 1 (Observation/k1), field subject.reference: 'Group/ward-3' is not a Patient (Patient/<id>)"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
)  # fmt: skip
def test_bad_fhir_is_one_line_naming_entry_and_field(engine, text, message) -> None:
    with pytest.raises(FactError) as caught:
        engine.load_facts(text, "fhir")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not any(
        word in str(caught.value) for word in ("pydantic", "ValidationError", "Traceback", "dict", "NoneType")
    )


def test_the_cli_error_names_the_file(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    path = tmp_path / "lab.fhir.json"
    path.write_text(bundle(observation("2823-3", "3.1", "mmol/L", id="k1")))
    result = CliRunner().invoke(cli, ["eval", "--facts", str(path)])
    assert result.exit_code == 2
    assert result.output == (
        f"error: {path}: FHIR entry 1 (Observation/k1), field valueQuantity.value: "
        'expected a number, got the string "3.1"\n'
    )


def test_a_bad_value_names_the_patient(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    path = tmp_path / "ward.fhir.json"
    path.write_text(
        bundle(observation("2823-3", 3.1, "g/L"))
    )  # 3.1 g/L of potassium is 79 mmol/L: out of range
    result = CliRunner().invoke(cli, ["eval", "--facts", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: Patient/p1: serum_potassium = ")


# ------------------------------------------------------------------ the cards


@pytest.fixture
def report(engine) -> cramprules.Report:
    [record] = engine.load_facts_file(BUNDLE)
    del record["@id"]
    return engine.default_ruleset().evaluate({**record, "prolonged": True})


def test_cards_follow_the_cds_hooks_response_shape(engine, report) -> None:
    response = json.loads(engine.render(report, "cds-hooks"))
    jsonschema.validate(response, CDS_HOOKS_RESPONSE)
    assert len(response["cards"]) >= 5


def test_urgent_referrals_come_first_and_are_critical(engine, report) -> None:
    cards = json.loads(engine.render(report, "cds-hooks"))["cards"]
    assert cards[0]["indicator"] == "critical"
    assert cards[0]["summary"] == "See a doctor urgently"
    assert [c["indicator"] for c in cards].count("critical") == len([r for r in report.referrals if r.urgent])
    summaries = [c["summary"] for c in cards]
    assert "Avoid: Magnesium citrate" in summaries  # kidney disease
    assert next(c for c in cards if c["summary"] == "Avoid: Magnesium citrate")["indicator"] == "warning"
    assert "Possible cause: Low magnesium, confirmed by a blood test" in summaries
    assert summaries[-1].endswith("could change this advice")


def test_cards_carry_their_source(engine, report) -> None:
    cards = json.loads(engine.render(report, "cds-hooks"))["cards"]
    lab = next(c for c in cards if c["summary"] == "Possible cause: Low magnesium, confirmed by a blood test")
    assert lab["source"] == {
        "label": "MedlinePlus Medical Encyclopedia: Magnesium blood test (normal range 1.7 to 2.2 mg/dL)",
        "url": "https://medlineplus.gov/ency/article/003487.htm",
    }
    assert "[MedlinePlus Medical Encyclopedia" in lab["detail"]
    assert "`labs_confirm_low_magnesium`" in lab["detail"]


def test_cards_are_deterministic_and_their_ids_unique(engine, report) -> None:
    first = engine.render(report, "cds-hooks")
    assert first == engine.render(report, "cds-hooks")
    ids = [c["uuid"] for c in json.loads(first)["cards"]]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(i).version == 5 for i in ids)
    other = engine.default_ruleset().evaluate({"prolonged": True})
    assert json.loads(engine.render(other, "cds-hooks"))["cards"][0]["uuid"] != ids[0]


def test_the_audience_chooses_detail_or_because(engine) -> None:
    ruleset = engine.parse_ruleset(
        'rule r priority 100: if a then refer doctor urgent because "For you." detail "For the doctor."'
    )
    report = ruleset.evaluate({"a": True})
    assert "For the doctor." in json.loads(engine.render(report, "cds-hooks"))["cards"][0]["detail"]
    patient = json.loads(engine.render(report, "cds-hooks", audience="patient"))["cards"][0]
    assert patient["detail"].startswith("For you.")


def test_card_text_is_escaped_and_summaries_are_short(engine) -> None:
    long_label = "x" * 200
    ruleset = engine.parse_ruleset(
        f'option rest "{long_label}"\n'
        'source evil "Evil" url "javascript:alert(1)"\n'
        'rule r: if a then recommend rest because "<script>alert(1)</script> *now*" cite evil'
    )
    [card] = json.loads(engine.render(ruleset.evaluate({"a": True}), "cds-hooks"))["cards"]
    assert len(card["summary"]) == 139
    assert card["summary"].endswith("…")
    assert "<script>" not in card["detail"]
    assert "\\<script\\>" in card["detail"]
    assert "\\*now\\*" in card["detail"]
    assert card["source"] == {"label": "Evil"}  # no javascript: url
    assert "](" not in card["detail"]


def test_an_empty_report_has_no_cards(engine) -> None:
    ruleset = engine.parse_ruleset("fact a: bool\nif a then recommend rest")
    assert json.loads(engine.render(ruleset.evaluate({"a": False}), "cds-hooks")) == {"cards": []}


# ------------------------------------------------------------------ the command line


def test_cli_reads_a_bundle_from_stdin_and_renders_cards(monkeypatch) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "--facts",
            "-",
            "--facts-format",
            "fhir",
            "--format",
            "cds-hooks",
            "--audience",
            "clinician",
        ],
        input=BUNDLE.read_text(),
    )
    assert result.exit_code == 0, result.output
    response = json.loads(result.output)
    jsonschema.validate(response, CDS_HOOKS_RESPONSE)
    assert any(c["summary"].startswith("Avoid: Magnesium") for c in response["cards"])


def test_cli_reads_a_fhir_json_file_by_its_suffix(monkeypatch) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    result = CliRunner().invoke(cli, ["eval", "--facts", str(BUNDLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.output)
    assert item["record"] == "Patient/p1"
    assert item["report"]["facts"]["kidney_disease"] is True


def test_cli_invalid_bundle_is_a_usage_error(monkeypatch, tmp_path) -> None:
    from cramprules.cli import main

    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    bad = tmp_path / "bad.fhir.json"
    bad.write_text('{"resourceType": "Patient"}')
    assert main(["eval", "--facts", str(bad)]) == 2
