"""The liquidation designs in the cascade (``analytics/cascade/designs.py``) and
``simulate compare``'s library (``analytics/design_compare.py``).

CD-1  Under ``fixed``, ``threshold`` and ``health`` the design step is the engine's own
      close-factor kernels (Numba and NumPy) with that bonus policy: same totals.
CD-2  ``target`` liquidates as the exact engine does (Aave v4's vectors): same balances.
CD-3  ``auction`` starts the auction the exact engine starts (debt, tab, lot).
CD-4  ``storefront`` absorbs as the exact engine does (borrower loss, debt absorbed: what
      the collateral clears, and beyond it, absorbed unbacked, as written off).
CD-5  At constant prices (one jump, no liquidity, no gas, no keeper incentive) every design
      conserves value: what leaves the borrowers beyond the debt it clears goes to the
      liquidators and the protocol (borrower loss = liquidator profit + protocol received
      − protocol paid + debt written off), and debt is conserved (debt repaid + written
      off + still in an auction = what the accounts owe less).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.analytics.cascade import designs as ds
from xmargin.analytics.cascade.design_auctions import AuctionState
from xmargin.analytics.cascade.engine import PathEngine
from xmargin.analytics.design_compare import (
    DESIGNS,
    cascade_design,
    compare_designs,
    parse_designs,
    shock_paths,
)
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.simbook import SimBook, load_simbook
from xmargin.errors import InputError, RuleViolation
from xmargin.fast.backend import numba_available
from xmargin.io import load_market
from xmargin.ledger.actions import execute_liquidate
from xmargin.model.params import BonusPolicy
from xmargin.risk.auction import quote_auction_start
from xmargin.risk.storefront import quote_absorb

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "tests" / "analytics" / "files"
VECTORS = ROOT / "tests" / "vectors"
BACKENDS = ["numpy", *(["numba"] if numba_available() else [])]


def _flat(book: SimBook, steps: int = 1) -> np.ndarray:
    return np.repeat(book.price[None, None, :], steps, axis=1)


def _step(name: str, path: Path, step_seconds: float = 600.0) -> tuple[ds.DesignStep, SimBook]:
    book, market = load_simbook(path)
    return ds.DesignStep(cascade_design(name, market, book, step_seconds), book), book


# -- CD-1 --------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["fixed", "threshold", "health"])
@pytest.mark.parametrize("file", ["designs.toml", "spiral.toml"])
def test_cd_1_close_factor_designs_are_the_kernels(backend: str, name: str, file: str) -> None:
    book, market = load_simbook(FILES / file)
    policy = {"fixed": BonusPolicy.FIXED, "threshold": BonusPolicy.THRESHOLD}
    market.params = market.params.model_copy(
        update={"bonus_policy": policy.get(name, BonusPolicy.HEALTH)}
    )
    book = SimBook.from_market(market)
    liq = Liquidity.from_params(market.assets)
    paths = shock_paths(book, {"ETH": -0.3}, 3, 12, 6, 1, {"ETH": 0.8}, 1.0)
    plain, _ = PathEngine(book, liq, gate=True, gas=10, backend=backend).run(paths)  # type: ignore[arg-type]
    step = ds.DesignStep(cascade_design(name, market, book, 3600.0), book)
    designed, _ = PathEngine(book, liq, gate=True, gas=10, backend=backend, design=step).run(  # type: ignore[arg-type]
        paths
    )
    assert plain.liquidations.sum() > 0
    for k in ("bad_debt", "repaid", "seized", "fees", "liquidations", "unprofitable"):
        np.testing.assert_allclose(getattr(designed, k), getattr(plain, k), rtol=1e-12, err_msg=k)
    d = step.finish(designed.final_prices)
    np.testing.assert_allclose(d[:, ds.D_VOLUME], plain.repaid, rtol=1e-12)
    np.testing.assert_allclose(d[:, ds.D_FUND_IN], plain.fees, rtol=1e-12)


# -- CD-2 --------------------------------------------------------------------------------
def test_cd_2_target_liquidates_as_the_exact_engine() -> None:
    path = VECTORS / "aave_v4_target.toml"
    step, book = _step("target", path)
    _, rec = PathEngine(book, None, gate=False, design=step).run(_flat(book), record=True)
    assert rec.final_s is not None and rec.final_b is not None
    market = load_market(path)
    for i, acc in enumerate(book.account_ids):
        if market.accounts[acc].borrow and market.account(acc).borrow:
            try:
                while True:  # as the cascade: "max" until not liquidatable or done
                    execute_liquidate(market, acc, "USDC", "WETH", "max")
            except RuleViolation:  # the exact refusal ends it, as it ends the float run
                pass
        after = market.accounts[acc]
        lo, hi = book.indptr[i], book.indptr[i + 1]
        for e in range(lo, hi):
            a = book.assets[book.col[e]]
            assert rec.final_s[e] == pytest.approx(float(after.supplied(a)), rel=1e-9, abs=1e-6)
            assert rec.final_b[e] == pytest.approx(float(after.borrowed(a)), rel=1e-9, abs=1e-6)


# -- CD-3 --------------------------------------------------------------------------------
def test_cd_3_an_auction_starts_as_the_exact_engine_starts_it() -> None:
    path = VECTORS / "maker_clipper.toml"
    step, book = _step("auction", path)
    PathEngine(book, None, gate=True, design=step).run(_flat(book))
    market = load_market(path)
    state, pairs = step.rest, step.pairs
    assert isinstance(state, AuctionState) and pairs is not None
    started = 0
    for t in range(pairs.n):
        acc = book.account_ids[int(pairs.acct[t])]
        debt, coll = book.assets[int(state.a_debt[t])], book.assets[int(state.a_coll[t])]
        q = quote_auction_start(market, acc, debt, coll)
        unit = 10.0 ** -market.assets[debt].decimals
        tab_left = state.tab[t] + pairs.out[t, 0]  # nothing taken at the start price
        assert float(q.auction.tab) == pytest.approx(tab_left, abs=2 * unit, rel=1e-9)
        assert float(q.auction.lot) == pytest.approx(state.lot[t], rel=1e-9)
        started += 1
    assert started > 0


# -- CD-4 --------------------------------------------------------------------------------
def test_cd_4_storefront_absorbs_as_the_exact_engine() -> None:
    path = VECTORS / "comet_storefront.toml"
    step, book = _step("storefront", path)
    o, _ = PathEngine(book, None, gate=True, design=step).run(_flat(book))
    d = step.finish(o.final_prices)
    market = load_market(path)
    loss = cleared = under = Decimal(0)
    for acc in market.accounts:
        try:
            q = quote_absorb(market, acc)
        except RuleViolation:  # not liquidatable: not absorbed
            continue
        base = market.assets[q.base].price
        # The collateral clears the debt up to its value; the rest is absorbed unbacked.
        by_it = min(q.debt_value, q.collateral_value)
        loss += q.collateral_value - by_it - q.excess * base
        cleared += by_it
        under += q.debt_value - by_it
    assert cleared > 0 and under > 0  # the vector has an account under water ("sunk")
    assert d[0, ds.D_VOLUME] == pytest.approx(float(cleared), rel=1e-9)
    assert d[0, ds.D_BORROWER_LOSS] == pytest.approx(float(loss), rel=1e-9, abs=1e-6)
    assert o.written_off[0] == pytest.approx(float(under), rel=1e-9)


# -- CD-5 --------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(DESIGNS),
    shock=st.integers(5, 60).map(lambda i: -i / 100),
    file=st.sampled_from(["designs.toml", "spiral.toml"]),
    steps=st.integers(1, 30),
)
def test_cd_5_every_design_conserves_value_at_constant_prices(
    name: str, shock: float, file: str, steps: int
) -> None:
    book, market = load_simbook(FILES / file)
    if market.params.auction is not None:  # no keeper incentive: it is paid from outside
        market.params = market.params.model_copy(
            update={"auction": market.params.auction.model_copy(update={"tip": 0, "chip": 0})}
        )
    step = ds.DesignStep(cascade_design(name, market, book, 600.0), book)
    shocks = {a: shock for a in book.assets if a in ("ETH", "WBTC")}
    path = shock_paths(book, shocks, 1, steps)
    o, rec = PathEngine(book, None, gate=True, design=step).run(path, record=True)
    d = step.finish(o.final_prices)
    assert rec.final_b is not None
    written = float(o.written_off[0])
    lhs = d[0, ds.D_BORROWER_LOSS]
    rhs = d[0, ds.D_LIQ_PROFIT] + d[0, ds.D_FUND_IN] - d[0, ds.D_FUND_OUT] + written
    scale = d[0, ds.D_VOLUME] + 1.0
    assert lhs == pytest.approx(rhs, abs=1e-9 * scale)
    p = o.final_prices[0]
    owed_less = float(((book.b - rec.final_b) * p[book.col]).sum())
    running = 0.0
    if isinstance(step.rest, AuctionState) and step.pairs is not None:
        on = np.flatnonzero(step.rest.active[: step.pairs.n])
        running = float((step.rest.debt[on] * p[step.rest.a_debt[on]]).sum())
    assert owed_less == pytest.approx(d[0, ds.D_VOLUME] + written + running, abs=1e-9 * scale)


# -- the comparison ----------------------------------------------------------------------
def test_compare_runs_every_design_on_the_same_paths() -> None:
    book, market = load_simbook(FILES / "designs.toml")
    liq = Liquidity.from_params(market.assets)
    paths = shock_paths(book, {"ETH": -0.3, "WBTC": -0.25}, 3, 12, 4, 7, {"ETH": 0.6}, 1 / 6)
    got = compare_designs(book, market, DESIGNS, paths, liq, 10.0, 1 / 6)
    assert list(got) == list(DESIGNS)
    for r in got.values():
        assert r.liquidated > 0 and r.borrower_loss > 0 and r.liquidator_profit > 0
        assert 0 <= r.fund_drawdown <= 25_000 and r.bad_debt >= 0
    # The health policy pays the largest bonus on this book: borrowers lose the most.
    assert got["health"].borrower_loss > got["fixed"].borrower_loss
    again = compare_designs(book, market, ["auction"], paths, liq, 10.0, 1 / 6)
    assert again["auction"] == got["auction"]


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "at least one"), ("fixed,bogus", "unknown design 'bogus'"), ("fixed,fixed", "twice")],
)
def test_designs_are_named_clearly(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        parse_designs(text)


# -- a run by the market's own design ----------------------------------------------------
def test_a_market_of_a_design_cascades_by_it_unless_told_otherwise() -> None:
    from xmargin.analytics.scenario_file import Scenario
    from xmargin.analytics.scenarios import run_scenario

    book, _ = load_simbook(VECTORS / "aave_v4_target.toml")
    sc = Scenario(name="dip", shocks={"WETH": -0.02}, cascade=True)
    own = run_scenario(book, sc).totals
    assert own == run_scenario(book, sc, liquidation="target").totals
    fixed = run_scenario(book, sc, liquidation="fixed").totals
    # Aave v4 repays only up to health 1.05; the close factor repays half the debt.
    assert 0 < own["repaid_value"] < fixed["repaid_value"]
    with pytest.raises(InputError, match="unknown design 'dutch'"):
        run_scenario(book, sc, liquidation="dutch")


def test_a_storefront_run_counts_the_protocols_loss_as_bad_debt() -> None:
    from xmargin.analytics.scenario_file import Scenario
    from xmargin.analytics.scenarios import run_scenario

    book, market = load_simbook(FILES / "designs.toml")
    liq = Liquidity.from_params(market.assets)
    sc = Scenario(name="crash", shocks={"ETH": -0.3, "WBTC": -0.25}, steps=3, cascade=True)
    r = run_scenario(book, sc, liq, liquidation="storefront")
    # Accounts are absorbed whole: nothing is written off, nothing is left owing, yet the
    # protocol sold what it absorbed for less than it paid.
    assert r.totals["written_off"] == 0 and r.totals["residual"] == 0
    assert r.totals["bad_debt"] > 0


# -- CD-6 --------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    shock=st.integers(5, 45).map(lambda i: -i / 100),
    file=st.sampled_from(["designs.toml", "spiral.toml"]),
    thf=st.sampled_from([1.0, 1.05, 1.2]),
)
def test_cd_6_a_target_liquidation_leaves_health_at_the_target_unless_capped(
    shock: float, file: str, thf: float
) -> None:
    """TGT-2 in the cascade: every account liquidated under ``target`` ends at health >=
    THF, unless a cap bound (its debt cleared, a collateral asset taken whole)."""
    from xmargin.model.liquidation_params import TargetHealthParams

    book, market = load_simbook(FILES / file)
    target = TargetHealthParams(target_health_factor=Decimal(str(thf)))
    market.params = market.params.model_copy(update={"target_health": target})
    step = ds.DesignStep(cascade_design("target", market, book, 600.0), book)
    shocks = {a: shock for a in book.assets if a in ("ETH", "WBTC")}
    o, rec = PathEngine(book, None, gate=True, design=step).run(
        shock_paths(book, shocks, 1, 3), record=True
    )
    assert rec.final_s is not None and rec.final_b is not None
    hf = book.with_balances(rec.final_s, rec.final_b).health_factors(o.final_prices[0])
    for t in np.flatnonzero(o.pair_path == 0):
        i = int(o.pair_acct[t])
        lo, hi = book.indptr[i], book.indptr[i + 1]
        s0, s1, b1 = book.s[lo:hi], rec.final_s[lo:hi], rec.final_b[lo:hi]
        capped = not b1.any() or bool(((s0 > 0) & (s1 == 0)).any())
        assert capped or hf[i] >= thf * (1 - 1e-9), (book.account_ids[i], hf[i])
