"""Hypothesis strategies for markets with perpetual futures (contract 5).

Every market is a contract document validated by :func:`xmargin.io.parse_market`. The
universe: USDC (6 decimals, the settlement asset, price near 1), WETH and WBTC (8
decimals, the underlyings), perps ETH-PERP and BTC-PERP with random margins, fees, size
factors, PnL weights, funding indexes and open-interest caps; an insurance fund, a
``pnl_initial_cap`` sometimes. The account ``"subject"`` holds USDC (and maybe WETH or a
USDC borrow) and one or two positions; 0-2 other accounts hold positions too.

- ``perp_markets()``: such a market (the subject of any class);
- ``liquidatable_perp_accounts()``: ``(market, "subject")`` with the subject liquidatable
  and holding a position;
- ``trades(market)``: ``(perp, size_delta)`` for the subject, any direction.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from tests.builders import market_doc
from xmargin.io import parse_market
from xmargin.model import Market
from xmargin.risk.health import account_health

__all__ = [
    "PERPS",
    "SUBJECT",
    "account_value",
    "liquidatable_perp_accounts",
    "perp_markets",
    "reducing_trades",
    "trades",
]

SUBJECT = "subject"
#: perp -> underlying
PERPS = {"ETH-PERP": "WETH", "BTC-PERP": "WBTC"}
SIZE_PLACES = 4


def _dec(draw: st.DrawFn, lo: int, hi: int, places: int) -> Decimal:
    """A decimal in [lo, hi] x 10^-places, drawn as an integer: exact, never a float."""
    return Decimal(draw(st.integers(lo, hi))).scaleb(-places)


def _asset(price: Decimal, decimals: int, lt: Decimal) -> dict[str, Any]:
    return {
        "price": price,
        "decimals": decimals,
        "collateral_factor": lt,
        "liquidation_threshold": lt,
        # 0.05, lowered where needed so that lt x (1 + bonus) <= 1 (the loader refuses
        # a bonus that makes liquidating lower health)
        "liquidation_bonus": min(
            Decimal("0.05"), (1 / lt - 1).quantize(Decimal("0.001"), ROUND_FLOOR)
        )
        if lt
        else Decimal("0.05"),
    }


@st.composite
def _perp(draw: st.DrawFn, underlying: str) -> dict[str, Any]:
    mm = _dec(draw, 10, 200, 3)  # 1 % .. 20 %
    im = min(Decimal(1), mm * _dec(draw, 100, 300, 2))  # 1x .. 3x the maintenance margin
    fees = mm * _dec(draw, 0, 90, 2)  # below the maintenance margin
    liq_share = _dec(draw, 0, 100, 2)
    table: dict[str, Any] = {
        "underlying": underlying,
        "settlement_asset": "USDC",
        "initial_margin": im,
        "maintenance_margin": mm,
        "liquidation_fee": (fees * liq_share).quantize(Decimal("1e-6")),
        "insurance_fee": (fees * (1 - liq_share)).quantize(Decimal("1e-6"), "ROUND_FLOOR"),
        "funding_index": _dec(draw, -(10**6), 10**6, 3),
        "pnl_initial_weight": _dec(draw, 0, 100, 2),
    }
    if draw(st.integers(0, 3)) == 0:
        table["size_factor"] = _dec(draw, 1, 100, 4)
    if draw(st.integers(0, 3)) == 0:
        table["open_interest_cap"] = _dec(draw, 0, 10**6, 2)
    return table


@st.composite
def _position(draw: st.DrawFn, price: Decimal, index: Decimal) -> dict[str, Any]:
    size = _dec(draw, 1, 10**7, SIZE_PLACES) * draw(st.sampled_from([1, -1]))
    entry = (price * _dec(draw, 50, 150, 2)).quantize(Decimal("1e-8"))
    f = index - _dec(draw, -1000, 1000, 2) if draw(st.booleans()) else index
    return {"size": size, "entry_price": max(entry, Decimal("1e-8")), "funding_index": f}


@st.composite
def _account(draw: st.DrawFn, doc: dict[str, Any], subject: bool) -> dict[str, Any]:
    table: dict[str, Any] = {"supply": {"USDC": _dec(draw, 0, 10**11, 2)}}
    if subject and draw(st.booleans()):
        table["supply"]["WETH"] = _dec(draw, 0, 10**9, 4)
    if subject and draw(st.integers(0, 3)) == 0:
        table["borrow"] = {"USDC": _dec(draw, 0, 10**10, 2)}
    names = draw(st.lists(st.sampled_from(sorted(PERPS)), min_size=1, max_size=2, unique=True))
    table["perps"] = {
        n: draw(_position(doc["assets"][PERPS[n]]["price"], doc["perps"][n]["funding_index"]))
        for n in names
    }
    return table


@st.composite
def perp_markets(draw: st.DrawFn) -> Market:
    """A market with perps whose account ``"subject"`` holds at least one position."""
    assets = {
        "USDC": _asset(_dec(draw, 990, 1010, 3), 6, _dec(draw, 800, 1000, 3)),
        "WETH": _asset(_dec(draw, 1, 10**7, 2), 8, _dec(draw, 0, 900, 3)),
        "WBTC": _asset(_dec(draw, 1, 10**8, 2), 8, _dec(draw, 0, 900, 3)),
    }
    doc = market_doc(assets, {}, {"close_factor": _dec(draw, 10, 100, 2)})
    doc["perps"] = {n: draw(_perp(u)) for n, u in PERPS.items()}
    if draw(st.booleans()):
        doc["market"]["insurance_fund"] = {"USDC": _dec(draw, 0, 10**9, 2)}
    if draw(st.integers(0, 3)) == 0:
        doc["market"]["pnl_initial_cap"] = _dec(draw, 0, 10**7, 2)
    others = draw(st.integers(0, 2))
    doc["accounts"] = {SUBJECT: draw(_account(doc, subject=True))}
    for i in range(others):
        doc["accounts"][f"other{i}"] = draw(_account(doc, subject=False))
    return parse_market(doc, "perp_markets")


@st.composite
def liquidatable_perp_accounts(draw: st.DrawFn) -> tuple[Market, str]:
    """``(market, "subject")``: the subject is liquidatable and holds a position."""
    market = draw(perp_markets())
    assume(account_health(market.accounts[SUBJECT], market).liquidatable)
    return market, SUBJECT


@st.composite
def trades(draw: st.DrawFn, market: Market) -> tuple[str, Decimal]:
    """``(perp, size_delta)`` for the subject: opens, adds, reduces, closes or flips."""
    perp = draw(st.sampled_from(sorted(PERPS)))
    pos = market.accounts[SUBJECT].position(perp)
    q = pos.size if pos is not None else Decimal(0)
    kind = draw(st.sampled_from(["any", "close", "flip"])) if q else "any"
    if kind == "close":
        return perp, -q
    if kind == "flip":
        return perp, -q * 2
    delta = _dec(draw, 1, 10**7, SIZE_PLACES) * draw(st.sampled_from([1, -1]))
    return perp, delta


@st.composite
def reducing_trades(draw: st.DrawFn, market: Market) -> tuple[str, Decimal]:
    """``(perp, size_delta)`` that lowers |q| without flipping (possibly to 0)."""
    acc = market.accounts[SUBJECT]
    perp = draw(st.sampled_from(sorted(acc.perps)))
    q = acc.perps[perp].size
    cut = _dec(draw, 1, int(abs(q).scaleb(SIZE_PLACES)), SIZE_PLACES)
    return perp, -cut if q > 0 else cut


def account_value(market: Market, account_id: str) -> Decimal:
    """Exact net value of an account, in quote: Σ s·p − Σ b·p + Σ pnl (unrounded)."""
    from xmargin.risk.perps import perp_sums

    acc = market.accounts[account_id]
    v = sum((s * market.assets[a].price for a, s in acc.supply.items()), Decimal(0))
    v -= sum((b * market.assets[a].price for a, b in acc.borrow.items()), Decimal(0))
    return v + perp_sums(acc, market).pnl
