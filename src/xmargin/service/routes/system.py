"""``GET /healthz`` and ``GET /metrics`` (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from xmargin.mathlib import ZERO
from xmargin.service.deps import ServicesDep
from xmargin.service.schemas import HealthPublic

router = APIRouter(tags=["system"])


@router.get(
    "/healthz",
    responses={
        200: {"model": HealthPublic, "description": "Ready"},
        503: {"model": HealthPublic, "description": "The database does not answer"},
    },
)
def healthz(services: ServicesDep) -> JSONResponse:
    """Liveness and readiness: the database answers and the writer runs."""
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        db = "ok"
    except SQLAlchemyError as exc:
        db = f"error: {type(exc).__name__}"
    live = services.live
    body = {
        "status": "ok" if db == "ok" else "degraded",
        "database": db,
        "journal_seq": live.last_seq,
        "accounts": len(live.market.accounts),
        "writer_queue": services.writer.queued,
    }
    if services.role is not None:
        body["role"] = services.role
    return JSONResponse(body, status_code=200 if db == "ok" else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text format",
        }
    },
)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format."""
    m = services.metrics
    live = services.live
    m.journal_seq.set(live.last_seq)
    for level, n in services.risk.counts().items():
        m.accounts.labels(level).set(n)
    m.subscribers.set(services.events.subscribers)
    market = live.market
    m.deficit_value.set(
        float(sum((u * market.assets[a].price for a, u in market.deficit.items()), ZERO))
    )
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
