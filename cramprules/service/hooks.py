"""The CDS Hooks 2.0 routes: discovery, hook calls (fetching what prefetch lacks), feedback.

What a service offers and how FHIR becomes facts and reports become cards is
in :mod:`cramprules.service.cds`; this module speaks HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from typing import Any as AnyType

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cramprules.exceptions import FactError
from cramprules.service import cds
from cramprules.service.limits import read_json
from cramprules.service.problems import Problem, guarded

if TYPE_CHECKING:
    from cramprules.service.app import Service

__all__ = ["CdsHooks"]


def _client() -> httpx.AsyncClient:
    # No proxies from the environment and no redirects: the service goes only where the call says.
    return httpx.AsyncClient(follow_redirects=False, trust_env=False)


class CdsHooks:
    """The ``/cds-services`` routes, and the HTTP client they fetch FHIR data with."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.http: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        http, self.http = self.http, None
        if http is not None:
            await http.aclose()

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({"services": [s.to_dict() for s in self.service.services.values()]})

    def cds_service(self, request: Request) -> cds.CdsService:
        found = self.service.services.get(request.path_params["id"])
        if found is None:
            raise Problem(404, f"no CDS service '{request.path_params['id']}'; GET /cds-services lists them")
        return found

    async def hook(self, request: Request) -> Response:
        service = self.cds_service(request)
        await self.service.authorize(request)
        started = time.perf_counter()
        body = await read_json(request, self.service.config.limits)
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
        ruleset = self.service.ruleset(service.ruleset)
        topics: tuple[str, ...] = ()
        if service.hook == "order-select":
            topics = cds.order_topics(context)
            if not topics:
                return JSONResponse({"cards": []})
        resources, missing = cds.split_prefetch(prefetch, service.prefetch)
        if missing:
            resources += await self.fetch(body, service.prefetch, missing, context)
        if len(resources) > self.service.config.limits.max_resources:
            raise Problem(
                413,
                f"the call holds {len(resources)} FHIR resources; at most "
                f"{self.service.config.limits.max_resources} are read",
            )
        try:
            facts = cds.patient_facts(self.service.engine, ruleset, resources, patient)
        except FactError as exc:
            raise Problem(422, str(exc)) from None
        if "diuretic" in topics and "diuretics" in ruleset.facts:
            facts["diuretics"] = True  # the order being placed
        report = self.service.evaluate(ruleset, facts)
        cards = cds.make_cards(
            self.service.engine,
            report,
            patient=patient,
            dates=cds.lab_dates(resources, ruleset),
            orders=self.service.orders,
            questions=service.hook == "patient-view",
        )
        self.service.log_decision(
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
        allowed = self.service.config.fhir_servers
        if allowed and not any(server.startswith(prefix) for prefix in allowed):
            raise Problem(403, "this fhirServer is not on the service's allow-list")
        headers = {"Accept": "application/fhir+json"}
        authorization = body.get("fhirAuthorization")
        if isinstance(authorization, dict) and isinstance(authorization.get("access_token"), str):
            headers["Authorization"] = f"Bearer {authorization['access_token']}"
        if self.http is None:
            self.http = _client()
        limits = self.service.config.limits
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
        await self.service.authorize(request)
        body = await read_json(request, self.service.config.limits)
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
        if self.service.decisions is not None:
            for item in items:
                reason = item.get("overrideReason")
                coding = reason.get("reason") if isinstance(reason, dict) else None
                self.service.decisions.write(
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

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/cds-services", guarded(self.discovery), methods=["GET"]),
            Route("/cds-services/{id}", guarded(self.hook), methods=["POST"]),
            Route("/cds-services/{id}/feedback", guarded(self.feedback), methods=["POST"]),
        ]
