"""CASCADE: liquidations in rounds against liquidity, with circuit breakers.

- CASCADE-1: liquidators act only when bonus - slippage - gas > 0.
- CASCADE-2: the exact pruning of the liquidatable check changes nothing.
- CASCADE-3: thin liquidity deepens the spiral: more rounds, lower prices, more bad debt.
- CASCADE-4: a cap on value per round bounds every round; a price-drop pause stops
  liquidations of the asset that fell.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from tests.analytics.books import random_market
from tests.builders import make_market
from xmargin.analytics.cascade import Breakers, PathEngine
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.scenario_file import Scenario
from xmargin.analytics.scenarios import run_scenario
from xmargin.analytics.simbook import SimBook
from xmargin.model import Market


def eth_book(liquidity: dict[str, Any] | None, n: int = 120) -> Market:
    rng = np.random.default_rng(1)
    accounts = {}
    for i in range(n):
        eth = float(np.exp(rng.uniform(0, 4)))
        hf = rng.uniform(1.0, 1.6)
        accounts[f"a{i:03d}"] = {
            "supply": {"ETH": f"{eth:.6f}"},
            "borrow": {"USD": f"{eth * 2000 * 0.8 / hf:.6f}"},
        }
    eth_table: dict[str, Any] = {
        "price": "2000",
        "collateral_factor": "0.75",
        "liquidation_threshold": "0.8",
        "liquidation_bonus": "0.05",
        "protocol_fee": "0.1",
    }
    if liquidity is not None:
        eth_table["liquidity"] = liquidity
    return make_market(
        assets={
            "ETH": eth_table,
            "USD": {
                "price": "1",
                "collateral_factor": "0",
                "liquidation_threshold": "0",
                "liquidation_bonus": "0",
            },
        },
        accounts=accounts,
    )


THIN = {"model": "cpmm", "reserve_units": "300", "reserve_quote": "600000"}
DEEP = {"model": "cpmm", "reserve_units": "300000", "reserve_quote": "600000000"}


def _run(market: Market, shock: str = "-15%", gas: float = 0.0, br: Breakers | None = None):  # type: ignore[no-untyped-def]
    book = SimBook.from_market(market)
    sc = Scenario(name="s", shocks={"ETH": float(shock.rstrip("%")) / 100}, cascade=True, gas=gas)
    return run_scenario(book, sc, Liquidity.from_params(market.assets), breakers=br)


def test_liquidators_do_nothing_when_gas_exceeds_the_bonus() -> None:
    # The largest liquidation earns well under 10 million quote of bonus.
    result = _run(eth_book(DEEP), gas=1e7)
    assert result.totals["liquidations"] == 0
    assert result.totals["refused_unprofitable"] > 0
    assert result.totals["still_liquidatable"] > 0


def test_liquidators_act_when_the_bonus_covers_slippage_and_gas() -> None:
    result = _run(eth_book(DEEP), gas=1.0)
    assert result.totals["liquidations"] > 0
    assert result.totals["still_liquidatable"] == 0


def test_thin_liquidity_deepens_the_spiral() -> None:
    deep = _run(eth_book(DEEP))
    thin = _run(eth_book(THIN))
    eth_deep, eth_thin = deep.prices_after[0], thin.prices_after[0]
    assert eth_thin < eth_deep
    assert thin.totals["rounds"] > deep.totals["rounds"]
    assert thin.totals["bad_debt"] > deep.totals["bad_debt"]
    assert thin.totals["toxic_accounts"] > 0
    # The price path is recorded round by round and only falls in a sell-off.
    path = [p[0, 0] for p in thin.record.prices]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(path[1:]))


def test_a_cap_per_round_bounds_the_value_liquidated_in_every_round() -> None:
    cap = 5_000.0  # quote; the uncapped rounds repay up to about 12,000
    capped = _run(eth_book(THIN), br=Breakers(max_round_value=cap))
    free = _run(eth_book(THIN))
    assert max(float(v[0]) for v in capped.record.repaid_value) <= cap * (1 + 1e-12)
    assert max(float(v[0]) for v in free.record.repaid_value) > cap
    assert capped.totals["refused_capped"] > 0


def test_a_price_drop_pause_stops_liquidations_of_the_asset_that_fell() -> None:
    paused = _run(eth_book(THIN), br=Breakers(pause_drop=0.10, pause_window_steps=1))
    assert paused.totals["liquidations"] == 0
    assert paused.totals["refused_paused"] > 0
    # A pause wider than the fall lets them through.
    loose = _run(eth_book(THIN), br=Breakers(pause_drop=0.5, pause_window_steps=1))
    assert loose.totals["liquidations"] > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_pruning_the_liquidatable_check_changes_nothing(seed: int) -> None:
    liq = {
        f"A{j}": {"model": "cpmm", "reserve_units": "50", "reserve_quote": "50000"}
        for j in range(4)
    }
    market = random_market(seed, n_accounts=150, hf_range=(1.0, 1.8), liquidity=liq)
    book = SimBook.from_market(market)
    liquidity = Liquidity.from_params(market.assets)
    rng = np.random.default_rng(seed)
    exo = book.price * np.exp(np.cumsum(rng.normal(0, 0.03, (12, 40, book.n_assets)), axis=1))
    outcomes = []
    for prune, band in ((True, 0.03), (False, 1e9), (True, 0.005)):
        engine = PathEngine(book, liquidity, gate=True, gas=1.0)
        engine.prune, engine.band = prune, band
        outcomes.append(engine.run(exo)[0])
    for o in outcomes[1:]:
        np.testing.assert_array_equal(o.bad_debt, outcomes[0].bad_debt)
        np.testing.assert_array_equal(o.liquidations, outcomes[0].liquidations)
        np.testing.assert_array_equal(o.rounds, outcomes[0].rounds)
