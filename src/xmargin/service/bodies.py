"""Request bodies: read within limits, parsed as the contract reads market files.

- size: a ``Content-Length`` above the limit is refused before reading; a body without
  one is read chunk by chunk and refused (413) as soon as it passes the limit, so a
  client sending 50 MB never makes the server hold more than the limit;
- time: the whole body must arrive within ``body_timeout_seconds`` (408);
- text: UTF-8 only (a UTF-16 or UTF-32 body is refused by name, not guessed);
- JSON: numbers kept as their text until validated (:mod:`xmargin.model.numbers`),
  repeated keys refused with their location, nesting at most :data:`MAX_DEPTH` deep.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from xmargin.errors import (
    BodyTooLarge,
    InvalidRequest,
    MalformedRequest,
    Problem,
    RequestTimeout,
)
from xmargin.io.documents import DocumentError, DuplicateKeys, decode_utf8, loads_json, max_depth

__all__ = ["MAX_DEPTH", "read_body", "read_json", "validate_body"]

#: Deepest nesting of a request body: every body the API reads is 3 levels deep at most.
MAX_DEPTH = 32
M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The raw body, at most ``limit`` bytes, arrived within ``timeout`` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise MalformedRequest(f"Content-Length must be a number of bytes, was {declared!r}")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(timeout) from None
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    """The body as JSON (module docstring); 400 when it is not, 413/408 past the limits."""
    settings = request.app.state.services.settings
    raw = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    if not raw.strip():
        raise MalformedRequest("the request needs a JSON body")
    try:
        doc = loads_json(decode_utf8(raw), ("body",))
    except DuplicateKeys as exc:
        raise InvalidRequest([Problem(e.location, e.message) for e in exc.errors]) from None
    except DocumentError as exc:
        raise MalformedRequest(f"the body cannot be read: {exc.message}") from None
    if max_depth(doc, MAX_DEPTH) > MAX_DEPTH:
        raise MalformedRequest(f"the body is nested more than {MAX_DEPTH} levels deep")
    return doc


def validate_body(model: type[M], data: Any) -> M:
    """``data`` as ``model``; every problem located, as 422 ``invalid_request``."""
    if not isinstance(data, dict):
        raise InvalidRequest([Problem("body", f"must be a JSON object, was {_kind(data)}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in ("body", *err["loc"]))
            msg = "required" if err["type"] == "missing" else str(err["msg"])
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            problems.append(Problem(loc, msg.removeprefix("Value error, ")))
        raise InvalidRequest(problems) from None


def _kind(data: Any) -> str:
    if isinstance(data, list):
        return "an array"
    if isinstance(data, str):
        return "a string"
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a boolean"
    return "a number"
