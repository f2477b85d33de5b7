"""Contract 1.3, isolated collateral (tests/vectors/isolation.toml).

GOV has debt_ceiling = 10,000 USD. An account that supplies it may supply no other asset
with a non-zero liquidation threshold, may borrow only assets with
borrowable_in_isolation = true, and the quote value, at the price when borrowed, of all
debt drawn against GOV across all accounts stays within the ceiling.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector, market_doc
from xmargin.errors import CapExceeded, IsolationViolation, MarketFileError
from xmargin.io import parse_market
from xmargin.ledger.actions import (
    execute_borrow,
    execute_deposit,
    execute_liquidate,
    execute_repay,
)
from xmargin.model import Market


@pytest.fixture()
def iso() -> Market:
    return load_vector("isolation.toml")


def test_isolation_debt_at_load_is_the_debt_of_isolated_suppliers(iso: Market) -> None:
    # iso borrows 6,000 USDC x 1 = 6,000; plain's 1,000 DAI is not against GOV
    assert iso.isolation_debt == {"GOV": D("6000")}


def test_borrowing_up_to_the_debt_ceiling_is_allowed(iso: Market) -> None:
    execute_borrow(iso, "iso", "USDC", "4000")  # 6,000 + 4,000 = 10,000 = ceiling
    assert iso.isolation_debt["GOV"] == D("10000")


def test_borrowing_beyond_the_debt_ceiling_is_refused_even_with_margin(iso: Market) -> None:
    before = iso.copy()
    with pytest.raises(CapExceeded) as err:
        # 10,000.000001 > 10,000; margin is fine: 15,000 initial collateral
        execute_borrow(iso, "iso", "USDC", "4000.000001")
    assert err.value.to_dict()["code"] == "debt_ceiling_exceeded"
    assert err.value.asset == "GOV"
    assert iso.state_equals(before)


def test_the_ceiling_is_shared_by_all_accounts_supplying_the_isolated_asset(iso: Market) -> None:
    execute_borrow(iso, "iso", "USDC", "4000")  # ceiling reached by iso alone
    with pytest.raises(CapExceeded):
        execute_borrow(iso, "iso2", "USDC", "0.000001")  # iso2 has 5,000 of margin


def test_an_isolated_supplier_may_borrow_only_assets_borrowable_in_isolation(iso: Market) -> None:
    before = iso.copy()
    with pytest.raises(IsolationViolation) as err:
        execute_borrow(iso, "iso", "DAI", "1")
    assert err.value.code == "isolation_violation"
    assert iso.state_equals(before)


def test_an_isolated_supplier_may_not_add_other_collateral(iso: Market) -> None:
    with pytest.raises(IsolationViolation):
        execute_deposit(iso, "iso", "WETH", "1")


def test_an_account_with_collateral_may_not_add_an_isolated_asset(iso: Market) -> None:
    with pytest.raises(IsolationViolation):
        execute_deposit(iso, "plain", "GOV", "1")


def test_a_non_collateral_asset_may_sit_beside_isolated_collateral() -> None:
    doc = market_doc(
        assets={
            "GOV": {
                "price": 10,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.6",
                "liquidation_bonus": "0.1",
                "debt_ceiling": "1000",
            },
            "NFT": {
                "price": 100,
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0",
            },
        },
        accounts={"a": {"supply": {"GOV": "10", "NFT": "1"}}},
    )
    m = parse_market(doc)
    execute_deposit(m, "a", "NFT", "1")
    assert m.accounts["a"].supplied("NFT") == D("2")


def test_ordinary_accounts_do_not_use_the_ceiling(iso: Market) -> None:
    execute_borrow(iso, "plain", "DAI", "1000")  # 2,000 of 16,000 initial collateral
    assert iso.isolation_debt == {"GOV": D("6000")}


def test_isolation_debt_is_valued_at_the_price_when_borrowed(iso: Market) -> None:
    execute_borrow(iso, "iso", "USDC", "1000")  # + 1,000 x 1 = 7,000
    repriced = iso.with_prices({"USDC": D("1.2")})
    assert repriced.isolation_debt["GOV"] == D("7000")  # not re-valued at 1.2
    # a new borrow counts at today's price: 2,500 USDC x 1.2 = 3,000 -> 10,000
    # (margin: 9,500 USDC x 1.2 = 11,400 <= 15,000)
    execute_borrow(repriced, "iso", "USDC", "2500")
    assert repriced.isolation_debt["GOV"] == D("10000")
    with pytest.raises(CapExceeded):
        execute_borrow(repriced, "iso", "USDC", "0.000001")


def test_repaying_lowers_the_isolation_debt(iso: Market) -> None:
    execute_repay(iso, "iso", "USDC", "2500")  # 6,000 - 2,500 x 1
    assert iso.isolation_debt["GOV"] == D("3500")
    execute_borrow(iso, "iso", "USDC", "6500")  # room again: 3,500 + 6,500 = 10,000


def test_liquidation_lowers_the_isolation_debt_by_what_was_repaid(iso: Market) -> None:
    liq = iso.with_prices({"GOV": D("3")})
    # 3,000 GOV x 3 x 0.60 = 5,400 < 6,000: liquidatable; 5,400 / 6,000 = 0.9 -> whole debt
    q = execute_liquidate(liq, "iso", "USDC", "GOV", "1000")
    assert q.repaid == D("1000")
    assert liq.isolation_debt["GOV"] == D("5000")  # 6,000 - 1,000 x 1


def test_a_file_supplying_an_isolated_asset_beside_collateral_is_refused() -> None:
    doc = market_doc(
        assets={
            "GOV": {
                "price": 10,
                "collateral_factor": "0.5",
                "liquidation_threshold": "0.6",
                "liquidation_bonus": "0.1",
                "debt_ceiling": "1000",
            },
            "WETH": {
                "price": 2000,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.825",
                "liquidation_bonus": "0.05",
            },
        },
        accounts={"bad": {"supply": {"GOV": "1", "WETH": "1"}, "borrow": {"WETH": "0.1"}}},
    )
    with pytest.raises(MarketFileError) as err:
        parse_market(doc)
    locations = {p.location for p in err.value.problems}
    # both problems at once: the mixed supply and the borrow isolation forbids
    assert locations == {"accounts.bad.supply", "accounts.bad.borrow.WETH"}
