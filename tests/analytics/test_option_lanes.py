"""The option terms of a simulation book on many paths at once (:mod:`xmargin.analytics.
option_lanes`) are the float rule's, :func:`xmargin.fast.options.standard_option_sums`,
called on each path and account (which the exact engine's twin is property-tested
against): the Numba kernel and the NumPy columns alike, on random leg tables (accounts of
several expiries, calls and puts, long, short and closed positions, expired legs) and on
the books of the option market files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xmargin.analytics.option_lanes import option_terms
from xmargin.analytics.simbook import SimBook
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.fast.backend import numba_available
from xmargin.io import load_market

FILES = [
    Path(__file__).parent / "files" / "options_cascade.toml",
    Path(__file__).parents[1] / "service" / "option_market.toml",
    Path(__file__).parents[2] / "src" / "xmargin" / "data" / "demo.toml",
]
BACKENDS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not numba_available(), reason="numba not installed"))]  # fmt: skip
PM = np.array([0.15, 0.1, 0.075, 0.1, 1.0, 0.5, 1.2])


def _reference(legs: np.ndarray, ptr: np.ndarray, pm: np.ndarray) -> np.ndarray:
    """The rule on each path and account, one call each."""
    out = np.zeros((7, legs.shape[0], len(ptr) - 1))
    for i in range(legs.shape[0]):
        for h in range(len(ptr) - 1):
            out[:, i, h] = fo.standard_option_sums(legs[i], int(ptr[h]), int(ptr[h + 1]), pm)
    return out


def _assert_equal(got: np.ndarray, want: np.ndarray, legs: np.ndarray) -> None:
    """Equal to a few ulps of the scale Σ|q|·(F + K + S) of the account's legs."""
    notional = np.abs(legs[:, :, fo.Q]) * (
        legs[:, :, fo.FORWARD] + legs[:, :, fo.STRIKE] + legs[:, :, fo.SPOT]
    )
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= 1e-12 * (notional.sum(axis=1)[None, :, None] + 1.0))


def _random_book(seed: int, n_paths: int) -> tuple[np.ndarray, np.ndarray]:
    """Leg tables (paths x legs x columns) of a few accounts, and their ``ptr``."""
    rng = np.random.default_rng(seed)
    rows: list[list[float]] = []
    ptr = [0]
    group = 0
    for _ in range(rng.integers(1, 6)):
        for _ in range(rng.integers(1, 4)):
            group += 1
            spot = float(rng.uniform(50.0, 5000.0))
            tau = float(rng.choice([0.0, rng.uniform(1e-4, 1.5)]))
            for _ in range(rng.integers(1, 5)):
                q = float(rng.choice([0.0, rng.uniform(-20, 20), rng.integers(-3, 4)]))
                strike = float(spot * rng.choice([1.0, rng.uniform(0.5, 1.6)]))
                sigma = float(rng.uniform(0.0, 1.5))
                fwd = spot * float(rng.uniform(0.97, 1.03)) if tau else spot
                disc = float(np.exp(-0.03 * tau))
                call = float(rng.integers(0, 2))
                rows.append([q, call, strike, sigma, tau, tau * 3e7, disc, 0.03, fwd, 0.0,
                             float(group), spot])  # fmt: skip
        ptr.append(len(rows))
    base = np.array(rows)
    legs = np.repeat(base[None], n_paths, axis=0)
    ratio = rng.uniform(0.3, 3.0, size=(n_paths, 1))
    legs[:, :, fo.SPOT] *= ratio
    legs[:, :, fo.FORWARD] *= ratio
    legs[:, :, fo.Q] *= rng.choice([0.0, 1.0, 0.5], size=legs.shape[:2], p=[0.1, 0.8, 0.1])
    flat = legs.reshape(-1, legs.shape[2])
    fop.price_legs(flat)
    return flat.reshape(legs.shape), np.array(ptr, np.int64)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_paths=st.integers(1, 7))
def test_all_paths_at_once_are_the_rule_on_each_path(backend: str, seed: int, n_paths: int) -> None:
    legs, ptr = _random_book(seed, n_paths)
    got = option_terms(legs, ptr, PM, backend=backend)  # type: ignore[arg-type]
    _assert_equal(got, _reference(legs, ptr, PM), legs)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("market_file", FILES, ids=lambda p: p.name)
def test_the_option_books_of_the_market_files(backend: str, market_file: Path) -> None:
    """Moved, a week later, volatility on its path, at 200 random price vectors."""
    book = SimBook.from_market(load_market(market_file))
    so = book.options
    assert so is not None
    rng = np.random.default_rng(7)
    prices = book.price[None, :] * rng.uniform(0.3, 2.5, size=(200, len(book.price)))
    legs = so.moved(prices, 168.0, 1.0)
    got = option_terms(legs, so.ptr, so.pm, backend=backend)  # type: ignore[arg-type]
    _assert_equal(got, _reference(legs, so.ptr, so.pm), legs)


def test_no_leg_no_term() -> None:
    legs = np.zeros((3, 0, len(fo.LEG_COLUMNS)))
    out = option_terms(legs, np.zeros(1, np.int64), PM, backend="numpy")
    assert out.shape == (7, 3, 0)
