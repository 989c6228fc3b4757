"""The ASGI application: CDS Hooks, the evaluation API, health and the OpenAPI schema.

:func:`create_app` builds a Starlette app around one :class:`Service`, which
holds what every route shares (the engine, the compiled rulesets, the token
verifier, the decision log, the FHIR client).  Extra routes (a playground
page, say) are passed to ``create_app(routes=...)``; they reach the service
as ``request.app.state.service``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING
from typing import Any as AnyType

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cramprules.exceptions import FactError
from cramprules.service import cds
from cramprules.service.api import EvaluationApi
from cramprules.service.auth import TokenError, Verifier
from cramprules.service.config import ServiceConfig
from cramprules.service.decisions import DecisionLog
from cramprules.service.hooks import CdsHooks
from cramprules.service.limits import read_json
from cramprules.service.openapi import openapi_document
from cramprules.service.problems import Problem, guarded, problem_response

if TYPE_CHECKING:
    from cramprules.engine import Engine
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset

__all__ = ["Service", "create_app"]

log = logging.getLogger("cramprules.service")


class Service:
    """What the routes share.  Rulesets are compiled before the first request."""

    def __init__(
        self,
        config: ServiceConfig,
        engine: Engine,
        rulesets: Sequence[Ruleset],
        orders: Mapping[str, Sequence[cds.LabOrder]] = cds.DEFAULT_ORDERS,
    ) -> None:
        self.config = config
        self.engine = engine
        self.rulesets = {rs.name: rs for rs in rulesets}
        self.orders = orders
        self.verifier = (
            Verifier(
                config.issuers,
                config.audiences,
                leeway=config.leeway,
                max_lifetime=config.max_token_lifetime,
                timeout=config.limits.fhir_timeout,
            )
            if config.auth
            else None
        )
        self.decisions = (
            DecisionLog(config.decision_log, patient_data=config.log_patient_data)
            if config.decision_log
            else None
        )
        self.cds_enabled = cds.cds_available(engine)
        self.services = {s.id: s for s in cds.discover(self.rulesets.values())} if self.cds_enabled else {}
        self.api = EvaluationApi(self)
        self.hooks = CdsHooks(self)

    # ------------------------------------------------------------ shared steps

    def warm_up(self) -> None:
        for ruleset in self.rulesets.values():
            cds.patient_facts(self.engine, ruleset, [{"resourceType": "Patient", "id": "warm-up"}], "warm-up")

    async def authorize(self, request: Request) -> dict[str, AnyType] | None:
        """The verified claims of the bearer token (None with authentication off)."""
        if self.verifier is None:
            return None
        challenge = {"WWW-Authenticate": 'Bearer realm="cramprules"'}
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "send a JWT as 'Authorization: Bearer <token>'", headers=challenge)
        try:
            return await anyio.to_thread.run_sync(self.verifier.verify, token.strip())
        except TokenError as exc:
            raise Problem(401, str(exc), headers=challenge) from None

    def ruleset(self, name: str) -> Ruleset:
        found = self.rulesets.get(name)
        if found is None:
            raise Problem(404, f"no ruleset '{name}' is served here; GET /v1/rulesets lists them")
        return found

    def log_decision(self, report: Report, started: float, **fields: AnyType) -> None:
        if self.decisions is not None:
            self.decisions.decision(report, latency_ms=(time.perf_counter() - started) * 1000, **fields)

    async def facts_body(self, request: Request) -> dict[str, object]:
        body = await read_json(request, self.config.limits)
        if not isinstance(body, dict):
            raise Problem(400, 'the body must be a JSON object of facts, e.g. {"pain": 9}')
        if len(body) > self.config.limits.max_facts:
            raise Problem(
                413, f"the body has {len(body)} facts; at most {self.config.limits.max_facts} are read"
            )
        return body

    @staticmethod
    def evaluate(ruleset: Ruleset, facts: Mapping[str, object]) -> Report:
        try:
            return ruleset.evaluate(facts)
        except FactError as exc:
            raise Problem(422, str(exc)) from None

    # ------------------------------------------------------------ health and schema

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if not self.rulesets:
            raise Problem(503, "no ruleset is loaded")
        return JSONResponse(
            {"status": "ready", "rulesets": sorted(self.rulesets), "cds_hooks": self.cds_enabled}
        )

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document(self))

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/healthz", guarded(self.healthz), methods=["GET"]),
            Route("/readyz", guarded(self.readyz), methods=["GET"]),
            Route("/openapi.json", guarded(self.openapi), methods=["GET"]),
            *self.hooks.routes(),
            *self.api.routes(),
        ]


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = {
        404: f"nothing at {request.url.path}; see /openapi.json",
        405: f"{request.method} is not allowed here",
    }
    return problem_response(status, detail.get(status, "the request could not be served"))


async def _failed(request: Request, exc: Exception) -> Response:
    return problem_response(500, "the service failed to answer; the error is in its log")


def create_app(
    config: ServiceConfig,
    *,
    engine: Engine | None = None,
    rulesets: Sequence[Ruleset] | None = None,
    routes: Sequence[BaseRoute] = (),
    orders: Mapping[str, Sequence[cds.LabOrder]] = cds.DEFAULT_ORDERS,
) -> Starlette:
    """The service as an ASGI app, ready for uvicorn or any ASGI server.

    Rulesets come from ``rulesets``, else from ``config.rulesets`` (names or
    paths), else the bundled default; they are compiled here, so a broken
    ruleset fails before the server listens.  ``routes`` are added after the
    built-in ones.
    """
    if engine is None:
        from cramprules.engine import Engine

        engine = Engine()
    if rulesets is None:
        names = config.rulesets
        rulesets = [engine.load_ruleset(name) for name in names] if names else [engine.default_ruleset()]
    service = Service(config, engine, rulesets, orders)
    if not config.auth:
        log.warning(
            "AUTHENTICATION IS OFF (--no-auth): anyone who can reach this port can call it; "
            "for local development only"
        )
    if not service.cds_enabled:
        log.warning("CDS Hooks are off: no plugin reads FHIR; install cramprules-fhir")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if service.decisions is not None:
            service.decisions.open()
        if service.cds_enabled:  # load the FHIR models now, not on the first call
            await anyio.to_thread.run_sync(service.warm_up)
        try:
            yield
        finally:
            await service.hooks.aclose()
            if service.decisions is not None:
                service.decisions.close()

    middleware = []
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    app = Starlette(
        routes=[*service.routes(), *routes],
        middleware=middleware,
        exception_handlers={HTTPException: _not_found, Exception: _failed},
        lifespan=lifespan,
    )
    app.state.service = service
    return app
