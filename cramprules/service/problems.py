"""Errors as problem JSON (RFC 9457): a status, a title and one plain sentence.

No response ever carries a traceback, a Python type or a module name: an
unexpected error is logged on the server and answered with a generic 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["PROBLEM_TYPE", "Problem", "guarded", "problem_response"]

log = logging.getLogger("cramprules.service")

Handler = Callable[[Request], Awaitable[Response]]

PROBLEM_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


class Problem(Exception):
    """Raised by a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def problem_response(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type=PROBLEM_TYPE,
        headers=dict(headers or {}),
    )


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
