"""SIM-1: the float64 kernels liquidate exactly as the Decimal engine does (contract 3).

Seeded random markets with every rule in play (categories, size haircuts, liability
weights, fees, small positions, dust, each bonus policy) are liquidated by the kernels and,
account by account, by ``execute_liquidate`` driven the same way (largest debt against
largest collateral, "max", until done). Amounts are held to 18 decimals, so the two agree
to float precision; the tolerance is 1e-9 relative.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tests.analytics.books import exact_liquidate_all, random_market
from xmargin.analytics import kernels as kn
from xmargin.analytics.cascade import PathEngine
from xmargin.analytics.montecarlo import _one_step, settle
from xmargin.analytics.simbook import SimBook

REL = 1e-9

CASES = [
    (seed, policy, spv, mlv)
    for seed, policy, spv, mlv in [
        (0, "fixed", "0", "0"),
        (1, "threshold", "2000", "0"),
        (2, "health", "0", "1000"),
        (3, "fixed", "2000", "1000"),
        (4, "health", "2000", "1000"),
        (5, "threshold", "0", "0"),
    ]
]


def _close(a: float, b: float, scale: float) -> bool:
    return abs(a - b) <= REL * max(abs(a), abs(b), scale)


@pytest.mark.parametrize(("seed", "policy", "spv", "mlv"), CASES)
def test_settling_a_book_matches_the_exact_engine_account_by_account(
    seed: int, policy: str, spv: str, mlv: str
) -> None:
    market = random_market(seed, policy=policy, small_position_value=spv, min_leftover_value=mlv)
    book = SimBook.from_market(market)
    result = settle(book)
    exact_market = market.copy()
    for i, acc_id in enumerate(book.account_ids):
        ex = exact_liquidate_all(exact_market, acc_id)
        row = result.per_account[i]
        scale = float(ex.repaid_value) + 1.0  # quote
        assert int(row[kn.A_LIQUIDATIONS]) == ex.liquidations, acc_id
        assert _close(row[kn.A_WRITTEN_OFF], float(ex.written_off), scale), acc_id
        assert _close(row[kn.A_RESIDUAL], float(ex.residual), scale), acc_id
        assert _close(row[kn.A_REPAID], float(ex.repaid_value), scale), acc_id
        assert _close(row[kn.A_SEIZED], float(ex.seized_value), scale), acc_id
        assert _close(row[kn.A_FEES], float(ex.fee_value), scale), acc_id
    # Balances after, entry by entry, relative to the balances before (a leftover is the
    # difference of two large numbers).
    after = result.book_after
    for i, acc_id in enumerate(book.account_ids):
        acc = exact_market.account(acc_id)
        for e in range(book.indptr[i], book.indptr[i + 1]):
            asset = book.assets[book.col[e]]
            s, b = float(acc.supplied(asset)), float(acc.borrowed(asset))
            assert _close(after.s[e], s, book.s[e]), (acc_id, asset)
            assert _close(after.b[e], b, book.b[e]), (acc_id, asset)


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
    written = float(result.per_account[:, kn.A_WRITTEN_OFF].sum())
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


def test_the_vectorized_and_scalar_size_haircuts_state_the_same_formula() -> None:
    market = random_market(7, n_accounts=60)
    book = SimBook.from_market(market)
    k = book.size_factor[book.col]
    for e in range(len(book.col)):
        lt = kn.size_haircut_asset_weight(book.lt[e], k[e], book.s[e])
        mbw = kn.size_haircut_liability_weight(
            book.maintenance_borrow_weight[book.col[e]], k[e], book.b[e]
        )
        assert book.wnet[e] == pytest.approx(book.s[e] * lt - book.b[e] * mbw, rel=1e-15)
