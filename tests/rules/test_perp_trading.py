"""Contract 5.3: trading and settlement with funding, tests/vectors/perp_trading.toml, and
Derive's perp initial margin, tests/vectors/derive_perp.toml."""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.errors import (
    InsufficientMargin,
    InvalidAmount,
    InvalidPrice,
    NoPosition,
    OpenInterestCapExceeded,
    UnknownAccount,
    UnknownPerp,
)
from xmargin.ledger.perps import execute_settle, execute_trade, set_funding_index
from xmargin.model import Market, PerpPosition
from xmargin.risk.trading import quote_trade


@pytest.fixture()
def m() -> Market:
    return load_vector("perp_trading.toml")


def test_derive_perp_ten_contracts_at_1500_need_exactly_1500_of_initial_collateral() -> None:
    m = load_vector("derive_perp.toml")
    q = execute_trade(m, "exact", "ETH-PERP", "10")
    assert (q.size_after, q.entry_price) == (D("10"), D("1500"))
    assert q.health_factor_after == D("2")  # 1,500 / (15,000 x 0.05)
    assert m.open_interest["ETH-PERP"] == (D("10"), D("0"))


def test_derive_perp_1499_is_refused_and_nothing_changes() -> None:
    m = load_vector("derive_perp.toml")
    before = m.copy()
    with pytest.raises(InsufficientMargin) as err:
        execute_trade(m, "short", "ETH-PERP", "10")
    assert err.value.code == "insufficient_margin"
    assert (err.value.actual, err.value.required) == (D("1499"), D("1500"))
    assert m.state_equals(before)


def test_a_trade_in_the_same_direction_averages_the_entry_price(m: Market) -> None:
    q = execute_trade(m, "trader", "ETH-PERP", "5")
    assert (q.size_after, q.entry_price, q.realized_pnl) == (D("10"), D("1900"), D("0"))
    assert m.accounts["trader"].supply == {"USDC": D("10000")}  # nothing realised


def test_an_averaged_entry_rounds_against_the_trader(m: Market) -> None:
    # long: (5 x 1,800 + 1 x 2,000) / 6 = 1,833.333..|3 -> up
    assert execute_trade(m, "trader", "ETH-PERP", "1").entry_price == D("1833.333333333333333334")
    # short: (90 x 2,000 + 2 x 1,999) / 92 = 1,999.978260869565217391|30.. -> down
    q = execute_trade(m, "whale", "ETH-PERP", "-2", "1999")
    assert q.entry_price == D("1999.978260869565217391")


def test_reducing_realises_the_closed_part_and_keeps_the_entry(m: Market) -> None:
    q = execute_trade(m, "trader", "ETH-PERP", "-2")
    assert q.realized_pnl == D("400")  # 2 x (2,000 - 1,800)
    assert (q.size_before, q.size_after, q.entry_price) == (D("5"), D("3"), D("1800"))
    assert m.accounts["trader"].supply == {"USDC": D("10400")}


def test_closing_reports_a_null_entry_price_and_removes_the_position(m: Market) -> None:
    q = execute_trade(m, "trader", "ETH-PERP", "-5")
    assert (q.size_after, q.entry_price, q.realized_pnl) == (D("0"), None, D("1000"))
    assert "ETH-PERP" not in m.accounts["trader"].perps
    assert m.open_interest["ETH-PERP"] == (D("2"), D("90"))  # borrower 1 + loser 1


def test_flipping_closes_the_position_and_opens_the_rest_at_the_execution_price(
    m: Market,
) -> None:
    q = execute_trade(m, "trader", "ETH-PERP", "-8")
    assert q.realized_pnl == D("1000")  # the closed 5 units
    assert (q.size_after, q.entry_price) == (D("-3"), D("2000"))
    assert m.open_interest["ETH-PERP"] == (D("2"), D("93"))


def test_an_execution_price_other_than_the_oracles_is_used_for_entry_and_pnl(m: Market) -> None:
    q = execute_trade(m, "trader", "ETH-PERP", "-1", "2100")
    assert (q.price, q.realized_pnl) == (D("2100"), D("300"))  # 1 x (2,100 - 1,800)


def test_funding_is_settled_first_and_resets_the_index(m: Market) -> None:
    set_funding_index(m, "ETH-PERP", "10")  # longs pay 10 per unit
    q = execute_trade(m, "trader", "ETH-PERP", "-1")
    assert q.funding_paid == D("50")  # 5 x (10 - 0), before the trade
    assert q.realized_pnl == D("200")
    assert m.accounts["trader"].supply == {"USDC": D("10150")}  # - 50 + 200
    assert m.accounts["trader"].perps["ETH-PERP"] == PerpPosition(D("4"), D("1800"), D("10"))


def test_a_credit_repays_the_settlement_assets_borrow_first(m: Market) -> None:
    q = execute_settle(m, "borrower", "ETH-PERP")
    assert q.realized_pnl == D("500")
    acc = m.accounts["borrower"]
    assert (acc.borrow, acc.supply) == ({}, {"ETH": D("2")})
    assert "USDC" not in m.total_borrow


def test_a_debit_draws_the_settlement_assets_supply_first_then_borrows(m: Market) -> None:
    q = execute_settle(m, "loser", "ETH-PERP")
    assert q.realized_pnl == D("-300")
    acc = m.accounts["loser"]
    assert acc.supply == {"ETH": D("1")}
    assert acc.borrow == {"USDC": D("200")}
    assert m.total_borrow["USDC"] == D("700")  # 500 (borrower) + 200


def test_settle_sets_entry_to_the_oracle_price_and_f_to_F_without_changing_q(m: Market) -> None:
    set_funding_index(m, "ETH-PERP", "-4")  # shorts pay longs
    q = execute_settle(m, "trader", "ETH-PERP")
    assert (q.funding_paid, q.realized_pnl) == (D("-20"), D("1000"))  # 5 x (-4 - 0)
    assert m.accounts["trader"].perps["ETH-PERP"] == PerpPosition(D("5"), D("2000"), D("-4"))
    assert m.accounts["trader"].supply == {"USDC": D("11020")}


def test_settling_without_a_position_is_refused(m: Market) -> None:
    execute_trade(m, "trader", "ETH-PERP", "-5")
    with pytest.raises(NoPosition):
        execute_settle(m, "trader", "ETH-PERP")


def test_open_interest_above_the_cap_is_refused_after_margin(m: Market) -> None:
    before = m.copy()
    with pytest.raises(OpenInterestCapExceeded) as err:
        execute_trade(m, "whale", "ETH-PERP", "-11")  # short side 90 + 11 = 101 > 100
    assert (err.value.side, err.value.total_after, err.value.cap) == ("short", D("101"), D("100"))
    assert err.value.code == "open_interest_cap_exceeded"
    assert m.state_equals(before)
    execute_trade(m, "whale", "ETH-PERP", "-10")  # exactly at the cap
    # margin is checked first: the loser cannot carry 20 more either way
    with pytest.raises(InsufficientMargin):
        execute_trade(m, "loser", "ETH-PERP", "-20")


def test_a_risk_reducing_trade_is_allowed_above_the_cap_and_below_margin(m: Market) -> None:
    m.perps = {
        **m.perps,
        "ETH-PERP": m.perps["ETH-PERP"].model_copy(update={"open_interest_cap": D("1")}),
    }
    shocked = m.with_prices({"ETH": D("1000")})  # the loser is far under water
    q = quote_trade(shocked, "loser", "ETH-PERP", "-0.5")
    assert q.size_after == D("0.5")
    execute_trade(m, "whale", "ETH-PERP", "10")  # short 90 -> 80, the cap is 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("nobody", "ETH-PERP", "1"), UnknownAccount),
        (("trader", "BTC-PERP", "1"), UnknownPerp),
        (("trader", "ETH-PERP", "0"), InvalidAmount),
        (("trader", "ETH-PERP", "0.000000001"), InvalidAmount),  # ETH has 8 decimals
        (("trader", "ETH-PERP", "nan"), InvalidAmount),
        (("trader", "ETH-PERP", "1", "0"), InvalidPrice),
        (("trader", "ETH-PERP", "1", "-5"), InvalidPrice),
    ],
)
def test_bad_trades_are_input_errors_that_change_nothing(
    m: Market, args: tuple[str, ...], error: type[Exception]
) -> None:
    before = m.copy()
    with pytest.raises(error):
        execute_trade(m, *args)
    assert m.state_equals(before)


def test_set_funding_index_accepts_any_finite_number_and_refuses_others(m: Market) -> None:
    event = set_funding_index(m, "ETH-PERP", "-123.456")
    assert m.perps["ETH-PERP"].funding_index == D("-123.456")
    assert (event.kind, event.asset, event.details["previous"]) == (
        "set_funding_index",
        "ETH-PERP",
        D("0"),
    )
    with pytest.raises(InvalidAmount):
        set_funding_index(m, "ETH-PERP", "inf")
    with pytest.raises(UnknownPerp):
        set_funding_index(m, "SOL-PERP", "1")
