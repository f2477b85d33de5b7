"""SCALE (slow): the two engines agree on a generated book of 50,000 accounts x 20 assets.

The one-step kernel (paths in blocks, exact pruning over the chunk's price range) and the
step-by-step engine (per-path candidates, pairs) reach the same liquidations on every
path; run with ``make test SLOW=1`` or in CI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xmargin.analytics.cascade import PathEngine
from xmargin.analytics.montecarlo import MonteCarloConfig, _one_step, draw_paths, settle
from xmargin.analytics.return_models import GBM
from xmargin.analytics.simbook import load_simbook
from xmargin.book.generate import generate_book


@pytest.mark.slow
def test_both_engines_agree_on_a_large_generated_book(tmp_path: Path) -> None:
    market_file, _ = generate_book(50_000, 20, seed=3, out_dir=tmp_path)
    book, _ = load_simbook(market_file)
    settled = settle(book).book_after
    model = GBM(book.assets, np.full(book.n_assets, 0.9))
    cfg = MonteCarloConfig(n_paths=96, seed=1)
    prices = draw_paths(settled, model, cfg, 0, 96)[:, -1, :]
    per, _ = _one_step(settled, prices)
    outcome, _ = PathEngine(settled).run(prices[:, None, :])
    assert per["liquidations"].sum() > 1000
    np.testing.assert_array_equal(outcome.liquidations, per["liquidations"])
    np.testing.assert_allclose(outcome.bad_debt, per["bad_debt"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(outcome.seized, per["liquidated_volume"], rtol=1e-9, atol=1e-6)
