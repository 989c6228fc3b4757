"""The JSON evaluation API, health, the OpenAPI schema, limits and problem JSON, on the real server."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
import jsonschema
import pytest

from cramprules.report import report_schema

RULESET = "/v1/rulesets/leg_cramps"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == status
    for leak in ("Traceback", 'File "', "cramprules.", ".py", "Error:"):
        assert leak not in body["detail"]
    return body


def test_the_rulesets_are_listed(client: httpx.Client) -> None:
    (listed,) = client.get("/v1/rulesets").json()["rulesets"]
    assert listed["name"] == "leg_cramps"
    assert listed["version"] == "2.0"
    assert len(listed["sha256"]) == 64
    assert listed["links"]["evaluate"] == f"{RULESET}/evaluate"


def test_a_ruleset_describes_its_facts_options_causes_and_sources(client: httpx.Client) -> None:
    described = client.get(RULESET).json()
    facts = {f["name"]: f for f in described["facts"]}
    assert facts["pain"] == {
        "name": "pain",
        "type": "number",
        "question": "How painful is the worst cramp (0-10)?",
        "derived": False,
        "low": 0,
        "high": 10,
    }
    assert facts["serum_potassium"]["unit"] == "mmol/L"
    assert facts["low_potassium_lab"]["derived"] is True
    assert {"name": "citrate", "label": "Magnesium citrate", "group": "supplements"} in described["options"]
    assert any(c["name"] == "magnesium_deficiency" for c in described["causes"])
    sources = {s["name"]: s for s in described["sources"]}
    assert sources["statpearls_hypokalemia"]["url"] == "https://www.ncbi.nlm.nih.gov/books/NBK482465/"


def test_an_unknown_ruleset_is_404(client: httpx.Client) -> None:
    assert "GET /v1/rulesets" in problem(client.get("/v1/rulesets/nothing"), 404)["detail"]


def test_evaluate_answers_the_report_json_by_its_schema(client: httpx.Client) -> None:
    response = client.post(f"{RULESET}/evaluate", json={"prolonged": True, "diuretics": True})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    jsonschema.validate(report, report_schema())
    assert report["referrals"][0]["urgent"] is True
    assert report["facts"] == {"prolonged": True, "diuretics": True}


def test_evaluate_answers_what_eval_prints(client: httpx.Client, fhir_engine: Any) -> None:
    facts = {"constipation": True, "long_term": True}
    expected = fhir_engine.default_ruleset().evaluate(facts).to_dict()
    assert client.post(f"{RULESET}/evaluate", json=facts).json() == expected


@pytest.mark.parametrize(
    ("name", "content_type", "text"),
    [
        ("markdown", "text/markdown; charset=utf-8", "# "),
        ("html", "text/html; charset=utf-8", "<html"),
        ("text", "text/plain; charset=utf-8", "Leg cramps"),
    ],
)
def test_evaluate_in_any_registered_format(
    client: httpx.Client, name: str, content_type: str, text: str
) -> None:
    response = client.post(f"{RULESET}/evaluate", params={"format": name}, json={"pain": 9})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert text in response.text


def test_an_unknown_format_lists_the_known_ones(client: httpx.Client) -> None:
    detail = problem(client.post(f"{RULESET}/evaluate", params={"format": "pdf"}, json={}), 400)["detail"]
    assert "markdown" in detail
    assert "cds-hooks" in detail


def test_a_bad_fact_is_422_with_a_suggestion(client: httpx.Client) -> None:
    detail = problem(client.post(f"{RULESET}/evaluate", json={"pian": 9}), 422)["detail"]
    assert "pain" in detail
    assert "out of range" in problem(client.post(f"{RULESET}/evaluate", json={"pain": 99}), 422)["detail"]


def test_the_body_must_be_a_facts_object(client: httpx.Client) -> None:
    assert "JSON object of facts" in problem(client.post(f"{RULESET}/evaluate", json=[1, 2]), 400)["detail"]


def test_explain_gives_the_trace_and_what_would_change(client: httpx.Client) -> None:
    response = client.post(f"{RULESET}/explain", json={"constipation": True, "long_term": True})
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body["report"], report_schema())
    explanation = body["explanation"]
    assert explanation["rules"] == body["report"]["trace"]
    changes = explanation["what_would_change"]["citrate"]
    assert changes, "citrate is conditional on bedtime: answering it changes the outcome"
    assert any(c["fact"] == "bedtime" for change in changes for c in change["changes"])


def test_explain_a_chosen_target(client: httpx.Client) -> None:
    response = client.post(f"{RULESET}/explain", params={"target": "doctor"}, json={})
    assert set(response.json()["explanation"]["what_would_change"]) == {"doctor"}
    assert (
        "not an option"
        in problem(client.post(f"{RULESET}/explain", params={"target": "zzz"}, json={}), 400)["detail"]
    )


def test_health_readiness_and_the_openapi_schema(anonymous: httpx.Client) -> None:
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz").json()
    assert ready == {"status": "ready", "rulesets": ["leg_cramps"], "cds_hooks": True}
    schema = anonymous.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/cds-services/{id}", "/v1/rulesets/{name}/evaluate", "/v1/rulesets/{name}/explain"} <= set(
        schema["paths"]
    )
    assert schema["components"]["schemas"]["Report"]["properties"]["recommendations"]


def test_cors_answers_the_configured_origin_only(anonymous: httpx.Client) -> None:
    headers = {"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST"}
    allowed = anonymous.options("/cds-services/leg-cramps-patient-view", headers=headers)
    assert allowed.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    other = anonymous.options("/cds-services", headers={**headers, "Origin": "https://evil.example.org"})
    assert "access-control-allow-origin" not in other.headers


# ---------------------------------------------------------------- limits and errors


def test_malformed_json_is_a_problem_saying_where(client: httpx.Client) -> None:
    response = client.post(
        f"{RULESET}/evaluate", content=b'{"pain": 9', headers={"content-type": "application/json"}
    )
    assert "line 1, column" in problem(response, 400)["detail"]


def test_an_oversized_body_is_413_before_it_is_read(client: httpx.Client) -> None:
    body = json.dumps({"padding": "x" * 70_000}).encode()
    assert "larger than 65536" in problem(client.post(f"{RULESET}/evaluate", content=body), 413)["detail"]


def test_an_oversized_body_without_a_length_is_cut_off(client: httpx.Client) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    problem(client.post(f"{RULESET}/evaluate", content=chunks()), 413)


def test_deep_json_is_refused(client: httpx.Client) -> None:
    deep = "[" * 40 + "]" * 40
    assert "deeper than 32" in problem(client.post(f"{RULESET}/evaluate", content=deep), 400)["detail"]
    very_deep = "[" * 30_000 + "]" * 30_000  # deeper than Python's recursion limit
    problem(client.post(f"{RULESET}/evaluate", content=very_deep), 400)


def test_too_many_facts_are_refused(client: httpx.Client) -> None:
    facts = {f"fact_{i}": True for i in range(41)}
    assert "at most 40" in problem(client.post(f"{RULESET}/evaluate", json=facts), 413)["detail"]


def test_too_many_fhir_resources_are_refused(client: httpx.Client, hook_body: Any) -> None:
    body = hook_body()
    entries = body["prefetch"]["conditions"]["entry"] = []
    entries.extend({"resource": {"resourceType": "Condition", "id": f"c{i}"}} for i in range(101))
    response = client.post("/cds-services/leg-cramps-patient-view", json=body)
    assert "at most 100 are read" in problem(response, 413)["detail"]


def test_a_slow_client_is_cut_off_with_408(service: dict[str, Any], make_token: Any) -> None:
    host, port = service["url"].removeprefix("http://").split(":")
    token = make_token(aud=service["url"])
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (
                f"POST {RULESET}/evaluate HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            ).encode()
        )
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert 1.0 < waited < 8


def test_unknown_paths_and_methods_are_problems(anonymous: httpx.Client) -> None:
    problem(anonymous.get("/nothing/here"), 404)
    problem(anonymous.delete("/cds-services"), 405)
