"""Dependencies of the routes, typed with ``Annotated``: services, the caller, a session."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from xmargin.errors import InvalidRequest, MalformedRequest, Problem
from xmargin.service.auth import KeyCache, bearer_key
from xmargin.service.events import Broadcaster
from xmargin.service.metrics import Metrics
from xmargin.service.risk_view import RiskView
from xmargin.service.settings import Settings
from xmargin.service.writer import Writer
from xmargin.store.engine import InstanceLock
from xmargin.store.repositories import ApiKey
from xmargin.store.state import LiveState
from xmargin.store.types import to_jsonable

__all__ = [
    "CurrentRole",
    "IdempotencyKey",
    "Services",
    "ServicesDep",
    "SessionDep",
    "fingerprint",
    "read_json",
    "validate_body",
]

MAX_BODY_BYTES = 1 << 20
M = TypeVar("M", bound=BaseModel)


@dataclass
class Services:
    """Everything one running app holds (``app.state.services``)."""

    settings: Settings
    engine: Engine
    lock: InstanceLock
    live: LiveState
    risk: RiskView
    events: Broadcaster
    writer: Writer
    keys: KeyCache
    metrics: Metrics
    started_at: datetime


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_key(request: Request, services: ServicesDep) -> ApiKey:
    """The caller's API key (``Authorization: Bearer KEY``); 401 when missing or unknown."""
    return services.keys.resolve(bearer_key(request.headers.get("authorization")))


CurrentRole = Annotated[ApiKey, Depends(current_key)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    with Session(services.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string (e.g. a UUID): a repeated key returns the first "
        "result and applies nothing.",
    ),
]


async def read_json(request: Request) -> Any:
    """The body as JSON with every number an exact Decimal; 400 when it is not JSON."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedRequest(f"the body is larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        raise MalformedRequest("the request needs a JSON body")
    try:
        # NaN and Infinity come back as text, so the number check names them.
        return json.loads(raw, parse_float=Decimal, parse_constant=str)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from None


def validate_body(model: type[M], data: Any) -> M:
    """``data`` as ``model``; every problem located, as 422 ``invalid_request``."""
    if not isinstance(data, dict):
        raise InvalidRequest([Problem("body", f"must be a JSON object, was {type(data).__name__}")])
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


def fingerprint(method: str, path: str, body: Any) -> str:
    """What an Idempotency-Key is bound to: the method, path and canonical body."""
    canonical = json.dumps(to_jsonable(body), sort_keys=True, separators=(",", ":"))
    text = f"{method} {path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
