"""LIQ: the ``liquidity`` table of an asset (contract extension) is validated and kept.

Optional; ``cpmm`` needs ``reserve_units`` and ``reserve_quote``, ``depth`` needs points
``[fraction, value]`` increasing in both; every problem is reported with its location,
and a market file written back holds the table unchanged (TOML and JSON).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.builders import market_doc
from xmargin.errors import MarketFileError
from xmargin.io.market_file import dump_market, load_market, parse_market


def _doc(liquidity: Any) -> dict[str, Any]:
    return market_doc(
        assets={
            "WETH": {
                "price": "2000",
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": "0.05",
                "liquidity": liquidity,
            }
        }
    )


def _problems(liquidity: Any) -> list[str]:
    with pytest.raises(MarketFileError) as err:
        parse_market(_doc(liquidity))
    return [str(p) for p in err.value.problems]


def test_a_market_without_liquidity_tables_still_loads() -> None:
    doc = _doc(None)
    del doc["assets"]["WETH"]["liquidity"]
    assert parse_market(doc).assets["WETH"].liquidity is None


def test_a_constant_product_pool_needs_both_reserves() -> None:
    assert _problems({"model": "cpmm", "reserve_units": "100"}) == [
        "assets.WETH.liquidity.reserve_quote: required by model cpmm"
    ]


def test_a_depth_curve_must_increase_in_both_columns() -> None:
    got = _problems({"model": "depth", "depth": [["0.02", "100"], ["0.01", "50"], ["1.5", "-1"]]})
    assert got == [
        "assets.WETH.liquidity.depth.1.0: must be above the previous point's 0.02, was 0.01",
        "assets.WETH.liquidity.depth.1.1: must be above the previous point's 100, was 50",
        "assets.WETH.liquidity.depth.2.0: must be a fraction in (0, 1), was 1.5",
        "assets.WETH.liquidity.depth.2.1: must be > 0, was -1",
    ]


@pytest.mark.parametrize(
    ("liquidity", "where"),
    [
        ({"model": "amm"}, "assets.WETH.liquidity.model"),
        ({"model": "depth"}, "assets.WETH.liquidity.depth"),
        ({"model": "depth", "depth": [["0.01", "1e6"]], "extra": 1}, "assets.WETH.liquidity.extra"),
        (
            {"model": "cpmm", "reserve_units": "1", "reserve_quote": "1", "depth": [["0.1", "1"]]},
            "assets.WETH.liquidity.depth",
        ),
        ({"model": "depth", "depth": [["x", "1"]]}, "assets.WETH.liquidity.depth.0.0"),
        ("deep", "assets.WETH.liquidity"),
    ],
)
def test_every_liquidity_problem_names_its_location(liquidity: Any, where: str) -> None:
    assert any(p.startswith(f"{where}:") for p in _problems(liquidity))


@pytest.mark.parametrize("suffix", ["toml", "json"])
def test_liquidity_tables_survive_a_round_trip(tmp_path: Path, suffix: str) -> None:
    doc = _doc({"model": "depth", "depth": [["0.01", "1000000"], ["0.05", "4000000"]]})
    doc["assets"]["USDC"] = {
        "price": "1",
        "collateral_factor": "0.8",
        "liquidation_threshold": "0.85",
        "liquidation_bonus": "0.04",
        "liquidity": {"model": "cpmm", "reserve_units": "5e7", "reserve_quote": "5e7"},
    }
    market = parse_market(doc)
    out = tmp_path / f"m.{suffix}"
    dump_market(market, out)
    again = load_market(out)
    assert again.state_equals(market)
    assert again.assets["WETH"].liquidity == market.assets["WETH"].liquidity
