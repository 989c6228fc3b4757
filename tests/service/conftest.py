"""Real servers on loopback: the service (uvicorn), an issuer's JWKS and a FHIR server.

Each server binds 127.0.0.1 on an ephemeral port and runs uvicorn in a
thread for the whole session, so the tests talk HTTP to the real stack.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import cramprules
from cramprules.service import Issuer, Limits, ServiceConfig, create_app

HERE = Path(__file__).parent
ISSUER = "https://ehr.example.org"
EC_ISSUER = "https://ec-ehr.example.org"
FHIR_TOKEN = "fhir-access-token-123"
PATIENT = "p1"


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def serving(app: Any, sock: socket.socket) -> Iterator[str]:
    """Run ``app`` under uvicorn on ``sock`` until the block ends."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


# ---------------------------------------------------------------- keys and tokens


@pytest.fixture(scope="session")
def keys() -> dict[str, Any]:
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP384R1()),
        "intruder": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


def jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg.startswith("RS") else jwt.algorithms.ECAlgorithm
    data: dict[str, Any] = algorithm.to_jwk(private.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture(scope="session")
def issuer_server(keys: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An EHR's JWKS endpoint, counting how often it is fetched."""
    state: dict[str, Any] = {"fetches": 0}

    async def jwks(request: Request) -> Response:
        state["fetches"] += 1
        return JSONResponse({"keys": [jwk(keys["rsa"], "rsa-1", "RS384")]})

    sock = listening_socket()
    with serving(Starlette(routes=[Route("/.well-known/jwks.json", jwks)]), sock) as url:
        state["jwks_url"] = f"{url}/.well-known/jwks.json"
        yield state


@pytest.fixture(scope="session")
def make_token(keys: dict[str, Any]) -> Callable[..., str]:
    def make(
        *,
        aud: str,
        key: str = "rsa",
        iss: str = ISSUER,
        kid: str | None = None,
        alg: str | None = None,
        lifetime: float = 300,
        issued: float | None = None,
        jti: str | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        now = time.time() if issued is None else issued
        claims = {
            "iss": iss,
            "sub": "client-app",
            "aud": aud,
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": jti or str(uuid.uuid4()),
        }
        for name in drop:
            claims.pop(name)
        alg = alg or ("ES384" if key == "ec" else "RS384")
        kid = kid or ("ec-1" if key == "ec" else "rsa-1")
        return jwt.encode(claims, keys[key], algorithm=alg, headers={"kid": kid, "typ": "JWT"})

    return make


# ---------------------------------------------------------------- FHIR server


def observation(ident: str, loinc: str, value: float, unit: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


FURSEMIDE = {
    "resourceType": "MedicationStatement",
    "id": "ms1",
    "status": "active",
    "subject": {"reference": f"Patient/{PATIENT}"},
    "medicationCodeableConcept": {"text": "furosemide 40 MG Oral Tablet"},
}

RECORD = {
    "patient": {"resourceType": "Patient", "id": PATIENT},
    "conditions": searchset(),
    "medicationRequests": searchset(),
    "medicationStatements": searchset(FURSEMIDE),
    "observations": searchset(observation("o1", "2823-3", 3.1, "mmol/L", "2026-11-02T09:30:00Z")),
}
"""A patient on furosemide with low potassium, as prefetch (and as the FHIR server has it)."""


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[dict[str, Any]]:
    """A FHIR server that answers the service's queries when prefetch is missing."""
    state: dict[str, Any] = {"requests": []}

    async def answer(request: Request) -> Response:
        state["requests"].append((request.url.path, request.url.query, request.headers.get("authorization")))
        if request.headers.get("authorization") != f"Bearer {FHIR_TOKEN}":
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        kind = request.path_params["kind"]
        if kind == "Patient":
            return JSONResponse(RECORD["patient"])
        key = {
            "Condition": "conditions",
            "MedicationRequest": "medicationRequests",
            "MedicationStatement": "medicationStatements",
            "Observation": "observations",
        }[kind]
        return JSONResponse(RECORD[key], media_type="application/fhir+json")

    routes = [Route("/fhir/{kind}", answer), Route("/fhir/{kind}/{id}", answer)]
    sock = listening_socket()
    with serving(Starlette(routes=routes), sock) as url:
        state["url"] = f"{url}/fhir"
        yield state


# ---------------------------------------------------------------- the service


@pytest.fixture(scope="session")
def fhir_engine() -> cramprules.Engine:
    import cramprules_fhir
    import cramprules_labs

    return cramprules.Engine(plugins=[cramprules_labs, cramprules_fhir], autoload=False)


LIMITS = Limits(
    max_body_bytes=65_536,
    max_json_depth=32,
    max_facts=40,
    max_resources=100,
    request_timeout=1.5,
    fhir_timeout=3,
)


@pytest.fixture(scope="session")
def service(
    tmp_path_factory: pytest.TempPathFactory,
    fhir_engine: cramprules.Engine,
    issuer_server: dict[str, Any],
    keys: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    """The service with authentication on: two issuers (JWKS by URL, and inline)."""
    sock = listening_socket()
    base = url_of(sock)
    log = tmp_path_factory.mktemp("service") / "decisions.jsonl"
    config = ServiceConfig(
        issuers=[
            Issuer(ISSUER, jwks_url=issuer_server["jwks_url"]),
            Issuer(EC_ISSUER, jwks={"keys": [jwk(keys["ec"], "ec-1", "ES384")]}),
        ],
        audiences=[base],
        limits=LIMITS,
        decision_log=str(log),
        cors_origins=["https://sandbox.cds-hooks.org"],
    )
    app = create_app(config, engine=fhir_engine)
    with serving(app, sock) as url:
        yield {"url": url, "log": log, "app": app}


@pytest.fixture(scope="session")
def open_service(fhir_engine: cramprules.Engine) -> Iterator[str]:
    """The service with --no-auth, as for local development."""
    sock = listening_socket()
    app = create_app(ServiceConfig(auth=False, limits=LIMITS), engine=fhir_engine)
    with serving(app, sock) as url:
        yield url


@pytest.fixture
def client(service: dict[str, Any], make_token: Callable[..., str]) -> Iterator[httpx.Client]:
    """An HTTP client to the secured service, sending a fresh valid token on each request."""

    def sign(request: httpx.Request) -> None:
        request.headers.setdefault("Authorization", f"Bearer {make_token(aud=service['url'])}")

    with httpx.Client(
        base_url=service["url"], trust_env=False, event_hooks={"request": [sign]}, timeout=10
    ) as c:
        yield c


@pytest.fixture
def anonymous(service: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service["url"], trust_env=False, timeout=10) as c:
        yield c


@pytest.fixture(scope="session")
def card_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((HERE / "cds_hooks_2.0_response.schema.json").read_text("utf-8"))
    return schema


@pytest.fixture
def decisions(service: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """The decision log's lines so far."""

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in service["log"].read_text("utf-8").splitlines()]

    return read


_MISSING = object()


@pytest.fixture
def hook_body() -> Callable[..., dict[str, Any]]:
    """A CDS Hooks request body: patient-view for patient p1 with the whole record prefetched."""

    def make(hook: str = "patient-view", prefetch: Any = _MISSING, **context: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "hook": hook,
            "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/dr-1", "patientId": PATIENT, **context},
        }
        body["prefetch"] = json.loads(json.dumps(RECORD)) if prefetch is _MISSING else prefetch
        if body["prefetch"] is None:
            del body["prefetch"]
        return body

    return make


@pytest.fixture
def record() -> dict[str, Any]:
    """The FHIR record of patient p1, by prefetch key (a fresh copy)."""
    copy: dict[str, Any] = json.loads(json.dumps(RECORD))
    return copy


@pytest.fixture(scope="session")
def serve() -> Callable[..., contextlib.AbstractContextManager[str]]:
    """Run an app of the test's own on loopback: ``with serve(app, sock) as url: ...``."""
    return serving


@pytest.fixture(scope="session")
def bind() -> Callable[[], socket.socket]:
    """A socket bound to 127.0.0.1 on an ephemeral port, for ``serve``."""
    return listening_socket
