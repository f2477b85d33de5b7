"""Contract 3.7, bad debt (Aave v3.3's deficit), tests/vectors/bad_debt.toml.

If afterwards the account holds no collateral (no supply of an asset with an effective
liquidation threshold > 0) and still owes debt, every remaining borrow is written off:
reported in bad_debt, added to the market's per-asset deficit, and set to zero.
"""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.ledger.actions import execute_liquidate
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.liquidation import quote_liquidation


@pytest.fixture()
def bad() -> Market:
    return load_vector("bad_debt.toml")


def test_seizing_the_last_collateral_writes_off_every_remaining_borrow(bad: Market) -> None:
    assert bad.deficit == {"DAI": D("100")}  # [state.deficit] of the file
    q = execute_liquidate(bad, "sinking", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.33")  # 825 / 2,500
    assert q.seized == D("0.5")  # 1,500 x 1.05 / 2000 = 0.7875 > 0.5 held
    assert q.repaid == D("952.380953")  # 0.5 x 2000 / 1.05 = 952.380952|38... up
    assert q.bad_debt == {"USDC": D("547.619047"), "DAI": D("1000")}  # 1,500 - 952.380953
    acc = bad.accounts["sinking"]
    assert acc.borrow == {} and acc.supply == {}
    assert bad.deficit == {"DAI": D("1100"), "USDC": D("547.619047")}  # 100 + 1,000
    assert q.health_factor_after is None
    h = account_health(acc, bad)
    assert (h.debt_value, h.collateral_value, h.liquidatable) == (D("0"), D("0"), False)


def test_totals_fall_by_repaid_and_written_off_units(bad: Market) -> None:
    before_usdc = bad.total_borrow["USDC"]  # 1,500 + 1,500 + 1,000
    before_dai = bad.total_borrow["DAI"]  # 1,000 + 1,000
    execute_liquidate(bad, "sinking", "USDC", "WETH", "max")
    assert bad.total_borrow["USDC"] == before_usdc - D("1500")  # 952.380953 + 547.619047
    assert bad.total_borrow["DAI"] == before_dai - D("1000")
    assert bad.total_supply["WETH"] == D("1.5")  # 2 WETH - 0.5 seized


def test_no_write_off_while_collateral_remains(bad: Market) -> None:
    q = execute_liquidate(bad, "two_steps", "USDC", "WETH", "max")
    assert q.seized == D("0.7875")  # 1,500 x 1.05 / 2000
    assert q.bad_debt == {}
    assert q.health_factor_after == D("0.350625")  # 0.2125 x 2000 x 0.825 / 1,000
    assert bad.accounts["two_steps"].borrowed("DAI") == D("1000")
    assert bad.deficit == {"DAI": D("100")}


def test_the_second_liquidation_clears_the_collateral_and_writes_off_the_rest(bad: Market) -> None:
    execute_liquidate(bad, "two_steps", "USDC", "WETH", "max")
    q = execute_liquidate(bad, "two_steps", "DAI", "WETH", "max")
    assert q.seized == D("0.2125")  # all that is left
    assert q.repaid == D("404.761904761904761905")  # 0.2125 x 2000 / 1.05, rounded up
    assert q.bad_debt == {"DAI": D("595.238095238095238095")}  # 1,000 - 404.76...
    assert bad.deficit == {"DAI": D("695.238095238095238095")}  # 100 + 595.238...


def test_assets_that_are_not_collateral_do_not_prevent_a_write_off(bad: Market) -> None:
    q = execute_liquidate(bad, "with_nft", "USDC", "WETH", "max")
    assert q.health_factor_before == D("0.825")  # 825 / 1,000; the NFT counts 0
    assert q.repaid == D("952.380953")
    assert q.bad_debt == {"USDC": D("47.619047")}  # 1,000 - 952.380953
    assert bad.accounts["with_nft"].supply == {"NFT": D("3")}  # kept
    assert bad.accounts["with_nft"].borrow == {}


def test_quote_reports_bad_debt_without_changing_the_market(bad: Market) -> None:
    before = bad.copy()
    q = quote_liquidation(bad, "sinking", "USDC", "WETH", "max")
    assert q.bad_debt == {"USDC": D("547.619047"), "DAI": D("1000")}
    assert bad.state_equals(before)
