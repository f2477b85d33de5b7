"""SEED: the same seed gives the same numbers, in one process or on a Dask cluster.

Each chunk of paths draws from ``SeedSequence(seed, spawn_key=(0, chunk))``, and chunks
are fixed by the run's inputs, never by the number of workers.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.analytics.books import random_market
from xmargin.analytics.cascade.kernels import cascade_kernels
from xmargin.analytics.distributed import dask_client, dask_runner
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo import MonteCarloConfig, monte_carlo
from xmargin.analytics.return_models import GBM, StudentT
from xmargin.analytics.simbook import SimBook

LIQ = {
    f"A{j}": {"model": "cpmm", "reserve_units": "500", "reserve_quote": "400000"} for j in range(4)
}


def _book() -> tuple[SimBook, Liquidity]:
    market = random_market(21, n_accounts=150, hf_range=(1.0, 1.8), liquidity=LIQ)
    return SimBook.from_market(market), Liquidity.from_params(market.assets)


def _model(book: SimBook) -> GBM:
    corr = np.full((book.n_assets, book.n_assets), 0.5)
    np.fill_diagonal(corr, 1.0)
    return GBM(book.assets, np.full(book.n_assets, 0.9), None, corr)


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_the_same_seed_gives_the_same_numbers() -> None:
    book, _ = _book()
    cfg = MonteCarloConfig(n_paths=3000, seed=5)
    a = monte_carlo(book, _model(book), cfg)
    b = monte_carlo(book, _model(book), cfg)
    assert _same(a.per_path, b.per_path)
    assert a.figures == b.figures
    c = monte_carlo(book, _model(book), MonteCarloConfig(n_paths=3000, seed=6))
    assert not np.array_equal(a.per_path["final_prices"], c.per_path["final_prices"])


def test_a_path_is_the_same_whatever_the_number_of_paths_after_it() -> None:
    book, _ = _book()
    model = StudentT(book.assets, np.full(book.n_assets, 0.01), np.eye(book.n_assets), 4.0)
    short = monte_carlo(book, model, MonteCarloConfig(n_paths=1500, seed=9))
    long = monte_carlo(book, model, MonteCarloConfig(n_paths=2500, seed=9))
    np.testing.assert_array_equal(short.per_path["bad_debt"], long.per_path["bad_debt"][:1500])


@pytest.mark.parametrize("steps", [1, 3])
def test_a_two_worker_dask_cluster_gives_the_single_process_numbers(steps: int) -> None:
    book, liquidity = _book()
    model = _model(book)
    cfg = MonteCarloConfig(n_paths=2500, seed=3, steps=steps, gas=1.0 if steps > 1 else 0.0)
    liq = liquidity if steps > 1 else None
    alone = monte_carlo(book, model, cfg, liq)
    with dask_client(2, processes=False) as client:
        runner = dask_runner(client, model, cfg, liq, timeout=120)
        spread = monte_carlo(book, model, cfg, liq, runner=runner)
    assert alone.engine == ("one-step" if steps == 1 else "cascade")
    assert _same(alone.per_path, spread.per_path)
    assert alone.figures == spread.figures
    np.testing.assert_array_equal(alone.account_bad_debt, spread.account_bad_debt)


@pytest.mark.parametrize(
    ("backend", "groups"),
    [("numba", ((40, 1), (7, 1), (1, 1), (7, 2))), ("numpy", ((12, 1), (5, 1)))],
)
def test_the_cascade_gives_the_same_numbers_whatever_its_grouping(
    backend: str, groups: tuple[tuple[int, int], ...]
) -> None:
    """Engine groups are a performance choice: the draws are the seeding chunk's, and a
    path's rounds do not wait for the other paths of its group, so every figure (refusal
    counts included) is the same for groups of 1, 7 or all paths, on one or two threads
    (NumPy: fewer, it is slow)."""
    from xmargin.analytics.montecarlo import draw_paths, path_engine

    book, liquidity = _book()
    n = groups[0][0]
    cfg = MonteCarloConfig(n_paths=n, seed=11, steps=6, gas=1.0)
    exo = draw_paths(book, _model(book), cfg, 0, n, 40) * np.linspace(1.0, 0.6, 6)[:, None]
    outcomes = []
    for group, threads in groups:
        engine = path_engine(book, cfg, liquidity)
        engine.kernels = cascade_kernels(backend)  # type: ignore[arg-type]
        engine.group = group
        engine.kernels.threads = lambda t=threads: t  # type: ignore[method-assign,misc]
        outcomes.append(engine.run(exo)[0])
    assert outcomes[0].liquidations.sum() > 0 and outcomes[0].rounds.max() > 1
    for other in outcomes[1:]:
        for name in type(other).__dataclass_fields__:
            np.testing.assert_array_equal(getattr(outcomes[0], name), getattr(other, name), name)
