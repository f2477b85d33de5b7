"""Option positions as columns of the risk book (issue 14 item 6): the terms the pass
adds equal what the options add to the exact engine's section-2 sums, before and after a
tick of the underlying; portfolio-margined accounts are left to the exact engine.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from tests.properties.test_option_properties import option_books
from xmargin.book import RiskBook
from xmargin.book.loading import parts_of_market
from xmargin.book.option_columns import OptionColumns, with_options
from xmargin.book.tolerances import ABS_TOL, REL_TOL
from xmargin.io import load_market, parse_market
from xmargin.model import Market
from xmargin.model.account import Account
from xmargin.model.options import MarginMethod
from xmargin.risk.health import account_health

BOOK = Path(__file__).parents[1] / "vectors" / "option_book.toml"


def option_terms(market: Market, acc_id: str) -> list[Decimal]:
    """What the account's options add to its exact sums: its figures less those of the
    same account without options."""
    acc = market.accounts[acc_id]
    bare = Account(acc.id, acc.supply, acc.borrow, acc.category, acc.perps)
    h, b = account_health(acc, market), account_health(bare, market)
    names = (
        "collateral_value",
        "debt_value",
        "initial_collateral",
        "initial_debt",
        "maintenance_collateral",
        "maintenance_debt",
    )
    return [getattr(h, n) - getattr(b, n) for n in names] + [h.option_value]


def check(market: Market, cols: OptionColumns, ids: list[str]) -> int:
    checked = 0
    for row, acc_id in enumerate(ids):
        acc = market.accounts[acc_id]
        if not acc.options or acc.margin is MarginMethod.PORTFOLIO:
            assert not cols.terms[row].any(), acc_id
            continue
        exact = option_terms(market, acc_id)
        spot = max(float(a.price) for a in market.assets.values())
        scale = sum(
            float(abs(q)) * (float(market.options[n].strike) + 2 * spot)
            for n, q in acc.options.items()
        )
        scale = max(scale, *(abs(float(x)) for x in exact))
        for got, want in zip(cols.terms[row], exact, strict=True):
            # The exact sums round collateral down and debt up to 1e-18: 2 units apart.
            assert abs(got - float(want)) <= REL_TOL * scale + ABS_TOL + 2e-18, (acc_id, got, want)
        checked += 1
    return checked


@pytest.mark.parametrize("backend", ["numpy", "auto"])
def test_the_vector_books_option_terms_are_the_exact_engines_before_and_after_a_tick(
    backend: Any,
) -> None:
    market = load_market(BOOK)
    ids = list(market.accounts)
    assets = list(market.assets)
    cols = OptionColumns.from_market(market, ids, assets, backend=backend)
    assert check(market, cols, ids) >= 3
    under = {market.options[n].underlying for n in market.options}
    for move in (Decimal("0.8"), Decimal("1.25")):
        moved = market.with_prices({u: market.assets[u].price * move for u in under})
        fresh = OptionColumns.from_market(market, ids, assets, backend=backend)
        rows = fresh.apply_prices({assets.index(u): float(move) for u in under})
        assert len(rows) >= 3
        check(moved, fresh, ids)
    exact_rows = {ids[r] for r in cols.exact_rows}
    assert exact_rows == {
        a
        for a, acc in market.accounts.items()
        if acc.options and acc.margin is MarginMethod.PORTFOLIO
    }


@settings(max_examples=30, deadline=None)
@given(doc=option_books())
def test_random_books_option_terms_are_the_exact_engines(doc: dict[str, Any]) -> None:
    market = parse_market(doc, source="test")
    ids = list(market.accounts)
    cols = OptionColumns.from_market(market, ids, list(market.assets), backend="numpy")
    check(market, cols, ids)
    col = list(market.assets).index("ETH")
    moved = market.with_prices({"ETH": market.assets["ETH"].price * Decimal("0.9")})
    cols.apply_prices({col: 0.9})
    check(moved, cols, ids)
    assert np.isfinite(cols.terms).all()


def test_the_risk_books_figures_with_option_terms_are_the_exact_engines() -> None:
    market = load_market(BOOK)
    book = RiskBook(parts_of_market(market, cluster=True, options=False))  # spot figures
    ids = book.account_ids()
    cols = OptionColumns.from_market(market, ids, list(book.assets))
    figs = with_options(book.figures(), cols)
    decided = 0
    for row, acc_id in enumerate(ids):
        if row in set(figs.doubt.tolist()):
            continue
        h = account_health(market.accounts[acc_id], market)
        if market.accounts[acc_id].perps:
            continue  # the book holds no perp columns here (another pass)
        want = [
            h.collateral_value,
            h.debt_value,
            h.initial_collateral,
            h.initial_debt,
            h.maintenance_collateral,
            h.maintenance_debt,
        ]
        for got, w in zip(figs.sums[row], want, strict=True):
            assert abs(got - float(w)) <= REL_TOL * max(abs(float(w)), 1.0) * 100, (acc_id, got, w)
        assert bool(figs.liquidatable[row]) == h.liquidatable, acc_id
        decided += 1
    assert decided >= 3
    assert "thin" in ids and figs.liquidatable[ids.index("thin")]
