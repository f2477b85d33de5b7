"""BOOK-1 "the book equals the reference": on random books the risk book's figures lie
within 1e-9 (relative) of the exact engine's and every decision is the exact engine's.

BOOK-1  For every account: each of the six sums and the health factor within 1e-9
        relative, available_to_borrow within 1e-9 of max(ic, id) (beyond the exact
        engine's own rounding to 18 decimal places, and the health factor only where the
        debt is more than 1e-15 of the quote); ``liquidatable`` and the status (warning
        level 1.1) identical to the exact engine's.
BOOK-2  The same after a random price move applied as a tick (incremental re-price).
BOOK-3  Accounts exactly on a level, or one unit of the 36th decimal place away, are
        decided exactly (floats cannot tell them apart; the exact re-check must).
BOOK-4  The Numba and NumPy kernels give the same decisions and the same figures.
BOOK-5  After a walk of small ticks (screened: rows far from every level are skipped) the
        statuses equal the exact engine's at the final prices, and the events add up:
        each account's last event ends in its final status.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.book.strategies import boundary_markets, markets
from xmargin.book import RiskBook, Status
from xmargin.fast.backend import numba_available
from xmargin.model import Market
from xmargin.risk.health import AccountHealth, account_health

WARN = Decimal("1.1")
REL = 1e-9
BACKENDS = ["numpy", *(["numba"] if numba_available() else [])]
SUMS = (
    "collateral_value",
    "debt_value",
    "initial_collateral",
    "initial_debt",
    "maintenance_collateral",
    "maintenance_debt",
)


def exact_status(h: AccountHealth) -> Status:
    if h.liquidatable:
        return Status.LIQUIDATABLE
    if h.health_factor is not None and h.health_factor < WARN:
        return Status.AT_RISK
    return Status.HEALTHY


#: The exact engine holds values and ratios to 18 decimal places (xmargin.mathlib).
GRID = 1e-18


def close(book_value: float, exact: Decimal, scale: Decimal | None = None) -> bool:
    """Within 1e-9 relative of the exact value (or of ``scale``), plus two grid units."""
    ref = float(exact)
    tol = REL * max(abs(ref), float(scale or 0)) + 2 * GRID
    return abs(book_value - ref) <= tol


def close_ratio(book_value: float, h: AccountHealth) -> bool:
    """The health factor: 1e-9 relative plus what the 1e-18 grid of mc and md moves it."""
    assert h.health_factor is not None
    hf = float(h.health_factor)
    md = float(h.maintenance_debt)
    if md < 1000 * GRID:
        return True  # a debt of a few grid units: the exact engine's rounding is the figure
    # mc and md each move by up to a grid unit: hf by (1 + hf) grid / md; then hf's own
    grid = 4 * GRID * (1 + hf) / md + 2 * GRID
    return abs(book_value - hf) <= REL * hf + grid


def assert_book_equals_reference(book: RiskBook, market: Market) -> None:
    fig = book.figures()
    assert fig.account.to_pylist() == list(market.accounts)
    for i, acc in enumerate(market.accounts.values()):
        h = account_health(acc, market)
        where = f"account {acc.id}"
        assert bool(fig.liquidatable[i]) == h.liquidatable, where
        assert int(fig.status[i]) == exact_status(h), where
        assert book.status(acc.id) == exact_status(h), where
        for name in SUMS:
            assert close(float(getattr(fig, name)[i]), getattr(h, name)), (where, name)
        if h.health_factor is None:
            assert np.isnan(fig.health_factor[i]), where
        else:
            assert close_ratio(float(fig.health_factor[i]), h), where
        scale = max(h.initial_collateral, h.initial_debt)
        assert close(float(fig.available_to_borrow[i]), h.available_to_borrow, scale), where


@pytest.mark.parametrize("backend", BACKENDS)
@given(market=markets())
def test_book_1_figures_and_decisions_equal_the_exact_engine(backend: str, market: Market) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    assert_book_equals_reference(book, market)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=50)
@given(market=markets(), data=st.data())
def test_book_2_a_price_tick_leaves_the_book_equal_to_the_exact_engine_at_new_prices(
    backend: str, market: Market, data: st.DataObject
) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    moved = data.draw(st.lists(st.sampled_from(sorted(market.assets)), min_size=1, unique=True))
    new = {
        a: market.assets[a].price * Decimal(data.draw(st.integers(1, 400))) / Decimal(100)
        for a in moved
    }
    update = book.apply_prices(new)
    assert update.ok
    shocked = market.with_prices(new)
    assert_book_equals_reference(book, shocked)
    # every event is a real crossing, as the exact engine sees it before and after
    for ev in update.events:
        before = exact_status(account_health(market.accounts[ev.account], market))
        after = exact_status(account_health(market.accounts[ev.account], shocked))
        assert (ev.previous, ev.status) == (before, after)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60)
@given(market=boundary_markets())
def test_book_3_accounts_on_a_level_are_decided_exactly(backend: str, market: Market) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    assert_book_equals_reference(book, market)
    assert book.stats["exact_rechecks"] >= 1


@settings(max_examples=50)
@given(market=markets())
def test_book_4_numba_and_numpy_kernels_agree(market: Market) -> None:
    if len(BACKENDS) < 2:
        pytest.skip("numba is not installed")
    a = RiskBook.from_market(market, backend="numba")
    b = RiskBook.from_market(market, backend="numpy")
    fa, fb = a.figures(), b.figures()
    assert np.array_equal(fa.status, fb.status)
    for name in (*SUMS, "health_factor"):
        x, y = getattr(fa, name), getattr(fb, name)
        assert np.allclose(x, y, rtol=1e-12, atol=0, equal_nan=True), name
    assert a.summary().liquidatable_accounts == b.summary().liquidatable_accounts


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40)
@given(market=st.one_of(markets(), boundary_markets()), data=st.data())
def test_book_5_a_walk_of_small_ticks_ends_where_the_exact_engine_does(
    backend: str, market: Market, data: st.DataObject
) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    start = {a: book.status(a) for a in market.accounts}
    last: dict[str, Status] = {}
    prices = dict(book.prices)
    for _ in range(data.draw(st.integers(1, 12), label="ticks")):
        asset = data.draw(st.sampled_from(sorted(prices)), label="asset")
        per_mille = data.draw(st.integers(-15, 15), label="move, per mille")
        prices[asset] = prices[asset] * (1000 + per_mille) / Decimal(1000)
        update = book.apply_prices({asset: prices[asset]})
        assert update.ok
        for ev in update.events:
            assert ev.previous == last.get(ev.account, start[ev.account])
            last[ev.account] = ev.status
    final = market.with_prices(prices)
    for acc in market.accounts.values():
        expected = exact_status(account_health(acc, final))
        assert book.status(acc.id) == expected, acc.id
        assert last.get(acc.id, start[acc.id]) == expected, acc.id
