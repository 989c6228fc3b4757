"""Reading a request body within the limits: size, time, JSON depth.

The size is checked against ``Content-Length`` before a byte is read, and
again while streaming (a client may lie or send chunks); the whole read runs
under a deadline, so a client that trickles bytes is cut off with 408.
"""

from __future__ import annotations

import json

import anyio
from starlette.requests import ClientDisconnect, Request

from cramprules.service.config import Limits
from cramprules.service.problems import Problem

__all__ = ["json_depth", "read_json"]


async def read_body(request: Request, limits: Limits) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "the Content-Length header is not a number")
        if int(declared) > limits.max_body_bytes:
            raise Problem(413, f"the body is larger than {limits.max_body_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(limits.request_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise Problem(413, f"the body is larger than {limits.max_body_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise Problem(408, f"the body did not arrive within {limits.request_timeout:g} seconds") from None
    except ClientDisconnect:
        raise Problem(400, "the client went away before sending the whole body") from None
    return b"".join(chunks)


def json_depth(value: object) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is depth 0)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: object = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)  # type: ignore[attr-defined]
    return deepest


async def read_json(request: Request, limits: Limits) -> object:
    """The body as JSON, or a 4xx problem saying what is wrong with it."""
    body = await read_body(request, limits)
    if not body.strip():
        raise Problem(400, "the body is empty; send a JSON document")
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        raise Problem(400, "the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise Problem(
            400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise Problem(400, f"the JSON body nests deeper than {limits.max_json_depth} levels") from None
    if json_depth(value) > limits.max_json_depth:
        raise Problem(400, f"the JSON body nests deeper than {limits.max_json_depth} levels")
    return value
