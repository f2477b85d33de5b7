"""Contract 6.4 ``liquidation-price`` for accounts whose margin is not linear in the price
(options, portfolio margin, a perp with a mark price): a bracketing root finder to 1e-12
relative, and the result says so."""

from __future__ import annotations

from decimal import Decimal

from tests.builders import D, load_vector
from tests.option_builders import option_market
from xmargin import liquidation_price
from xmargin.model import Market
from xmargin.risk.health import account_health


def liquidatable_at(m: Market, account: str, asset: str, price: Decimal) -> bool:
    view = m.with_prices({asset: price})
    return account_health(view.accounts[account], view).liquidatable


def test_a_short_call_is_liquidated_at_the_root_of_its_margin() -> None:
    # σ = 0, one short 1,400 call on 500 USDC (weight 1): above the strike
    # md = (S − 1400) + 0.075·S, so health 1 at S* = (500 + 1400)/1.075 = 1767.4418604651...
    m = option_market({"C": ("call", 1400)}, {"a": {"C": "-1"}}, usdc=500)
    lp = liquidation_price(m, "a", "ETH")
    exact = D(1900) / D("1.075")
    assert lp.method == "root_finder"
    assert lp.tolerance == D("1e-12")
    assert lp.price is not None and lp.change is not None
    assert abs(lp.price - exact) <= exact * D("1e-12")
    assert lp.price <= exact  # a rise liquidates: reported no later than the root
    assert abs(lp.change - (lp.price / D(1500) - 1)) <= D("1e-18")


def test_the_reported_price_sits_on_the_current_side_of_the_change() -> None:
    m = option_market(
        {"C": ("call", 1600), "P": ("put", 1350)},
        {"s": {"C": "-5", "P": "-5"}},
        volatility="0.6",
        usdc=2500,
    )
    lp = liquidation_price(m, "s", "ETH")
    assert lp.price is not None
    now = liquidatable_at(m, "s", "ETH", D(1500))
    assert liquidatable_at(m, "s", "ETH", lp.price) == now
    beyond = lp.price * (1 + D("2e-12")) if lp.price > 1500 else lp.price * (1 - D("2e-12"))
    assert liquidatable_at(m, "s", "ETH", beyond) != now


def test_a_portfolio_margined_perp_long_is_solved_by_the_root_finder() -> None:
    m = load_vector("derive_pmrm.toml")
    lp = liquidation_price(m, "test_29", "ETH")
    # liquidatable now (MM -481.4): the price at which it would become healthy is found
    assert lp.method == "root_finder"
    assert lp.price is not None
    assert liquidatable_at(m, "test_29", "ETH", lp.price)
    assert not liquidatable_at(m, "test_29", "ETH", lp.price * (1 + D("2e-12")))


def test_an_account_that_never_changes_state_has_no_price() -> None:
    m = option_market({"C": ("call", 1600)}, {"a": {"C": "1"}})  # a long call on cash
    lp = liquidation_price(m, "a", "ETH")
    assert (lp.price, lp.change, lp.method) == (None, None, "root_finder")


def test_an_account_without_options_keeps_the_closed_form() -> None:
    m = option_market(
        {"C": ("call", 1600)},
        {"a": {}},
        accounts={"a": {"supply": {"ETH": 1}, "borrow": {"USDC": 1000}}},
    )
    lp = liquidation_price(m, "a", "ETH")
    assert (lp.method, lp.tolerance) == ("closed_form", None)
    assert lp.price == D("1176.470588235294117648")  # 1000/0.85, rounded up (contract 4)
