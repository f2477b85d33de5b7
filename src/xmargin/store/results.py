"""The results of perp and liquidation-design actions (contract 5.7, 5.8, 8.5), built
once: each ``*_doc`` is the CLI's document, field for field, its numbers Decimals (the
CLI's tables round some of them); :func:`as_json` makes it what the journal holds and
the service answers, every decimal a normalised string (:func:`~xmargin.mathlib.fmt`).
``null`` where undefined, instants in ISO 8601 UTC.

They are the results replay compares, so they are built from the quotes alone (and the
market after the action, where the CLI's document reads it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xmargin.mathlib import ZERO
from xmargin.model.auction import Auction
from xmargin.model.liquidation_params import format_time
from xmargin.model.market import Market
from xmargin.risk.adl import DeleverageQuote
from xmargin.risk.auction import AuctionResetQuote, AuctionStartQuote, AuctionTakeQuote
from xmargin.risk.auction_curves import AuctionStatus
from xmargin.risk.perp_liquidation import PerpLiquidationQuote
from xmargin.risk.socialized_loss import PerpLossQuote, SpotLossQuote
from xmargin.risk.storefront import AbsorbQuote, BuyCollateralQuote
from xmargin.risk.trading import SettleQuote, TradeQuote
from xmargin.store.types import to_jsonable

__all__ = [
    "absorb_doc",
    "as_json",
    "auction_doc",
    "auction_reset_doc",
    "auction_start_doc",
    "auction_status_doc",
    "auction_take_doc",
    "buy_collateral_doc",
    "deleverage_doc",
    "funding_doc",
    "perp_liquidation_doc",
    "perp_loss_doc",
    "settle_doc",
    "spot_loss_doc",
    "trade_doc",
]


def as_json(doc: dict[str, Any]) -> dict[str, Any]:
    """A result document with every decimal a string: the journal's and the service's
    answer (the CLI prints the document itself)."""
    out: dict[str, Any] = to_jsonable(doc)
    return out


def trade_doc(q: TradeQuote) -> dict[str, Any]:
    """``trade`` (contract 5.7, in its order, then the extension ``price``)."""
    return {
        "account": q.account,
        "perp": q.perp,
        "size_before": q.size_before,
        "size_after": q.size_after,
        "entry_price": q.entry_price,
        "realized_pnl": q.realized_pnl,
        "funding_paid": q.funding_paid,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "price": q.price,
    }


def settle_doc(q: SettleQuote) -> dict[str, Any]:
    """``settle`` (contract 5.8)."""
    return {
        "account": q.account,
        "perp": q.perp,
        "size": q.size,
        "price": q.price,
        "realized_pnl": q.realized_pnl,
        "funding_paid": q.funding_paid,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
    }


def perp_liquidation_doc(q: PerpLiquidationQuote) -> dict[str, Any]:
    """``liquidate --perp`` (contract 5.7, then the extension ``funding_paid``)."""
    return {
        "account": q.account,
        "perp": q.perp,
        "closed": q.closed,
        "price": q.price,
        "realized_pnl": q.realized_pnl,
        "liquidator_fee": q.liquidator_fee,
        "insurance_fee": q.insurance_fee,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
        "funding_paid": q.funding_paid,
    }


def auction_doc(a: Auction) -> dict[str, Any]:
    """An auction as ``state.auctions`` holds it, with its ``id``."""
    return {"id": a.id, **a.to_dict()}


def auction_start_doc(q: AuctionStartQuote) -> dict[str, Any]:
    """``auction start`` (contract 8.5)."""
    return {
        "auction": auction_doc(q.auction),
        "bonus": q.bonus,
        "keeper_incentive": q.keeper_incentive,
        "insurance_fund_used": dict(q.insurance_fund_used),
        "bad_debt": dict(q.deficit_added),
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "time": format_time(q.time),
    }


def auction_take_doc(q: AuctionTakeQuote) -> dict[str, Any]:
    """``auction take`` (contract 8.5); ``auction`` is null once it ended."""
    return {
        "auction_id": q.auction_id,
        "account": q.account,
        "debt_asset": q.debt_asset,
        "collateral_asset": q.collateral_asset,
        "price": q.price,
        "bought": q.bought,
        "paid": q.paid,
        "principal": q.principal,
        "penalty": q.penalty,
        "returned": q.returned,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
        "health_factor_after": q.health_factor_after,
        "auction": None if q.auction_after is None else auction_doc(q.auction_after),
        "time": format_time(q.time),
    }


def auction_reset_doc(q: AuctionResetQuote) -> dict[str, Any]:
    """``auction reset`` (contract 8.5)."""
    return {
        "auction": auction_doc(q.auction_after),
        "previous_price": q.previous_price,
        "reason": q.reason,
        "keeper_incentive": q.keeper_incentive,
        "insurance_fund_used": dict(q.insurance_fund_used),
        "bad_debt": dict(q.deficit_added),
        "time": format_time(q.time),
    }


def auction_status_doc(now: Any, rows: list[AuctionStatus]) -> dict[str, Any]:
    """``auction status`` (contract 8.5): every running auction at ``now``."""
    return {
        "time": format_time(now),
        "auctions": [
            {
                **auction_doc(s.auction),
                "price": s.price,
                "age_seconds": s.age_seconds,
                "needs_reset": s.reset_reason is not None,
                "reset_reason": s.reset_reason,
            }
            for s in rows
        ],
    }


def absorb_doc(q: AbsorbQuote, after: Market) -> dict[str, Any]:
    """``absorb`` (contract 8.5); ``reserves`` as they stand after it."""
    return {
        "account": q.account,
        "base": q.base,
        "seized": dict(q.seized),
        "absorbed_debt": dict(q.absorbed_debt),
        "collateral_value": q.collateral_value,
        "credited_value": q.credited_value,
        "debt_value": q.debt_value,
        "excess": q.excess,
        "protocol_value": q.protocol_value,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "reserves": dict(after.reserves),
    }


def buy_collateral_doc(q: BuyCollateralQuote, after: Market) -> dict[str, Any]:
    """``buy-collateral`` (contract 8.5)."""
    return {
        "asset": q.asset,
        "base": q.base,
        "paid": q.paid,
        "bought": q.bought,
        "price": q.price,
        "buyer_value": q.buyer_value,
        "reserves_before": q.reserves_before,
        "reserves_after": after.reserves.get(q.base, ZERO),
    }


def perp_loss_doc(q: PerpLossQuote, after: Market) -> dict[str, Any]:
    """``socialize --perp`` (contract 8.5)."""
    return {
        "perp": q.perp,
        "asset": q.asset,
        "loss": q.loss,
        "loss_value": q.loss_value,
        "open_interest_long": q.open_interest_long,
        "open_interest_short": q.open_interest_short,
        "funding_delta": q.funding_delta,
        "charged_value": q.charged_value,
        "deficit_after": after.deficit.get(q.asset, ZERO),
    }


def spot_loss_doc(q: SpotLossQuote, after: Market) -> dict[str, Any]:
    """``socialize --asset`` (contract 8.5)."""
    return {
        "asset": q.asset,
        "loss": q.loss,
        "total_supply": q.total_supply,
        "index_before": q.index_before,
        "index_after": q.index_after,
        "taken": q.taken,
        "deficit_after": after.deficit.get(q.asset, ZERO),
    }


def deleverage_doc(q: DeleverageQuote) -> dict[str, Any]:
    """``deleverage`` (contract 8.5)."""
    return {
        "account": q.account,
        "perp": q.perp,
        "net_value": q.net_value,
        "price": q.price,
        "bankruptcy_price": q.bankruptcy_price,
        "closed": q.closed,
        "counterparties": [
            {
                "account": c.account,
                "score": c.score,
                "closed": c.closed,
                "realized_pnl": c.realized_pnl,
                "borne_value": c.borne_value,
            }
            for c in q.counterparties
        ],
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
    }


def funding_doc(perp: str, index: Decimal, previous: Decimal) -> dict[str, Any]:
    """``funding`` (contract 5.8)."""
    return {"perp": perp, "funding_index": index, "previous": previous}
