"""Helpers shared by the routes."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from xmargin.service.schemas import ErrorResponse
from xmargin.service.writer import Outcome

__all__ = ["ERRORS", "json_response", "outcome_response"]

#: Error responses documented on every route.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "The body is not JSON"),
        (401, "Missing or unknown API key"),
        (403, "This key's role may not do this"),
        (404, "Unknown account or asset"),
        (409, "Refused by a rule; nothing changed"),
        (422, "Invalid input; nothing changed"),
    )
}


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def outcome_response(outcome: Outcome) -> JSONResponse:
    """The writer's answer; a replayed Idempotency-Key is flagged in a header."""
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
