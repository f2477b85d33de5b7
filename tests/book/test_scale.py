"""Rule, at scale: on a generated book of 50,000 accounts the risk book's decisions equal
the exact engine's for every account, at the file's prices and after a 25% crash of
WETH applied as one tick; and its summary equals contract 4 ``stress``'s."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.analytics.stress import stress
from xmargin.book import RiskBook, Status
from xmargin.book.generate import generate_book
from xmargin.io.market_file import load_market
from xmargin.model import Market
from xmargin.risk.health import account_health

N = 50_000


@pytest.fixture(name="big", scope="module")
def big_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Market]:
    market_file, _ = generate_book(N, 20, 11, tmp_path_factory.mktemp("big"), fmt="csv")
    return market_file, load_market(market_file)


def liquidatable_ids(market: Market) -> list[str]:
    return [a.id for a in market.accounts.values() if account_health(a, market).liquidatable]


def test_a_50k_book_decides_every_account_as_the_exact_engine(
    big: tuple[Path, Market],
) -> None:
    market_file, market = big
    book = RiskBook.load(market_file)
    assert book.n_accounts == N
    liq = [a for a, s in zip(book.account_ids(), book.statuses(), strict=True) if s == 2]
    assert liq == liquidatable_ids(market)

    crash = {"WETH": market.assets["WETH"].price * Decimal("0.75")}
    update = book.apply_prices(crash)
    assert update.ok and update.events
    shocked = market.with_prices(crash)
    liq = [a for a, s in zip(book.account_ids(), book.statuses(), strict=True) if s == 2]
    assert liq == liquidatable_ids(shocked)
    became = {e.account for e in update.events if e.status == Status.LIQUIDATABLE}
    assert became <= set(liq)

    exact = stress(market, {"WETH": Decimal("-0.25")}).summary
    s = book.summary()
    assert s.accounts == exact.accounts
    assert s.liquidatable_accounts == exact.liquidatable_accounts
    assert s.liquidatable_debt == pytest.approx(float(exact.liquidatable_debt), rel=1e-9)
    assert s.insolvent_debt == pytest.approx(float(exact.insolvent_debt), rel=1e-9)
