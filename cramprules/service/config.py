"""What a deployment decides: rulesets, who may call, limits, CORS and the decision log.

Plain data, read from a TOML file (``cramprules serve --config FILE``) or
built in Python, and imported without the web framework, so a bad setting is
one clear error before anything listens on a port.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any as AnyType

import attrs

from cramprules.exceptions import CramprulesError

__all__ = ["ConfigError", "Issuer", "Limits", "ServiceConfig", "load_config"]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class ConfigError(CramprulesError):
    """A service setting that cannot work, said in one line."""


def _positive(instance: object, attribute: attrs.Attribute[AnyType], value: float) -> None:
    if value <= 0:
        raise ConfigError(f"service limit '{attribute.name}' must be above 0, got {value}")


@attrs.frozen
class Issuer:
    """A CDS client allowed to call: its ``iss`` and where its public keys are.

    ``jwks_url`` is fetched (and cached) when a token of this issuer arrives;
    ``jwks`` gives the key set inline instead, for closed networks and tests.
    """

    iss: str
    jwks_url: str | None = None
    jwks: Mapping[str, AnyType] | None = attrs.field(default=None, hash=False)

    def __attrs_post_init__(self) -> None:
        if (self.jwks_url is None) == (self.jwks is None):
            raise ConfigError(f"issuer '{self.iss}' needs exactly one of 'jwks_url' or 'jwks'")


@attrs.frozen
class Limits:
    """Bounds on one request, so no caller can hold the service or its memory.

    Defaults suit a CDS Hooks call: a prefetch of a few hundred resources is
    far below a mebibyte, and an evaluation takes well under a millisecond.
    """

    max_body_bytes: int = attrs.field(default=1_048_576, validator=_positive)
    max_json_depth: int = attrs.field(default=64, validator=_positive)
    max_facts: int = attrs.field(default=200, validator=_positive)
    """Facts in one evaluation body."""
    max_resources: int = attrs.field(default=2_000, validator=_positive)
    """FHIR resources in one hook call, prefetched and fetched together."""
    request_timeout: float = attrs.field(default=10.0, validator=_positive)
    """Seconds for reading a body and deciding; a slower request gets 408 or 503."""
    fhir_timeout: float = attrs.field(default=5.0, validator=_positive)
    max_fhir_bytes: int = attrs.field(default=5_242_880, validator=_positive)
    max_concurrency: int = attrs.field(default=200, validator=_positive)
    """Open connections uvicorn accepts before answering 503 (``cramprules serve``)."""


@attrs.frozen
class ServiceConfig:
    """Everything ``create_app`` needs besides the engine.

    ``auth=False`` is for local development only: ``cramprules serve
    --no-auth`` sets it, and the service says so loudly in its log.
    """

    rulesets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    auth: bool = True
    issuers: tuple[Issuer, ...] = attrs.field(default=(), converter=tuple)
    audiences: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """Accepted ``aud`` values: the service's base URL and/or its endpoint URLs."""
    leeway: float = 30.0
    """Seconds of clock skew tolerated on ``exp``, ``iat`` and ``nbf``."""
    max_token_lifetime: float = 300.0
    """The longest ``exp - iat`` accepted: CDS Hooks asks for five minutes at most."""
    cors_origins: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    limits: Limits = attrs.field(factory=Limits)
    decision_log: str | None = None
    """A file to append one JSON line per decision to, ``-`` for stderr, or None."""
    log_patient_data: bool = False
    """Whether decision log lines carry the facts and the patient id."""
    fhir_servers: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    """URL prefixes a hook's ``fhirServer`` must start with; empty allows any."""

    def __attrs_post_init__(self) -> None:
        if self.auth and not self.issuers:
            raise ConfigError(
                "authentication is on but no issuer is configured; add [[service.issuers]] "
                "to the config, or use --no-auth for local development"
            )
        if self.auth and not self.audiences:
            raise ConfigError(
                "authentication is on but no audience is configured; set service.audiences "
                "to the URL the CDS client calls, e.g. ['https://cds.example.org/cds-services']"
            )


_SERVICE_KEYS = {f.name for f in attrs.fields(ServiceConfig)} - {"limits", "issuers"}
_LIMIT_KEYS = {f.name for f in attrs.fields(Limits)}


def load_config(path: str | Path, **overrides: AnyType) -> ServiceConfig:
    """Read a TOML config (a ``[service]`` table); ``overrides`` win over the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return config_from_mapping(data.get("service", {}), origin=str(path), **overrides)


def config_from_mapping(
    data: Mapping[str, AnyType], *, origin: str = "config", **overrides: AnyType
) -> ServiceConfig:
    """A config from plain data (a parsed ``[service]`` table)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: [service] must be a table")
    unknown = set(data) - _SERVICE_KEYS - {"limits", "issuers"}
    if unknown:
        raise ConfigError(
            f"{origin}: unknown setting(s) {', '.join(sorted(unknown))} in [service]; "
            f"known: {', '.join(sorted(_SERVICE_KEYS | {'limits', 'issuers'}))}"
        )
    limits_data = data.get("limits", {})
    bad = set(limits_data) - _LIMIT_KEYS
    if bad:
        raise ConfigError(
            f"{origin}: unknown limit(s) {', '.join(sorted(bad))}; known: {', '.join(sorted(_LIMIT_KEYS))}"
        )
    issuers = []
    for entry in data.get("issuers", ()):
        if not isinstance(entry, Mapping) or "iss" not in entry:
            raise ConfigError(f"{origin}: each [[service.issuers]] needs 'iss' and 'jwks_url' (or 'jwks')")
        issuers.append(Issuer(entry["iss"], entry.get("jwks_url"), entry.get("jwks")))
    values: dict[str, AnyType] = {k: v for k, v in data.items() if k in _SERVICE_KEYS}
    values["issuers"] = issuers
    try:
        values["limits"] = Limits(**limits_data)
        values.update(overrides)
        return ServiceConfig(**values)
    except TypeError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
