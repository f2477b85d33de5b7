"""BOOK-O: the risk book with option positions equals the exact engine (contract 6).

Random option markets (ETH options of two expiries, calls and puts, USDC and ETH
balances, an ETH perp held beside options sometimes, portfolio-margined accounts) are
loaded into the book and walked through ticks of ETH, large (a whole-book re-price) and
small (the screened path).

BOOK-O1  After every tick each account's decision equals the exact engine's at the new
         prices (standard margin screened in float columns, portfolio margin decided by
         the exact engine), and each event is a real crossing.
BOOK-O2  The figures (the six sums, ``option_value``) equal the exact engine's within
         1e-9 of their scale, and the liquidation queue lists exactly the liquidatable
         accounts.
BOOK-O3  A market file whose option positions sit in an ``options_file`` (some opening
         new accounts) loads into the book in the exact loader's order, with its decisions,
         and follows the exact engine through ticks.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.book.test_book_equals_reference import BACKENDS, SUMS, WARN, exact_status
from tests.option_builders import EXPIRY, option_doc
from xmargin.book import RiskBook, Status
from xmargin.io import parse_market
from xmargin.io.market_file import load_market
from xmargin.model import Market
from xmargin.risk.health import account_health

LATER = "2024-07-26T08:00:00Z"
PERP = {"underlying": "ETH", "settlement_asset": "USDC", "initial_margin": "0.1",
        "maintenance_margin": "0.05"}  # fmt: skip


def _dec(draw: st.DrawFn, lo: int, hi: int, places: int) -> Decimal:
    return Decimal(draw(st.integers(lo, hi))).scaleb(-places)


@st.composite
def option_books(draw: st.DrawFn) -> Market:
    spot = _dec(draw, 1000, 3000, 0)
    options: dict[str, Any] = {}
    for k in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["call", "put"]))
        strike = int(spot * _dec(draw, 70, 130, 2))
        expiry = draw(st.sampled_from([EXPIRY, LATER]))
        vol = _dec(draw, 0, 120, 2)
        options[f"O{k}"] = {"kind": kind, "strike": strike, "expiry": expiry, "volatility": vol}
    names = list(options)
    positions: dict[str, dict[str, Decimal]] = {}
    accounts: dict[str, dict[str, Any]] = {}
    for a in range(draw(st.integers(1, 6))):
        acc = f"a{a}"
        held = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
        positions[acc] = {n: _dec(draw, -10, 10, 1) or Decimal(1) for n in held}
        entry: dict[str, Any] = {"supply": {"USDC": _dec(draw, 0, 4_000_000, 2)}}
        eth = _dec(draw, -300, 300, 2)
        if eth > 0:
            entry["supply"]["ETH"] = eth
        elif eth < 0:
            entry["borrow"] = {"ETH": -eth}
        if draw(st.integers(0, 3)) == 0:
            size = _dec(draw, -20, 20, 1) or Decimal(1)
            entry_price = spot * _dec(draw, 90, 110, 2)
            entry["perps"] = {"ETH-PERP": {"size": size, "entry_price": entry_price}}
        if draw(st.integers(0, 3)) == 0:
            entry["margin"] = "portfolio"
        accounts[acc] = entry
    doc = option_doc(options, positions, spot=spot, accounts=accounts, perps={"ETH-PERP": PERP})
    return parse_market(doc, source="BOOK-O")


moves = st.one_of(st.integers(-300, 300), st.integers(-15, 15)).map(lambda i: Decimal(i) / 1000)


def assert_book_equals_exact(book: RiskBook, market: Market) -> None:
    fig = book.figures()
    assert fig.account.to_pylist() == list(market.accounts)
    value = fig.option_value if fig.option_value is not None else np.zeros(len(market.accounts))
    liquidatable = []
    for i, acc in enumerate(market.accounts.values()):
        h = account_health(acc, market)
        where = f"account {acc.id}"
        assert int(fig.status[i]) == exact_status(h), where
        assert bool(fig.liquidatable[i]) == h.liquidatable, where
        notional = sum(
            (abs(q) * (market.options[n].strike + 3 * market.assets["ETH"].price)
             for n, q in acc.options.items()),
            Decimal(0),
        )  # fmt: skip
        for name in SUMS:
            scale = float(getattr(h, name)) + float(notional) + float(h.debt_value) + 1.0
            got = float(getattr(fig, name)[i])
            assert abs(got - float(getattr(h, name))) <= 1e-9 * scale, (where, name)
        assert abs(value[i] - float(h.option_value)) <= 1e-9 * (float(notional) + 1)
        if h.liquidatable:
            liquidatable.append(acc.id)
    assert sorted(e.account for e in book.liquidation_queue()) == sorted(liquidatable)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=15, deadline=None)
@given(market=option_books(), ticks=st.lists(moves, min_size=1, max_size=5))
def test_book_o1_o2_decisions_and_figures_equal_the_exact_engine_across_ticks(
    backend: str, market: Market, ticks: list[Decimal]
) -> None:
    book = RiskBook.from_market(market, warning_level=WARN, backend=backend)  # type: ignore[arg-type]
    assert_book_equals_exact(book, market)
    price = market.assets["ETH"].price
    before = {a: book.status(a) for a in market.accounts}
    for move in ticks:
        price = max(Decimal(1), (price * (1 + move)).quantize(Decimal("0.01")))
        update = book.apply_prices({"ETH": price}, guard=False)
        moved = market.with_prices({"ETH": price})
        after = {a: exact_status(account_health(acc, moved)) for a, acc in moved.accounts.items()}
        assert {a: book.status(a) for a in market.accounts} == after
        for ev in update.events:  # every event a real crossing
            assert before[ev.account] == ev.previous and after[ev.account] == ev.status
        crossed = {a for a in after if after[a] != before[a]}
        assert {ev.account for ev in update.events} == crossed
        before = after
    assert_book_equals_exact(book, market.with_prices({"ETH": price}))


def test_book_o3_an_options_file_loads_in_the_exact_loaders_order(tmp_path: Path) -> None:
    (tmp_path / "positions.csv").write_text(
        "account,asset,supply,borrow\nf1,USDC,5000,0\nf2,USDC,900,0\nf2,ETH,0,0.3\n"
    )
    (tmp_path / "perps.csv").write_text("account,perp,size,entry_price\np1,ETH-PERP,1,1500\n")
    (tmp_path / "options.csv").write_text(
        "account,option,size\nf2,C,-1.5\nn1,P,2\nf1,C,-4\np1,P,-1\nn2,C,1\n"
    )
    doc = option_doc(
        {"C": ("call", 1600), "P": ("put", 1400)},
        {"inline": {"C": "1", "P": "-1"}},
        volatility="0.6",
        accounts={"pm": {"margin": "portfolio", "supply": {"USDC": 2000}, "options": {"P": -3}}},
        perps={"ETH-PERP": PERP},
        market={
            "accounts_file": "positions.csv",
            "perps_file": "perps.csv",
            "options_file": "options.csv",
        },
    )
    import json

    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc, default=str))
    market = load_market(path)
    for backend in BACKENDS:
        book = RiskBook.load(path, warning_level=WARN, backend=backend)  # type: ignore[arg-type]
        assert book.account_ids() == list(market.accounts)
        assert_book_equals_exact(book, market)
        for acc in market.accounts.values():
            got = book.exact_account(acc.id)
            assert (got.options, got.margin) == (acc.options, acc.margin)
        statuses = {book.status(a) for a in market.accounts}
        assert Status.HEALTHY in statuses and np.any(book.statuses() > 0)
        for price in (Decimal(1300), Decimal("1302.5"), Decimal(1700)):
            book.apply_prices({"ETH": price}, guard=False)
            assert_book_equals_exact(book, market.with_prices({"ETH": price}))
