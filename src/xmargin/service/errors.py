"""The service's one error boundary: every error ``code`` maps to one HTTP status.

Errors leave as ``{"error": {"code", "message", "problems"}}`` (the contract's JSON error
object) and never as a traceback. Refused rules are 409 (nothing changed); bad input 422
(400 when the body is not JSON); unknown names 404; a missing or wrong key 401; a role
that may not do this 403; a store that cannot write 503.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xmargin.errors import (
    InputError,
    InvalidRequest,
    PermissionDenied,
    Problem,
    RequestError,
    RuleViolation,
    StoreError,
    TooManyFailedAuthentications,
    XmarginError,
)

__all__ = [
    "error_body",
    "error_response",
    "install_error_handlers",
    "status_for",
    "unexpected_response",
]

log = logging.getLogger("xmargin.service")

#: Codes whose status is not the one of their family.
STATUS_BY_CODE: dict[str, int] = {
    "malformed_request": 400,
    "not_authenticated": 401,
    "permission_denied": 403,
    "unknown_asset": 404,
    "unknown_account": 404,
    "unknown_category": 404,
    "unknown_perp": 404,
    "unknown_option": 404,
    "unknown_auction": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "idempotency_key_reused": 409,
    "stale_price": 409,
    "price_deviation": 409,
    "price_out_of_order": 409,
    "invalid_request": 422,
    "request_timeout": 408,
    "body_too_large": 413,
    "too_many_failed_authentications": 429,
}


def status_for(exc: XmarginError) -> int:
    """The HTTP status of an error: by its code, else by its family."""
    status = STATUS_BY_CODE.get(exc.code)
    if status is not None:
        return status
    if isinstance(exc, RuleViolation):
        return 409
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, InputError | RequestError):
        return 422
    if isinstance(exc, StoreError):
        return 503
    return 500


def error_body(exc: XmarginError) -> dict[str, Any]:
    return {"error": exc.to_dict()}


def error_response(exc: XmarginError) -> JSONResponse:
    """The response of an error (its status, body and headers): the one rendering, used by
    FastAPI's handler and by the lean action path (:mod:`xmargin.service.action_lane`)."""
    status = status_for(exc)
    headers: dict[str, str] | None = None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, TooManyFailedAuthentications):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    elif status in (408, 413):
        headers = {"Connection": "close"}  # the rest of the body is not read
    return JSONResponse(error_body(exc), status_code=status, headers=headers)


def unexpected_response(exc: BaseException) -> JSONResponse:
    """500 for an error that is a bug: logged with its traceback, never sent."""
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(
        {
            "error": {
                "code": "internal_error",
                "message": f"internal error ({type(exc).__name__}); see the server log",
                "problems": [],
            }
        },
        status_code=500,
    )


def _loc(parts: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in parts)


def install_error_handlers(app: FastAPI) -> None:
    """Register the one handler (and the adapters of FastAPI's own errors to it)."""

    async def on_xmargin(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, XmarginError)
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for err in exc.errors():
            loc = _loc(tuple(err.get("loc", ())))
            problems.append(Problem(loc, str(err.get("msg", "invalid"))))
        return await on_xmargin(request, InvalidRequest(problems))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404:
            message = "no such endpoint; see /docs"
        return JSONResponse(
            {"error": {"code": code, "message": message, "problems": []}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return unexpected_response(exc)

    app.add_exception_handler(XmarginError, on_xmargin)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
