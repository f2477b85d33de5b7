"""Invariants of perpetual futures (contract 5.3-5.6).

PERP-1  A trade at the oracle price changes the account's value only by the rounding of
        its flows and of its entry price, always against the account.
PERP-2  Settling is value-neutral (up to the same rounding).
PERP-3  A trade that lowers |q| without flipping is never refused, whatever the health.
PERP-4  A refused trade changes nothing.
PERP-5  Closing a position at its entry price with F unchanged realises 0 and moves no
        balance.
PERP-6  A perp liquidation changes Σ account value + insurance fund − deficit by exactly
        the liquidator fee (up to rounding); the fund's intake is the insurance fee.
PERP-7  Funding moves unrealised PnL by exactly −q·ΔF.
PERP-8  Open interest always equals the sum of the positions' sides.
LP-P1   At the liquidation price of an underlying (perps moving with it) health is 1 within
        1e-12 (and the 1e-18 grids' share), and the account is liquidatable on one side of
        it and not on the other.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.perp_strategies import (
    PERPS,
    SUBJECT,
    account_value,
    liquidatable_perp_accounts,
    perp_markets,
    reducing_trades,
    trades,
)
from xmargin.errors import RuleViolation, XmarginError
from xmargin.ledger.perps import (
    execute_liquidate_perp,
    execute_settle,
    execute_trade,
    set_funding_index,
)
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price

#: One unit of USDC (6 decimals) per flow, at a USDC price below 1.02.
UNIT = Decimal("1.02e-6")


def _entry_tolerance(market: Market) -> Decimal:
    """An averaged entry price is held to 1e-18: |q| x 1e-18 of PnL per position."""
    acc = market.accounts[SUBJECT]
    return sum((abs(p.size) for p in acc.perps.values()), Decimal(0)) * Decimal("1e-18")


def _fund_value(market: Market) -> Decimal:
    return sum((u * market.assets[a].price for a, u in market.insurance_fund.items()), Decimal(0))


def _deficit_value(market: Market) -> Decimal:
    return sum((u * market.assets[a].price for a, u in market.deficit.items()), Decimal(0))


@given(perp_markets(), st.data())
def test_PERP_1_a_trade_at_the_oracle_price_keeps_the_accounts_value(
    market: Market, data: st.DataObject
) -> None:
    """PERP-1: at X = P, value after − value before is in [−(2 units + entry rounding), 0]."""
    perp, delta = data.draw(trades(market))
    before = account_value(market, SUBJECT)
    try:
        execute_trade(market, SUBJECT, perp, delta)
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        return
    event("traded")
    change = account_value(market, SUBJECT) - before
    assert -(2 * UNIT + _entry_tolerance(market)) <= change <= 0


@given(perp_markets(), st.data())
def test_PERP_2_settling_is_value_neutral(market: Market, data: st.DataObject) -> None:
    """PERP-2: settle realises pnl into USDC; value moves by at most two units, down."""
    perp = data.draw(st.sampled_from(sorted(market.accounts[SUBJECT].perps)))
    size = market.accounts[SUBJECT].perps[perp].size
    before = account_value(market, SUBJECT)
    q = execute_settle(market, SUBJECT, perp)
    after = market.accounts[SUBJECT].perps[perp]
    assert after.size == size == q.size
    assert after.entry_price == market.assets[PERPS[perp]].price
    assert after.funding_index == market.perps[perp].funding_index
    assert -2 * UNIT <= account_value(market, SUBJECT) - before <= 0


@given(perp_markets(), st.data())
def test_PERP_3_a_risk_reducing_trade_is_never_refused(market: Market, data: st.DataObject) -> None:
    """PERP-3: lowering |q| without flipping is allowed whatever the account's health (and
    whatever the open interest), at any execution price."""
    perp, delta = data.draw(reducing_trades(market))
    price = data.draw(st.sampled_from([None, "0.01", "1000000"]))
    event("liquidatable" if account_health(market.accounts[SUBJECT], market).liquidatable else "ok")
    q = execute_trade(market, SUBJECT, perp, delta, price)
    assert abs(q.size_after) < abs(q.size_before)


@given(perp_markets(), st.data())
def test_PERP_4_a_refused_trade_changes_nothing(market: Market, data: st.DataObject) -> None:
    """PERP-4: a trade refused by a rule (margin, open interest) or bad input leaves the
    market equal to a copy taken before, positions, fund and open interest included."""
    perp, delta = data.draw(trades(market))
    before = market.copy()
    try:
        execute_trade(market, SUBJECT, perp, delta)
    except XmarginError as exc:
        event(f"refused: {exc.code}")
        assert market.state_equals(before)
    else:
        event("traded")


@given(perp_markets(), st.data())
def test_PERP_5_closing_at_entry_with_funding_unchanged_realises_nothing(
    market: Market, data: st.DataObject
) -> None:
    """PERP-5: with f = F, closing at X = E realises 0 and leaves every balance as it was."""
    perp = data.draw(st.sampled_from(sorted(market.accounts[SUBJECT].perps)))
    acc = market.accounts[SUBJECT]
    pos = acc.perps[perp]
    market.perps = {
        **market.perps,
        perp: market.perps[perp].model_copy(update={"funding_index": pos.funding_index}),
    }
    supply, borrow = dict(acc.supply), dict(acc.borrow)
    q = execute_trade(market, SUBJECT, perp, -pos.size, pos.entry_price)
    assert (q.realized_pnl, q.funding_paid, q.size_after, q.entry_price) == (0, 0, 0, None)
    assert (acc.supply, acc.borrow) == (supply, borrow)
    assert perp not in acc.perps


# liquidatable_perp_accounts() filters: about 1 run in 15 tripped filter_too_much (seen
# on the base commit too), so this test tolerates the filtering it is built on.
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(liquidatable_perp_accounts(), st.data())
def test_PERP_6_a_liquidation_moves_total_value_only_by_the_liquidator_fee(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """PERP-6: Σ account value + fund − deficit falls by the liquidator fee, within four
    units of rounding (funding, PnL and two fees); the fund gains the insurance fee's
    units before it covers any write-off."""
    market, account = pair
    perp = data.draw(st.sampled_from(sorted(market.accounts[account].perps)))
    size = data.draw(st.sampled_from(["max", "0.0001", "1", "1000"]))
    total = sum((account_value(market, a) for a in market.accounts), Decimal(0))
    total += _fund_value(market) - _deficit_value(market)
    fund_before = market.insurance_fund.get("USDC", Decimal(0))
    q = execute_liquidate_perp(market, account, perp, size)
    event("written off" if q.bad_debt or q.insurance_fund_used else "no write-off")
    after = sum((account_value(market, a) for a in market.accounts), Decimal(0))
    after += _fund_value(market) - _deficit_value(market)
    change = after - total + q.liquidator_fee
    assert -4 * UNIT <= change <= UNIT  # the insurance fee's units round up: fund +, account −
    price = market.assets["USDC"].price
    intake = fund_before + (q.insurance_fee / price) - q.insurance_fund_used.get("USDC", 0)
    assert abs(market.insurance_fund.get("USDC", Decimal(0)) - intake) <= Decimal("1e-6")


@given(perp_markets(), st.data())
def test_PERP_7_funding_moves_pnl_by_exactly_minus_q_times_the_change(
    market: Market, data: st.DataObject
) -> None:
    """PERP-7: set_funding_index(F + ΔF) moves the subject's unrealised PnL by −q·ΔF
    (Mango's funding), summed over its positions in that perp."""
    perp = data.draw(st.sampled_from(sorted(PERPS)))
    d_f = Decimal(data.draw(st.integers(-(10**9), 10**9))).scaleb(-4)
    acc = market.accounts[SUBJECT]
    before = account_health(acc, market).unrealized_pnl
    set_funding_index(market, perp, market.perps[perp].funding_index + d_f)
    pos = acc.position(perp)
    q = pos.size if pos is not None else Decimal(0)
    assert account_health(acc, market).unrealized_pnl - before == -q * d_f


@given(perp_markets(), st.data())
def test_PERP_8_open_interest_is_the_sum_of_the_positions_sides(
    market: Market, data: st.DataObject
) -> None:
    """PERP-8: after any trades, settlements and liquidations, accepted or refused, the
    market's (long, short) open interest per perp equals the sum over accounts."""
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["trade", "settle", "liquidate"]))
        perp, delta = data.draw(trades(market))
        with contextlib.suppress(XmarginError):
            if kind == "trade":
                execute_trade(market, SUBJECT, perp, delta)
            elif kind == "settle":
                execute_settle(market, SUBJECT, perp)
            else:
                execute_liquidate_perp(market, SUBJECT, perp, "max")
        for name in PERPS:
            sizes = [a.perps[name].size for a in market.accounts.values() if name in a.perps]
            long = sum((q for q in sizes if q > 0), Decimal(0))
            short = sum((-q for q in sizes if q < 0), Decimal(0))
            assert market.open_interest.get(name, (Decimal(0), Decimal(0))) == (long, short)


@given(perp_markets(), st.data())
def test_LP_P1_health_is_one_at_the_liquidation_price_of_an_underlying(
    market: Market, data: st.DataObject
) -> None:
    """LP-P1: re-pricing the underlying (its perps with it) to the returned price gives a
    health factor within 1e-12 of 1 (plus what the 1e-18 grids of the price and the sums
    can move it for a tiny account); a relative step of 1e-6 either way lands on opposite
    sides of liquidation, and the side of today's price, if healthy today, is healthy."""
    asset = data.draw(st.sampled_from(["WETH", "WBTC", "USDC"]))
    acc = market.accounts[SUBJECT]
    lp = liquidation_price(market, SUBJECT, asset)
    if lp.price is None:
        event("no liquidation price")
        return
    if lp.price < Decimal("1e-6"):
        event("price below 1e-6")
        return
    event(f"price found ({asset})")
    h = account_health(acc, market.with_prices({asset: lp.price}))
    assert h.health_factor is not None
    # The price is held to 1e-18 and each sum to 1e-18 of the quote: mc − md can miss 0 by
    # (units exposed to the asset) x 1e-18 + 2e-18, i.e. health by that over md.
    units = acc.supplied(asset) + acc.borrowed(asset)
    units += sum((abs(p.size) for n, p in acc.perps.items() if PERPS[n] == asset), Decimal(0))
    slack = (units * Decimal("1e-18") + Decimal("3e-18")) / h.maintenance_debt
    assert abs(h.health_factor - 1) <= Decimal("1e-12") + slack
    step = Decimal("1e-6")
    low = account_health(acc, market.with_prices({asset: lp.price * (1 - step)}))
    high = account_health(acc, market.with_prices({asset: lp.price * (1 + step)}))
    assert low.liquidatable != high.liquidatable
    now = account_health(acc, market)
    if not now.liquidatable:
        today_side = high if market.assets[asset].price > lp.price else low
        assert not today_side.liquidatable
