"""Contract 5.5, the insurance fund ahead of the deficit, in spot (3.7) and perp (5.4)
liquidations: tests/vectors/insurance_fund.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import D, load_vector
from xmargin.io import dump_market, load_market
from xmargin.ledger.actions import execute_liquidate
from xmargin.ledger.perps import execute_liquidate_perp
from xmargin.model import Market
from xmargin.risk.insurance import insurance_fund_used


@pytest.fixture()
def m() -> Market:
    return load_vector("insurance_fund.toml")


def test_the_fund_covers_a_spot_write_off_first_and_the_rest_is_bad_debt(m: Market) -> None:
    q = execute_liquidate(m, "sinking", "USDC", "WETH", "max")
    assert q.insurance_fund_used == {"USDC": D("500")}  # min(547.619047, 500)
    assert q.bad_debt == {"USDC": D("47.619047"), "DAI": D("1000")}  # no DAI fund
    assert m.insurance_fund == {}  # 500 - 500
    assert m.deficit == {"USDC": D("47.619047"), "DAI": D("1000")}
    assert m.accounts["sinking"].borrow == {}  # the whole write-off leaves the account


def test_a_perp_liquidation_adds_its_insurance_fee_to_the_fund_before_the_write_off(
    m: Market,
) -> None:
    q = execute_liquidate_perp(m, "bankrupt", "BTC-PERP", "max")
    assert (q.closed, q.price, q.realized_pnl) == (D("1"), D("80"), D("-20"))
    assert (q.liquidator_fee, q.insurance_fee) == (D("0.8"), D("0.4"))
    assert q.insurance_fund_used == {"USDC": D("11.2")}  # 10 borrowed + 0.8 + 0.4
    assert q.bad_debt == {}
    assert m.insurance_fund == {"USDC": D("489.2")}  # 500 + 0.4 - 11.2
    assert m.deficit == {}
    assert m.accounts["bankrupt"].borrow == m.accounts["bankrupt"].supply == {}
    assert m.total_borrow["USDC"] == D("1500")  # the other account's borrow only
    assert "BTC-PERP" not in m.open_interest


def test_without_a_fund_the_whole_write_off_is_bad_debt(m: Market) -> None:
    m.insurance_fund = {}
    q = execute_liquidate_perp(m, "bankrupt", "BTC-PERP", "max")
    # the fund holds only the 0.4 just paid in: it covers 0.4 of the 11.2
    assert q.insurance_fund_used == {"USDC": D("0.4")}
    assert q.bad_debt == {"USDC": D("10.8")}
    assert m.deficit == {"USDC": D("10.8")}
    assert m.insurance_fund == {}


def test_insurance_fund_used_is_the_smaller_of_the_write_off_and_the_fund() -> None:
    fund = {"USDC": D("20"), "DAI": D("0")}
    written = {"USDC": D("30"), "DAI": D("5"), "WETH": D("1")}
    assert insurance_fund_used(written, fund) == {"USDC": D("20")}
    assert insurance_fund_used({"USDC": D("3")}, fund) == {"USDC": D("3")}


def test_the_fund_and_the_deficit_round_trip_through_a_written_market(
    m: Market, tmp_path: Path
) -> None:
    execute_liquidate(m, "sinking", "USDC", "WETH", "max")
    execute_liquidate_perp(m, "bankrupt", "BTC-PERP", "max")
    out = tmp_path / "after.toml"
    dump_market(m, out)
    again = load_market(out)
    assert again.state_equals(m)
    assert again.insurance_fund == {}  # 500 - 500 (spot), then 0 + 0.4 - 0.4 (perp)
    assert again.deficit == {"USDC": D("58.419047"), "DAI": D("1000")}  # 47.619047 + 10.8
