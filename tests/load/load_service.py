"""A bounded load and fault test of ``cramprules serve``, on loopback only.

Not a unit test (pytest does not collect it).  It starts the real command
(``python -m cramprules serve``) with authentication on, on 127.0.0.1 and a
free port, then runs ``--clients`` concurrent clients that send ``--requests``
requests in all, mixing valid calls (CDS Hooks patient-view and order-select
with prefetch, evaluations, explanations) with faults (malformed JSON,
oversized bodies, JSON nested too deep, bad tokens, and slow clients that
trickle their body).  It reports requests per second, p50/p99 latency, the
errors (a valid request answered other than 200, or a fault answered other
than its expected 4xx), and the server's memory (RSS) before and after.
It stops by itself: after the requests, or at ``--deadline`` seconds.

    python tests/load/load_service.py                       # 50 clients, 20,000 requests
    python tests/load/load_service.py --requests 2000 --json result.json

Needs the service extra and the first-party plugins (cramprules-labs,
cramprules-fhir) installed, as in the test environment.  Exit status 0 when
no valid request failed and every fault got its expected answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "https://load-test-ehr.example.org"
PATIENT = "p1"
REQUEST_TIMEOUT = 1.0
"""The server's request timeout in this test: how long a slow client is waited for."""

# kind -> (share of requests, expected status)
MIX: dict[str, tuple[float, int]] = {
    "patient-view": (0.36, 200),
    "order-select": (0.10, 200),
    "evaluate": (0.30, 200),
    "evaluate-markdown": (0.05, 200),
    "explain": (0.03, 200),
    "malformed-json": (0.04, 400),
    "deep-json": (0.02, 400),
    "oversized-body": (0.03, 413),
    "bad-token": (0.04, 401),
    "expired-token": (0.02, 401),
    "slow-client": (0.01, 408),
}
VALID = {kind for kind, (_, status) in MIX.items() if status == 200}


def toml_value(value: Any) -> str:
    """A JSON-like value as TOML (inline tables and arrays), for the JWKS in the config."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def observation(loinc: str, value: float, unit: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"o-{loinc}",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": "2026-11-02T09:30:00Z",
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def prefetch(rng: random.Random) -> dict[str, Any]:
    statements = []
    if rng.random() < 0.5:
        statements.append(
            {
                "resourceType": "MedicationStatement",
                "id": "ms1",
                "status": "active",
                "subject": {"reference": f"Patient/{PATIENT}"},
                "medicationCodeableConcept": {"text": "furosemide 40 MG Oral Tablet"},
            }
        )
    return {
        "patient": {"resourceType": "Patient", "id": PATIENT},
        "conditions": bundle(),
        "medicationRequests": bundle(),
        "medicationStatements": bundle(*statements),
        "observations": bundle(
            observation("2823-3", round(rng.uniform(2.3, 5.0), 1), "mmol/L"),
            observation("19123-9", round(rng.uniform(1.2, 2.4), 2), "mg/dL"),
        ),
    }


class Load:
    def __init__(self, base: str, key: Any, intruder: Any, seed: int) -> None:
        self.base = base
        self.key = key
        self.intruder = intruder
        self.rng = random.Random(seed)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.outcomes: Counter[tuple[str, int | str]] = Counter()
        self.failures: list[str] = []

    def token(self, *, key: Any = None, expired: bool = False) -> str:
        now = int(time.time()) - (600 if expired else 0)
        claims = {
            "iss": ISSUER,
            "sub": "load",
            "aud": self.base,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, key or self.key, algorithm="ES256", headers={"kid": "load-1"})

    def request(self, kind: str) -> tuple[str, str, dict[str, str], bytes]:
        """(method, path, headers, body) for one request of ``kind``."""
        rng = self.rng
        headers = {"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"}
        facts = {
            "pain": rng.randint(0, 10),
            "night_cramps": rng.random() < 0.5,
            "diuretics": rng.random() < 0.3,
            "constipation": rng.random() < 0.5,
            "long_term": True,
        }
        if kind == "patient-view":
            body = {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/1", "patientId": PATIENT},
                "prefetch": prefetch(rng),
            }
            return "POST", "/cds-services/leg-cramps-patient-view", headers, json.dumps(body).encode()
        if kind == "order-select":
            order = {
                "resourceType": "MedicationRequest",
                "id": "d1",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": f"Patient/{PATIENT}"},
                "medicationCodeableConcept": {
                    "text": rng.choice(["hydrochlorothiazide 25 MG", "amoxicillin"])
                },
            }
            body = {
                "hook": "order-select",
                "hookInstance": str(uuid.uuid4()),
                "context": {
                    "userId": "Practitioner/1",
                    "patientId": PATIENT,
                    "selections": ["MedicationRequest/d1"],
                    "draftOrders": bundle(order),
                },
                "prefetch": prefetch(rng),
            }
            return "POST", "/cds-services/leg-cramps-order-select", headers, json.dumps(body).encode()
        if kind == "evaluate":
            return "POST", "/v1/rulesets/leg_cramps/evaluate", headers, json.dumps(facts).encode()
        if kind == "evaluate-markdown":
            return (
                "POST",
                "/v1/rulesets/leg_cramps/evaluate?format=markdown",
                headers,
                json.dumps(facts).encode(),
            )
        if kind == "explain":
            return "POST", "/v1/rulesets/leg_cramps/explain", headers, json.dumps(facts).encode()
        if kind == "malformed-json":
            return "POST", "/v1/rulesets/leg_cramps/evaluate", headers, b'{"pain": 9, "night_cramps": tru'
        if kind == "deep-json":
            return "POST", "/v1/rulesets/leg_cramps/evaluate", headers, b"[" * 5000 + b"]" * 5000
        if kind == "oversized-body":
            return "POST", "/v1/rulesets/leg_cramps/evaluate", headers, b'{"x": "' + b"a" * 2_000_000 + b'"}'
        if kind == "bad-token":
            headers["Authorization"] = f"Bearer {self.token(key=self.intruder)}"
            return "POST", "/v1/rulesets/leg_cramps/evaluate", headers, json.dumps(facts).encode()
        if kind == "expired-token":
            headers["Authorization"] = f"Bearer {self.token(expired=True)}"
            return "POST", "/v1/rulesets/leg_cramps/evaluate", headers, json.dumps(facts).encode()
        raise ValueError(kind)

    async def slow(self) -> int:
        """A client that sends its headers, then one byte of body at a time, slowly."""
        host, port = self.base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            head = (
                f"POST /v1/rulesets/leg_cramps/evaluate HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {self.token()}\r\nContent-Type: application/json\r\n"
                "Content-Length: 200\r\n\r\n{"
            )
            writer.write(head.encode())
            await writer.drain()

            async def trickle() -> None:
                for _ in range(100):
                    await asyncio.sleep(0.3)
                    writer.write(b" ")
                    await writer.drain()

            dripping = asyncio.create_task(trickle())
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=REQUEST_TIMEOUT * 10)
            finally:
                dripping.cancel()
            return int(line.split()[1]) if line.startswith(b"HTTP/1.1 ") else -1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def one(self, client: httpx.AsyncClient, kind: str) -> None:
        expected = MIX[kind][1]
        started = time.perf_counter()
        try:
            if kind == "slow-client":
                status: int | str = await self.slow()
            else:
                method, path, headers, body = self.request(kind)
                response = await client.request(method, path, headers=headers, content=body)
                status = response.status_code
                if (
                    status == 200
                    and kind in ("patient-view", "order-select")
                    and "cards" not in response.json()
                ):
                    status = "no cards"
        except (httpx.HTTPError, OSError, asyncio.TimeoutError) as exc:
            status = type(exc).__name__
        elapsed = time.perf_counter() - started
        self.outcomes[(kind, status)] += 1
        if status == expected:
            self.latencies[kind].append(elapsed)
        elif len(self.failures) < 20:
            self.failures.append(f"{kind}: expected {expected}, got {status}")

    async def client(self, kinds: list[str], deadline: float) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=self.base, trust_env=False, timeout=30, limits=limits
        ) as client:
            while kinds and time.monotonic() < deadline:
                await self.one(client, kinds.pop())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument(
        "--deadline", type=float, default=900, help="stop after this many seconds whatever happens"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    key = ec.generate_private_key(ec.SECP256R1())
    intruder = ec.generate_private_key(ec.SECP256R1())
    public = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = {"keys": [{**public, "kid": "load-1", "alg": "ES256", "use": "sig"}]}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "service.toml"
        config.write_text(
            "[service]\n"
            f"audiences = [{json.dumps(base)}]\n"
            f"decision_log = {json.dumps(str(Path(tmp) / 'decisions.jsonl'))}\n"
            f"[service.limits]\nrequest_timeout = {REQUEST_TIMEOUT}\n"
            "[[service.issuers]]\n"
            f"iss = {json.dumps(ISSUER)}\n"
            f"jwks = {toml_value(jwks)}\n"
        )
        env = {k: v for k, v in os.environ.items() if k != "CRAMPRULES_DISABLE_PLUGIN_AUTOLOAD"}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cramprules",
                "serve",
                "--config",
                str(config),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            return run(args, base, key, intruder, server, Path(tmp) / "decisions.jsonl")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            if server.stderr is not None:
                server.stderr.close()


def run(
    args: argparse.Namespace,
    base: str,
    key: Any,
    intruder: Any,
    server: subprocess.Popen[str],
    decision_log: Path,
) -> int:
    started = time.monotonic()
    with httpx.Client(base_url=base, trust_env=False, timeout=5) as probe:
        while True:
            if server.poll() is not None:
                assert server.stderr is not None
                print("the server did not start:\n" + server.stderr.read(), file=sys.stderr)
                return 2
            try:
                if probe.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > 60:
                print("the server did not become ready in 60 s", file=sys.stderr)
                return 2
            time.sleep(0.1)
    load = Load(base, key, intruder, args.seed)
    # Warm up (FHIR models, caches), then measure memory before the load.
    asyncio.run(warm_up(load))
    before = rss_kib(server.pid)

    rng = random.Random(args.seed)
    kinds = rng.choices(list(MIX), weights=[share for share, _ in MIX.values()], k=args.requests)
    per_client = [kinds[i :: args.clients] for i in range(args.clients)]
    load.latencies.clear()
    load.outcomes.clear()
    load.failures.clear()
    t0 = time.perf_counter()
    deadline = time.monotonic() + args.deadline

    async def everyone() -> None:
        await asyncio.gather(*(load.client(mine, deadline) for mine in per_client))

    asyncio.run(everyone())
    wall = time.perf_counter() - t0
    after = rss_kib(server.pid)
    alive = server.poll() is None

    done = sum(load.outcomes.values())
    valid_total = sum(n for (kind, _), n in load.outcomes.items() if kind in VALID)
    valid_errors = sum(n for (kind, status), n in load.outcomes.items() if kind in VALID and status != 200)
    fault_total = done - valid_total
    fault_mismatch = sum(
        n for (kind, status), n in load.outcomes.items() if kind not in VALID and status != MIX[kind][1]
    )
    valid_latencies = [x for kind in VALID for x in load.latencies[kind]]
    decisions = sum(1 for _ in decision_log.open()) if decision_log.exists() else 0
    figures = {
        "clients": args.clients,
        "requests_planned": args.requests,
        "requests_done": done,
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(done / wall, 1),
        "valid_requests": valid_total,
        "valid_errors": valid_errors,
        "fault_requests": fault_total,
        "faults_not_answered_as_expected": fault_mismatch,
        "latency_ms_valid": {
            "p50": round(percentile(valid_latencies, 0.50) * 1000, 2),
            "p99": round(percentile(valid_latencies, 0.99) * 1000, 2),
            "mean": round(statistics.fmean(valid_latencies) * 1000, 2) if valid_latencies else None,
        },
        "latency_ms_by_kind": {
            kind: {
                "n": len(v),
                "p50": round(percentile(v, 0.5) * 1000, 2),
                "p99": round(percentile(v, 0.99) * 1000, 2),
            }
            for kind, v in sorted(load.latencies.items())
        },
        "outcomes": {
            f"{kind} -> {status}": n for (kind, status), n in sorted(load.outcomes.items(), key=str)
        },
        "server_rss_kib": {"before": before, "after": after, "growth": after - before},
        "server_alive_after": alive,
        "decision_log_lines": decisions,
        "first_failures": load.failures,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    ok = valid_errors == 0 and fault_mismatch == 0 and done == args.requests and alive
    return 0 if ok else 1


async def warm_up(load: Load) -> None:
    async with httpx.AsyncClient(base_url=load.base, trust_env=False, timeout=30) as client:
        for kind in ("patient-view", "order-select", "evaluate", "evaluate-markdown", "explain") * 20:
            await load.one(client, kind)


if __name__ == "__main__":
    sys.exit(main())
