"""CDS Hooks 2.0 against the real server: discovery, hooks, prefetch and fetching, feedback."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest

FHIR_TOKEN = "fhir-access-token-123"
PATIENT_VIEW = "/cds-services/leg-cramps-patient-view"
ORDER_SELECT = "/cds-services/leg-cramps-order-select"


def cards_of(response: httpx.Response, schema: dict[str, Any]) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    document = response.json()
    jsonschema.validate(document, schema)
    cards: list[dict[str, Any]] = document["cards"]
    return cards


def by_summary(cards: list[dict[str, Any]], text: str) -> dict[str, Any]:
    found = [c for c in cards if text in c["summary"]]
    assert len(found) == 1, [c["summary"] for c in cards]
    return found[0]


# ---------------------------------------------------------------- discovery


def test_discovery_lists_patient_view_and_order_select_with_prefetch(anonymous: httpx.Client) -> None:
    services = {s["id"]: s for s in anonymous.get("/cds-services").json()["services"]}
    assert set(services) == {"leg-cramps-patient-view", "leg-cramps-order-select"}
    view = services["leg-cramps-patient-view"]
    assert view["hook"] == "patient-view"
    assert services["leg-cramps-order-select"]["hook"] == "order-select"
    assert {"title", "description", "prefetch"} <= set(view)
    prefetch = view["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["conditions"].startswith("Condition?patient={{context.patientId}}")
    assert prefetch["medicationRequests"].startswith("MedicationRequest?patient=")
    assert prefetch["medicationStatements"].startswith("MedicationStatement?patient=")
    # The labs the ruleset reads, by LOINC: magnesium (two codes), potassium, calcium.
    for loinc in ("19123-9", "2601-3", "2823-3", "17861-6"):
        assert f"http://loinc.org|{loinc}" in prefetch["observations"]


def test_an_unknown_service_is_a_problem(client: httpx.Client, hook_body: Any) -> None:
    response = client.post("/cds-services/nothing-here", json=hook_body())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET /cds-services" in response.json()["detail"]


# ---------------------------------------------------------------- patient-view


def test_patient_view_with_prefetch_gives_valid_cited_cards(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any]
) -> None:
    cards = cards_of(client.post(PATIENT_VIEW, json=hook_body()), card_schema)
    potassium = by_summary(cards, "Low potassium, confirmed by a blood test")
    assert potassium["indicator"] == "info"
    # Clinician detail in words, with the value, its unit and the date it was measured.
    assert "serum potassium 3.1 mmol/L (measured 2026-11-02)" in potassium["detail"]
    assert "below(" not in potassium["detail"]
    assert potassium["source"]["topic"]["code"] == "labs_confirm_low_potassium"
    assert potassium["links"] == [
        {
            "label": potassium["source"]["label"],
            "url": "https://www.ncbi.nlm.nih.gov/books/NBK482465/",
            "type": "absolute",
        }
    ]
    diuretics = by_summary(cards, "Low potassium or calcium (lost in urine)")
    assert "diuretics: yes" in diuretics["detail"]


def test_advice_to_test_suggests_a_service_request_per_lab(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any]
) -> None:
    cards = cards_of(client.post(PATIENT_VIEW, json=hook_body()), card_schema)
    card = by_summary(cards, "Blood test for potassium and calcium")
    assert card["selectionBehavior"] == "any"
    (suggestion,) = card["suggestions"]
    assert suggestion["isRecommended"] is True
    orders = [action["resource"] for action in suggestion["actions"]]
    assert [a["type"] for a in suggestion["actions"]] == ["create", "create"]
    assert {o["resourceType"] for o in orders} == {"ServiceRequest"}
    assert [o["code"]["coding"][0]["code"] for o in orders] == ["2823-3", "17861-6"]
    assert all(o["subject"] == {"reference": "Patient/p1"} and o["status"] == "draft" for o in orders)


def test_cautions_offer_override_reasons_and_only_urgent_referrals_are_critical(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any], record: dict[str, Any]
) -> None:
    cards = cards_of(client.post(PATIENT_VIEW, json=hook_body()), card_schema)
    referral = by_summary(cards, "See a doctor")
    assert referral["indicator"] == "warning"
    assert {r["code"] for r in referral["overrideReasons"]} >= {"already-addressed", "patient-declined"}
    assert all(c["indicator"] != "critical" for c in cards)
    assert all("overrideReasons" not in c for c in cards if c["indicator"] == "info")
    # Potassium under 2.5 mmol/L is an urgent referral: the one critical card, first.
    record["observations"]["entry"][0]["resource"]["valueQuantity"]["value"] = 2.2
    urgent = cards_of(client.post(PATIENT_VIEW, json=hook_body(prefetch=record)), card_schema)
    assert urgent[0]["indicator"] == "critical"
    assert [c["indicator"] for c in urgent].count("critical") == 1
    assert urgent[0]["overrideReasons"]


def test_cards_are_the_same_for_the_same_record(client: httpx.Client, hook_body: Any) -> None:
    first = client.post(PATIENT_VIEW, json=hook_body()).json()
    second = client.post(PATIENT_VIEW, json=hook_body()).json()
    assert first == second
    uuids = [c["uuid"] for c in first["cards"]]
    assert len(set(uuids)) == len(uuids)


def test_an_empty_record_leaves_questions_not_guesses(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any]
) -> None:
    empty = {"patient": {"resourceType": "Patient", "id": "p1"}, "conditions": None}
    empty.update(
        {
            k: {"resourceType": "Bundle", "type": "searchset"}
            for k in ("conditions", "medicationRequests", "medicationStatements", "observations")
        }
    )
    cards = cards_of(client.post(PATIENT_VIEW, json=hook_body(prefetch=empty)), card_schema)
    # Relief for a cramp is for everyone (leg_cramps 2.0); nothing else is guessed.
    summaries = [c["summary"] for c in cards]
    assert all(s.startswith("Relief now: ") for s in summaries[:-1]), summaries
    assert "unanswered questions could change this advice" in summaries[-1]


def test_resources_of_another_patient_are_ignored(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any], record: dict[str, Any]
) -> None:
    for entry in record["observations"]["entry"] + record["medicationStatements"]["entry"]:
        entry["resource"]["subject"] = {"reference": "Patient/someone-else"}
    cards = cards_of(client.post(PATIENT_VIEW, json=hook_body(prefetch=record)), card_schema)
    assert not any("potassium" in c["summary"].lower() for c in cards)


def test_the_decision_log_has_one_line_per_call_without_patient_data(
    client: httpx.Client, hook_body: Any, decisions: Any
) -> None:
    body = hook_body()
    assert client.post(PATIENT_VIEW, json=body).status_code == 200
    line = next(d for d in decisions() if d.get("hookInstance") == body["hookInstance"])
    assert line["event"] == "decision"
    assert line["hook"] == "patient-view"
    assert line["ruleset"]["name"] == "leg_cramps"
    assert len(line["ruleset"]["sha256"]) == 64
    assert line["engine"]["version"]
    assert "lab_confirmed_hypokalemia" in line["outcome"]["causes"]
    assert line["latency_ms"] > 0
    assert "facts" not in line
    assert "patient" not in line
    assert "p1" not in str(line)


# ---------------------------------------------------------------- order-select


def draft(text: str, ident: str = "draft-1") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": text},
    }


def order_body(hook_body: Any, prefetch: dict[str, Any], *orders: dict[str, Any]) -> dict[str, Any]:
    return hook_body(
        "order-select",
        prefetch=prefetch,
        selections=[f"MedicationRequest/{o['id']}" for o in orders],
        draftOrders={
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": o} for o in orders],
        },
    )


def test_order_select_of_a_diuretic_advises_on_potassium_and_calcium(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any], record: dict[str, Any]
) -> None:
    record["medicationStatements"] = {"resourceType": "Bundle", "type": "searchset"}
    record["observations"] = {"resourceType": "Bundle", "type": "searchset"}
    body = order_body(hook_body, record, draft("hydrochlorothiazide 25 MG Oral Tablet"))
    cards = cards_of(client.post(ORDER_SELECT, json=body), card_schema)
    summaries = [c["summary"] for c in cards]
    assert "Possible cause: Low potassium or calcium (lost in urine)" in summaries
    assert any(c.get("suggestions") for c in cards)
    assert not any("unanswered question" in s for s in summaries)


def test_order_select_of_an_unrelated_order_gives_no_cards(
    client: httpx.Client, hook_body: Any, record: dict[str, Any]
) -> None:
    body = order_body(hook_body, record, draft("amoxicillin 500 MG Oral Capsule"))
    response = client.post(ORDER_SELECT, json=body)
    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_order_select_needs_draft_orders(
    client: httpx.Client, hook_body: Any, record: dict[str, Any]
) -> None:
    response = client.post(ORDER_SELECT, json=hook_body("order-select", prefetch=record, selections=[]))
    assert response.status_code == 400
    assert "draftOrders" in response.json()["detail"]


def test_a_request_for_another_hook_is_refused(client: httpx.Client, hook_body: Any) -> None:
    response = client.post(ORDER_SELECT, json=hook_body("patient-view"))
    assert response.status_code == 400
    assert "order-select" in response.json()["detail"]


# ---------------------------------------------------------------- prefetch missing


def test_what_prefetch_lacks_is_fetched_from_the_fhir_server_with_its_token(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any], fhir_server: dict[str, Any]
) -> None:
    body = hook_body(prefetch=None)
    body["fhirServer"] = fhir_server["url"]
    body["fhirAuthorization"] = {
        "access_token": FHIR_TOKEN,
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "patient/*.read",
        "subject": "cds-service",
    }
    before = len(fhir_server["requests"])
    cards = cards_of(client.post(PATIENT_VIEW, json=body), card_schema)
    asked = fhir_server["requests"][before:]
    assert {path for path, _, _ in asked} == {
        "/fhir/Patient/p1",
        "/fhir/Condition",
        "/fhir/MedicationRequest",
        "/fhir/MedicationStatement",
        "/fhir/Observation",
    }
    assert all(auth == f"Bearer {FHIR_TOKEN}" for _, _, auth in asked)
    observation_query = next(q for p, q, _ in asked if p == "/fhir/Observation")
    assert "patient=p1" in observation_query
    assert "2823-3" in observation_query
    # The same record as when it is prefetched, so the same cards.
    assert cards == client.post(PATIENT_VIEW, json=hook_body()).json()["cards"]


def test_only_the_missing_keys_are_fetched(
    client: httpx.Client, hook_body: Any, fhir_server: dict[str, Any], record: dict[str, Any]
) -> None:
    record["observations"] = None
    body = hook_body(prefetch=record)
    body["fhirServer"] = fhir_server["url"]
    body["fhirAuthorization"] = {"access_token": FHIR_TOKEN, "token_type": "Bearer"}
    before = len(fhir_server["requests"])
    assert client.post(PATIENT_VIEW, json=body).status_code == 200
    assert [path for path, _, _ in fhir_server["requests"][before:]] == ["/fhir/Observation"]


def test_missing_prefetch_without_a_fhir_server_is_412(client: httpx.Client, hook_body: Any) -> None:
    response = client.post(PATIENT_VIEW, json=hook_body(prefetch=None))
    assert response.status_code == 412
    assert "fhirServer" in response.json()["detail"]


def test_a_fhir_server_refusing_the_token_is_412(
    client: httpx.Client, hook_body: Any, fhir_server: dict[str, Any]
) -> None:
    body = hook_body(prefetch=None)
    body["fhirServer"] = fhir_server["url"]
    body["fhirAuthorization"] = {"access_token": "wrong", "token_type": "Bearer"}
    response = client.post(PATIENT_VIEW, json=body)
    assert response.status_code == 412
    assert "401" in response.json()["detail"]


def test_a_patient_id_that_is_not_a_fhir_id_is_refused(client: httpx.Client, hook_body: Any) -> None:
    response = client.post(PATIENT_VIEW, json=hook_body(patientId="../Observation?x=1"))
    assert response.status_code == 400


# ---------------------------------------------------------------- feedback


def test_feedback_is_accepted_and_logged(client: httpx.Client, hook_body: Any, decisions: Any) -> None:
    cards = client.post(PATIENT_VIEW, json=hook_body()).json()["cards"]
    suggested = next(c for c in cards if c.get("suggestions"))
    caution = next(c for c in cards if c.get("overrideReasons"))
    feedback = {
        "feedback": [
            {
                "card": suggested["uuid"],
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": suggested["suggestions"][0]["uuid"]}],
                "outcomeTimestamp": "2026-11-30T10:00:00Z",
            },
            {
                "card": caution["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": caution["overrideReasons"][0], "userComment": "seen last week"},
                "outcomeTimestamp": "2026-11-30T10:00:01Z",
            },
        ]
    }
    response = client.post(f"{PATIENT_VIEW}/feedback", json=feedback)
    assert response.status_code == 200
    logged = [
        d
        for d in decisions()
        if d["event"] == "feedback" and d["card"] in (suggested["uuid"], caution["uuid"])
    ]
    assert [d["outcome"] for d in logged] == ["accepted", "overridden"]
    assert logged[0]["acceptedSuggestions"] == [suggested["suggestions"][0]["uuid"]]
    assert logged[1]["overrideReason"] == "already-addressed"
    assert "seen last week" not in str(logged)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"feedback": []},
        {"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "2026-11-30T10:00:00Z"}]},
        {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-11-30T10:00:00Z"}]},
    ],
)
def test_malformed_feedback_is_refused(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post(f"{PATIENT_VIEW}/feedback", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


RULE_LANGUAGE = ("below(", ">=", "<=", " == ", "is known", "is unknown", " and not ", "unless ")


def test_kidney_disease_with_low_magnesium_cautions_against_magnesium_in_words(
    client: httpx.Client, hook_body: Any, card_schema: dict[str, Any], record: dict[str, Any]
) -> None:
    ckd = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
            ]
        },
        # Only a confirmed diagnosis counts.
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "709044004"}]},
    }
    record["conditions"]["entry"] = [{"resource": ckd}]
    record["medicationStatements"]["entry"] = []
    magnesium = record["observations"]["entry"][0]["resource"]
    magnesium["code"]["coding"][0]["code"] = "19123-9"
    magnesium["valueQuantity"] = {"value": 1.4, "unit": "mg/dL", "code": "mg/dL"}
    magnesium["effectiveDateTime"] = "2026-10-01"
    cards = cards_of(client.post(PATIENT_VIEW, json=hook_body(prefetch=record)), card_schema)
    avoid = [c for c in cards if c["summary"].startswith("Avoid: Magnesium")]
    assert len(avoid) == 2
    assert all(c["indicator"] == "warning" and c["overrideReasons"] for c in avoid)
    lab = by_summary(cards, "Low magnesium, confirmed by a blood test")
    assert "serum magnesium 1.4 mg/dL (measured 2026-10-01)" in lab["detail"]
    for card in cards:
        for words in RULE_LANGUAGE:
            assert words not in card["detail"], (card["summary"], words)
