"""Portfolio-margined accounts in the simulations (contract 6.3, 6.5 "Simulations with
options"; issue 14): on every path their figures are portfolio margin's, by its float twin
(:mod:`xmargin.analytics.simportfolio`), equal to the exact engine's ``account_health`` on
a market moved to the path's prices, time and volatility; a cascade liquidates them as
``quote_option_liquidation`` does under portfolio margin."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.analytics.books import run_one_step
from xmargin.analytics.cascade import PathEngine
from xmargin.analytics.cascade.perp_desk import PerpDesk
from xmargin.analytics.montecarlo_perps import carried_accounts, perp_figures
from xmargin.analytics.simbook import SimBook
from xmargin.io import load_market, parse_market
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.option_liquidation import quote_option_liquidation
from xmargin.risk.options import with_vol_shocks

MARKET = Path(__file__).parent / "files" / "options_portfolio.toml"
PM = ("covered-pm", "strangle-pm", "borrower-pm", "naked-pm", "perp-pm")
CALL = "ETH-20240628-2200-C"
YEAR_HOURS = 365.0 * 24.0


def _doc(accounts: dict[str, Any] | None = None, hours: float = 0.0) -> dict[str, Any]:
    with MARKET.open("rb") as f:
        doc = tomllib.load(f)
    if accounts is not None:
        doc["accounts"] = accounts
    if hours:
        t = datetime.fromisoformat(doc["market"]["time"].replace("Z", "+00:00"))
        later = t + timedelta(hours=hours)
        doc["market"]["time"] = later.isoformat().replace("+00:00", "Z")
    return doc


def _exact_view(market: Market, eth: float, ratio: float, elasticity: float) -> Market:
    """``market`` at WETH ``eth``, σ as the simulations move it: σ·ratio^(−elasticity)."""
    view = market.with_prices({"WETH": Decimal(repr(eth))})
    if elasticity:
        view = with_vol_shocks(view, {"WETH": Decimal(repr(ratio**-elasticity - 1.0))})
    return view


def _want(h: AccountHealth) -> list[float]:
    return [
        float(x)
        for x in (
            h.collateral_value,
            h.debt_value,
            h.initial_collateral,
            h.initial_debt,
            h.maintenance_collateral,
            h.maintenance_debt,
        )
    ]


def _scale(market: Market, acc_id: str, eth: float) -> float:
    """The size of the account's figures: its options' and perps' notional and balances."""
    acc = market.accounts[acc_id]
    n = sum(abs(float(q)) for q in acc.options.values()) * (eth + 2400.0)
    n += sum(abs(float(p.size)) for p in acc.perps.values()) * eth
    n += sum(float(v) for v in acc.supply.values()) * eth
    n += sum(float(v) for v in acc.borrow.values()) * eth
    return n


def _check(book: SimBook, market: Market, figures: Any, held: Any, view: Market, eth: float,
           accounts: tuple[str, ...] = PM) -> None:  # fmt: skip
    for h, r in enumerate(held):
        acc_id = book.account_ids[r]
        if acc_id not in accounts:
            continue
        want = _want(account_health(view.accounts[acc_id], view))
        scale = _scale(market, acc_id, eth)
        for k, w in enumerate(want):
            assert figures[k, h] == pytest.approx(w, rel=1e-9, abs=1e-11 * scale), (acc_id, k)


@pytest.mark.parametrize("move", [0.55, 0.9, 1.0, 1.08, 1.3, 1.7])
@pytest.mark.parametrize(("hours", "elasticity"), [(0.0, 0.0), (36.0, 1.0), (600.0, 0.5)])
def test_one_step_figures_of_portfolio_accounts_are_the_exact_engines(
    move: float, hours: float, elasticity: float
) -> None:
    """The one-step Monte Carlo's figures of each portfolio-margined account (balances of
    WETH at full value, perps without notional margin, the scenario requirement over its
    legs) at WETH·move, ``hours`` later and σ·move^(−elasticity), equal ``account_health``
    on the market moved there (prices, ``market.time`` and σ), to 1e-9."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    held = carried_accounts(book)
    eth = 2000.0 * move
    prices = book.price.copy()
    prices[book.asset_index("WETH")] = eth
    f = perp_figures(book, prices[None, :], held, hours, elasticity)[:, 0]
    later = parse_market(_doc(hours=hours)) if hours else market
    view = _exact_view(later, eth, move, elasticity)
    _check(book, market, f, held, view, eth)
    so = book.options
    assert so is not None
    value = so.sums(prices, book.n_accounts, hours, elasticity)[6]
    for acc_id in PM:
        r = book.account_ids.index(acc_id)
        exact = account_health(view.accounts[acc_id], view).option_value
        assert value[r] == pytest.approx(float(exact), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("move", [0.6, 1.0, 1.25, 1.5])
def test_health_factors_and_desk_figures_follow_portfolio_margin(move: float) -> None:
    """The book's health factors and the cascade desk's figures (balances carried per
    path) of the portfolio-margined accounts are the exact engine's at the path price."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    eth = 2000.0 * move
    prices = book.price.copy()
    prices[book.asset_index("WETH")] = eth
    view = _exact_view(market, eth, move, 0.0)
    hf = book.health_factors(prices)
    for acc_id in PM:
        exact = account_health(view.accounts[acc_id], view).health_factor
        got = hf[book.account_ids.index(acc_id)]
        if exact is None:  # no maintenance debt: the requirement is covered
            assert np.isnan(got), acc_id
        else:
            assert got == pytest.approx(float(exact), rel=1e-9), acc_id
    desk = PerpDesk(book, 2)
    mids = np.repeat(prices[None], 2, 0)
    f = desk.figures(mids)
    _check(book, market, f[:, 1], desk.held, view, eth)


def test_a_book_with_other_balances_margins_its_portfolio_accounts_on_them() -> None:
    """A book after a cascade or a settlement carries new balances
    (:meth:`SimBook.with_balances`): the scenarios of its portfolio-margined accounts take
    their balance of WETH from them, as the exact engine does on those balances."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    weth = book.asset_index("WETH")
    s, b = book.s.copy(), book.b.copy()
    s[book.col == weth] *= 2.0
    b[book.col == weth] *= 0.5
    after = book.with_balances(s, b)
    prices = book.price.copy()
    prices[weth] = 2400.0
    hf = after.health_factors(prices)
    doc = _doc()
    for acc in doc["accounts"].values():
        if "WETH" in acc.get("supply", {}):
            acc["supply"]["WETH"] *= 2
        if "WETH" in acc.get("borrow", {}):
            acc["borrow"]["WETH"] *= 0.5
    view = parse_market(doc).with_prices({"WETH": Decimal(2400)})
    for acc_id in PM:
        exact = account_health(view.accounts[acc_id], view).health_factor
        got = hf[book.account_ids.index(acc_id)]
        if exact is None:
            assert np.isnan(got), acc_id
        else:
            assert got == pytest.approx(float(exact), rel=1e-9), acc_id


def _q(book: SimBook, desk: PerpDesk, acc_id: str, option: str) -> float:
    so, opt = book.options, desk.options
    assert so is not None and opt is not None
    k = list(so.held).index(book.account_ids.index(acc_id))
    names = so.names[int(so.ptr[k]) : int(so.ptr[k + 1])]
    return float(opt.q[0, int(so.ptr[k]) + names.index(option)])


def test_a_covered_call_is_kept_under_portfolio_margin_and_closed_under_standard() -> None:
    """WETH 2,000 -> 3,000 (a scenario of one shock): the covered call under standard
    margin (1 WETH at a 0.3 threshold under a short 2,200 call) is liquidatable and its
    short call is closed; the same account under portfolio margin, whose scenarios hold
    the WETH at full value against the call, is not (the exact engine agrees), and keeps
    its call."""
    market = load_market(MARKET)
    view = _exact_view(market, 3000.0, 1.5, 0.0)
    assert account_health(view.accounts["covered-std"], view).liquidatable
    assert not account_health(view.accounts["covered-pm"], view).liquidatable
    book = SimBook.from_market(market)
    out, desk = run_one_step(book, 3000.0)
    assert _q(book, desk, "covered-std", CALL) > -1.0  # closed, at least in part
    assert _q(book, desk, "covered-pm", CALL) == -1.0  # kept
    assert out.option_liquidations[0] >= 1.0


def test_a_cascade_liquidates_a_portfolio_account_as_the_exact_engine_does() -> None:
    """WETH 2,000 -> 2,600: the portfolio-margined naked writer (3 short 2,200 calls, 2 long
    1,800 puts on 1,500 USDC) is liquidatable under portfolio margin. The desk closes its
    short calls, re-evaluating the scenarios after each trial, and stops at the fewest
    contracts that restore health: the exact engine's quote under portfolio margin; the
    account's exact health after that close is at least 1."""
    market = load_market(MARKET)
    view = _exact_view(market, 2600.0, 1.3, 0.0)
    assert account_health(view.accounts["naked-pm"], view).liquidatable
    exact = quote_option_liquidation(view, "naked-pm")
    assert [c.option for c in exact.closed] == [CALL]
    book = SimBook.from_market(market)
    _, desk = run_one_step(book, 2600.0)
    closed = 3.0 + _q(book, desk, "naked-pm", CALL)
    assert closed == pytest.approx(float(exact.closed[0].closed), rel=1e-7)
    assert _q(book, desk, "naked-pm", "ETH-20240628-1800-P") == 2.0
    # The state the desk leaves (USDC to its 6 decimals), valued exactly under portfolio
    # margin: health at least 1, to the float error of the flows.
    so = book.options
    assert so is not None and desk.options is not None
    h = list(desk.held).index(book.account_ids.index("naked-pm"))
    usdc = book.asset_index("USDC")
    left = {"accounts": {"naked-pm": {
        "margin": "portfolio",
        "supply": {"USDC": f"{float(desk.s[0, h, usdc]):.6f}"},
        "options": {CALL: repr(_q(book, desk, "naked-pm", CALL)),
                    "ETH-20240628-1800-P": 2},
    }}}  # fmt: skip
    after = parse_market(_doc(left["accounts"])).with_prices({"WETH": Decimal(2600)})
    hf = account_health(after.accounts["naked-pm"], after).health_factor
    assert hf is not None and float(hf) >= 1.0 - 1e-7


_Q = st.sampled_from([-3, -2, -1, -0.5, 0, 0.5, 1, 2])


@settings(max_examples=40, deadline=None)
@given(
    weth=st.sampled_from([0, 0.5, 1, 3]),
    usdc=st.sampled_from([200, 1500, 6000]),
    debt=st.sampled_from([0, 0.3]),
    qs=st.tuples(_Q, _Q, _Q),
    perp=st.sampled_from([0, 0.4, -1.5]),
    move=st.integers(40, 250).map(lambda i: i / 100),
    hours=st.sampled_from([0.0, 48.0]),
)
def test_float_portfolio_margin_in_the_simulations_is_the_exact_one(
    weth: float,
    usdc: int,
    debt: float,
    qs: tuple[float, float, float],
    perp: float,
    move: float,
    hours: float,
) -> None:
    """Random small portfolio-margined books (WETH and USDC balances, a WETH borrow, up to
    three options on two expiries, a perp): every figure the simulations give them at a random
    WETH move and time equals the exact engine's."""
    names = ("ETH-20240628-2200-C", "ETH-20240628-1800-P", "ETH-20240927-2400-C")
    options = {n: q for n, q in zip(names, qs, strict=True) if q}
    acc: dict[str, Any] = {"margin": "portfolio", "supply": {"USDC": usdc}}
    if weth:
        acc["supply"]["WETH"] = weth
    if debt:
        acc["borrow"] = {"WETH": debt}
    if perp:
        acc["perps"] = {"ETH-PERP": {"size": perp, "entry_price": 1950}}
    if not options and not perp:
        options = {names[0]: -1}
    if options:  # else perps alone, also margined by scenarios
        acc["options"] = options
    accounts = {"pm": acc, "saver": {"supply": {"USDC": 10000}}}
    market = parse_market(_doc(accounts))
    book = SimBook.from_market(market)
    held = carried_accounts(book)
    eth = 2000.0 * move
    prices = book.price.copy()
    prices[book.asset_index("WETH")] = eth
    f = perp_figures(book, prices[None, :], held, hours, 1.0)[:, 0]
    later = parse_market(_doc(accounts, hours)) if hours else market
    view = _exact_view(later, eth, move, 1.0)
    _check(book, market, f, held, view, eth, ("pm",))


def test_the_health_after_a_recorded_run_counts_the_options_it_closed() -> None:
    """WETH 2,000 -> 2,600: the naked writer's short calls are partly closed. Its health
    after the run (as scenarios and the Monte Carlo report's replayed path show it) is
    that of what is left, at least 1, not that of the book's original contracts, under
    which it is still liquidatable."""
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    exo = book.price[None, None, :].copy()
    exo[0, 0, book.asset_index("WETH")] = 2600.0
    out, rec = PathEngine(book).run(exo, record=True)
    assert rec.final_s is not None and rec.final_b is not None
    final = out.final_prices[0]
    row = book.account_ids.index("naked-pm")
    hf = rec.health_after(book, final)
    original = book.with_balances(rec.final_s, rec.final_b).health_factors(final)
    assert original[row] < 1.0
    assert hf[row] >= 1.0 - 1e-7
