"""The simulation's engines agree with the exact engine's totals and with each other.

Bad debt written off by settling a book equals the deficit the exact engine writes off
driven the same way; the one-step Monte Carlo kernel and the step-by-step path engine
liquidate alike on every path. (Rule by rule, the float kernels are held to the exact
engine by ``tests/properties/test_float_twins.py``.)
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tests.analytics.books import exact_liquidate_all, random_market
from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.cascade import Breakers, PathEngine, PathOutcome
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo import _one_step, settle
from xmargin.analytics.sim_kernels import sim_kernels
from xmargin.analytics.simbook import SimBook
from xmargin.fast.backend import numba_available

REL = 1e-9


@pytest.mark.parametrize("seed", [0, 3])
def test_bad_debt_equals_the_sum_of_deficits_the_engine_writes_off(seed: int) -> None:
    # Deep shock: most accounts end with no collateral, so bad debt is written off.
    market = random_market(seed, hf_range=(0.3, 1.2))
    book = SimBook.from_market(market)
    exact_market = market.copy()
    for acc_id in book.account_ids:
        exact_liquidate_all(exact_market, acc_id)
    deficit_value = sum(
        (u * exact_market.assets[a].price for a, u in exact_market.deficit.items()), Decimal(0)
    )
    residual = Decimal(0)
    for acc in exact_market.accounts.values():
        from xmargin.risk.health import account_health

        h = account_health(acc, exact_market)
        residual += max(Decimal(0), h.debt_value - h.collateral_value)
    assert deficit_value > 0
    result = settle(book)
    written = float(result.per_account[:, kl.AC_WRITTEN_OFF].sum())
    assert written == pytest.approx(float(deficit_value), rel=REL)
    assert result.bad_debt == pytest.approx(float(deficit_value + residual), rel=REL)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_one_step_kernel_and_the_path_engine_agree_on_every_path(seed: int) -> None:
    market = random_market(seed, n_accounts=120, hf_range=(0.9, 2.0))
    book = SimBook.from_market(market)
    rng = np.random.default_rng(seed)
    prices = book.price * np.exp(rng.normal(0.0, 0.25, (48, book.n_assets)))
    per, _ = _one_step(book, prices)
    outcome, _ = PathEngine(book).run(prices[:, None, :])
    np.testing.assert_allclose(outcome.bad_debt, per["bad_debt"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(outcome.seized, per["liquidated_volume"], rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(outcome.liquidations, per["liquidations"])
    np.testing.assert_allclose(
        outcome.borrowing_power, per["borrowing_power"], rtol=1e-12, atol=1e-9
    )


# ENGINE-2: the NumPy kernels (what runs without Numba) give the Numba kernels' numbers.
numba_only = pytest.mark.skipif(not numba_available(), reason="numba is not installed")

DEPTH = {"model": "depth", "depth": [["0.01", "20000"], ["0.1", "400000"]]}
POOL = {"model": "cpmm", "reserve_units": "800", "reserve_quote": "900000"}


def _outcomes_equal(a: PathOutcome, b: PathOutcome) -> None:
    for name in PathOutcome.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-9, err_msg=name)


@numba_only
@pytest.mark.parametrize("seed", [1, 4])
def test_the_numpy_one_step_kernel_equals_the_numba_one(seed: int) -> None:
    market = random_market(seed, n_accounts=120, hf_range=(0.9, 2.0))
    book = SimBook.from_market(market)
    rng = np.random.default_rng(seed)
    prices = book.price * np.exp(rng.normal(0.0, 0.25, (40, book.n_assets)))
    watch = book.watch_list(prices.min(axis=0), prices.max(axis=0))
    wptr, went = book.rows_of(watch)
    rows = kl.WatchRows(watch, wptr, book.col[went], book.wnet[went])
    args = (prices, rows, book.arrays(), book.s, book.b, 16, 1000)
    path_nb, acct_nb = sim_kernels("numba").one_step(*args)
    path_np, acct_np = sim_kernels("numpy").one_step(*args)
    np.testing.assert_allclose(path_np, path_nb, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(acct_np, acct_nb, rtol=1e-12, atol=1e-9)


@numba_only
@pytest.mark.parametrize(
    ("gas", "breakers"),
    [
        (0.0, Breakers()),
        (1.0, Breakers()),
        (1.0, Breakers(max_round_value=20_000.0)),
        (0.0, Breakers(pause_drop=0.1, pause_window_steps=2)),
    ],
)
def test_the_numpy_cascade_equals_the_numba_cascade(gas: float, breakers: Breakers) -> None:
    liquidity = {"A0": DEPTH, "A1": POOL, "A2": DEPTH}
    market = random_market(5, n_accounts=150, hf_range=(0.95, 1.6), liquidity=liquidity)
    book = SimBook.from_market(market)
    liq = Liquidity.from_params(market.assets)
    rng = np.random.default_rng(3)
    steps = np.cumsum(rng.normal(-0.03, 0.06, (12, 6, book.n_assets)), axis=1)
    exo = book.price * np.exp(steps)
    runs = [
        PathEngine(book, liq, gate=gas > 0, gas=gas, breakers=breakers, backend=b).run(exo, True)
        for b in ("numba", "numpy")
    ]
    (nb, rec_nb), (np_, rec_np) = runs
    assert nb.liquidations.sum() > 0
    _outcomes_equal(nb, np_)
    assert rec_nb.step == rec_np.step
    np.testing.assert_allclose(rec_nb.final_s, rec_np.final_s, rtol=1e-12, atol=1e-12)
