"""Contract 6.4 ``trade --option``: the premium moves through the settlement asset by the
perps' flow rules (5.3 step 3), margin refusal as 5.3 step 4, a refused trade changes
nothing; and the extensions of docs/contract.md 6.5 (default price, expired options)."""

from __future__ import annotations

import pytest

from tests.builders import D
from tests.option_builders import option_market
from xmargin import execute_trade_option, quote_trade_option
from xmargin.errors import InsufficientMargin, InvalidAmount, InvalidPrice
from xmargin.mathlib import quantize_down, quantize_up
from xmargin.option_errors import OptionExpired, UnknownOption
from xmargin.risk.options import mark_value

OPTIONS = {"C": ("call", 1600), "P": ("put", 1400)}


def test_buying_pays_the_premium_from_the_settlement_asset() -> None:
    # σ = 0, S = F = 1,500: the 1,400 put is worth 0 and the 1,600 call 0; at a price of
    # 12.5 per contract, 4 contracts cost 50 USDC.
    m = option_market(OPTIONS, {"a": {}}, usdc=1000)
    q = execute_trade_option(m, "a", "C", "4", "12.5")
    assert (q.size_before, q.size_after, q.premium) == (0, 4, D(50))
    assert m.accounts["a"].supply == {"USDC": D(950)}
    assert m.accounts["a"].options == {"C": D(4)}
    assert q.settlement_units == D(-50)
    assert (q.entry_price, q.realized_pnl, q.funding_paid) == (None, 0, 0)


def test_selling_receives_the_premium_and_repays_borrow_first() -> None:
    m = option_market(OPTIONS, {"a": {}}, usdc=1000, accounts={"a": {"borrow": {"USDC": 30}}})
    execute_trade_option(m, "a", "P", "-2", "20")
    # 40 received: 30 repays the borrow, 10 is supplied
    assert m.accounts["a"].borrow == {}
    assert m.accounts["a"].supply == {"USDC": D(1010)}


def test_the_default_price_is_the_mark_rounded_against_the_trader() -> None:
    m = option_market(OPTIONS, {"a": {}}, volatility="0.6")
    mark = mark_value(m, "C")
    buy = quote_trade_option(m, "a", "C", "1")
    sell = quote_trade_option(m, "a", "C", "-1")
    assert buy.price == quantize_up(mark, 18)
    assert sell.price == quantize_down(mark, 18)
    assert buy.price - sell.price == D("1e-18")


def test_a_trade_that_leaves_too_little_margin_is_refused_and_changes_nothing() -> None:
    # Writing 10 short 1,600 calls needs 10 x 150 = 1,500 of initial margin; 1,000 USDC
    # (weight 1) does not cover it.
    m = option_market(OPTIONS, {"a": {}}, usdc=1000)
    before = m.copy()
    with pytest.raises(InsufficientMargin):
        execute_trade_option(m, "a", "C", "-10", "0")
    assert m.state_equals(before)


def test_a_risk_reducing_trade_is_never_refused_for_margin() -> None:
    # 10 short calls on 100 USDC: under water; buying back 3 at any price is allowed.
    m = option_market(OPTIONS, {"a": {"C": "-10"}}, usdc=100)
    q = execute_trade_option(m, "a", "C", "3", "5")
    assert q.size_after == D(-7)
    assert q.health_factor_after is not None and q.health_factor_after < 1


def test_flipping_a_position_is_margin_checked() -> None:
    m = option_market(OPTIONS, {"a": {"C": "-1"}}, usdc=100)
    with pytest.raises(InsufficientMargin):
        execute_trade_option(m, "a", "C", "-1", "0")  # more short, not reducing


def test_bad_input_is_refused_with_its_field() -> None:
    m = option_market(OPTIONS, {"a": {}})
    with pytest.raises(UnknownOption):
        quote_trade_option(m, "a", "NOPE", "1")
    with pytest.raises(InvalidAmount):
        quote_trade_option(m, "a", "C", "0.000000001")  # ETH has 8 decimals
    with pytest.raises(InvalidAmount):
        quote_trade_option(m, "a", "C", "0")
    with pytest.raises(InvalidPrice):
        quote_trade_option(m, "a", "C", "1", "-1")


def test_a_zero_price_is_allowed_for_a_worthless_option() -> None:
    m = option_market(OPTIONS, {"a": {}})
    assert quote_trade_option(m, "a", "P", "1", "0").premium == 0


def test_an_expired_option_cannot_be_traded() -> None:
    m = option_market({"C": ("call", 1600, "2024-06-01T08:00:00Z")}, {"a": {}})
    with pytest.raises(OptionExpired):
        quote_trade_option(m, "a", "C", "1")
