"""Rule: a price tick re-prices only the accounts that hold the changed assets; a balance
change re-prices that account's row only; either leaves the book equal to one built
afresh; each update returns the accounts that crossed a level (risk events)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.builders import make_market
from xmargin.book import RiskBook, Status
from xmargin.errors import InvalidAmount, UnknownAccount, UnknownAsset
from xmargin.io.market_file import load_market
from xmargin.model import Market
from xmargin.risk.health import account_health

ASSETS: dict[str, dict[str, Any]] = {
    "ETH": {"price": "2000", "collateral_factor": "0.8", "liquidation_threshold": "0.85",
            "liquidation_bonus": "0.05"},
    "USDC": {"price": "1", "collateral_factor": "0.85", "liquidation_threshold": "0.9",
             "liquidation_bonus": "0.04", "decimals": 6},
    "BTC": {"price": "30000", "collateral_factor": "0.7", "liquidation_threshold": "0.75",
            "liquidation_bonus": "0.05", "decimals": 8},
}  # fmt: skip


def market() -> Market:
    # hf = 1 ETH x 2000 x 0.85 / debt
    return make_market(
        assets=ASSETS,
        accounts={
            # 1,700 / 1,000 = 1.7: healthy
            "calm": {"supply": {"ETH": "1"}, "borrow": {"USDC": "1000"}},
            # 1,700 / 1,600 = 1.0625: at risk (below 1.1)
            "edgy": {"supply": {"ETH": "1"}, "borrow": {"USDC": "1600"}},
            # 22,500 / 10,000 = 2.25: holds no ETH, so an ETH tick leaves it alone
            "btc": {"supply": {"BTC": "1"}, "borrow": {"USDC": "10000"}},
            "saver": {"supply": {"USDC": "500"}},
        },
    )


def statuses(book: RiskBook) -> dict[str, Status]:
    return {a: book.status(a) for a in book.account_ids()}


def test_a_tick_reprices_only_the_holders_of_the_changed_asset() -> None:
    book = RiskBook.from_market(market())
    update = book.apply_prices({"ETH": "1990"})
    assert update.ok
    assert update.repriced_accounts == 2  # calm and edgy hold ETH; btc and saver do not


def test_a_move_beyond_the_screening_drift_reprices_the_whole_book() -> None:
    book = RiskBook.from_market(market())
    before = book.stats["full_reprices"]
    update = book.apply_prices({"ETH": "1900"})  # 5%: beyond RESET_DRIFT (2%)
    assert update.repriced_accounts == 4
    assert book.stats["full_reprices"] == before + 1
    assert [(e.account, e.status) for e in update.events] == []  # edgy: 1,615 / 1,600


def test_a_fall_in_collateral_price_reports_the_accounts_that_cross_each_level() -> None:
    book = RiskBook.from_market(market())
    assert book.status("calm") == Status.HEALTHY
    assert book.status("edgy") == Status.AT_RISK
    # ETH 2000 -> 1800: edgy 1,530 / 1,600 < 1: liquidatable; calm 1,530 / 1,000: healthy
    update = book.apply_prices({"ETH": "1800"})
    assert [(e.account, e.previous, e.status) for e in update.events] == [
        ("edgy", Status.AT_RISK, Status.LIQUIDATABLE)
    ]
    # ETH -> 1250: calm 1,062.5 / 1,000 = 1.0625: at risk
    update = book.apply_prices({"ETH": "1250"})
    assert [(e.account, e.previous, e.status) for e in update.events] == [
        ("calm", Status.HEALTHY, Status.AT_RISK)
    ]
    # and back: ETH -> 2000 restores both
    update = book.apply_prices({"ETH": "2000"})
    assert [(e.account, e.previous, e.status) for e in update.events] == [
        ("calm", Status.AT_RISK, Status.HEALTHY),
        ("edgy", Status.LIQUIDATABLE, Status.AT_RISK),
    ]
    ev = update.events[1]
    assert ev.health_factor == pytest.approx(1700 / 1600)
    assert ev.to_dict()["from"] == "liquidatable"


def test_an_unchanged_price_reprices_nothing() -> None:
    book = RiskBook.from_market(market())
    update = book.apply_prices({"ETH": "2000.000"})
    assert update.ok and update.repriced_accounts == 0 and not update.events


def test_a_configurable_warning_level_moves_the_at_risk_band() -> None:
    book = RiskBook.from_market(market(), warning_level=Decimal("1.8"))
    assert book.status("calm") == Status.AT_RISK  # 1.7 < 1.8
    assert book.status("btc") == Status.HEALTHY  # 2.25


def test_a_warning_level_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="warning level"):
        RiskBook.from_market(market(), warning_level=Decimal("0.9"))


def test_a_balance_change_reprices_that_row_and_reports_its_crossing() -> None:
    book = RiskBook.from_market(market())
    # calm borrows 1,000 more USDC: 1,700 / 2,000 = 0.85
    events = book.set_balance("calm", "USDC", borrow="2000")
    assert [(e.account, e.previous, e.status) for e in events] == [
        ("calm", Status.HEALTHY, Status.LIQUIDATABLE)
    ]
    assert book.exact_account("calm").borrow == {"USDC": Decimal("2000")}


def test_a_balance_in_a_new_asset_joins_that_assets_ticks() -> None:
    book = RiskBook.from_market(market())
    book.set_balance("saver", "ETH", borrow="0.2")  # 500 x 0.9 / 400 = 1.125
    assert book.status("saver") == Status.HEALTHY
    assert book.n_positions == 8  # 7 positions, and saver's ETH
    # ETH -> 2100: saver 450 / 420 = 1.07, at risk; edgy 1,785 / 1,600 = 1.12, healthy
    update = book.apply_prices({"ETH": "2100"})
    assert [(e.account, e.status) for e in update.events] == [
        ("edgy", Status.HEALTHY),
        ("saver", Status.AT_RISK),
    ]


def test_a_new_account_can_be_added_and_funded() -> None:
    book = RiskBook.from_market(market())
    book.add_account("newcomer")
    book.set_balance("newcomer", "BTC", supply="0.5")
    events = book.set_balance("newcomer", "USDC", borrow="11000")  # 11,250 / 11,000
    assert [(e.account, e.status) for e in events] == [("newcomer", Status.AT_RISK)]
    assert book.account_ids()[-1] == "newcomer"
    assert book.status("newcomer") == Status.AT_RISK


def test_a_batch_of_balances_is_one_repricing_with_one_event_per_account_that_crossed() -> None:
    changes: list[tuple[str, str, object | None, object | None]] = [
        ("calm", "USDC", None, "2000"),  # healthy -> liquidatable
        ("edgy", "USDC", None, "1700"),  # at risk -> liquidatable (1,700 / 1,700)...
        ("edgy", "USDC", None, "1000"),  # ... and back to healthy: no net crossing
        ("saver", "ETH", None, "0.2"),  # a new position, stays healthy
    ]
    one_by_one = RiskBook.from_market(market())
    for acc, asset, supply, borrow in changes:
        one_by_one.set_balance(acc, asset, supply=supply, borrow=borrow)
    batched = RiskBook.from_market(market())
    events = batched.set_balances(changes)
    assert [(e.account, e.previous, e.status) for e in events] == [
        ("calm", Status.HEALTHY, Status.LIQUIDATABLE),
        ("edgy", Status.AT_RISK, Status.HEALTHY),
    ]
    assert statuses(batched) == statuses(one_by_one)
    assert batched.n_positions == one_by_one.n_positions == 8
    assert batched.exact_account("saver").borrow == {"ETH": Decimal("0.2")}
    assert batched.set_balances([]) == []


def test_balances_with_more_digits_than_a_float_stay_exact() -> None:
    book = RiskBook.from_market(market())
    book.set_balance("calm", "ETH", supply="1.000000000000000001")
    assert book.exact_account("calm").supply == {"ETH": Decimal("1.000000000000000001")}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"supply": "-1"}, InvalidAmount),
        ({"supply": "abc"}, InvalidAmount),
        ({"borrow": "0.0000001"}, InvalidAmount),  # USDC holds 6 places
    ],
)
def test_a_bad_balance_is_refused_and_changes_nothing(
    kwargs: dict[str, str], error: type[Exception]
) -> None:
    book = RiskBook.from_market(market())
    before = book.exact_account("calm")
    with pytest.raises(error):
        book.set_balance("calm", "USDC", **kwargs)
    assert book.exact_account("calm") == before


def test_unknown_accounts_and_assets_are_refused() -> None:
    book = RiskBook.from_market(market())
    with pytest.raises(UnknownAccount):
        book.set_balance("nobody", "ETH", supply="1")
    with pytest.raises(UnknownAsset):
        book.set_balance("calm", "DOGE", supply="1")
    with pytest.raises(UnknownAccount):
        book.status("nobody")


def test_after_many_ticks_the_book_equals_one_built_at_the_final_prices(
    generated_book: dict[str, Path],
) -> None:
    book = RiskBook.load(generated_book["parquet"])
    rng = np.random.default_rng(3)
    prices = dict(book.prices)
    for _ in range(40):
        asset = str(rng.choice(list(prices)))
        prices[asset] = prices[asset] * Decimal(int(rng.integers(90, 111))) / Decimal(100)
        assert book.apply_prices({asset: prices[asset]}).ok
    fresh = RiskBook.load(generated_book["parquet"])
    fresh.apply_prices(prices, guard=False)
    assert np.array_equal(book.statuses(), fresh.statuses())
    exact = load_market(generated_book["parquet"]).with_prices(prices)
    liq = [a.id for a in exact.accounts.values() if account_health(a, exact).liquidatable]
    assert [a for a, s in statuses(book).items() if s == Status.LIQUIDATABLE] == liq
