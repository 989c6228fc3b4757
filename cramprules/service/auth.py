"""CDS Hooks' JWT bearer authentication, checked with PyJWT.

A CDS client signs a short-lived JWT with its private key and publishes the
public keys as a JWKS; the service checks, in this order, that the issuer is
on the allow-list (before any key is fetched, so a token cannot send the
service to an address of its choosing), the signature against that issuer's
keys, ``aud``, ``exp``/``iat`` and that the ``jti`` has not been seen before
(replay).  Only asymmetric algorithms are accepted: never ``none``, never a
shared secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any as AnyType

import jwt

from cramprules.service.config import Issuer

__all__ = ["ALGORITHMS", "KeySets", "ReplayCache", "TokenError", "Verifier"]

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
"""CDS Hooks recommends ES384 or RS384; any asymmetric algorithm is accepted."""

_REQUIRED = ["iss", "aud", "exp", "iat", "jti"]


class TokenError(Exception):
    """Why a token was refused, in words safe to send back to the caller."""


class ReplayCache:
    """The ``jti`` of every token accepted and not yet expired, bounded in size."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._seen)

    def add(self, issuer: str, jti: str, expires: float) -> None:
        """Record a token; raise :class:`TokenError` if it was seen before."""
        key = (issuer, jti)
        now = self._clock()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and seen >= now:
                raise TokenError("the token was already used (jti replayed)")
            if len(self._seen) >= self._max:
                self._seen = {k: e for k, e in self._seen.items() if e >= now}
                if len(self._seen) >= self._max:
                    raise TokenError("too many live tokens; try again shortly")
            self._seen[key] = expires


def _find(keys: jwt.PyJWKSet, kid: object) -> AnyType:
    for key in keys.keys:
        if kid is None or key.key_id == kid:
            return key.key
    return None


class KeySets:
    """Issuers' key sets fetched from their ``jwks_url``, cached, refreshed with restraint.

    A key set is kept for ``lifespan`` seconds.  A token whose ``kid`` is not
    in it triggers a fresh fetch (the issuer may have rotated its keys), but
    at most once per ``min_refresh`` seconds, so tokens with made-up key ids
    cannot turn the service into a flood of requests to the issuer.  Fetches
    ignore proxy settings and redirects, and read at most ``max_bytes``.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        lifespan: float = 300.0,
        min_refresh: float = 30.0,
        max_bytes: int = 1_048_576,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout = timeout
        self.lifespan = lifespan
        self.min_refresh = min_refresh
        self.max_bytes = max_bytes
        self._clock = clock
        self._cache: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self._lock = threading.Lock()

    def fetch(self, url: str) -> jwt.PyJWKSet:
        import httpx

        try:
            with (
                httpx.Client(trust_env=False, follow_redirects=False, timeout=self.timeout) as client,
                client.stream("GET", url, headers={"Accept": "application/json"}) as answer,
            ):
                if answer.status_code != 200:
                    raise TokenError("the issuer's key set could not be fetched")
                data = bytearray()
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise TokenError("the issuer's key set is too large")
            return jwt.PyJWKSet.from_json(bytes(data).decode("utf-8"))
        except httpx.HTTPError:
            raise TokenError("the issuer's key set could not be fetched") from None
        except (jwt.PyJWKSetError, ValueError):
            raise TokenError("the issuer's key set holds no usable key") from None

    def key(self, url: str, kid: object) -> AnyType:
        """The key for ``kid`` from the key set at ``url``, or None."""
        with self._lock:
            now = self._clock()
            cached = self._cache.get(url)
            if cached is None or now - cached[0] > self.lifespan:
                cached = self._cache[url] = (now, self.fetch(url))
            found = _find(cached[1], kid)
            if found is None and now - cached[0] >= self.min_refresh:
                cached = self._cache[url] = (now, self.fetch(url))
                found = _find(cached[1], kid)
            return found


class Verifier:
    """Checks bearer tokens against the configured issuers and audiences."""

    def __init__(
        self,
        issuers: Iterable[Issuer],
        audiences: Iterable[str],
        *,
        leeway: float = 30.0,
        max_lifetime: float = 300.0,
        replay: ReplayCache | None = None,
        key_sets: KeySets | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.issuers = {issuer.iss: issuer for issuer in issuers}
        self.audiences = list(audiences)
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        self.replay = replay or ReplayCache()
        self.key_sets = key_sets or KeySets(timeout=timeout)
        self._inline: dict[str, jwt.PyJWKSet] = {}
        self._lock = threading.Lock()

    def _key(self, issuer: Issuer, header: Mapping[str, AnyType]) -> AnyType:
        jku = header.get("jku")
        if jku is not None and jku != issuer.jwks_url:
            raise TokenError("the token's jku is not the key set configured for its issuer")
        kid = header.get("kid")
        if issuer.jwks is not None:
            with self._lock:
                keys = self._inline.get(issuer.iss)
                if keys is None:
                    try:
                        keys = self._inline[issuer.iss] = jwt.PyJWKSet.from_dict(dict(issuer.jwks))
                    except jwt.PyJWKSetError:
                        raise TokenError("the issuer's key set holds no usable key") from None
            found = _find(keys, kid)
        else:
            assert issuer.jwks_url is not None
            found = self.key_sets.key(issuer.jwks_url, kid)
        if found is None:
            raise TokenError("no key of the issuer's key set matches the token's kid")
        return found

    def verify(self, token: str) -> dict[str, AnyType]:
        """The token's claims, or :class:`TokenError` saying why it is refused."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenError("the bearer token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise TokenError(f"the token's algorithm must be one of {', '.join(ALGORITHMS)}")
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise TokenError("the token's issuer is not allowed")
        key = self._key(issuer, header)
        try:
            claims: dict[str, AnyType] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audiences,
                issuer=issuer.iss,
                leeway=self.leeway,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise TokenError("the token is for another audience") from None
        except jwt.InvalidSignatureError:
            raise TokenError("the token's signature does not verify") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError(f"the token lacks the '{exc.claim}' claim") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("the token is not valid yet") from None
        except jwt.PyJWTError:
            raise TokenError("the token is invalid") from None
        exp, iat = claims["exp"], claims["iat"]
        if not isinstance(exp, (int, float)) or not isinstance(iat, (int, float)):
            raise TokenError("the token's exp and iat must be numbers")
        if exp - iat > self.max_lifetime + self.leeway:
            raise TokenError(f"the token lives longer than {self.max_lifetime:g} seconds")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise TokenError("the token's jti must be a non-empty string")
        self.replay.add(issuer.iss, jti, float(exp) + self.leeway)
        return claims
