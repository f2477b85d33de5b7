"""Contract 2 and 1: a borrow or withdrawal is allowed only if afterwards
initial_collateral >= initial_debt, and caps, borrowability and category rules hold.
A deposit or repayment is never refused for margin. Caps gate new supply and borrowing
only: a book already above a lowered cap loads and is reported, not refused.
"""

from __future__ import annotations

import pytest

from tests.builders import D, make_market
from xmargin.errors import (
    CapExceeded,
    CategoryViolation,
    InsufficientBalance,
    InsufficientMargin,
    InvalidAmount,
    NotBorrowable,
    UnknownAccount,
    UnknownAsset,
)
from xmargin.ledger.actions import (
    execute_borrow,
    execute_deposit,
    execute_repay,
    execute_withdraw,
)
from xmargin.model import Market
from xmargin.risk.health import account_health

WETH = {
    "price": 2000,
    "collateral_factor": "0.80",
    "liquidation_threshold": "0.825",
    "liquidation_bonus": "0.05",
}
USDC = {
    "price": 1,
    "decimals": 6,
    "collateral_factor": "0.85",
    "liquidation_threshold": "0.88",
    "liquidation_bonus": "0.045",
}


def market(**overrides: dict[str, object]) -> Market:
    assets = {"WETH": dict(WETH), "USDC": dict(USDC)}
    for a, extra in overrides.items():
        assets[a].update(extra)
    return make_market(
        assets=assets,
        # alice: 10 WETH x 2000 x 0.80 = 16,000 of initial collateral, 10,000 USDC of debt
        accounts={
            "alice": {"supply": {"WETH": "10"}, "borrow": {"USDC": "10000"}},
            "bob": {"supply": {"USDC": "50000"}},
        },
    )


def test_borrow_up_to_exactly_the_initial_collateral_is_allowed() -> None:
    m = market()
    execute_borrow(m, "alice", "USDC", "6000")  # 10,000 + 6,000 = 16,000 = initial collateral
    h = account_health(m.accounts["alice"], m)
    assert h.initial_debt == h.initial_collateral == D("16000")
    assert h.available_to_borrow == 0
    assert m.total_borrow["USDC"] == D("16000")


def test_borrow_one_unit_beyond_the_initial_collateral_is_refused() -> None:
    m = market()
    before = m.copy()
    with pytest.raises(InsufficientMargin) as err:
        execute_borrow(m, "alice", "USDC", "6000.000001")  # 16,000.000001 > 16,000
    assert err.value.code == "insufficient_margin"
    assert err.value.actual == D("16000")  # initial collateral
    assert err.value.required == D("16000.000001")  # initial debt it would have
    assert m.state_equals(before)


def test_withdrawal_keeping_initial_margin_is_allowed_and_one_unit_more_is_refused() -> None:
    m = market()
    # 10,000 USDC of debt needs 10,000 / (2000 x 0.80) = 6.25 WETH: 3.75 may be withdrawn
    before = m.copy()
    with pytest.raises(InsufficientMargin):
        execute_withdraw(m, "alice", "WETH", "3.750000000000000001")
    assert m.state_equals(before)
    execute_withdraw(m, "alice", "WETH", "3.75")
    h = account_health(m.accounts["alice"], m)
    assert h.initial_collateral == h.initial_debt == D("10000")  # 6.25 x 2000 x 0.80
    assert m.total_supply["WETH"] == D("6.25")


def test_withdrawing_more_than_supplied_is_refused() -> None:
    m = market()
    with pytest.raises(InsufficientBalance):
        execute_withdraw(m, "bob", "USDC", "50000.000001")


def test_without_debt_everything_may_be_withdrawn() -> None:
    m = market()
    execute_withdraw(m, "bob", "USDC", "50000")
    assert m.accounts["bob"].supply == {}
    assert "USDC" not in m.total_supply or m.total_supply["USDC"] == 0


def test_borrow_weight_counts_in_initial_margin() -> None:
    m = market(USDC={"borrow_weight": "1.25"})
    # 16,000 of initial collateral holds 16,000 / 1.25 = 12,800 USDC of debt
    execute_borrow(m, "alice", "USDC", "2800")  # 12,800 x 1.25 = 16,000
    with pytest.raises(InsufficientMargin):
        execute_borrow(m, "alice", "USDC", "0.000001")


def test_maintenance_weight_does_not_count_in_initial_margin() -> None:
    m = market(USDC={"borrow_weight": "1", "maintenance_borrow_weight": "1"})
    execute_borrow(m, "alice", "USDC", "6000")
    assert account_health(m.accounts["alice"], m).available_to_borrow == 0


def test_a_deposit_is_never_refused_for_margin_even_when_under_water() -> None:
    m = market()
    under = m.with_prices({"WETH": D("1000")})  # 10 x 1000 x 0.80 = 8,000 < 10,000 debt
    assert account_health(under.accounts["alice"], under).initial_collateral < D("10000")
    execute_deposit(under, "alice", "WETH", "0.1")
    execute_repay(under, "alice", "USDC", "1")
    assert under.accounts["alice"].supplied("WETH") == D("10.1")
    assert under.accounts["alice"].borrowed("USDC") == D("9999")


def test_a_repayment_below_margin_is_allowed_but_a_new_borrow_is_not() -> None:
    m = market().with_prices({"WETH": D("1000")})
    with pytest.raises(InsufficientMargin):
        execute_borrow(m, "alice", "USDC", "1")
    execute_repay(m, "alice", "USDC", "1")


def test_repaying_more_than_owed_is_refused() -> None:
    m = market()
    with pytest.raises(InsufficientBalance):
        execute_repay(m, "alice", "USDC", "10000.000001")


def test_supply_cap_gates_deposits_market_wide() -> None:
    m = market(USDC={"supply_cap": "50001"})  # 50,000 already supplied by bob
    execute_deposit(m, "carol", "USDC", "1")  # total 50,001 = cap: allowed, opens carol
    assert "carol" in m.accounts
    before = m.copy()
    with pytest.raises(CapExceeded) as err:
        execute_deposit(m, "alice", "USDC", "0.000001")
    assert err.value.to_dict()["code"] == "supply_cap_exceeded"
    assert err.value.total_after == D("50001.000001")
    assert m.state_equals(before)


def test_borrow_cap_gates_borrows_market_wide() -> None:
    m = market(USDC={"borrow_cap": "12000"})  # 10,000 already borrowed by alice
    with pytest.raises(CapExceeded) as err:
        execute_borrow(m, "alice", "USDC", "2000.000001")
    assert err.value.to_dict()["code"] == "borrow_cap_exceeded"
    execute_borrow(m, "alice", "USDC", "2000")  # total 12,000 = cap


def test_a_book_above_a_lowered_cap_loads_and_may_still_repay_and_withdraw() -> None:
    m = market(USDC={"borrow_cap": "100", "supply_cap": "100"})  # far below the book
    assert m.total_borrow["USDC"] == D("10000")
    execute_repay(m, "alice", "USDC", "1")  # lowers risk: never refused by a cap
    execute_withdraw(m, "bob", "USDC", "1")
    with pytest.raises(CapExceeded):
        execute_borrow(m, "alice", "USDC", "1")
    with pytest.raises(CapExceeded):
        execute_deposit(m, "bob", "USDC", "1")


def test_an_asset_marked_not_borrowable_cannot_be_borrowed() -> None:
    m = market(WETH={"borrowable": False})
    with pytest.raises(NotBorrowable) as err:
        execute_borrow(m, "bob", "WETH", "1")
    assert err.value.code == "not_borrowable"


def test_category_borrowability_is_checked_before_margin() -> None:
    m = make_market(
        assets={"WETH": WETH, "USDC": USDC},
        categories={
            "eth": {
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.93",
                "liquidation_bonus": "0.01",
                "assets": ["WETH"],
            }
        },
        accounts={"e": {"category": "eth", "supply": {"WETH": "10"}}},
    )
    with pytest.raises(CategoryViolation):
        execute_borrow(m, "e", "USDC", "1")  # margin would allow it; the category does not
    execute_borrow(m, "e", "WETH", "9")  # 9 x 2000 = 18,000 = 10 x 2000 x 0.90


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "NaN", "Infinity", "0.0000001", "1e25"])
def test_bad_amounts_are_refused_as_input_errors_and_change_nothing(amount: str) -> None:
    m = market()
    before = m.copy()
    for action in (execute_deposit, execute_withdraw, execute_borrow, execute_repay):
        with pytest.raises(InvalidAmount) as err:
            action(m, "alice", "USDC", amount)  # USDC has 6 decimals
        assert err.value.exit_code == 2
    assert m.state_equals(before)


def test_unknown_names_are_refused_and_change_nothing() -> None:
    m = market()
    before = m.copy()
    with pytest.raises(UnknownAsset):
        execute_deposit(m, "alice", "XYZ", "1")
    with pytest.raises(UnknownAccount):
        execute_borrow(m, "nobody", "USDC", "1")
    with pytest.raises(UnknownAccount):
        execute_withdraw(m, "nobody", "USDC", "1")
    assert m.state_equals(before)
