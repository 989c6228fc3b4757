"""The playground: ``/playground``, one page to write a ruleset and try it, and the API it calls.

The page (``static/playground.html``) is self-contained: its style and
script are inline and it loads nothing from anywhere else, so it works on a
closed network.  Everything it shows comes from the library through three
calls, each under the service's limits (body size, JSON depth, time) and
the service's authentication:

- ``POST /playground/api/check`` ``{"text"}``: what ``cramprules check``
  finds, the tokens to colour, and the facts form (from the declarations);
- ``POST /playground/api/evaluate`` ``{"text", "facts"}``: the report as a
  person sees it (the HTML format), the trace, the explanation and what
  would change each outcome;
- ``POST /playground/api/graph`` ``{"text"}``: the graph as SVG.

Text typed in the playground has no place on disk, so ``include`` is
refused (the checker's ``include-unavailable`` error, with a hint for the
playground); ``extends`` may name only the rulesets this service's engine
offers (the bundled ones and those of installed plugins), which are public.
A visitor can never make the service read a file.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib.resources
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar
from typing import Any as AnyType

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cramprules.authoring.findings import CheckOptions
from cramprules.exceptions import CramprulesError, Diagnostic, FactError
from cramprules.explain import explain
from cramprules.graph import build_graph, draw_svg
from cramprules.lsp.analysis import Analysis, analyse, tokens
from cramprules.service.api import MAX_EXPLAIN_TARGETS, default_targets, describe, what_would_change
from cramprules.service.limits import read_json
from cramprules.service.problems import Problem, guarded

if TYPE_CHECKING:
    from cramprules.report import Report
    from cramprules.ruleset import Ruleset
    from cramprules.service.app import Service

__all__ = ["ORIGIN", "Playground", "playground_routes"]

ORIGIN = "playground.cramp"
"""The name the playground's text goes by in messages (and the ruleset's name if it gives none)."""

MAX_COMBINATIONS = 20_000
"""How hard ``check``'s analyses try on playground text: a tenth of the command's default."""

_NO_INCLUDE_HINT = (
    "the playground cannot read files: paste the included file's text in here, "
    "or 'extends' a ruleset this service offers"
)
_CACHE_SIZE = 16
T = TypeVar("T")


@functools.cache
def page() -> str:
    """The playground page, from the package (so it ships in the wheel)."""
    return (
        importlib.resources.files("cramprules.service").joinpath("static/playground.html").read_text("utf-8")
    )


def _diagnostic(d: Diagnostic) -> dict[str, AnyType]:
    hint = _NO_INCLUDE_HINT if d.code == "include-unavailable" else d.hint
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "hint": hint,
        "origin": d.origin,
        "line": d.line,
        "column": d.column,
        "end_column": d.end_column,
    }


class Playground:
    """The playground's routes.  Compiled texts are kept (a few) so a check and an evaluation share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._analyses: collections.OrderedDict[str, Analysis] = collections.OrderedDict()
        self._busy = anyio.Semaphore(2)
        """At most two checks at once, so the playground cannot starve the evaluation API."""

    # ------------------------------------------------------------ work off the event loop

    @staticmethod
    def service(request: Request) -> Service:
        service: Service = request.app.state.service
        return service

    def _analysis(self, service: Service, text: str) -> Analysis:
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._lock:
            if key in self._analyses:
                self._analyses.move_to_end(key)
                return self._analyses[key]
        analysis = analyse(service.engine, text, ORIGIN, options=CheckOptions(limit=MAX_COMBINATIONS))
        with self._lock:
            self._analyses[key] = analysis
            while len(self._analyses) > _CACHE_SIZE:
                self._analyses.popitem(last=False)
        return analysis

    def _ruleset(self, service: Service, text: str) -> Ruleset:
        analysis = self._analysis(service, text)
        if analysis.ruleset is None:
            first = next((d for d in analysis.findings if d.severity == "error"), None)
            where = f" (line {first.line})" if first is not None and first.line else ""
            message = first.message if first is not None else "it has errors"
            raise Problem(422, f"the ruleset does not load{where}: {message}")
        return analysis.ruleset

    async def _run(self, service: Service, work: Callable[[], T]) -> T:
        limits = service.config.limits
        try:
            with anyio.fail_after(limits.request_timeout):
                async with self._busy:
                    return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            raise Problem(503, "this took too long; make the ruleset smaller") from None

    async def _body(self, service: Service, request: Request) -> tuple[str, Mapping[str, object]]:
        await service.authorize(request)
        body = await read_json(request, service.config.limits)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise Problem(400, 'send a JSON object with the ruleset as "text", e.g. {"text": "fact a: bool"}')
        facts = body.get("facts", {})
        if not isinstance(facts, dict):
            raise Problem(400, '"facts" must be a JSON object of facts, e.g. {"pain": 9}')
        if len(facts) > service.config.limits.max_facts:
            raise Problem(413, f"at most {service.config.limits.max_facts} facts are read")
        return body["text"], facts

    # ------------------------------------------------------------ routes

    async def page(self, request: Request) -> Response:
        return HTMLResponse(
            page(),
            headers={
                "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; "
                "style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self' data: about:; "
                "connect-src 'self'; base-uri 'none'; form-action 'none'",
                "Cache-Control": "no-cache",
            },
        )

    async def check(self, request: Request) -> Response:
        service = self.service(request)
        text, _ = await self._body(service, request)

        def work() -> dict[str, AnyType]:
            analysis = self._analysis(service, text)
            ruleset = analysis.ruleset
            return {
                "loaded": analysis.loaded,
                "diagnostics": [_diagnostic(d) for d in analysis.findings if d.origin in (None, ORIGIN)],
                "elsewhere": [_diagnostic(d) for d in analysis.findings if d.origin not in (None, ORIGIN)],
                "tokens": [[t.line, t.column, t.length, t.kind] for t in tokens(text, analysis.symbols)],
                "ruleset": describe(ruleset) if ruleset is not None else None,
            }

        return JSONResponse(await self._run(service, work))

    async def evaluate(self, request: Request) -> Response:
        service = self.service(request)
        text, facts = await self._body(service, request)

        def work() -> dict[str, AnyType]:
            ruleset = self._ruleset(service, text)
            try:
                report = ruleset.evaluate(facts)
            except FactError as exc:
                raise Problem(422, str(exc)) from None
            try:
                page = service.engine.render(report, "html")
                plain = service.engine.render(report, "text")
            except CramprulesError as exc:
                raise Problem(500, f"the report could not be rendered: {exc}") from None
            return {
                "report": report.to_dict(),
                "html": page,
                "text": plain,
                "explanation": explain(report).to_dict(),
                "what_would_change": what_would_change(report, _targets(report)),
            }

        return JSONResponse(await self._run(service, work))

    async def graph(self, request: Request) -> Response:
        service = self.service(request)
        text, _ = await self._body(service, request)

        def work() -> dict[str, AnyType]:
            ruleset = self._ruleset(service, text)
            return {"svg": draw_svg(build_graph(ruleset))}

        return JSONResponse(await self._run(service, work))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/playground", guarded(self.page), methods=["GET"]),
            Route("/playground/api/check", guarded(self.check), methods=["POST"]),
            Route("/playground/api/evaluate", guarded(self.evaluate), methods=["POST"]),
            Route("/playground/api/graph", guarded(self.graph), methods=["POST"]),
        ]


def _targets(report: Report) -> list[str]:
    """Every outcome the report shows, then what is still open: what a person asks about."""
    shown = [r.to for r in report.referrals] + [c.name for c in report.causes]
    shown += [r.option for r in report.recommendations]
    return list(dict.fromkeys(shown + default_targets(report)))[:MAX_EXPLAIN_TARGETS]


def playground_routes() -> list[BaseRoute]:
    """The playground's routes, for ``create_app(routes=...)``; they find the service on the app."""
    return Playground().routes()
