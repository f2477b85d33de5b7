"""Invariants of liquidation (contract section 3).

LIQ-1  Liquidation conserves value: seized = liquidator_receives + protocol_fee, and the
       borrower's collateral falls by exactly seized, its debt by exactly repaid (plus
       what was written off), the deficit grows by exactly what was written off.
LIQ-2  Seized never exceeds the collateral balance, repaid never exceeds the debt or the
       close-factor limit, and the liquidator never receives more than the bonus-adjusted
       value of what was repaid (seized x p_coll <= repaid x p_debt x (1 + beta)).
LIQ-3  quote_liquidation equals what execute_liquidate applies.
LIQ-4  A liquidation never lowers the health factor of an account whose health factor is
       at least (1 + beta) x lt_coll / mbw_debt (one collateral, one debt, no haircut).
LIQ-5  Below that boundary a liquidation can lower it (shown by example: debt/collateral
       above 1/(1 + beta)).
LIQ-6  After a liquidation an account either holds collateral or owes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Literal

from hypothesis import event, given
from hypothesis import strategies as st

from tests.builders import D, load_vector
from tests.strategies import liquidatable_accounts, one_pair_accounts
from xmargin.errors import RuleViolation
from xmargin.ledger.actions import execute_liquidate
from xmargin.model import Account, Market
from xmargin.risk.health import account_health
from xmargin.risk.liquidation import (
    LiquidationQuote,
    has_collateral,
    max_repayable,
    quote_liquidation,
)

ZERO = Decimal(0)


Liq = tuple[str, str, Decimal | Literal["max"]]


def draw_liquidation(data: st.DataObject, market: Market, account: str) -> Liq:
    acc = market.accounts[account]
    debt = data.draw(st.sampled_from(sorted(acc.borrow)), label="debt asset")
    # mostly a collateral that can be seized (effective lt > 0), sometimes any asset held
    seizable = [
        a
        for a in sorted(acc.supply)
        if has_collateral(Account(account, {a: D("1")}, category=acc.category), market)
    ]
    any_asset = data.draw(st.integers(0, 3), label="any asset held") == 0
    choices = seizable if seizable and not any_asset else sorted(acc.supply)
    coll = data.draw(st.sampled_from(choices), label="collateral asset")
    unit = Decimal(1).scaleb(-market.assets[debt].decimals)
    if data.draw(st.booleans(), label="max"):
        return debt, coll, "max"
    part = Decimal(data.draw(st.integers(1, 1000), label="per mille of the debt"))
    return debt, coll, max(unit, (acc.borrowed(debt) * part / 1000) // unit * unit)


def attempt(market: Market, account: str, liq: Liq) -> LiquidationQuote | None:
    """Execute the liquidation; ``None`` (and the market unchanged) if a rule refuses it."""
    before = market.copy()
    try:
        q = execute_liquidate(market, account, *liq)
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        assert market.state_equals(before)
        return None
    event("liquidated" + (" with bad debt" if q.bad_debt else ""))
    return q


@given(liquidatable_accounts(), st.data())
def test_LIQ_1_liquidation_conserves_value(pair: tuple[Market, str], data: st.DataObject) -> None:
    """LIQ-1: seized = liquidator_receives + protocol_fee; the borrower's collateral falls
    by exactly seized, its debt by repaid plus what was written off, and the deficit grows
    by exactly what was written off; nothing else changes."""
    market, account = pair
    debt, coll, amount = draw_liquidation(data, market, account)
    before = market.copy()
    q = attempt(market, account, (debt, coll, amount))
    if q is None:
        return
    assert q.seized == q.liquidator_receives + q.protocol_fee
    assert q.protocol_fee >= 0 and q.liquidator_receives >= 0
    old, new = before.accounts[account], market.accounts[account]
    assert old.supplied(coll) - new.supplied(coll) == q.seized
    assert old.borrowed(debt) - new.borrowed(debt) == q.repaid + q.bad_debt.get(debt, ZERO)
    for a in set(old.supply) | set(new.supply):
        if a != coll:
            assert new.supplied(a) == old.supplied(a)
    for a in set(old.borrow) | set(new.borrow):
        if a != debt:
            assert old.borrowed(a) - new.borrowed(a) == q.bad_debt.get(a, ZERO)
    for a in set(before.deficit) | set(market.deficit):
        grown = market.deficit.get(a, ZERO) - before.deficit.get(a, ZERO)
        assert grown == q.bad_debt.get(a, ZERO)
    assert before.total_supply.get(coll, ZERO) - market.total_supply.get(coll, ZERO) == q.seized
    for other in before.accounts:
        if other != account:
            assert market.accounts[other] == before.accounts[other]


@given(liquidatable_accounts(), st.data())
def test_LIQ_2_seized_never_exceeds_the_balance_nor_the_value_repaid(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """LIQ-2: seized <= the collateral balance; repaid <= the debt and <= the amount asked;
    seized x p_coll <= repaid x p_debt x (1 + beta) (rounding never favours the
    liquidator) and falls short of it by less than one smallest unit of each side."""
    market, account = pair
    debt, coll, amount = draw_liquidation(data, market, account)
    acc = market.accounts[account]
    c, d = acc.supplied(coll), acc.borrowed(debt)
    try:
        q = quote_liquidation(market, account, debt, coll, amount)
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        return
    assert 0 < q.seized <= c
    assert 0 < q.repaid <= d
    if amount != "max":
        assert q.repaid <= amount
    assert q.health_factor_before is not None
    limit = max_repayable(
        market.params,
        q.health_factor_before,
        d,
        c,
        account_health(acc, market).debt_value,
        market.assets[debt].price,
        market.assets[coll].price,
        market.assets[debt].decimals,
    )
    assert q.repaid <= limit
    p_coll, p_debt = market.assets[coll].price, market.assets[debt].price
    got = q.seized * p_coll
    owed = q.repaid * p_debt * (1 + q.bonus)
    assert got <= owed
    unit_coll = Decimal(1).scaleb(-market.assets[coll].decimals)
    unit_debt = Decimal(1).scaleb(-market.assets[debt].decimals)
    assert owed - got < unit_coll * p_coll + unit_debt * p_debt * (1 + q.bonus)
    if q.seized < c:
        event("seizure not capped")
    else:
        event("seizure capped at the balance")


@given(liquidatable_accounts(), st.data())
def test_LIQ_3_the_quote_is_exactly_what_execution_applies(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """LIQ-3: quote_liquidation returns exactly what execute_liquidate then applies, and
    quoting changes nothing."""
    market, account = pair
    liq = draw_liquidation(data, market, account)
    before = market.copy()
    try:
        quoted = quote_liquidation(market, account, *liq)
    except RuleViolation as exc:
        assert market.state_equals(before)
        try:
            execute_liquidate(market, account, *liq)
        except RuleViolation as again:
            assert type(again) is type(exc)
            assert market.state_equals(before)
            return
        raise AssertionError("execute accepted what quote refused") from exc
    assert market.state_equals(before)
    done = execute_liquidate(market, account, *liq)
    assert done == quoted  # every reported field (dataclass equality)
    assert market.accounts[account] == quoted.account_after
    h = account_health(market.accounts[account], market)
    assert h.health_factor == quoted.health_factor_after


@given(one_pair_accounts(), st.data())
def test_LIQ_4_liquidation_never_lowers_health_at_or_above_the_boundary(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """LIQ-4: one collateral, one debt, no size haircut: a liquidation never lowers the
    health factor of an account whose health factor is at least (1 + beta) x lt_coll /
    mbw_debt."""
    market, account = pair
    debt, coll, amount = draw_liquidation(data, market, account)
    try:
        q = quote_liquidation(market, account, debt, coll, amount)
    except RuleViolation as exc:
        event(f"refused: {exc.code}")
        return
    lt = market.assets[coll].liquidation_threshold
    mbw = market.assets[debt].maintenance_borrow_weight
    boundary = (1 + q.bonus) * lt / mbw
    assert q.health_factor_before is not None
    if q.health_factor_before < boundary:  # the generator aims above; rounding may miss
        event("below the boundary after rounding")
        return
    event(f"policy {market.params.bonus_policy}")
    if q.health_factor_after is None:  # all debt repaid or written off
        return
    # The exact health of the balances (no rounding of the figures): the reported figures
    # are held to 18 places (mc down, md up, hf down), which at an exact tie,
    # C = (1 + beta) x D, could cost a unit of the last place without any real change.
    before = exact_health(market, market.accounts[account])
    after = exact_health(market, q.account_after)
    assert after >= before
    # The reported figure is within its rounding of the exact one: at most one unit of
    # the 18th place in mc', md' and hf' each.
    h = account_health(q.account_after, market)
    ulp = D("1e-18")
    slack = q.health_factor_before * ulp * (1 / h.maintenance_collateral + 1 / h.maintenance_debt)
    assert q.health_factor_after >= q.health_factor_before - slack - ulp


def exact_health(market: Market, acc: Account) -> Fraction:
    """sum s x p x lt / sum b x p x mbw in exact rationals (no size haircut, no category)."""
    assets = market.assets
    mc = sum(
        (
            Fraction(s * assets[a].price * assets[a].liquidation_threshold)
            for a, s in acc.supply.items()
        ),
        Fraction(0),
    )
    md = sum(
        (
            Fraction(b * assets[a].price * assets[a].maintenance_borrow_weight)
            for a, b in acc.borrow.items()
        ),
        Fraction(0),
    )
    return mc / md


def test_LIQ_5_below_the_boundary_a_liquidation_can_lower_health() -> None:
    """LIQ-5: with debt/collateral above 1/(1 + beta), a partial liquidation lowers the
    health factor (the account is below the LIQ-4 boundary)."""
    m = load_vector("aave_rules.toml")
    # dusty: 10 WETH x 2000 = 20,000 of collateral, 19,500 USDC of debt:
    # debt/collateral = 0.975 > 1 / 1.05 = 0.952...; boundary = 1.05 x 0.825 / 1 = 0.86625
    # health = 16,500 / 19,500 = 0.846153846153846153 < 0.86625
    m.params = m.params.model_copy(update={"min_leftover_value": D("0")})
    q = execute_liquidate(m, "dusty", "USDC", "WETH", D("1000"))
    assert q.seized == D("0.525")  # 1,000 x 1.05 / 2000
    assert q.health_factor_before == D("0.846153846153846153")
    # after: 9.475 WETH x 2000 x 0.825 = 15,633.75 / 18,500 = 0.845067567567567567...
    assert q.health_factor_after == D("0.845067567567567567")
    assert q.health_factor_after < q.health_factor_before


def test_LIQ_5_at_the_boundary_a_liquidation_leaves_health_unchanged() -> None:
    """LIQ-5 (the edge): collateral exactly (1 + beta) x debt keeps health where it is."""
    m = load_vector("aave_rules.toml")
    m.params = m.params.model_copy(update={"min_leftover_value": D("0")})
    acc = m.accounts["dusty"]
    acc.set_borrow("USDC", D("19047.619047"))  # 20,000 / 1.05 = 19,047.619047619...
    before = account_health(acc, m).health_factor
    q = execute_liquidate(m, "dusty", "USDC", "WETH", D("1000"))
    assert before is not None and q.health_factor_after is not None
    assert abs(q.health_factor_after - before) < D("1e-10")


@given(liquidatable_accounts(), st.data())
def test_LIQ_6_after_a_liquidation_an_account_holds_collateral_or_owes_nothing(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """LIQ-6: after a liquidation the account holds collateral (effective lt > 0) or owes
    nothing: remaining debt without collateral is always written off."""
    market, account = pair
    q = attempt(market, account, draw_liquidation(data, market, account))
    if q is None:
        return
    acc = market.accounts[account]
    assert has_collateral(acc, market) or not acc.borrow
    if q.bad_debt:
        assert not acc.borrow
        assert q.health_factor_after is None
