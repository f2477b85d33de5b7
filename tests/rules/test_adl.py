"""Contract 8.4, auto-deleveraging: tests/vectors/dydx_adl.toml."""

from __future__ import annotations

import pytest

from tests.builders import D, load_vector
from xmargin.errors import InsuranceFundCovers, NoCounterparty, NoPosition, NotBankrupt
from xmargin.ledger.loss_waterfall import execute_deleverage
from xmargin.model import Market
from xmargin.risk.adl import adl_ranking, bankruptcy_price, net_value, quote_deleverage


@pytest.fixture()
def m() -> Market:
    return load_vector("dydx_adl.toml")


def test_the_bankruptcy_price_brings_net_value_to_zero() -> None:
    assert bankruptcy_price(D(2000), D(-100), D(2)) == D(2050)  # long: above the oracle
    assert bankruptcy_price(D(2000), D(-100), D(-2)) == D(1950)  # short: below it
    # rounded so that the account ends at or above zero: up for a long, down for a short
    assert bankruptcy_price(D(1), D(-1), D(3)) == D("1.333333333333333334")
    assert bankruptcy_price(D(1), D(-1), D(-3)) == D("0.666666666666666666")


def test_counterparties_are_ranked_by_pnl_times_leverage(m: Market) -> None:
    ranked = adl_ranking(m, "ETH-PERP", -1, "bankrupt")
    assert [a for a, _ in ranked] == ["deep", "wide"]  # loser has no profit; twin is long
    assert ranked[0][1] > ranked[1][1]
    # deep: 150 x 2,000 / (2,100 x 650); wide: 200 x 2,000 / (2,400 x 1,200)
    assert round(ranked[0][1], 10) == D("0.2197802198")
    assert round(ranked[1][1], 10) == D("0.1388888889")


def test_deleveraging_closes_the_position_against_the_ranked_shorts(m: Market) -> None:
    assert net_value(m.accounts["bankrupt"], m) == D(-100)
    q = execute_deleverage(m, "bankrupt", "ETH-PERP")
    assert (q.bankruptcy_price, q.closed) == (D(2050), D(2))
    parts = [(c.account, c.closed, c.realized_pnl, c.borne_value) for c in q.counterparties]
    assert parts == [
        ("deep", D("1.5"), D(75), D(75)),  # 1.5 x (2,100 - 2,050); 1.5 x 50
        ("wide", D("0.5"), D(175), D(25)),  # 0.5 x (2,400 - 2,050); 0.5 x 50
    ]
    assert sum(c.borne_value for c in q.counterparties) == -q.net_value  # 100
    bankrupt = m.accounts["bankrupt"]
    assert bankrupt.supply == bankrupt.borrow == bankrupt.perps == {}  # 300 - 300
    assert "ETH-PERP" not in m.accounts["deep"].perps
    assert "ETH-PERP" not in m.accounts["wide"].perps
    assert m.accounts["deep"].supply == {"USDC": D(575)}
    assert m.accounts["wide"].supply == {"USDC": D(1175)}
    assert m.open_interest["ETH-PERP"] == (D(1), D(1))  # twin long 1, loser short 1
    assert m.insurance_fund == {"USDC": D(10)}  # untouched
    assert (q.bad_debt, q.insurance_fund_used) == ({}, {})


def test_only_a_bankrupt_account_is_deleveraged(m: Market) -> None:
    with pytest.raises(NotBankrupt):
        quote_deleverage(m, "wide", "ETH-PERP")
    with pytest.raises(NoPosition):
        m.accounts["bankrupt"].perps.clear()
        quote_deleverage(m, "bankrupt", "ETH-PERP")


def test_the_insurance_fund_comes_first(m: Market) -> None:
    m.insurance_fund = {"USDC": D(100)}
    with pytest.raises(InsuranceFundCovers):
        quote_deleverage(m, "bankrupt", "ETH-PERP")


def test_without_a_profitable_opposite_position_nothing_is_deleveraged(m: Market) -> None:
    for a in ("deep", "wide"):
        m.accounts[a].perps.clear()
    with pytest.raises(NoCounterparty):
        quote_deleverage(m, "bankrupt", "ETH-PERP")


def test_a_partial_deleverage_closes_what_the_counterparties_hold(m: Market) -> None:
    m.accounts["wide"].perps.clear()
    q = execute_deleverage(m, "bankrupt", "ETH-PERP")
    assert q.closed == D("1.5")
    assert m.accounts["bankrupt"].perps["ETH-PERP"].size == D("0.5")
    # the account keeps a quarter of its shortfall: -100 x 0.5 / 2
    assert net_value(m.accounts["bankrupt"], m) == D(-25)
