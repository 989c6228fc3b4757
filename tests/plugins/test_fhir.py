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


def condition(coding: dict, clinical: str | None = "active", **more) -> dict:
    out = {"resourceType": "Condition", "code": {"coding": [coding]}, **more}
    if clinical:
        out["clinicalStatus"] = {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical}
            ]
        }
    return out


CKD = {"system": "http://snomed.info/sct", "code": "709044004", "display": "Chronic kidney disease"}


# ------------------------------------------------------------------ the loader


def test_the_example_bundle(engine) -> None:
    assert engine.load_facts_file(BUNDLE) == [
        {
            "serum_magnesium": 1.4,
            "serum_potassium": 3.1,  # the newest final result; the cancelled one is ignored
            "serum_calcium": 8.0156,  # 2.0 mmol/L
            "diuretics": True,
            "kidney_disease": True,
        }
    ]


def test_plain_json_stays_with_the_json_loader(engine, tmp_path) -> None:
    assert engine.loader_for(BUNDLE) == "fhir.json"
    plain = tmp_path / "facts.json"
    plain.write_text('{"pain": 3}')
    assert engine.loader_for(plain) == "json"
    assert engine.load_facts_file(plain) == [{"pain": 3}]


def test_the_loader_by_name(engine) -> None:
    assert engine.load_facts(BUNDLE.read_text(), "fhir")[0]["diuretics"] is True


@pytest.mark.parametrize(
    ("code", "value", "unit", "fact", "expected"),
    [
        ("19123-9", 1.5, "mg/dL", "serum_magnesium", 1.5),
        ("2601-3", 0.7, "mmol/L", "serum_magnesium", 1.7013),
        ("19123-9", 1.4, "mEq/L", "serum_magnesium", 1.7013),
        ("2823-3", 3.2, "mmol/L", "serum_potassium", 3.2),
        ("2823-3", 3.2, "meq/L", "serum_potassium", 3.2),
        ("17861-6", 9.1, "mg/dL", "serum_calcium", 9.1),
        ("17861-6", 91, "mg/L", "serum_calcium", 9.1),
        ("17861-6", 2.2, "mmol/L", "serum_calcium", 8.8172),
    ],
)
def test_lab_units_are_converted(engine, code, value, unit, fact, expected) -> None:
    [record] = engine.load_facts(bundle(observation(code, value, unit)), "fhir")
    assert record == {fact: pytest.approx(expected, abs=1e-4)}


def test_an_unknown_unit_is_an_error_naming_the_observation(engine) -> None:
    text = bundle(observation("2823-3", 3.2, "mg/dL", id="k9"))
    with pytest.raises(FactError, match="Observation/k9 gives serum_potassium in 'mg/dL'"):
        engine.load_facts(text, "fhir")


def test_observations_that_do_not_count(engine) -> None:
    text = bundle(
        observation("2823-3", 2.0, "mmol/L", status="preliminary"),
        observation("2823-3", 2.0, "mmol/L", status="entered-in-error"),
        observation("2345-7", 300, "mg/dL"),  # glucose: not a lab this plugin reads
        {**observation("2823-3", 2.0, "mmol/L"), "valueQuantity": None, "valueString": "haemolysed"},
    )
    assert engine.load_facts(text, "fhir") == [{}]


def test_the_most_recent_result_wins_whatever_the_order(engine) -> None:
    new = observation("19123-9", 1.2, "mg/dL", effectiveDateTime="2026-05-01T09:00:00+02:00")
    old = observation("19123-9", 2.0, "mg/dL", effectiveDateTime="2026-05-01T08:00:00Z")
    issued = observation("19123-9", 1.9, "mg/dL", issued="2025-01-01T00:00:00Z")
    assert engine.load_facts(bundle(new, old, issued), "fhir") == [{"serum_magnesium": 2.0}]
    assert engine.load_facts(bundle(issued, old, new), "fhir") == [{"serum_magnesium": 2.0}]


@pytest.mark.parametrize(
    "concept",
    [
        {"text": "Furosemide 40 mg tablet"},
        {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "310429",
                    "display": "furosemide 20 MG Oral Tablet",
                }
            ]
        },
        {"coding": [{"system": "http://www.whocc.no/atc", "code": "C03AA03"}]},
        {"coding": [{"system": "http://www.whocc.no/atc", "code": "C09BA03"}]},  # lisinopril + diuretic
        {"text": "Lisinopril / Hydrochlorothiazide 20/12.5"},
        {"text": "Aldactone 25"},
    ],
)
def test_an_active_diuretic(engine, concept) -> None:
    assert engine.load_facts(bundle(medication(concept)), "fhir") == [{"diuretics": True}]


@pytest.mark.parametrize(
    "statement",
    [
        medication({"text": "Furosemide 40 mg"}, status="stopped"),
        medication({"text": "Amlodipine 5 mg"}),
        medication({"coding": [{"system": "http://www.whocc.no/atc", "code": "C08CA01"}]}),
        medication({"text": "Furosemidex"}),  # a whole word, not a prefix
    ],
)
def test_no_diuretic_leaves_the_fact_unknown(engine, statement) -> None:
    assert engine.load_facts(bundle(statement), "fhir") == [{}]


def test_a_medication_by_reference_or_contained(engine) -> None:
    med = {"resourceType": "Medication", "id": "m1", "code": {"text": "Bumetanide 1 mg"}}
    by_reference = bundle(med, medication(medicationReference={"reference": "Medication/m1"}))
    assert engine.load_facts(by_reference, "fhir") == [{"diuretics": True}]
    contained = bundle(
        medication(
            medicationReference={"reference": "#c1"},
            contained=[{"resourceType": "Medication", "id": "c1", "code": {"text": "Indapamide"}}],
        )
    )
    assert engine.load_facts(contained, "fhir") == [{"diuretics": True}]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (condition(CKD), [{"kidney_disease": True}]),
        (
            condition({"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.4"}),
            [{"kidney_disease": True}],
        ),
        (condition({"system": "http://hl7.org/fhir/sid/icd-10", "code": "N183"}), [{"kidney_disease": True}]),
        (condition({"system": "http://snomed.info/sct", "code": "46177005"}), [{"kidney_disease": True}]),
        (condition(CKD, clinical="resolved"), [{}]),
        (condition(CKD, clinical="relapse"), [{"kidney_disease": True}]),
        (condition(CKD, clinical=None), [{"kidney_disease": True}]),
        (condition(CKD, clinical=None, abatementDateTime="2020-01-01"), [{}]),
        (
            condition(
                CKD,
                verificationStatus={
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                            "code": "refuted",
                        }
                    ]
                },
            ),
            [{}],
        ),
        (condition({"system": "http://snomed.info/sct", "code": "44054006"}), [{}]),  # diabetes
    ],
)
def test_chronic_kidney_disease(engine, resource, expected) -> None:
    assert engine.load_facts(bundle(resource), "fhir") == expected


def test_one_record_per_patient_in_order(engine) -> None:
    text = json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": "urn:uuid:a", "resource": {"resourceType": "Patient", "id": "a"}},
                {"resource": {"resourceType": "Patient", "id": "b"}},
                {"resource": {**observation("2823-3", 3.0, "mmol/L"), "subject": {"reference": "Patient/b"}}},
                {
                    "resource": {
                        **observation("2823-3", 4.0, "mmol/L"),
                        "subject": {"reference": "urn:uuid:a"},
                    }
                },
                {
                    "resource": {
                        **condition(CKD),
                        "subject": {"reference": "https://ehr.example/fhir/Patient/b"},
                    }
                },
            ],
        }
    )
    assert engine.load_facts(text, "fhir") == [
        {"serum_potassium": 4.0},
        {"serum_potassium": 3.0, "kidney_disease": True},
    ]


def test_a_bundle_without_a_patient_is_one_record(engine) -> None:
    # Observation.subject is optional in R4 (Condition.subject is not).
    assert engine.load_facts(bundle(observation("2823-3", 3.0, "mmol/L"), patient=None), "fhir") == [
        {"serum_potassium": 3.0}
    ]
    assert engine.load_facts(bundle(patient=None), "fhir") == [{}]


def test_resources_without_a_subject_join_the_only_patient(engine) -> None:
    text = bundle(observation("2823-3", 3.0, "mmol/L", subject=None), condition(CKD))
    assert engine.load_facts(text, "fhir") == [{"kidney_disease": True, "serum_potassium": 3.0}]


def test_fhir_validation_catches_what_r4_requires(engine) -> None:
    with pytest.raises(FactError, match=r"resource\.subject: Field required"):
        engine.load_facts(bundle(condition(CKD), patient=None), "fhir")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "the FHIR input is not valid JSON: .* at line 1, column 2"),
        ('{"resourceType": "Patient", "id": "p"}', "must be a Bundle .* but it is a Patient resource"),
        ("[1, 2]", "must be a Bundle .* but it is a JSON list"),
        (
            bundle({"resourceType": "Observation", "status": "final"}),
            r"not valid FHIR R4: entry\.1\.resource\.code: Field required",
        ),
        (bundle({"resourceType": "Nonsense"}), "unknown type"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
)
def test_invalid_fhir_is_a_clear_fact_error(engine, text, message) -> None:
    with pytest.raises(FactError, match=message):
        engine.load_facts(text, "fhir")


# ------------------------------------------------------------------ the cards


@pytest.fixture
def report(engine) -> cramprules.Report:
    [facts] = engine.load_facts_file(BUNDLE)
    return engine.default_ruleset().evaluate({**facts, "prolonged": True})


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
    assert json.loads(result.output)["facts"]["kidney_disease"] is True


def test_cli_invalid_bundle_is_a_usage_error(monkeypatch, tmp_path) -> None:
    from cramprules.cli import main

    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    bad = tmp_path / "bad.fhir.json"
    bad.write_text('{"resourceType": "Patient"}')
    assert main(["eval", "--facts", str(bad)]) == 2
