"""The evaluation API, in the spirit of OPA's data API: rulesets, evaluate, explain.

The body of an evaluation is the facts object itself, as ``cramprules eval
--facts`` reads a JSON file; the answer is the report JSON (the versioned
report schema), or any registered format with ``?format=``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any as AnyType

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cramprules.exceptions import CramprulesError
from cramprules.service.problems import Problem, guarded

if TYPE_CHECKING:
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset
    from cramprules.service.app import Service

__all__ = ["EvaluationApi", "default_targets", "describe", "what_would_change"]

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


class EvaluationApi:
    """The ``/v1`` routes."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def list_rulesets(self, request: Request) -> Response:
        await self.service.authorize(request)
        return JSONResponse({"rulesets": [_summary(rs) for rs in self.service.rulesets.values()]})

    async def describe_ruleset(self, request: Request) -> Response:
        await self.service.authorize(request)
        return JSONResponse(describe(self.service.ruleset(request.path_params["name"])))

    async def evaluate(self, request: Request) -> Response:
        await self.service.authorize(request)
        started = time.perf_counter()
        ruleset = self.service.ruleset(request.path_params["name"])
        format_name = request.query_params.get("format", "json")
        audience = request.query_params.get("audience", "patient")
        if audience not in ("patient", "clinician"):
            raise Problem(400, "audience must be 'patient' or 'clinician'")
        formats = self.service.engine.formats()
        if format_name not in formats:
            raise Problem(400, f"unknown format '{format_name}'; available: {', '.join(sorted(formats))}")
        report = self.service.evaluate(ruleset, await self.service.facts_body(request))
        if format_name == "json":
            response: Response = JSONResponse(report.to_dict())
        else:
            try:
                text = self.service.engine.render(report, format_name, audience=audience)
            except CramprulesError as exc:
                log.error("format %s failed: %s", format_name, exc)
                raise Problem(500, f"the format '{format_name}' failed to render this report") from None
            response = Response(text, media_type=MEDIA_TYPES.get(format_name, "text/plain; charset=utf-8"))
        self.service.log_decision(report, started, endpoint="evaluate")
        return response

    async def explain(self, request: Request) -> Response:
        await self.service.authorize(request)
        started = time.perf_counter()
        ruleset = self.service.ruleset(request.path_params["name"])
        report = self.service.evaluate(ruleset, await self.service.facts_body(request))
        targets = request.query_params.getlist("target") or default_targets(report)
        if len(targets) > MAX_EXPLAIN_TARGETS:
            raise Problem(400, f"ask about at most {MAX_EXPLAIN_TARGETS} targets at a time")
        try:
            with anyio.fail_after(self.service.config.limits.request_timeout):
                changes = await anyio.to_thread.run_sync(
                    what_would_change, report, targets, abandon_on_cancel=True
                )
        except TimeoutError:
            raise Problem(503, "the explanation took too long; ask about fewer targets") from None
        self.service.log_decision(report, started, endpoint="explain")
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

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/v1/rulesets", guarded(self.list_rulesets), methods=["GET"]),
            Route("/v1/rulesets/{name}", guarded(self.describe_ruleset), methods=["GET"]),
            Route("/v1/rulesets/{name}/evaluate", guarded(self.evaluate), methods=["POST"]),
            Route("/v1/rulesets/{name}/explain", guarded(self.explain), methods=["POST"]),
        ]


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
