"""Option accounts in the simulations (issue 14 items 4-5): the simulation book's option
terms are the exact engine's (float twins, one step), and a cascade liquidates option
accounts by contract 6.5 as ``quote_option_liquidation`` does: shorts first, at mark
value, with the fees, the last position only as far as needed."""

from __future__ import annotations

import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analytics.books import run_one_step
from xmargin.analytics.montecarlo import MonteCarloConfig, monte_carlo
from xmargin.analytics.montecarlo_perps import carried_accounts, perp_figures
from xmargin.analytics.return_models import GBM
from xmargin.analytics.simbook import SimBook
from xmargin.io import load_market
from xmargin.model.market import Market
from xmargin.risk.health import account_health
from xmargin.risk.option_liquidation import quote_option_liquidation
from xmargin.risk.options import with_vol_shocks

MARKET = Path(__file__).parent / "files" / "options_cascade.toml"
SERVICE = Path(__file__).parents[1] / "service" / "option_market.toml"
CALL, PUT = "ETH-20240628-2200-C", "ETH-20240628-1800-P"


def _at(market: Market, eth: float) -> Market:
    return market.with_prices({"WETH": Decimal(repr(eth))})


def _leg_index(book: SimBook) -> dict[tuple[str, str], int]:
    """(account, option) -> the leg's row in the book's option table."""
    so = book.options
    assert so is not None
    out = {}
    for k, row in enumerate(so.held):
        for i in range(int(so.ptr[k]), int(so.ptr[k + 1])):
            out[(book.account_ids[row], so.names[i])] = i
    return out


@settings(max_examples=30, deadline=None)
@given(
    move=st.integers(30, 300).map(lambda i: i / 100),
    market_file=st.sampled_from([MARKET, SERVICE]),
)
def test_one_step_option_terms_are_the_exact_engines(move: float, market_file: Path) -> None:
    """The figures the one-step Monte Carlo judges an option account by (balances and
    option terms at the path's prices) equal ``account_health`` at those prices, for
    every account, under standard or portfolio margin."""
    market = load_market(market_file)
    book = SimBook.from_market(market)
    held = carried_accounts(book)
    eth = float(market.assets["WETH"].price) * move
    prices = book.price.copy()
    prices[book.asset_index("WETH")] = eth
    f = perp_figures(book, prices[None, :], held)
    view = _at(market, eth)
    assert book.options is not None
    for h, r in enumerate(held):
        acc = market.accounts[book.account_ids[r]]
        exact = account_health(view.accounts[acc.id], view)
        want = (
            exact.collateral_value,
            exact.debt_value,
            exact.initial_collateral,
            exact.initial_debt,
            exact.maintenance_collateral,
            exact.maintenance_debt,
        )
        scale = 10.0 * (eth + 2200.0) * sum(abs(float(q)) for q in acc.options.values())
        for k, w in enumerate(want):
            assert f[k, 0, h] == pytest.approx(float(w), rel=1e-9, abs=1e-9 * scale), (acc.id, k)
    hf = book.health_factors(prices)
    for r in held:
        acc_id = book.account_ids[r]
        exact_hf = account_health(view.accounts[acc_id], view).health_factor
        assert exact_hf is not None
        assert hf[r] == pytest.approx(float(exact_hf), rel=1e-9)


def test_a_short_call_through_its_strike_is_closed_first_and_only_as_far_as_needed() -> None:
    """WETH 2,000 -> 2,600: the naked writer (3 short 2,200 calls, 2 long 1,800 puts on
    1,500 USDC) is liquidatable, the covered call (1 WETH under it) is not. The desk
    closes the short call first, at its mark value, paying 1 % + 0.5 % of c·S, and stops
    at the fewest contracts that restore health: the exact engine's 2.5238... contracts;
    the long put is untouched."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    view = _at(market, 2600.0)
    assert not account_health(view.accounts["covered"], view).liquidatable
    exact = quote_option_liquidation(view, "naked")
    assert [c.option for c in exact.closed] == [CALL]
    closed = exact.closed[0]
    out, desk = run_one_step(book, 2600.0)
    opt = desk.options
    assert opt is not None
    legs = _leg_index(book)
    c = 3.0 - abs(opt.q[0, legs[("naked", CALL)]])
    # The exact flows round to USDC's 6 decimals (a credit down, a debit up): the least
    # close moves by up to ~1e-6 USDC over the margin's slope per contract (~100 USDC).
    assert c == pytest.approx(float(closed.closed), rel=1e-7)
    assert 2.52 < c < 2.53  # hand check: a partial close of the 3 shorts
    assert opt.q[0, legs[("naked", PUT)]] == 2.0  # the long put is left
    assert opt.q[0, legs[("covered", CALL)]] == -1.0  # the covered call is left
    # Mark value (float Black-76) and fees of the notional c·S: 1 % and 0.5 % of c·2,600.
    assert out.option_closed_value[0] == pytest.approx(
        float(closed.closed * closed.value), rel=1e-7
    )
    assert out.option_liquidator_fees[0] == pytest.approx(c * 2600.0 * 0.01, rel=1e-12)
    assert out.option_insurance_fees[0] == pytest.approx(c * 2600.0 * 0.005, rel=1e-12)
    assert out.option_liquidations[0] == 1
    h = int(np.searchsorted(desk.held, book.account_ids.index("naked")))
    usdc = book.asset_index("USDC")
    after = exact.account_after
    assert desk.s[0, h, usdc] == pytest.approx(float(after.supplied("USDC")), abs=1e-4)
    assert desk.b[0, h, usdc] == pytest.approx(float(after.borrowed("USDC")), abs=1e-6)
    assert out.still_liquidatable[0] == 0
    assert out.bad_debt[0] == 0.0


def test_an_account_left_negative_is_bad_debt_before_the_insurance_fund() -> None:
    """WETH 2,000 -> 2,800: every position of the naked writer is closed (the short call,
    then the long put), and what it still owes is bad debt: the exact engine's, with the
    insurance fund it drew added back (simulations report bad debt before the fund)."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    view = _at(market, 2800.0)
    exact = quote_option_liquidation(view, "naked")
    assert [c.option for c in exact.closed] == [CALL, PUT]
    out, _ = run_one_step(book, 2800.0)
    fees = sum(float(c.liquidator_fee + c.insurance_fee) for c in exact.closed)
    assert out.option_liquidations[0] == 2
    assert out.option_liquidator_fees[0] + out.option_insurance_fees[0] == pytest.approx(fees)
    before_fund = float(exact.bad_debt["USDC"] + exact.insurance_fund_used.get("USDC", 0))
    assert before_fund == pytest.approx(518.6, abs=0.1)  # 1500 − 3·612.45 + 2·0.38 − 182
    assert out.bad_debt[0] == pytest.approx(before_fund, abs=1e-5)


def test_a_market_without_options_runs_as_before_and_seeds_reproduce() -> None:
    """A Monte Carlo step by step on the options market is reproducible for a seed and
    counts option liquidations; the same book without its options has none of them."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    model = GBM(("WETH",), np.array([0.9]))
    cfg = MonteCarloConfig(
        n_paths=64, steps=4, seed=7, horizon_hours=24 * 7, static=("USDC",), settle_first=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = monte_carlo(book, model, cfg)
        b = monte_carlo(book, model, cfg)
        plain = monte_carlo(book.with_options(None), model, cfg)
    assert a.engine == "cascade"
    for k in a.per_path:
        assert np.array_equal(a.per_path[k], b.per_path[k]), k
    assert a.per_path["option_liquidations"].sum() > 0
    assert "option_liquidations" not in plain.per_path
    assert "expected_option_closed_value" in a.figures


def test_a_scenario_vol_shock_reprices_the_book_options_as_the_exact_engine() -> None:
    """``vol_shock = {WETH = +100%}`` at unchanged prices: the simulation book's option
    terms after the shock are the exact engine's after ``with_vol_shocks``."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    assert book.options is not None
    shocked = book.with_options(book.options.with_vol_shocks({book.asset_index("WETH"): 1.0}))
    view = with_vol_shocks(market, {"WETH": Decimal(1)})
    hf = shocked.health_factors()
    for acc_id in ("covered", "naked"):
        exact = account_health(view.accounts[acc_id], view).health_factor
        assert exact is not None
        assert hf[book.account_ids.index(acc_id)] == pytest.approx(float(exact), rel=1e-9)
    before = book.health_factors()[book.account_ids.index("naked")]
    assert hf[book.account_ids.index("naked")] < before
