"""BOOK-P: the risk book with perp positions equals the exact engine (contract 5).

Random perp markets (``tests.perp_strategies``: USDC collateral, WETH/WBTC underlyings,
one or two positions per account, long or short, funding, size factors, PnL weights, a
``pnl_initial_cap`` sometimes) are loaded into the book.

BOOK-P1  Every figure and decision equals the exact engine's (the six sums within 1e-9
         of their scale, a PnL's scale being |q|·(P + E + |F| + |f|)); the liquidation
         queue lists exactly the liquidatable accounts, perp accounts included.
BOOK-P2  A tick of an underlying re-prices its perps' notional and PnL: the book then
         equals the exact engine at the new prices, and every event is a real crossing.
BOOK-P3  A new funding index re-prices the rows holding that perp, equal to the exact
         engine's figures with F moved.
BOOK-P4  A walk of small ticks of the underlyings ends where the exact engine does.
BOOK-P5  A market file with a long-form ``perps_file`` (contract 5.8) loads to the exact
         loader's accounts and decisions.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.book.conftest import WriteBook
from tests.book.test_book_equals_reference import BACKENDS, SUMS, exact_status
from tests.perp_strategies import PERPS, perp_markets
from xmargin.book import RiskBook, Status
from xmargin.io.market_file import load_market
from xmargin.model import Market
from xmargin.risk.health import account_health

REL = 1e-9


def _scale(market: Market, acc_id: str) -> float:
    """Σ |q|·(P + E + |F| + |f|): what a PnL's float error scales with."""
    acc = market.accounts[acc_id]
    out = Decimal(0)
    for name, pos in acc.perps.items():
        perp = market.perps[name]
        p = market.perp_price(perp)
        f, f0 = abs(perp.funding_index), abs(pos.funding_index)
        out += abs(pos.size) * (p + pos.entry_price + f + f0)
    return float(out)


def assert_book_equals_exact(book: RiskBook, market: Market) -> None:
    fig = book.figures()
    assert fig.account.to_pylist() == list(market.accounts)
    liquidatable = []
    for i, acc in enumerate(market.accounts.values()):
        h = account_health(acc, market)
        where = f"account {acc.id}"
        assert bool(fig.liquidatable[i]) == h.liquidatable, where
        assert int(fig.status[i]) == exact_status(h), where
        assert book.status(acc.id) == exact_status(h), where
        scale = _scale(market, acc.id)
        for name in SUMS:
            exact = float(getattr(h, name))
            tol = REL * max(abs(exact), scale) + 2e-18
            assert abs(float(getattr(fig, name)[i]) - exact) <= tol, (where, name)
        if h.liquidatable:
            liquidatable.append(acc.id)
    assert sorted(e.account for e in book.liquidation_queue()) == sorted(liquidatable)
    summary = book.summary()
    assert summary.liquidatable_accounts == len(liquidatable)


@pytest.mark.parametrize("backend", BACKENDS)
@given(market=perp_markets())
def test_book_p1_figures_and_decisions_with_perps_equal_the_exact_engine(
    backend: str, market: Market
) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    assert book.n_perp_positions == sum(len(a.perps) for a in market.accounts.values())
    assert_book_equals_exact(book, market)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=50)
@given(market=perp_markets(), data=st.data())
def test_book_p2_a_tick_of_an_underlying_reprices_its_perps(
    backend: str, market: Market, data: st.DataObject
) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    moved = data.draw(
        st.lists(st.sampled_from(sorted({*PERPS.values(), "USDC"})), min_size=1, unique=True)
    )
    new = {
        a: market.assets[a].price * Decimal(data.draw(st.integers(50, 200))) / Decimal(100)
        for a in moved
    }
    update = book.apply_prices(new)
    assert update.ok
    shocked = market.with_prices(new)
    assert_book_equals_exact(book, shocked)
    for ev in update.events:
        before = exact_status(account_health(market.accounts[ev.account], market))
        after = exact_status(account_health(market.accounts[ev.account], shocked))
        assert (ev.previous, ev.status) == (before, after)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=50)
@given(market=perp_markets(), data=st.data())
def test_book_p3_a_funding_index_reprices_the_rows_holding_the_perp(
    backend: str, market: Market, data: st.DataObject
) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    perp = data.draw(st.sampled_from(sorted(PERPS)), label="perp")
    old = market.perps[perp].funding_index
    value = old + Decimal(data.draw(st.integers(-(10**6), 10**6))).scaleb(-2)
    before = {a: exact_status(account_health(acc, market)) for a, acc in market.accounts.items()}
    events = book.set_funding_index(perp, value)
    market.perps = {
        **market.perps,
        perp: market.perps[perp].model_copy(update={"funding_index": value}),
    }
    assert_book_equals_exact(book, market)
    for ev in events:
        assert perp in market.accounts[ev.account].perps
        after = exact_status(account_health(market.accounts[ev.account], market))
        assert (ev.previous, ev.status) == (before[ev.account], after)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=30)
@given(market=perp_markets(), data=st.data())
def test_book_p4_a_walk_of_ticks_ends_where_the_exact_engine_does(
    backend: str, market: Market, data: st.DataObject
) -> None:
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    start = {a: book.status(a) for a in market.accounts}
    last: dict[str, Status] = {}
    prices = dict(book.prices)
    for _ in range(data.draw(st.integers(1, 10), label="ticks")):
        asset = data.draw(st.sampled_from(sorted(PERPS.values())), label="asset")
        per_mille = data.draw(st.integers(-30, 30), label="move, per mille")
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


PERPS_HEAD = """
[perps.ETH-PERP]
underlying = "WETH"
settlement_asset = "USDC"
initial_margin = 0.1
maintenance_margin = 0.05
liquidation_fee = 0.01
funding_index = 3.5
"""


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_book_p5_a_perps_file_loads_to_the_exact_loaders_accounts(
    write_book: WriteBook, fmt: str, tmp_path: Path
) -> None:
    rows = [
        ["long", "USDC", "1000", "0", ""],
        ["short", "USDC", "150", "0", ""],
        ["flat", "WETH", "1", "0", ""],
    ]
    market_file = write_book(rows, fmt)
    (market_file.parent / "perps.csv").write_text(
        "account,perp,size,entry_price,funding_index\n"
        "long,ETH-PERP,2.5,1700,\n"
        "short,ETH-PERP,-0.9,1800.5,1.25\n"
        "newcomer,ETH-PERP,0.1,1900,3.5\n",
        encoding="utf-8",
    )
    text = market_file.read_text(encoding="utf-8")
    text = text.replace("[market]\n", '[market]\nperps_file = "perps.csv"\n', 1)
    market_file.write_text(text + PERPS_HEAD, encoding="utf-8")
    exact = load_market(market_file)
    book = RiskBook.load(market_file)
    assert book.account_ids() == list(exact.accounts)
    assert book.n_perp_positions == 3
    for acc_id, acc in exact.accounts.items():
        assert book.exact_account(acc_id) == acc, acc_id
    assert_book_equals_exact(book, exact)
    assert book.status("newcomer") == Status.LIQUIDATABLE  # a loss and no collateral
    figures = book.figures()
    assert np.isfinite(figures.maintenance_debt).all()


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40)
@given(market=perp_markets(), data=st.data())
def test_book_p6_positions_and_balances_mirrored_after_trades_equal_the_exact_engine(
    backend: str, market: Market, data: st.DataObject
) -> None:
    from tests.perp_strategies import SUBJECT, trades
    from xmargin.errors import XmarginError
    from xmargin.ledger.perps import execute_trade

    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(1, 4), label="trades")):
        perp, delta = data.draw(trades(market), label="trade")
        try:
            execute_trade(market, SUBJECT, perp, delta)
        except XmarginError:
            continue
        acc = market.accounts[SUBJECT]
        for name in PERPS:
            book.set_perp(SUBJECT, name, acc.position(name))
        for a in market.assets:
            book.set_balance(SUBJECT, a, supply=acc.supplied(a), borrow=acc.borrowed(a))
        assert book.perp_positions(SUBJECT) == acc.perps
        assert_book_equals_exact(book, market)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=40)
@given(market=perp_markets(), data=st.data())
def test_book_p7_small_ticks_near_a_level_are_never_screened_out_wrongly(
    backend: str, market: Market, data: st.DataObject
) -> None:
    """The subject is placed within ±1% of health 1 (its USDC supply set so), then the
    underlyings move by a few per mille per tick: the screening margin of a perp row
    must never skip a crossing."""
    from tests.perp_strategies import SUBJECT

    acc = market.accounts[SUBJECT]
    h = account_health(acc, market)
    usdc = market.assets["USDC"]
    eps = Decimal(data.draw(st.integers(-100, 100), label="health - 1, in 1e-4")).scaleb(-4)
    need = (h.maintenance_debt * (1 + eps) - h.maintenance_collateral) / (
        usdc.price * usdc.liquidation_threshold
    )
    supply = (acc.supplied("USDC") + need).quantize(Decimal("1e-6"))
    if supply < 0 or h.maintenance_debt == 0:
        return
    acc.supply["USDC"] = supply
    market._recount_totals()
    book = RiskBook.from_market(market, backend=backend)  # type: ignore[arg-type]
    start = {a: book.status(a) for a in market.accounts}
    last: dict[str, Status] = {}
    prices = dict(book.prices)
    for _ in range(data.draw(st.integers(1, 12), label="ticks")):
        asset = data.draw(st.sampled_from(sorted(PERPS.values())), label="asset")
        per_mille = data.draw(st.integers(-4, 4), label="move, per mille")
        prices[asset] = prices[asset] * (1000 + per_mille) / Decimal(1000)
        update = book.apply_prices({asset: prices[asset]})
        assert update.ok
        for ev in update.events:
            assert ev.previous == last.get(ev.account, start[ev.account])
            last[ev.account] = ev.status
    final = market.with_prices(prices)
    for a in market.accounts.values():
        expected = exact_status(account_health(a, final))
        assert book.status(a.id) == expected, a.id
        assert last.get(a.id, start[a.id]) == expected, a.id
