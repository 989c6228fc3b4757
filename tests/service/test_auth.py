"""CDS Hooks JWT bearer authentication: who is let in, and why the others are not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from cramprules.service.auth import KeySets, ReplayCache, TokenError

ISSUER = "https://ehr.example.org"
EC_ISSUER = "https://ec-ehr.example.org"
PROTECTED = "/v1/rulesets"


def call(service: dict[str, Any], token: str | None, path: str = PROTECTED) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with httpx.Client(base_url=service["url"], trust_env=False, timeout=10) as c:
        return c.get(path, headers=headers)


def refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert reason in response.json()["detail"]


def test_a_token_signed_by_an_allowed_issuer_from_its_jwks_url_is_accepted(
    service: dict[str, Any], make_token: Callable[..., str], issuer_server: dict[str, Any]
) -> None:
    response = call(service, make_token(aud=service["url"]))
    assert response.status_code == 200
    assert issuer_server["fetches"] >= 1


def test_the_jwks_is_cached_between_calls(
    service: dict[str, Any], make_token: Callable[..., str], issuer_server: dict[str, Any]
) -> None:
    call(service, make_token(aud=service["url"]))
    fetched = issuer_server["fetches"]
    for _ in range(3):
        assert call(service, make_token(aud=service["url"])).status_code == 200
    assert issuer_server["fetches"] == fetched


def test_an_es384_token_checked_against_an_inline_key_set_is_accepted(
    service: dict[str, Any], make_token: Callable[..., str]
) -> None:
    assert call(service, make_token(aud=service["url"], key="ec", iss=EC_ISSUER)).status_code == 200


def test_no_token_is_refused(service: dict[str, Any]) -> None:
    refused(call(service, None), "Authorization: Bearer")


def test_an_expired_token_is_refused(service: dict[str, Any], make_token: Callable[..., str]) -> None:
    token = make_token(aud=service["url"], issued=time.time() - 400, lifetime=300)
    refused(call(service, token), "expired")


def test_a_wrongly_signed_token_is_refused(service: dict[str, Any], make_token: Callable[..., str]) -> None:
    # Signed with another private key, but claiming the issuer's key id.
    token = make_token(aud=service["url"], key="intruder", kid="rsa-1")
    refused(call(service, token), "signature")


def test_a_token_of_an_unknown_issuer_is_refused(
    service: dict[str, Any], make_token: Callable[..., str]
) -> None:
    refused(call(service, make_token(aud=service["url"], iss="https://evil.example.org")), "issuer")


def test_a_token_for_another_audience_is_refused(
    service: dict[str, Any], make_token: Callable[..., str]
) -> None:
    refused(call(service, make_token(aud="https://other-service.example.org")), "audience")


def test_a_replayed_token_is_refused(service: dict[str, Any], make_token: Callable[..., str]) -> None:
    token = make_token(aud=service["url"])
    assert call(service, token).status_code == 200
    refused(call(service, token), "replayed")


def test_a_token_living_longer_than_five_minutes_is_refused(
    service: dict[str, Any], make_token: Callable[..., str]
) -> None:
    refused(call(service, make_token(aud=service["url"], lifetime=3600)), "longer than 300")


@pytest.mark.parametrize("claim", ["jti", "iat", "exp"])
def test_a_token_without_a_required_claim_is_refused(
    service: dict[str, Any], make_token: Callable[..., str], claim: str
) -> None:
    refused(call(service, make_token(aud=service["url"], drop=(claim,))), claim)


def test_a_key_id_the_issuer_does_not_publish_is_refused(
    service: dict[str, Any], make_token: Callable[..., str]
) -> None:
    refused(call(service, make_token(aud=service["url"], kid="unknown-kid")), "kid")


def test_unsigned_and_shared_secret_tokens_are_refused(service: dict[str, Any]) -> None:
    claims = {
        "iss": ISSUER,
        "aud": service["url"],
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        "jti": "x",
    }
    unsigned = jwt.encode(claims, None, algorithm="none")
    refused(call(service, unsigned), "algorithm")
    shared = jwt.encode(claims, "a-secret-that-is-at-least-32-bytes-long!", algorithm="HS256")
    refused(call(service, shared), "algorithm")


def test_garbage_is_refused(service: dict[str, Any]) -> None:
    refused(call(service, "not-a-jwt"), "not a JWT")


def test_every_cds_and_api_route_needs_a_token_but_discovery_and_health_do_not(
    service: dict[str, Any],
) -> None:
    with httpx.Client(base_url=service["url"], trust_env=False, timeout=10) as c:
        for path in ("/cds-services", "/healthz", "/readyz", "/openapi.json"):
            assert c.get(path).status_code == 200, path
        assert c.get("/v1/rulesets/leg_cramps").status_code == 401
        for path in (
            "/v1/rulesets/leg_cramps/evaluate",
            "/v1/rulesets/leg_cramps/explain",
            "/cds-services/leg-cramps-patient-view",
            "/cds-services/leg-cramps-patient-view/feedback",
        ):
            assert c.post(path, json={}).status_code == 401, path


def test_without_auth_no_token_is_needed(open_service: str) -> None:
    with httpx.Client(base_url=open_service, trust_env=False, timeout=10) as c:
        assert c.get(PROTECTED).status_code == 200
        assert c.post("/v1/rulesets/leg_cramps/evaluate", json={"pain": 9}).status_code == 200


# ---------------------------------------------------------------- the replay cache itself


def test_the_replay_cache_forgets_expired_tokens_and_stays_bounded() -> None:
    now = [1000.0]
    cache = ReplayCache(max_entries=2, clock=lambda: now[0])
    cache.add("iss", "a", expires=1010)
    with pytest.raises(TokenError, match="replayed"):
        cache.add("iss", "a", expires=1010)
    cache.add("other-iss", "a", expires=1010)  # the same jti from another issuer is another token
    with pytest.raises(TokenError, match="too many"):
        cache.add("iss", "b", expires=1010)
    now[0] = 1011.0  # both expired: room again, and "a" may be seen anew
    cache.add("iss", "b", expires=1020)
    cache.add("iss", "a", expires=1020)
    assert len(cache) == 2


# ---------------------------------------------------------------- key sets fetched by URL


class CountingKeySets(KeySets):
    """Key sets served from a list (one per fetch, the last repeated), on a clock the test moves."""

    def __init__(self, sets: list[jwt.PyJWKSet], now: list[float]) -> None:
        super().__init__(lifespan=300, min_refresh=30, clock=lambda: now[0])
        self.sets = sets
        self.fetches = 0

    def fetch(self, url: str) -> jwt.PyJWKSet:
        self.fetches += 1
        return self.sets[min(self.fetches, len(self.sets)) - 1]


def key_set(private: Any, kid: str) -> jwt.PyJWKSet:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return jwt.PyJWKSet.from_dict({"keys": [{**public, "kid": kid, "alg": "RS384"}]})


def test_made_up_key_ids_do_not_make_the_service_flood_the_issuer(keys: dict[str, Any]) -> None:
    now = [0.0]
    sets = CountingKeySets([key_set(keys["rsa"], "rsa-1"), key_set(keys["intruder"], "rsa-2")], now)
    assert sets.key("https://ehr/jwks", "rsa-1") is not None
    for made_up in ("x1", "x2", "x3"):
        assert sets.key("https://ehr/jwks", made_up) is None
    assert sets.fetches == 1
    # After min_refresh, an unknown kid may mean the issuer rotated its keys: fetch once more.
    now[0] = 31.0
    assert sets.key("https://ehr/jwks", "rsa-2") is not None
    assert sets.fetches == 2
    # And the key set expires after its lifespan.
    now[0] = 400.0
    sets.key("https://ehr/jwks", "rsa-2")
    assert sets.fetches == 3


def test_an_unreachable_key_set_refuses_the_token_without_detail(keys: dict[str, Any]) -> None:
    sets = KeySets(timeout=1)
    with pytest.raises(TokenError, match="could not be fetched"):
        sets.fetch("http://127.0.0.1:9/jwks.json")  # the discard port: nothing listens
