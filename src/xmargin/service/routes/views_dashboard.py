"""The dashboard's book-wide read endpoints: ``GET /v1/session``, ``/v1/overview``,
``/v1/liquidation-map/{asset}``, ``/v1/prices/history``. Read-only; computed by
:mod:`xmargin.analytics` (exposure, overview, liquidation map) on the live market.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from xmargin.analytics.exposure import AssetExposure, Concentration, asset_exposure
from xmargin.analytics.liquidation_map import MAX_BINS, liquidation_map
from xmargin.analytics.overview import (
    LIQUIDATABLE,
    book_overview,
    health_distribution,
    nearest_to_liquidation,
)
from xmargin.mathlib import ZERO, fmt
from xmargin.model.market import Market
from xmargin.service.auth import PERMISSIONS, authorize
from xmargin.service.dashboard.schemas import (
    BookTotals,
    ConcentrationPublic,
    ExposurePublic,
    HealthBinPublic,
    LiquidationBinPublic,
    LiquidationMapPublic,
    NearLiquidationPublic,
    Overview,
    PriceHistory,
    PricePointPublic,
    PriceStatus,
    QueueRow,
    SessionPublic,
    StatusCounts,
)
from xmargin.service.dashboard.state import DashboardCache, Snapshot, dashboard_cache, figure
from xmargin.service.deps import CurrentRole, Services, ServicesDep, SessionDep
from xmargin.service.routes.common import ERRORS
from xmargin.store.price_history import price_history

router = APIRouter(prefix="/v1", tags=["dashboard"])

CacheDep = Annotated[DashboardCache, Depends(dashboard_cache)]
#: Liquidation queue and nearest-to-liquidation rows in the overview.
OVERVIEW_ROWS = 10


def _json(model: Overview | LiquidationMapPublic | PriceHistory | SessionPublic) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"))


@router.get("/session", responses={200: {"model": SessionPublic}, **ERRORS})
async def session(key: CurrentRole) -> JSONResponse:
    """Who this key is: its role and, for an account key, its account. Any role."""
    sees_book = key.role in PERMISSIONS["read_book"]
    return _json(SessionPublic(role=key.role, account=key.account, sees_book=sees_book))


def _concentration(c: Concentration) -> ConcentrationPublic:
    return ConcentrationPublic(
        holders=c.holders,
        largest=c.largest,
        largest_share=fmt(c.largest_share),
        top5_share=fmt(c.top_n_share),
        hhi=fmt(c.hhi),
    )


def _exposure(e: AssetExposure) -> ExposurePublic:
    return ExposurePublic(
        asset=e.asset,
        price=fmt(e.price) or "0",
        total_supply=fmt(e.total_supply) or "0",
        total_borrow=fmt(e.total_borrow) or "0",
        supply_value=fmt(e.supply_value) or "0",
        borrow_value=fmt(e.borrow_value) or "0",
        utilization=fmt(e.utilization),
        supply_cap=fmt(e.supply_cap),
        supply_cap_use=fmt(e.supply_cap_use),
        borrow_cap=fmt(e.borrow_cap),
        borrow_cap_use=fmt(e.borrow_cap_use),
        debt_ceiling=fmt(e.debt_ceiling),
        isolation_debt=fmt(e.isolation_debt),
        debt_ceiling_use=fmt(e.debt_ceiling_use),
        deficit=fmt(e.deficit) or "0",
        deficit_value=fmt(e.deficit_value) or "0",
        suppliers=_concentration(e.suppliers),
        borrowers=_concentration(e.borrowers),
    )


def _prices(services: Services, now: datetime) -> list[PriceStatus]:
    live = services.live
    out = []
    for sym, ap in live.market.assets.items():
        at = live.price_at.get(sym)
        age = (now - at).total_seconds() if at is not None else None
        limit = ap.max_price_age_seconds
        out.append(
            PriceStatus(
                asset=sym,
                price=fmt(ap.price) or "0",
                price_at=at.isoformat() if at is not None else None,
                age_seconds=figure(round(age, 3)) if age is not None else None,
                max_price_age_seconds=fmt(limit),
                stale=limit is not None and age is not None and age > float(limit),
            )
        )
    return out


def _insurance_fund(market: Market) -> str | None:
    """The insurance fund's value in quote (contract 5.5); null while it holds nothing."""
    if not market.insurance_fund:
        return None
    value = sum((u * market.assets[a].price for a, u in market.insurance_fund.items()), ZERO)
    return fmt(value) or "0"


def _book_part(services: Services, snap: Snapshot) -> Overview:
    """Everything of the overview that one published state fixes (prices' ages and
    ``computed_at`` are filled in per request)."""
    market, cols, sums, status = snap.market, snap.cols, snap.sums, snap.status
    o = book_overview(market, cols, sums, status)
    queue = [
        QueueRow(
            account=acc_id,
            health_factor=fmt(h.health_factor),
            debt_value=fmt(h.debt_value) or "0",
            collateral_value=fmt(h.collateral_value) or "0",
            insolvent=h.debt_value > h.collateral_value,
        )
        for acc_id, h, _ in services.risk.queue(market, OVERVIEW_ROWS)
    ]
    return Overview(
        market=market.params.name,
        quote=market.params.quote,
        journal_seq=snap.journal_seq,
        computed_at="",
        accounts=o.accounts,
        accounts_with_debt=o.accounts_with_debt,
        by_status=StatusCounts(**o.by_status),
        totals=BookTotals(
            collateral_value=figure(o.collateral_value),
            debt_value=figure(o.debt_value),
            borrowing_power=figure(o.borrowing_power),
            liquidatable_debt=figure(o.liquidatable_debt),
            insolvent_shortfall=figure(o.insolvent_shortfall),
            deficit_value=fmt(o.deficit_value) or "0",
            insurance_fund=_insurance_fund(market),
        ),
        prices=[],
        exposure=[_exposure(e) for e in asset_exposure(market, cols)],
        queue=queue,
        nearest=[
            NearLiquidationPublic(
                account=n.account,
                health_factor=figure(n.health_factor),
                debt_value=figure(n.debt_value),
                collateral_value=figure(n.collateral_value),
            )
            for n in nearest_to_liquidation(cols, sums, status, OVERVIEW_ROWS)
        ],
        health=[
            HealthBinPublic(
                low=figure(b.low),
                high=figure(b.high) if b.high is not None else None,
                accounts=b.accounts,
                debt_value=figure(b.debt_value),
                collateral_value=figure(b.collateral_value),
            )
            for b in health_distribution(sums)
        ],
    )


@router.get("/overview", responses={200: {"model": Overview}, **ERRORS})
async def overview(key: CurrentRole, services: ServicesDep, cache: CacheDep) -> JSONResponse:
    """The whole book: accounts by status, totals, prices and their age, exposure per
    asset, the liquidation queue, the accounts nearest to liquidation and the health
    distribution. Admin, oracle and liquidator. Computed once per published batch."""
    authorize(key, "read_book")
    snap = cache.snapshot(services)
    part = snap.memo.get("overview")
    if not isinstance(part, Overview):
        part = snap.memo["overview"] = _book_part(services, snap)
    now = datetime.now(UTC)
    body = part.model_copy(
        update={"computed_at": now.isoformat(), "prices": _prices(services, now)}
    )
    return _json(body)


AssetName = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/liquidation-map/{asset}", responses={200: {"model": LiquidationMapPublic}, **ERRORS})
async def get_liquidation_map(
    asset: AssetName,
    key: CurrentRole,
    services: ServicesDep,
    cache: CacheDep,
    depth: Annotated[
        float, Query(gt=0, lt=1, description="How far below today's price, as a fraction")
    ] = 0.5,
    bins: Annotated[int, Query(ge=1, le=MAX_BINS, description="Price buckets")] = 40,
) -> JSONResponse:
    """How much collateral becomes liquidatable at each price of ``asset`` below today's,
    from every account's liquidation price; buckets from the highest price down.
    Admin, oracle and liquidator."""
    authorize(key, "read_book")
    snap = cache.snapshot(services)
    snap.market.asset(asset)
    m = liquidation_map(
        snap.cols,
        snap.prices,
        snap.sums,
        asset,
        depth=depth,
        bins=bins,
        liquidatable=snap.status >= LIQUIDATABLE,
    )
    rows = []
    running = 0.0
    for b in m.bins:
        running += b.collateral_value
        rows.append(
            LiquidationBinPublic(
                price_low=figure(b.price_low),
                price_high=figure(b.price_high),
                accounts=b.accounts,
                collateral_value=figure(b.collateral_value),
                debt_value=figure(b.debt_value),
                cumulative_collateral_value=figure(running),
            )
        )
    return _json(
        LiquidationMapPublic(
            asset=asset,
            quote=snap.market.params.quote,
            price=fmt(snap.market.assets[asset].price) or "0",
            depth=figure(depth),
            journal_seq=snap.journal_seq,
            bins=rows,
            liquidatable_now=m.liquidatable_now,
            liquidatable_now_collateral_value=figure(m.liquidatable_now_collateral_value),
            below_range=m.below_range,
            below_range_collateral_value=figure(m.below_range_collateral_value),
        )
    )


@router.get("/prices/history", responses={200: {"model": PriceHistory}, **ERRORS})
def get_price_history(
    key: CurrentRole,
    services: ServicesDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=5000, description="Newest price batches")] = 500,
) -> JSONResponse:
    """Each asset's prices from the newest ``limit`` accepted price batches (the journal),
    oldest first. Any role."""
    authorize(key, "read_assets")
    history = price_history(session.connection(), limit)
    return _json(
        PriceHistory(
            quote=services.live.market.params.quote,
            assets={
                a: [
                    PricePointPublic(seq=s, at=at.isoformat(), price=fmt(p) or "0")
                    for s, at, p in history.get(a, [])
                ]
                for a in services.live.market.assets
            },
        )
    )
