"""Liquidation of option positions (docs/contract.md 6.5): closed at mark with the perps'
fees, short positions first, until health >= 1 (the last one only as far as needed) or
nothing is left; then bad debt with the insurance fund first (5.5).

Amounts in quote, S = 1,500, σ = 0 (every option at its intrinsic value, D = 1)."""

from __future__ import annotations

import pytest

from tests.builders import D
from tests.option_builders import option_market
from xmargin import execute_liquidate_options, quote_option_liquidation
from xmargin.errors import NothingToLiquidate, NotLiquidatable
from xmargin.risk.health import account_health


def _writer(**kw: object) -> object:
    # 10 short 1,400 calls (worth 100 each: mtm -1,000; MM 212.5 each = 2,125) on 1,500
    # USDC at weight 1: health 1,500 / 2,125 = 0.7059, liquidatable.
    return option_market(
        {"C": {"kind": "call", "strike": 1400, "liquidation_fee": "0.01", **kw}},
        {"w": {"C": "-10"}},
        usdc=1500,
    )


def test_the_short_is_bought_back_only_as_far_as_health_one() -> None:
    # Closing c contracts pays 100·c and a fee of 1 % of c x 1,500 = 15·c, and frees
    # 212.5·c of maintenance debt: 1,500 − 115·c >= 2,125 − 212.5·c  <=>  c >= 6.41025641..
    # On ETH's 8 decimals: 6.41025641 leaves mc 762.820512 < md 762.820512875 (the fee's
    # units round up); 6.41025642 leaves 762.820511 >= 762.82051075.
    m = _writer()
    q = execute_liquidate_options(m, "w")
    (closed,) = q.closed
    assert (closed.option, closed.size_before, closed.closed) == ("C", D(-10), D("6.41025642"))
    assert closed.value == D(100)
    assert q.liquidator_fee == D("96.1538463")
    assert m.accounts["w"].options == {"C": D("-3.58974358")}
    assert m.accounts["w"].supply == {"USDC": D("762.820511")}
    assert q.health_factor_after is not None and q.health_factor_after >= 1
    assert q.bad_debt == {} and q.insurance_fund_used == {}


def test_shorts_are_closed_first_and_by_size() -> None:
    m = option_market(
        {"C14": ("call", 1400), "C13": ("call", 1300), "P16": ("put", 1600)},
        {"w": {"C14": "-10", "C13": "-1", "P16": "5"}},
        usdc=1000,
    )
    q = quote_option_liquidation(m, "w")
    # |q·value|: C14 1,000 before C13 200; the long put last (if at all)
    names = [c.option for c in q.closed]
    assert names == ["C14", "C13", "P16"][: len(names)]
    assert names[0] == "C14"


def test_an_account_left_with_debt_and_no_collateral_takes_the_insurance_fund_path() -> None:
    # 10 short 1,000 calls worth 500 each: buying them back costs 5,000 against 1,000 USDC,
    # leaving a borrow of 4,000 and nothing else: the fund (1,500) covers part of it.
    m = option_market(
        {"C": ("call", 1000)},
        {"w": {"C": "-10"}},
        usdc=1000,
        market={"insurance_fund": {"USDC": 1500}},
    )
    q = execute_liquidate_options(m, "w")
    assert [c.closed for c in q.closed] == [D(10)]
    assert q.insurance_fund_used == {"USDC": D(1500)}
    assert q.bad_debt == {"USDC": D(2500)}
    assert m.accounts["w"].borrow == {} and m.accounts["w"].options == {}
    assert m.insurance_fund == {}
    assert m.deficit == {"USDC": D(2500)}


def test_the_insurance_fee_goes_into_the_fund_before_the_write_off() -> None:
    # 1 short 1,000 call worth 500 on 400 USDC: buying it back borrows 100, the 0.2 %
    # insurance fee on 1 x 1,500 (3) borrows 3 more and goes into the fund, which then
    # covers 3 of the 103 written off (as 5.4 step 3: the fee first).
    m = option_market(
        {"C": {"kind": "call", "strike": 1000, "insurance_fee": "0.002"}},
        {"w": {"C": "-1"}},
        usdc=400,
    )
    q = execute_liquidate_options(m, "w")
    assert q.insurance_fee == D(3)
    assert q.insurance_fund_intake == {"USDC": D(3)}
    assert q.insurance_fund_used == {"USDC": D(3)}
    assert q.bad_debt == {"USDC": D(100)}
    assert m.insurance_fund == {}


def test_a_healthy_account_or_one_without_options_is_refused() -> None:
    m = option_market({"C": ("call", 1600)}, {"ok": {"C": "-1"}, "none": {}})
    with pytest.raises(NotLiquidatable):
        quote_option_liquidation(m, "ok")
    m2 = option_market(
        {"C": ("call", 1600)},
        {"b": {}},
        usdc=10,
        accounts={"b": {"borrow": {"USDC": 20}}},
    )
    assert account_health(m2.accounts["b"], m2).liquidatable
    with pytest.raises(NothingToLiquidate):
        quote_option_liquidation(m2, "b")


def test_a_quote_changes_nothing() -> None:
    m = _writer()
    before = m.copy()
    quote_option_liquidation(m, "w")
    assert m.state_equals(before)


def test_absorb_refuses_an_account_with_option_positions() -> None:
    from xmargin.risk.storefront import quote_absorb

    m = option_market(
        {"C": ("call", 1000)},
        {"w": {"C": "-10"}},
        usdc=1000,
        market={"liquidation": "storefront", "storefront": {"base": "USDC"}},
    )
    with pytest.raises(NothingToLiquidate, match="option positions"):
        quote_absorb(m, "w")
