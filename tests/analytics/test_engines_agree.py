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
from xmargin.analytics.cascade import PathEngine
from xmargin.analytics.montecarlo import _one_step, settle
from xmargin.analytics.simbook import SimBook

REL = 1e-9


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b), scale)


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
