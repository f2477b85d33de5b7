"""``GET /v1/risk/summary``, ``GET /v1/events`` (Server-Sent Events), ``GET /v1/journal``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, StreamingResponse

from xmargin.errors import InvalidRequest, Problem
from xmargin.service.auth import authorize
from xmargin.service.deps import CurrentRole, ServicesDep, SessionDep
from xmargin.service.events import Event
from xmargin.service.routes.common import ERRORS, json_response
from xmargin.service.schemas import MAX_SEQ, JournalPage, RiskSummary
from xmargin.store.repositories import journal_after

router = APIRouter(prefix="/v1", tags=["risk"])

#: What an account key's stream carries besides its own account's events: market-wide
#: changes every account is exposed to (prices, parameters, funding, a socialised loss).
PUBLIC_KINDS = frozenset({"prices", "asset_params", "funding", "loss_socialized"})
EVENT_KINDS = frozenset(
    {
        "risk_level",
        "liquidation",
        "bad_debt",
        "price_rejected",
        "prices",
        "asset_params",
        # perps (contract 5)
        "trade",
        "settle",
        "funding",
        # liquidation designs and the loss waterfall (contract 8)
        "auction_started",
        "auction_taken",
        "auction_reset",
        "absorb",
        "collateral_bought",
        "loss_socialized",
        "deleverage",
    }
)


@router.get("/risk/summary", responses={200: {"model": RiskSummary}, **ERRORS})
async def risk_summary(key: CurrentRole, services: ServicesDep) -> JSONResponse:
    """Totals per asset, deficit per asset, accounts by risk level. Admin and liquidator."""
    authorize(key, "read_risk")
    live = services.live
    return json_response({**services.risk.summary(live.market), "journal_seq": live.last_seq})


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-Sent Events: risk_level, liquidation, bad_debt, "
            "price_rejected, prices, asset_params, trade, settle, funding, auction_started, "
            "auction_taken, auction_reset, absorb, collateral_bought, loss_socialized, "
            "deleverage; each `data:` is JSON.",
        },
        **ERRORS,
    },
)
async def events(
    key: CurrentRole,
    services: ServicesDep,
    kinds: Annotated[
        str | None,
        Query(max_length=200, description="Comma-separated kinds to receive (default: all)"),
    ] = None,
    max_events: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="Close after this many events")
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="Resume after this event id (an integer from 0 to 2^53 - 1)",
        ),
    ] = None,
) -> StreamingResponse:
    """The live event stream. Admin, oracle and liquidator: every event; an account key:
    prices, parameter changes and its own account's events."""
    authorize(key, "read_events")
    wanted: frozenset[str] | None = None
    if kinds:
        wanted = frozenset(k.strip() for k in kinds.split(",") if k.strip())
        unknown = sorted(wanted - EVENT_KINDS)
        if unknown:
            raise InvalidRequest(
                [
                    Problem(
                        "query.kinds",
                        f"unknown kind(s) {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(EVENT_KINDS))}",
                    )
                ]
            )
    after: int | None = None
    if last_event_id is not None:
        if (
            not (last_event_id.isascii() and last_event_id.isdigit())
            or int(last_event_id) > MAX_SEQ
        ):
            raise InvalidRequest(
                [
                    Problem(
                        "header.Last-Event-ID",
                        f"must be an event id from 0 to {MAX_SEQ}, was {last_event_id!r}",
                    )
                ]
            )
        after = int(last_event_id)
    accept = _own_events(key.account) if key.role == "account" else None
    sub = services.events.subscribe(after)
    keys = services.keys
    return StreamingResponse(
        # A key revoked (or expired) while its stream is open ends the stream.
        services.events.stream(
            sub, wanted, max_events, accept=accept, alive=lambda: keys.is_active(key)
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _own_events(account: str | None) -> Callable[[Event], bool]:
    """What an account key's stream lets through: public kinds and its own account's."""

    def accept(ev: Event) -> bool:
        if ev.kind in PUBLIC_KINDS:
            return True
        if account is None:
            return False
        # A deleverage also closes its counterparties' positions: each of them hears it.
        return ev.data.get("account") == account or account in ev.data.get("accounts", ())

    return accept


@router.get("/journal", responses={200: {"model": JournalPage}, **ERRORS})
def journal(
    key: CurrentRole,
    services: ServicesDep,
    session: SessionDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQ, description="Entries with seq > after (0 to 2^53 - 1)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Journal entries in order (entry 1 is the genesis market). Admin only."""
    authorize(key, "read_journal")
    entries = journal_after(session.connection(), after, limit)
    return json_response(
        {"entries": [e.to_json() for e in entries], "last_seq": services.live.last_seq}
    )
