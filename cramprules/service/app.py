"""The ASGI application: CDS Hooks, the evaluation API, health and the OpenAPI schema.

:func:`create_app` builds a Starlette app around one :class:`Service`, which
holds what every route shares (the engine, the compiled rulesets, the token
verifier, the decision log, the FHIR client).  Extra routes (a playground
page, say) are passed to ``create_app(routes=...)``; they reach the service
as ``request.app.state.service``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING
from typing import Any as AnyType

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cramprules.exceptions import CramprulesError, FactError
from cramprules.service import cds
from cramprules.service.auth import TokenError, Verifier
from cramprules.service.config import ServiceConfig
from cramprules.service.decisions import DecisionLog
from cramprules.service.limits import read_json
from cramprules.service.openapi import openapi_document
from cramprules.service.problems import Problem, problem_response

if TYPE_CHECKING:
    from cramprules.engine import Engine
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset

__all__ = ["Service", "create_app", "default_targets", "describe", "guarded", "what_would_change"]

log = logging.getLogger("cramprules.service")

MEDIA_TYPES = {
    "json": "application/json",
    "cds-hooks": "application/json",
    "html": "text/html; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
}
"""Content types of the formats that have one; any other format is plain text."""

MAX_EXPLAIN_TARGETS = 10
EXPLAIN_BUDGET = 5_000

Handler = Callable[[Request], Awaitable[Response]]


def guarded(handler: Handler) -> Handler:
    """Every failure becomes problem JSON; an unexpected one is logged, never shown."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except Problem as problem:
            return problem_response(problem.status, problem.detail, problem.headers)
        except Exception:
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            return problem_response(500, "the service failed to answer; the error is in its log")

    return run


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
        self.http: httpx.AsyncClient | None = None

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

    # ------------------------------------------------------------ evaluation API

    async def list_rulesets(self, request: Request) -> Response:
        await self.authorize(request)
        return JSONResponse({"rulesets": [_summary(rs) for rs in self.rulesets.values()]})

    async def describe_ruleset(self, request: Request) -> Response:
        await self.authorize(request)
        return JSONResponse(describe(self.ruleset(request.path_params["name"])))

    async def evaluate_route(self, request: Request) -> Response:
        await self.authorize(request)
        started = time.perf_counter()
        ruleset = self.ruleset(request.path_params["name"])
        format_name = request.query_params.get("format", "json")
        audience = request.query_params.get("audience", "patient")
        if audience not in ("patient", "clinician"):
            raise Problem(400, "audience must be 'patient' or 'clinician'")
        formats = self.engine.formats()
        if format_name not in formats:
            raise Problem(400, f"unknown format '{format_name}'; available: {', '.join(sorted(formats))}")
        report = self.evaluate(ruleset, await self.facts_body(request))
        if format_name == "json":
            response: Response = JSONResponse(report.to_dict())
        else:
            try:
                text = self.engine.render(report, format_name, audience=audience)
            except CramprulesError as exc:
                log.error("format %s failed: %s", format_name, exc)
                raise Problem(500, f"the format '{format_name}' failed to render this report") from None
            response = Response(text, media_type=MEDIA_TYPES.get(format_name, "text/plain; charset=utf-8"))
        self.log_decision(report, started, endpoint="evaluate")
        return response

    async def explain_route(self, request: Request) -> Response:
        await self.authorize(request)
        started = time.perf_counter()
        ruleset = self.ruleset(request.path_params["name"])
        report = self.evaluate(ruleset, await self.facts_body(request))
        targets = request.query_params.getlist("target") or default_targets(report)
        if len(targets) > MAX_EXPLAIN_TARGETS:
            raise Problem(400, f"ask about at most {MAX_EXPLAIN_TARGETS} targets at a time")
        try:
            with anyio.fail_after(self.config.limits.request_timeout):
                changes = await anyio.to_thread.run_sync(
                    what_would_change, report, targets, abandon_on_cancel=True
                )
        except TimeoutError:
            raise Problem(503, "the explanation took too long; ask about fewer targets") from None
        self.log_decision(report, started, endpoint="explain")
        document = report.to_dict()
        return JSONResponse(
            {
                "report": document,
                "explanation": {
                    "rules": document["trace"],
                    "questions": document["questions"],
                    "what_would_change": changes,
                },
            }
        )

    # ------------------------------------------------------------ CDS Hooks

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({"services": [s.to_dict() for s in self.services.values()]})

    def cds_service(self, request: Request) -> cds.CdsService:
        found = self.services.get(request.path_params["id"])
        if found is None:
            raise Problem(404, f"no CDS service '{request.path_params['id']}'; GET /cds-services lists them")
        return found

    async def hook(self, request: Request) -> Response:
        service = self.cds_service(request)
        await self.authorize(request)
        started = time.perf_counter()
        body = await read_json(request, self.config.limits)
        if not isinstance(body, dict):
            raise Problem(400, "a CDS Hooks request is a JSON object with hook, hookInstance and context")
        if body.get("hook") != service.hook:
            raise Problem(
                400, f"service '{service.id}' answers the hook '{service.hook}', not {body.get('hook')!r}"
            )
        instance = body.get("hookInstance")
        context = body.get("context")
        prefetch = body.get("prefetch")
        if not isinstance(instance, str) or not instance:
            raise Problem(400, "hookInstance must be a non-empty string (a UUID)")
        if not isinstance(context, dict):
            raise Problem(400, "context must be a JSON object")
        if prefetch is not None and not isinstance(prefetch, dict):
            raise Problem(400, "prefetch must be a JSON object of prefetched resources")
        patient = cds.check_patient_id(context)
        ruleset = self.ruleset(service.ruleset)
        topics: tuple[str, ...] = ()
        if service.hook == "order-select":
            topics = cds.order_topics(context)
            if not topics:
                return JSONResponse({"cards": []})
        resources, missing = cds.split_prefetch(prefetch, service.prefetch)
        if missing:
            resources += await self.fetch(body, service.prefetch, missing, context)
        if len(resources) > self.config.limits.max_resources:
            raise Problem(
                413,
                f"the call holds {len(resources)} FHIR resources; at most "
                f"{self.config.limits.max_resources} are read",
            )
        try:
            facts = cds.patient_facts(self.engine, ruleset, resources, patient)
        except FactError as exc:
            raise Problem(422, str(exc)) from None
        if "diuretic" in topics and "diuretics" in ruleset.facts:
            facts["diuretics"] = True  # the order being placed
        report = self.evaluate(ruleset, facts)
        cards = cds.make_cards(
            self.engine,
            report,
            patient=patient,
            dates=cds.lab_dates(resources, ruleset),
            orders=self.orders,
            questions=service.hook == "patient-view",
        )
        self.log_decision(
            report,
            started,
            endpoint=f"cds-services/{service.id}",
            hook=service.hook,
            hook_instance=instance,
            patient=patient,
        )
        return JSONResponse({"cards": cards})

    async def fetch(
        self,
        body: Mapping[str, AnyType],
        templates: Mapping[str, str],
        missing: Sequence[str],
        context: Mapping[str, AnyType],
    ) -> list[dict[str, AnyType]]:
        """What prefetch lacks, from the client's FHIR server with its access token."""
        server = body.get("fhirServer")
        if not isinstance(server, str) or not server:
            raise Problem(
                412, f"prefetch lacks {', '.join(missing)} and no fhirServer was given to fetch it from"
            )
        if not server.lower().startswith(("https://", "http://")):
            raise Problem(400, "fhirServer must be an http(s) URL")
        allowed = self.config.fhir_servers
        if allowed and not any(server.startswith(prefix) for prefix in allowed):
            raise Problem(403, "this fhirServer is not on the service's allow-list")
        headers = {"Accept": "application/fhir+json"}
        authorization = body.get("fhirAuthorization")
        if isinstance(authorization, dict) and isinstance(authorization.get("access_token"), str):
            headers["Authorization"] = f"Bearer {authorization['access_token']}"
        if self.http is None:
            self.http = _client()
        limits = self.config.limits
        found: list[dict[str, AnyType]] = []
        for key in missing:
            url = f"{server.rstrip('/')}/{cds.render_template(templates[key], context)}"
            try:
                with anyio.fail_after(limits.fhir_timeout):
                    async with self.http.stream("GET", url, headers=headers) as answer:
                        if answer.status_code == 404 and key == "patient":
                            continue
                        if answer.status_code != 200:
                            raise Problem(
                                412, f"the FHIR server answered {answer.status_code} when asked for {key}"
                            )
                        data = bytearray()
                        async for chunk in answer.aiter_bytes():
                            data += chunk
                            if len(data) > limits.max_fhir_bytes:
                                raise Problem(412, f"the FHIR server's answer for {key} is too large")
            except TimeoutError:
                raise Problem(412, f"the FHIR server did not answer in time when asked for {key}") from None
            except httpx.HTTPError:
                raise Problem(412, f"the FHIR server could not be reached when asked for {key}") from None
            try:
                value = json.loads(bytes(data))
            except (ValueError, RecursionError):
                raise Problem(412, f"the FHIR server's answer for {key} is not JSON") from None
            found.extend(cds.resources_of(value))
        return found

    async def feedback(self, request: Request) -> Response:
        service = self.cds_service(request)
        await self.authorize(request)
        body = await read_json(request, self.config.limits)
        items = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise Problem(400, "feedback must be an object with a non-empty 'feedback' list")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("card"), str):
                raise Problem(400, "each feedback item needs the 'card' uuid")
            if item.get("outcome") not in ("accepted", "overridden"):
                raise Problem(400, "each feedback item's outcome must be 'accepted' or 'overridden'")
            if not isinstance(item.get("outcomeTimestamp"), str):
                raise Problem(400, "each feedback item needs its outcomeTimestamp")
        if self.decisions is not None:
            for item in items:
                reason = item.get("overrideReason")
                coding = reason.get("reason") if isinstance(reason, dict) else None
                self.decisions.write(
                    {
                        "event": "feedback",
                        "service": service.id,
                        "card": item["card"],
                        "outcome": item["outcome"],
                        "overrideReason": coding.get("code") if isinstance(coding, dict) else None,
                        "acceptedSuggestions": [
                            s.get("id") for s in item.get("acceptedSuggestions") or () if isinstance(s, dict)
                        ],
                        "outcomeTimestamp": item["outcomeTimestamp"],
                    }
                )
        return Response(status_code=200)

    # ------------------------------------------------------------ routes

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/healthz", guarded(self.healthz), methods=["GET"]),
            Route("/readyz", guarded(self.readyz), methods=["GET"]),
            Route("/openapi.json", guarded(self.openapi), methods=["GET"]),
            Route("/cds-services", guarded(self.discovery), methods=["GET"]),
            Route("/cds-services/{id}", guarded(self.hook), methods=["POST"]),
            Route("/cds-services/{id}/feedback", guarded(self.feedback), methods=["POST"]),
            Route("/v1/rulesets", guarded(self.list_rulesets), methods=["GET"]),
            Route("/v1/rulesets/{name}", guarded(self.describe_ruleset), methods=["GET"]),
            Route("/v1/rulesets/{name}/evaluate", guarded(self.evaluate_route), methods=["POST"]),
            Route("/v1/rulesets/{name}/explain", guarded(self.explain_route), methods=["POST"]),
        ]


def _client() -> httpx.AsyncClient:
    # No proxies from the environment and no redirects: the service goes only where the call says.
    return httpx.AsyncClient(follow_redirects=False, trust_env=False)


def _summary(ruleset: Ruleset) -> dict[str, AnyType]:
    return {
        "name": ruleset.name,
        "title": ruleset.title,
        "version": ruleset.version,
        "sha256": ruleset.sha256,
        "links": {
            "self": f"/v1/rulesets/{ruleset.name}",
            "evaluate": f"/v1/rulesets/{ruleset.name}/evaluate",
            "explain": f"/v1/rulesets/{ruleset.name}/explain",
        },
    }


def describe(ruleset: Ruleset) -> dict[str, AnyType]:
    """A ruleset's inputs and outputs: facts with types and questions, options, causes, sources."""
    facts = []
    for spec in ruleset.facts.values():
        fact: dict[str, AnyType] = {
            "name": spec.name,
            "type": spec.kind,
            "question": spec.prompt,
            "derived": spec.derived,
        }
        if spec.kind == "enum":
            fact["values"] = list(spec.values)
        if spec.low is not None:
            fact["low"] = spec.low
        if spec.high is not None:
            fact["high"] = spec.high
        if spec.unit:
            fact["unit"] = spec.unit
        facts.append(fact)
    cited = dict.fromkeys(
        [name for rule in ruleset.rules for name in rule.sources]
        + [name for cause in ruleset.causes.values() for name in cause.sources]
    )
    sources = [ruleset.source(name) for name in cited]
    return {
        **_summary(ruleset),
        "engine_version": ruleset.engine_version,
        "facts": facts,
        "options": [{"name": o.name, "label": o.label, "group": o.group} for o in ruleset.options.values()],
        "causes": [
            {"name": c.name, "label": c.label, "sources": list(c.sources)} for c in ruleset.causes.values()
        ],
        "sources": [
            {"name": s.name, "label": s.label, "url": s.url} for s in sorted(sources, key=lambda s: s.name)
        ],
    }


def default_targets(report: Report) -> list[str]:
    """What to explain unless asked: every conditional outcome, then pending rules' targets."""
    targets = [r.option for r in report.recommendations if r.status == "conditional"]
    targets += [c.name for c in report.causes if c.status == "conditional"]
    targets += [r.to for r in report.referrals if r.status == "conditional"]
    pending = {t.rule for t in report.trace if t.outcome == "pending"}
    for rule in report.ruleset.rules:
        if rule.name in pending:
            targets += [a.target for a in rule.actions]
    return list(dict.fromkeys(targets))[:MAX_EXPLAIN_TARGETS]


def what_would_change(report: Report, targets: Sequence[str]) -> dict[str, AnyType]:
    out: dict[str, AnyType] = {}
    for target in targets:
        try:
            found = report.what_would_change(target, budget=EXPLAIN_BUDGET)
        except KeyError:
            raise Problem(
                400, f"'{target}' is not an option, cause or referral target of this ruleset"
            ) from None
        out[target] = [
            {
                "changes": [{"fact": c.fact, "from": c.before, "to": c.after} for c in what.changes],
                "before": what.before,
                "after": what.after,
            }
            for what in found
        ]
    return out


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
        service.http = _client()
        if service.cds_enabled:  # load the FHIR models now, not on the first call
            await anyio.to_thread.run_sync(service.warm_up)
        try:
            yield
        finally:
            await service.http.aclose()
            service.http = None
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
