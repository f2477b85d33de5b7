"""REPLAY: historical windows replayed as moves from today's prices.

The price files (``../shared/data/prices_hourly``, no licence) are read here and never
shipped; the tests skip cleanly without them. The book: accounts supplying UST in a
stablecoin efficiency mode (lt 0.97, bonus 1%) against USDC debt, health 1.03 to 1.07,
beside ordinary WETH borrowers.
"""

from __future__ import annotations

from pathlib import Path

from tests.builders import make_market
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.scenario_file import Replay, Scenario
from xmargin.analytics.scenarios import run_scenario
from xmargin.analytics.simbook import SimBook
from xmargin.model import Market


def _asset(price: str, cf: str, lt: str, bonus: str) -> dict[str, object]:
    return {
        "price": price,
        "collateral_factor": cf,
        "liquidation_threshold": lt,
        "liquidation_bonus": bonus,
    }


def ust_book() -> Market:
    accounts: dict[str, dict[str, object]] = {}
    for i in range(20):
        units = 10_000 * (i + 1)
        hf = 1.03 + 0.01 * (i % 5)
        accounts[f"ust{i}"] = {
            "category": "stable",
            "supply": {"UST": str(units)},
            "borrow": {"USDC": f"{units * 0.97 / hf:.6f}"},
        }
        accounts[f"eth{i}"] = {
            "supply": {"WETH": str(i + 1)},
            "borrow": {"USDC": str(900 * (i + 1))},
        }
    ust = {
        **_asset("1", "0.75", "0.80", "0.05"),
        "liquidity": {"model": "depth", "depth": [["0.01", "100000"], ["0.10", "500000"]]},
    }
    return make_market(
        assets={
            "UST": ust,
            "USDC": _asset("1", "0.80", "0.85", "0.05"),
            "WETH": _asset("3000", "0.80", "0.85", "0.05"),
        },
        accounts=accounts,
        categories={
            "stable": {
                "collateral_factor": "0.95",
                "liquidation_threshold": "0.97",
                "liquidation_bonus": "0.01",
                "assets": ["UST", "USDC"],
            },
        },
    )


def _replay(prices: Path, start: str, end: str, cascade: bool = False) -> Scenario:
    return Scenario(
        name=f"{start}..{end}",
        replay=Replay(start, end, "1h"),
        prices=(str(prices),),
        cascade=cascade,
    )


def test_replaying_the_ust_collapse_on_a_book_with_ust_collateral_leaves_bad_debt(
    prices_hourly: Path,
) -> None:
    market = ust_book()
    book = SimBook.from_market(market)
    result = run_scenario(book, _replay(prices_hourly, "2022-05-07", "2022-05-14"))
    assert result.totals["bad_debt"] > 0
    assert result.totals["liquidations"] > 0
    ust = book.asset_index("UST")
    assert result.prices_after[ust] < 0.2 * result.prices_before[ust]  # 1.00 -> about 0.12
    assert result.top_accounts and result.top_accounts[0][0].startswith("ust")


def test_thin_ust_liquidity_leaves_more_bad_debt_than_the_rules_alone(prices_hourly: Path) -> None:
    market = ust_book()
    book = SimBook.from_market(market)
    liquidity = Liquidity.from_params(market.assets)
    plain = run_scenario(book, _replay(prices_hourly, "2022-05-07", "2022-05-14"), liquidity)
    spiral = run_scenario(
        book, _replay(prices_hourly, "2022-05-07", "2022-05-14", cascade=True), liquidity
    )
    assert spiral.liquidity_used
    assert spiral.totals["bad_debt"] > plain.totals["bad_debt"]
    assert spiral.totals["refused_unprofitable"] > 0


def test_replaying_a_calm_window_leaves_no_bad_debt(prices_hourly: Path) -> None:
    book = SimBook.from_market(ust_book())
    result = run_scenario(book, _replay(prices_hourly, "2022-03-01", "2022-03-08"))
    assert result.totals["bad_debt"] == 0.0
    assert result.totals["liquidations"] == 0
