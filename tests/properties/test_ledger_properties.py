"""Invariants of the ledger actions (contract 2 and style guide 3 and 16).

LEDGER-1  A refused action leaves the market unchanged.
LEDGER-2  After an allowed borrow or withdrawal, initial_collateral >= initial_debt.
LEDGER-3  Market totals always equal the sum of the accounts' balances.
HF-1      A deposit or a repayment never lowers health.
HF-2      A deposit or a repayment is never refused for margin.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import event, given
from hypothesis import strategies as st

from tests.strategies import SUBJECT, Action, actions, healthy_accounts, markets
from xmargin.errors import InsufficientMargin, RuleViolation, XmarginError
from xmargin.ledger.actions import (
    execute_borrow,
    execute_deposit,
    execute_liquidate,
    execute_repay,
    execute_withdraw,
)
from xmargin.model import Market
from xmargin.risk.health import AccountHealth, account_health

EXECUTE = {
    "deposit": execute_deposit,
    "withdraw": execute_withdraw,
    "borrow": execute_borrow,
    "repay": execute_repay,
}


def run(market: Market, action: Action) -> object:
    kind, account, asset, amount = action
    if kind == "liquidate":
        debt, coll = asset
        return execute_liquidate(market, account, debt, coll, amount)
    return EXECUTE[kind](market, account, asset, amount)


def recount(market: Market) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    supply: dict[str, Decimal] = {}
    borrow: dict[str, Decimal] = {}
    for acc in market.accounts.values():
        for a, s in acc.supply.items():
            supply[a] = supply.get(a, Decimal(0)) + s
        for a, b in acc.borrow.items():
            borrow[a] = borrow.get(a, Decimal(0)) + b
    return supply, borrow


def nonzero(d: dict[str, Decimal]) -> dict[str, Decimal]:
    return {k: v for k, v in d.items() if v}


@given(st.data())
def test_LEDGER_1_a_refused_action_leaves_the_market_unchanged(data: st.DataObject) -> None:
    """LEDGER-1: a refused action leaves the market unchanged (state_equals a copy taken
    before)."""
    market = data.draw(markets())
    action = data.draw(actions(market))
    before = market.copy()
    try:
        run(market, action)
    except XmarginError as exc:
        event(f"refused: {type(exc).__name__}")
        assert market.state_equals(before), (action, exc)
    else:
        event(f"done: {action[0]}")


@given(st.data())
def test_LEDGER_2_after_an_allowed_borrow_or_withdrawal_initial_margin_holds(
    data: st.DataObject,
) -> None:
    """LEDGER-2: after an allowed borrow or withdrawal, initial_collateral >=
    initial_debt for the account that acted."""
    market = data.draw(markets(data.draw(st.sampled_from(["healthy", "any"]))))
    kind, account, asset, amount = data.draw(actions(market, ("borrow", "withdraw")))
    try:
        EXECUTE[kind](market, account, asset, amount)
    except XmarginError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event(f"done: {kind}")
    h = account_health(market.accounts[account], market)
    assert h.initial_collateral >= h.initial_debt


@given(st.data())
def test_LEDGER_3_totals_equal_the_sum_of_balances_after_any_actions(data: st.DataObject) -> None:
    """LEDGER-3: after any sequence of actions, accepted or refused, total_supply and
    total_borrow equal the sums of the accounts' balances, and no deficit or isolation
    debt is negative."""
    market = data.draw(markets())
    for _ in range(data.draw(st.integers(1, 4))):
        with contextlib.suppress(XmarginError):  # refused or not, the totals must hold
            run(market, data.draw(actions(market)))
        supply, borrow = recount(market)
        assert nonzero(market.total_supply) == supply
        assert nonzero(market.total_borrow) == borrow
        assert all(v >= 0 for v in market.deficit.values())
        assert all(v >= 0 for v in market.isolation_debt.values())
        for acc in market.accounts.values():
            assert all(v > 0 for v in (*acc.supply.values(), *acc.borrow.values()))


def no_lower(before: AccountHealth, after: AccountHealth) -> None:
    assert after.maintenance_collateral >= before.maintenance_collateral
    assert after.initial_collateral >= before.initial_collateral
    assert after.maintenance_debt <= before.maintenance_debt
    assert after.initial_debt <= before.initial_debt
    if before.health_factor is None:
        assert after.health_factor is None
    elif after.health_factor is not None:
        assert after.health_factor >= before.health_factor


@given(st.data())
def test_HF_1_a_deposit_or_repayment_never_lowers_health(data: st.DataObject) -> None:
    """HF-1: a deposit or a repayment never lowers the health factor (nor raises a debt
    figure or lowers a collateral figure), size haircut included."""
    market = data.draw(markets(data.draw(st.sampled_from(["any", "liquidatable"]))))
    acc = market.accounts[SUBJECT]
    kind = data.draw(st.sampled_from(["deposit", "repay"] if acc.borrow else ["deposit"]))
    side = sorted(acc.borrow) if kind == "repay" else sorted(acc.supply)
    if kind == "deposit" and data.draw(st.booleans()):
        side = sorted(market.assets)  # sometimes a new asset (may break isolation: refused)
    asset = data.draw(st.sampled_from(side))
    unit = Decimal(1).scaleb(-market.assets[asset].decimals)
    if kind == "repay":
        owed = acc.borrowed(asset)
        amount = max(unit, (owed * Decimal(data.draw(st.integers(1, 1000))) / 1000) // unit * unit)
    else:
        amount = unit * data.draw(st.sampled_from([1, 7, 10**3, 10**6, 10**9, 10**15, 10**20]))
    before = account_health(acc, market)
    try:
        EXECUTE[kind](market, SUBJECT, asset, amount)
    except RuleViolation as exc:  # caps and isolation only: see HF-2
        event(f"refused: {type(exc).__name__}")
        return
    no_lower(before, account_health(market.accounts[SUBJECT], market))


@given(st.data())
def test_HF_2_a_deposit_or_repayment_is_never_refused_for_margin(data: st.DataObject) -> None:
    """HF-2: a deposit or a repayment is never refused for margin, even by an account
    below its initial margin or liquidatable."""
    market = data.draw(markets(data.draw(st.sampled_from(["liquidatable", "any"]))))
    kind, account, asset, amount = data.draw(actions(market, ("deposit", "repay")))
    try:
        EXECUTE[kind](market, account, asset, amount)
    except InsufficientMargin as exc:  # pragma: no cover - the property's failure
        raise AssertionError(f"{kind} refused for margin: {exc}") from exc
    except XmarginError as exc:
        event(f"refused: {type(exc).__name__}")


@given(healthy_accounts(), st.data())
def test_HF_3_a_healthy_account_stays_unliquidatable_after_a_deposit(
    pair: tuple[Market, str], data: st.DataObject
) -> None:
    """HF-3: a healthy account is still not liquidatable after any accepted deposit."""
    market, account = pair
    asset = data.draw(st.sampled_from(sorted(market.accounts[account].supply)))
    unit = Decimal(1).scaleb(-market.assets[asset].decimals)
    try:
        execute_deposit(market, account, asset, unit * data.draw(st.integers(1, 10**12)))
    except RuleViolation as exc:
        event(f"refused: {type(exc).__name__}")
        return
    assert not account_health(market.accounts[account], market).liquidatable
