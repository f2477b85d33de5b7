"""Invariants of the liquidation designs (contract 8.1–8.3), on generated markets.

TGT-1  A target liquidation conserves value: the borrower's collateral falls by seized =
       liquidator_receives + protocol_fee, its debt by repaid plus what was written off,
       and the fund and the deficit move by exactly what the quote reports.
TGT-2  Unless the amount, the debt, the collateral or a dust rule caps it, a target
       liquidation leaves health at or above THF (to the 1e-18 rounding of the sums).
AUC-1  An auction conserves collateral and debt: lot = Σ bought + returned (+ what is
       left), debt = Σ principal + written off (+ what is left), Σ paid = Σ principal +
       Σ penalty; the fund and the deficit move by what the quotes report.
AUC-2  The borrower never pays more than the tab (Σ paid <= tab), and once the tab is
       raised every unit of collateral left returns to it.
SF-1   Absorb conserves value: the protocol's value = collateral − debt − the excess kept
       by the account, the account keeps max(0, credited − debt) to one unit of the base,
       and the reserves and holdings move by the balances taken.
SF-2   A purchase never gives the buyer more than it paid for at the store-front price,
       and never less than the oracle value of what it paid (the discount is >= 0).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, event, given
from hypothesis import strategies as st

from tests.strategies import SUBJECT, markets
from xmargin.errors import RuleViolation
from xmargin.ledger.actions import execute_liquidate
from xmargin.ledger.auctions import execute_auction_start, execute_auction_take
from xmargin.ledger.storefront import execute_absorb, execute_buy_collateral
from xmargin.model import Market
from xmargin.model.liquidation_params import (
    AuctionCurve,
    AuctionParams,
    LiquidationDesign,
    StorefrontParams,
    TargetHealthParams,
    parse_time,
)
from xmargin.risk.health import account_health
from xmargin.risk.storefront import liquidation_factor
from xmargin.risk.target_health import debt_to_target
from xmargin.risk.weights import effective_weights, size_haircut_liability_weight_up

ZERO = Decimal(0)


def _design(market: Market, **update: object) -> Market:
    market.params = market.params.model_copy(update=update)
    return market


def _pair(data: st.DataObject, market: Market) -> tuple[str, str]:
    acc = market.accounts[SUBJECT]
    debt = data.draw(st.sampled_from(sorted(acc.borrow)), label="debt")
    coll = data.draw(st.sampled_from(sorted(acc.supply)), label="collateral")
    return debt, coll


def _units(data: st.DataObject, held: Decimal, decimals: int) -> str:
    if data.draw(st.booleans(), label="max"):
        return "max"
    part = Decimal(data.draw(st.integers(1, 1000), label="per mille")) / 1000
    units = (held * part).quantize(Decimal(1).scaleb(-decimals), "ROUND_FLOOR")
    return str(max(units, Decimal(1).scaleb(-decimals)))


@given(markets("liquidatable"), st.data())
def test_tgt_1_a_target_liquidation_conserves_value(market: Market, data: st.DataObject) -> None:
    m = _design(market, liquidation=LiquidationDesign.TARGET, target_health=TargetHealthParams())
    assume(account_health(m.accounts[SUBJECT], m).liquidatable)
    debt, coll = _pair(data, m)
    amount = _units(data, m.accounts[SUBJECT].borrowed(debt), m.assets[debt].decimals)
    before = m.accounts[SUBJECT].copy()
    fund, deficit = dict(m.insurance_fund), dict(m.deficit)
    try:
        q = execute_liquidate(m, SUBJECT, debt, coll, amount)
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        return
    after = m.accounts[SUBJECT]
    assert q.seized == q.liquidator_receives + q.protocol_fee
    assert before.supplied(coll) - after.supplied(coll) == q.seized
    written = {
        a: q.bad_debt.get(a, ZERO) + q.insurance_fund_used.get(a, ZERO) for a in before.borrow
    }
    assert before.borrowed(debt) - after.borrowed(debt) == q.repaid + written.get(debt, ZERO)
    for a, units in q.bad_debt.items():
        assert m.deficit.get(a, ZERO) - deficit.get(a, ZERO) == units
    for a, units in q.insurance_fund_used.items():
        assert fund.get(a, ZERO) - m.insurance_fund.get(a, ZERO) == units
    # the liquidator receives no more than the bonus-adjusted value of what it repaid
    p_d, p_c = m.assets[debt].price, m.assets[coll].price
    assert q.seized * p_c <= q.repaid * p_d * (1 + q.bonus)


@given(markets("liquidatable"), st.data())
def test_tgt_2_an_uncapped_target_liquidation_reaches_the_target(
    market: Market, data: st.DataObject
) -> None:
    thf = Decimal(data.draw(st.integers(1000, 1300), label="THF per mille")) / 1000
    rules = TargetHealthParams(target_health_factor=thf)
    m = _design(market, liquidation=LiquidationDesign.TARGET, target_health=rules)
    acc = m.accounts[SUBJECT]
    h = account_health(acc, m)
    assume(h.liquidatable)
    debt, coll = _pair(data, m)
    dp, cp = m.assets[debt], m.assets[coll]
    w = effective_weights(cp, m.category_of(acc), acc.supplied(coll), ZERO)
    assume(w.liquidation_threshold > 0)
    try:
        q = execute_liquidate(m, SUBJECT, debt, coll, "max")
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        return
    mbw = dp.maintenance_borrow_weight
    if dp.size_factor:
        mbw = size_haircut_liability_weight_up(mbw, dp.size_factor, acc.borrowed(debt) + q.repaid)
    target = debt_to_target(
        h.maintenance_collateral,
        h.maintenance_debt,
        thf,
        1 + q.bonus,
        w.liquidation_threshold,
        mbw,
        dp.price,
        dp.decimals,
    )
    d0, c0 = acc.borrowed(debt) + q.repaid, acc.supplied(coll) + q.seized
    capped = target is None or q.repaid != target or q.repaid >= d0 or q.seized >= c0
    event("capped" if capped else "reaches the target")
    if not capped:
        assert q.health_factor_after is not None
        assert q.health_factor_after >= thf - Decimal("1e-12")


@given(markets("liquidatable"), st.data())
def test_auc_1_and_2_an_auction_conserves_collateral_and_never_takes_more_than_the_tab(
    market: Market, data: st.DataObject
) -> None:
    curve = data.draw(st.sampled_from(list(AuctionCurve)), label="curve")
    params = AuctionParams(
        curve=curve,
        buf=Decimal(data.draw(st.integers(90, 130), label="buf %")) / 100,
        tip=Decimal(data.draw(st.integers(0, 100), label="tip")),
        chip=Decimal(data.draw(st.integers(0, 10), label="chip per mille")) / 1000,
    )
    m = _design(
        market,
        liquidation=LiquidationDesign.AUCTION,
        auction=params,
        time=parse_time("2024-06-01T08:00:00Z"),
    )
    debt, coll = _pair(data, m)
    acc = m.accounts[SUBJECT]
    fund0, deficit0 = dict(m.insurance_fund), dict(m.deficit)
    coll0, debt0 = acc.supplied(coll), acc.borrowed(debt)
    try:
        start = execute_auction_start(m, SUBJECT, debt, coll, "max")
    except RuleViolation as exc:
        event(f"start refused: {exc.code}")
        return
    a = start.auction
    assert (coll0 - acc.supplied(coll), debt0 - acc.borrowed(debt)) == (a.lot, a.debt)
    bought = paid = principal = penalty = returned = ZERO
    used: dict[str, Decimal] = dict(start.insurance_fund_used)
    bad: dict[str, Decimal] = dict(start.deficit_added)
    for _ in range(data.draw(st.integers(1, 4), label="takes")):
        if a.id not in m.auctions:
            break
        wait = data.draw(st.integers(0, 3000), label="seconds")
        lot = m.auctions[a.id].lot
        try:
            q = execute_auction_take(
                m, a.id, _units(data, lot, m.assets[coll].decimals), at=f"+{wait}"
            )
        except RuleViolation as exc:
            event(f"take refused: {exc.code}")
            continue
        assert q.paid == q.principal + q.penalty
        bought, paid, returned = bought + q.bought, paid + q.paid, returned + q.returned
        principal, penalty = principal + q.principal, penalty + q.penalty
        for mine, theirs in ((used, q.insurance_fund_used), (bad, q.bad_debt)):
            for asset, units in theirs.items():
                mine[asset] = mine.get(asset, ZERO) + units
    left = m.auctions.get(a.id)
    assert a.lot == bought + returned + (left.lot if left else ZERO)
    written = bad.get(debt, ZERO) - start.deficit_added.get(debt, ZERO)
    written += used.get(debt, ZERO) - start.insurance_fund_used.get(debt, ZERO)
    # once the auction ends, 3.7 may also write off the account's own debt of that asset
    own = debt0 - a.debt - acc.borrowed(debt)
    if left is None and returned == ZERO:
        assert a.debt == principal + written - own  # the lot ran out: the rest written off
    assert paid <= a.tab  # AUC-2
    if returned:
        event("tab raised, collateral returned")
        assert acc.supplied(coll) == returned
    assert m.insurance_fund.get(debt, ZERO) == fund0.get(debt, ZERO) + penalty - used.get(
        debt, ZERO
    )
    assert m.deficit.get(debt, ZERO) == deficit0.get(debt, ZERO) + bad.get(debt, ZERO)


@given(markets("liquidatable"), st.data())
def test_sf_1_and_2_absorb_and_buy_conserve_value(market: Market, data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(["USDC", "DAI"]), label="base")
    spf = Decimal(data.draw(st.integers(0, 100), label="spf %")) / 100
    sf = StorefrontParams(base=base, store_front_price_factor=spf, target_reserves=Decimal(10**9))
    m = _design(market, liquidation=LiquidationDesign.STOREFRONT, storefront=sf)
    acc = m.accounts[SUBJECT]
    before = acc.copy()
    reserves0 = dict(m.reserves)
    q = execute_absorb(m, SUBJECT)
    p_base = m.assets[base].price
    assert q.protocol_value == q.collateral_value - q.debt_value - q.excess * p_base
    surplus = q.credited_value - q.debt_value
    unit = Decimal(1).scaleb(-m.assets[base].decimals)
    assert q.excess * p_base <= max(surplus, ZERO) < (q.excess + unit) * p_base
    assert acc.borrow == {} and acc.supply == ({base: q.excess} if q.excess else {})
    for a, s in before.supply.items():
        if a != base:
            assert m.protocol_collateral[a] == s
    taken = before.supplied(base) - before.borrowed(base) - q.excess
    assert m.reserves.get(base, ZERO) == reserves0.get(base, ZERO) + taken
    for_sale = sorted(m.protocol_collateral)
    assume(for_sale)
    asset = data.draw(st.sampled_from(for_sale), label="asset")
    try:
        b = execute_buy_collateral(m, asset, "max")
    except RuleViolation as exc:
        event(f"buy refused: {exc.code}")
        return
    lf = liquidation_factor(m, sf, asset)
    price = m.assets[asset].price * (1 - spf * (1 - lf))
    assert b.bought * price <= b.paid * p_base  # SF-2: paid for at the store-front price
    assert b.buyer_value >= -unit * p_base  # the discount is >= 0, to the rounding of paid
