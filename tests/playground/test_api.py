"""The playground's API: what the page calls, under the service's limits and authentication.

The browser tests (test_playground.py) drive the page; these pin down what
the calls answer, including what they refuse.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from cramprules.engine import Engine
from cramprules.service import Issuer, Limits, ServiceConfig, create_app
from cramprules.service.playground import playground_routes

TEXT = """\
ruleset tiny "Tiny"
source nice "NICE"
fact night: bool "At night?"
fact pain: number 0..10 "How bad (0-10)?"
option stretching "Stretch before bed"
rule stretch:
    if night
    then recommend stretching
    because "It helps." cite nice
"""


@contextlib.contextmanager
def client_for(config: ServiceConfig) -> Iterator[httpx.Client]:
    """The service with the playground, under uvicorn on a loopback port, and a client for it."""
    app = create_app(config, engine=Engine(autoload=False), routes=playground_routes())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", http="h11"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with client_for(ServiceConfig(auth=False)) as client:
        yield client


def test_the_page_is_served_self_contained(client):
    response = client.get("/playground")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<textarea" in page
    # nothing is loaded from anywhere else: no external script, style or font
    assert 'src="http' not in page
    assert 'href="http' not in page
    assert "connect-src 'self'" in response.headers["content-security-policy"]


def test_check_gives_findings_tokens_and_the_facts_form(client):
    answer = client.post("/playground/api/check", json={"text": TEXT}).json()
    assert answer["loaded"] is True
    # check's own analyses, not only the checker's errors: no rule tests pain
    assert [(d["code"], d["line"]) for d in answer["diagnostics"]] == [("unused-fact", 4)]
    assert [f["name"] for f in answer["ruleset"]["facts"]] == ["night", "pain"]
    pain = answer["ruleset"]["facts"][1]
    assert (pain["type"], pain["low"], pain["high"]) == ("number", 0, 10)
    kinds = {kind for *_, kind in answer["tokens"]}
    assert {"keyword", "fact", "option", "source", "rule", "string"} <= kinds


def test_check_reports_what_check_reports(client):
    answer = client.post("/playground/api/check", json={"text": TEXT.replace("if night", "if nigth")}).json()
    assert answer["loaded"] is False
    [typo] = answer["diagnostics"]
    assert (typo["code"], typo["line"], typo["column"]) == ("typo-name", 7, 8)
    assert typo["hint"].startswith("did you mean 'night'?")


def test_evaluate_gives_the_report_the_trace_and_what_would_change(client):
    answer = client.post("/playground/api/evaluate", json={"text": TEXT, "facts": {"night": True}}).json()
    assert "Stretch before bed" in answer["html"]
    assert answer["report"]["recommendations"][0]["option"] == "stretching"
    assert [(t["rule"], t["outcome"]) for t in answer["report"]["trace"]] == [("stretch", "fired")]
    [change] = answer["what_would_change"]["stretching"]
    assert change["changes"] == [{"fact": "night", "from": True, "to": False}]


def test_a_wrong_fact_is_a_422_in_words(client):
    response = client.post("/playground/api/evaluate", json={"text": TEXT, "facts": {"night": "maybe"}})
    assert response.status_code == 422
    assert "night" in response.json()["detail"]


def test_evaluating_a_ruleset_that_does_not_load_says_where(client):
    response = client.post("/playground/api/evaluate", json={"text": "rule r: if then", "facts": {}})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("the ruleset does not load (line 1)")


def test_the_graph_is_svg_with_every_label_escaped(client):
    text = TEXT.replace('"Stretch before bed"', '"<script>alert(1)</script>"')
    svg = client.post("/playground/api/graph", json={"text": text}).json()["svg"]
    assert svg.startswith("<svg")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_include_is_refused_so_no_file_can_be_read(client, tmp_path):
    secret = tmp_path / "secret.cramp"
    secret.write_text('fact secret_fact: bool "The secret"\n')
    for path in (str(secret), "secret.cramp", "../../../" + str(secret)):
        answer = client.post("/playground/api/check", json={"text": f'include "{path}"\n' + TEXT}).json()
        assert answer["loaded"] is False
        codes = {d["code"] for d in answer["diagnostics"]}
        assert codes <= {"include-unavailable", "include-path"}, codes
        assert "secret_fact" not in str(answer)


def test_extends_may_name_the_services_rulesets(client):
    text = 'ruleset mine "Mine"\nextends leg_cramps\n'
    answer = client.post("/playground/api/check", json={"text": text}).json()
    assert answer["loaded"] is True
    assert "pain" in [f["name"] for f in answer["ruleset"]["facts"]]


def test_the_body_limit_applies():
    with client_for(ServiceConfig(auth=False, limits=Limits(max_body_bytes=2000))) as client:
        response = client.post("/playground/api/check", json={"text": TEXT * 20})
    assert response.status_code == 413


def test_a_body_that_is_not_a_text_is_a_400(client):
    response = client.post("/playground/api/check", json={"rules": TEXT})
    assert response.status_code == 400
    assert '"text"' in response.json()["detail"]


def test_with_authentication_on_the_calls_need_a_token_but_the_page_does_not():
    issuer = Issuer("https://ehr.example.org", jwks={"keys": []})
    config = ServiceConfig(issuers=(issuer,), audiences=("https://cds.example.org",))
    with client_for(config) as client:
        assert client.get("/playground").status_code == 200
        response = client.post("/playground/api/check", json={"text": TEXT})
    assert response.status_code == 401
