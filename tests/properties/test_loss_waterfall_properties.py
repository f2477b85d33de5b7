"""Invariants of the loss waterfall after the insurance fund (contract 8.4).

SOC-1  Socialising a perp's loss charges the open interest at least the loss and less
       than the loss plus one rounding unit per unit of base: every position's PnL falls
       by exactly |q|·Δ, and the deficit by the loss.
SOC-2  Socialising an asset's loss takes at least the loss from its depositors and less
       than the loss plus one unit per depositor; no depositor gains; the supply index
       falls by no less than the loss's share of the supply.
ADL-1  Deleveraging moves value and nothing else: the counterparties bear the bankrupt
       account's shortfall on what was closed (Σ closed_i·|X_b − P| = −V·closed/|q|, to
       the rounding of X_b), the bankrupt account ends within rounding of that share of
       its shortfall, every counterparty's position only shrinks, and the total net value
       of all accounts falls by no more than the rounding of the flows.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, event, given
from hypothesis import strategies as st

from tests.builders import market_doc
from tests.perp_strategies import SUBJECT, account_value, perp_markets
from tests.strategies import markets
from xmargin.errors import RuleViolation
from xmargin.io import parse_market
from xmargin.ledger.loss_waterfall import (
    execute_deleverage,
    execute_socialize_perp_loss,
    execute_socialize_spot_loss,
)
from xmargin.model import Market
from xmargin.risk.perps import perp_sums

ZERO = Decimal(0)


def _pnl(market: Market, account: str, perp: str) -> Decimal:
    acc = market.accounts[account]
    pos = acc.position(perp)
    assert pos is not None
    solo = acc.copy()
    solo.perps = {perp: pos}
    return perp_sums(solo, market).pnl


@given(perp_markets(), st.data())
def test_soc_1_a_perp_loss_is_charged_to_the_open_interest(
    market: Market, data: st.DataObject
) -> None:
    perp = data.draw(st.sampled_from(sorted(market.open_interest)), label="perp")
    loss = Decimal(data.draw(st.integers(1, 10**9), label="loss cents")).scaleb(-2)
    market.deficit["USDC"] = loss
    holders = [a for a, acc in market.accounts.items() if acc.position(perp) is not None]
    before = {a: _pnl(market, a, perp) for a in holders}
    q = execute_socialize_perp_loss(market, perp)
    long, short = q.open_interest_long, q.open_interest_short
    unit = Decimal(1).scaleb(-market.assets["USDC"].decimals)
    assert q.loss_value <= q.charged_value < q.loss_value + (long + short) * unit
    for a in holders:
        size = abs(market.accounts[a].perps[perp].size)
        assert before[a] - _pnl(market, a, perp) == size * q.funding_delta
    assert market.deficit.get("USDC", ZERO) == ZERO


@given(markets(), st.data())
def test_soc_2_a_spot_loss_is_borne_by_the_depositors(market: Market, data: st.DataObject) -> None:
    supplied = sorted(a for a, t in market.total_supply.items() if t > 0)
    assume(supplied)
    asset = data.draw(st.sampled_from(supplied), label="asset")
    total = market.total_supply[asset]
    decimals = market.assets[asset].decimals
    share = Decimal(data.draw(st.integers(1, 1200), label="loss per mille of supply")) / 1000
    loss = max(
        (total * share).quantize(Decimal(1).scaleb(-decimals), "ROUND_FLOOR"),
        Decimal(1).scaleb(-decimals),
    )
    market.deficit[asset] = loss
    before = {a: acc.supplied(asset) for a, acc in market.accounts.items() if acc.supplied(asset)}
    q = execute_socialize_spot_loss(market, asset)
    assert q.loss == min(loss, total)
    unit = Decimal(1).scaleb(-decimals)
    assert q.loss <= q.taken < q.loss + len(before) * unit
    assert (
        sum(before.values()) - sum(acc.supplied(asset) for acc in market.accounts.values())
        == q.taken
    )
    for a, s in before.items():
        assert market.accounts[a].supplied(asset) <= s
    assert q.index_after <= q.index_before * (total - q.loss) / total
    assert market.deficit.get(asset, ZERO) == loss - q.loss


def _dec(draw: st.DrawFn, lo: int, hi: int, places: int) -> Decimal:
    return Decimal(draw(st.integers(lo, hi))).scaleb(-places)


@st.composite
def adl_markets(draw: st.DrawFn) -> Market:
    """ETH-PERP with a bankrupt subject (its loss beyond its USDC) and 1-4 accounts on
    either side, most of them opposite to it and many in profit."""
    price = _dec(draw, 100, 10**6, 2)
    token = {
        "collateral_factor": "0.8",
        "liquidation_threshold": "0.85",
        "liquidation_bonus": "0.05",
    }
    doc = market_doc(
        {
            "USDC": {"price": 1, "decimals": 6, **token},
            "WETH": {"price": price, "decimals": 8, **token},
        }
    )
    doc["perps"] = {
        "ETH-PERP": {
            "underlying": "WETH",
            "settlement_asset": "USDC",
            "initial_margin": "0.1",
            "maintenance_margin": "0.05",
            "funding_index": _dec(draw, -1000, 1000, 2),
        }
    }
    side = draw(st.sampled_from([1, -1]))
    q = _dec(draw, 1, 10**6, 4) * side
    move = _dec(draw, 1, 50, 2)  # the price moved 1 % .. 50 % against the subject
    entry = (price * (1 + side * move)).quantize(Decimal("1e-2"))
    assume(entry > 0)
    loss = abs(q) * price * move
    doc["accounts"][SUBJECT] = {
        "supply": {"USDC": (loss * _dec(draw, 0, 99, 2)).quantize(Decimal("1e-6"), "ROUND_FLOOR")},
        "perps": {"ETH-PERP": {"size": q, "entry_price": entry}},
    }
    for i in range(draw(st.integers(1, 4))):
        their = -side if draw(st.integers(0, 4)) else side
        size = _dec(draw, 1, 10**6, 4) * their
        their_entry = (price * _dec(draw, 50, 150, 2)).quantize(Decimal("1e-2"))
        doc["accounts"][f"cp{i}"] = {
            "supply": {"USDC": _dec(draw, 0, 10**12, 2)},
            "perps": {"ETH-PERP": {"size": size, "entry_price": their_entry}},
        }
    return parse_market(doc, "adl_markets")


@given(st.one_of(perp_markets(), adl_markets()), st.data())
def test_adl_1_deleveraging_moves_the_shortfall_to_the_counterparties(
    market: Market, data: st.DataObject
) -> None:
    market.insurance_fund = {}
    acc = market.accounts[SUBJECT]
    perp = data.draw(st.sampled_from(sorted(acc.perps)), label="perp")
    values = {a: account_value(market, a) for a in market.accounts}
    sizes = {a: x.perps[perp].size for a, x in market.accounts.items() if perp in x.perps}
    try:
        q = execute_deleverage(market, SUBJECT, perp)
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        return
    event("deleveraged")
    q0 = sizes[SUBJECT]
    share = -q.net_value * q.closed / abs(q0)
    borne = sum((c.borne_value for c in q.counterparties), ZERO)
    # X_b rounds by < 1e-18 per unit: the borne total is the share to that rounding
    assert abs(borne - share) <= q.closed * Decimal("1e-18")
    assert q.closed == sum((c.closed for c in q.counterparties), ZERO)
    for c in q.counterparties:
        after = market.accounts[c.account].position(perp)
        left = after.size if after is not None else ZERO
        assert abs(left) == abs(sizes[c.account]) - c.closed
        assert left == 0 or (left > 0) == (sizes[c.account] > 0)
    p_usdc = market.assets["USDC"].price
    flows = 2 * (1 + len(q.counterparties))  # funding and PnL per trade, each one unit
    slack = flows * Decimal("1e-6") * p_usdc
    total_before = sum(values.values(), ZERO)
    total_after = sum((account_value(market, a) for a in market.accounts), ZERO)
    written = sum((u * market.assets[a].price for a, u in q.bad_debt.items()), ZERO)
    assert total_before - slack <= total_after - written <= total_before + slack
    assert values[SUBJECT] + share - slack <= account_value(market, SUBJECT) + written
