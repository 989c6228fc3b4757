"""The OpenAPI 3.1 document served at ``/openapi.json``.

Written out rather than generated from the routes, so it says what each
answer means; the report schema is the one ``Report.to_dict()`` follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any as AnyType

from cramprules._version import __version__

if TYPE_CHECKING:
    from cramprules.service.app import Service

__all__ = ["openapi_document"]

_PROBLEM = {
    "description": "A problem (RFC 9457)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _json(description: str, schema: dict[str, AnyType]) -> dict[str, AnyType]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, AnyType]:
    return {str(code): _PROBLEM for code in codes}


def openapi_document(service: Service) -> dict[str, AnyType]:
    from cramprules.report import report_schema

    secured: list[dict[str, list[str]]] = [{"cdsHooksJwt": []}] if service.config.auth else []
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
    cds_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    facts_body = {
        "required": True,
        "description": 'The facts, as `cramprules eval --facts` reads a JSON file: {"pain": 9}',
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    report = {"$ref": "#/components/schemas/Report"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cramprules service",
            "version": __version__,
            "description": "CDS Hooks 2.0 services and a JSON evaluation API over cramprules rulesets.",
        },
        "paths": {
            "/healthz": {
                "get": {"summary": "Liveness", "responses": {"200": _json("alive", {"type": "object"})}}
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: rulesets compiled",
                    "responses": {"200": _json("ready", {"type": "object"}), **_errors(503)},
                }
            },
            "/cds-services": {
                "get": {
                    "summary": "CDS Hooks discovery",
                    "responses": {"200": _json("the services", {"type": "object"})},
                }
            },
            "/cds-services/{id}": {
                "post": {
                    "summary": "Call a CDS service (hook, hookInstance, context, prefetch, fhirServer)",
                    "parameters": [cds_id],
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "200": _json("CDS Hooks cards", {"type": "object"}),
                        **_errors(400, 401, 404, 408, 412, 413, 422),
                    },
                }
            },
            "/cds-services/{id}/feedback": {
                "post": {
                    "summary": "Feedback on cards: accepted or overridden",
                    "parameters": [cds_id],
                    "security": secured,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {"200": {"description": "recorded"}, **_errors(400, 401, 404)},
                }
            },
            "/v1/rulesets": {
                "get": {
                    "summary": "The rulesets served",
                    "security": secured,
                    "responses": {"200": _json("rulesets", {"type": "object"}), **_errors(401)},
                }
            },
            "/v1/rulesets/{name}": {
                "get": {
                    "summary": "A ruleset's facts (types, questions), options, causes and sources",
                    "parameters": [name],
                    "security": secured,
                    "responses": {"200": _json("the ruleset", {"type": "object"}), **_errors(401, 404)},
                }
            },
            "/v1/rulesets/{name}/evaluate": {
                "post": {
                    "summary": "Evaluate facts; the report JSON, or ?format= any registered format",
                    "parameters": [
                        name,
                        {
                            "name": "format",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "default": "json",
                                "enum": sorted(service.engine.formats()),
                            },
                        },
                        {
                            "name": "audience",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["patient", "clinician"],
                                "default": "patient",
                            },
                        },
                    ],
                    "security": secured,
                    "requestBody": facts_body,
                    "responses": {
                        "200": _json("the report", report),
                        **_errors(400, 401, 404, 408, 413, 422),
                    },
                }
            },
            "/v1/rulesets/{name}/explain": {
                "post": {
                    "summary": "Evaluate and explain: every rule's outcome and what would change each outcome",
                    "parameters": [
                        name,
                        {
                            "name": "target",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "An option, cause or referral target; repeatable",
                        },
                    ],
                    "security": secured,
                    "requestBody": facts_body,
                    "responses": {
                        "200": _json("report and explanation", {"type": "object"}),
                        **_errors(400, 401, 404, 408, 413, 422, 503),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"cdsHooksJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Report": {k: v for k, v in report_schema().items() if k not in ("$schema", "$id")},
                "Problem": {
                    "type": "object",
                    "required": ["title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    }
