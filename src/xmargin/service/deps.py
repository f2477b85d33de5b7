"""Dependencies of the routes, typed with ``Annotated``: services, the caller, a session."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from xmargin.service.auth import Authenticator
from xmargin.service.bodies import read_json, validate_body
from xmargin.service.events import Broadcaster
from xmargin.service.metrics import Metrics
from xmargin.service.risk_view import RiskView
from xmargin.service.settings import Settings
from xmargin.service.writer import Writer
from xmargin.store.engine import InstanceLock
from xmargin.store.records import ApiKey, utcnow
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
    keys: Authenticator
    metrics: Metrics
    started_at: datetime
    #: the service's clock (UTC): the time auction actions happen at; tests inject one
    clock: Callable[[], datetime] = utcnow
    #: in a cluster (``serve --cluster``): "writer" or "follower"; else None
    role: str | None = None


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_key(request: Request, services: ServicesDep) -> ApiKey:
    """The caller's active API key (``Authorization: Bearer KEY``); 401 when missing,
    unknown, revoked or expired; 429 after too many failures from this client."""
    client = request.client.host if request.client is not None else "unknown"
    return await services.keys.resolve_async(request.headers.get("authorization"), client)


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


def fingerprint(method: str, path: str, body: Any) -> str:
    """What an Idempotency-Key is bound to: the method, path and canonical body."""
    canonical = json.dumps(to_jsonable(body), sort_keys=True, separators=(",", ":"))
    text = f"{method} {path}\n{canonical}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
