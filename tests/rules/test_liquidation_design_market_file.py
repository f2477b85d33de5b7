"""Contract 8 in market files: the new keys are validated with located problems (1.1), and
a market without them answers as before."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.errors import MarketFileError
from xmargin.io import market_to_dict, parse_market
from xmargin.model.liquidation_params import LiquidationDesign

TOKEN = {"collateral_factor": "0.5", "liquidation_threshold": "0.6", "liquidation_bonus": "0.05"}
ASSETS = {"WETH": {"price": 2000, **TOKEN}, "USDC": {"price": 1, "decimals": 6, **TOKEN}}


def problems(
    market: dict[str, Any] | None = None, state: dict[str, Any] | None = None
) -> list[str]:
    with pytest.raises(MarketFileError) as err:
        make_market(
            assets=ASSETS,
            accounts={"a": {"supply": {"WETH": 1}, "borrow": {"USDC": 100}}},
            market=market,
            state=state,
        )
    return [str(p) for p in err.value.problems]


def test_a_market_without_the_new_keys_keeps_its_meaning_and_its_file() -> None:
    m = load_vector("basic.toml")
    assert m.params.liquidation == LiquidationDesign.CLOSE_FACTOR
    assert m.params.time is None and m.auctions == {} and m.supply_index == {}
    doc = market_to_dict(m)
    assert "liquidation" not in doc["market"] and "time" not in doc["market"]


def test_the_design_and_the_clock_are_validated() -> None:
    assert problems({"liquidation": "dutch"})[0].startswith("market.liquidation: Input should be")
    assert problems({"time": "2024-06-01T08:00:00"}) == [
        "market.time: must carry a time zone (e.g. a trailing Z), was 2024-06-01T08:00:00"
    ]
    assert problems({"time": "noon"})[0].startswith("market.time: must be an ISO 8601 date-time")


def test_the_design_tables_are_validated_field_by_field() -> None:
    found = problems(
        {
            "auction": {"cut": 0, "cusp": 1, "buf": -1, "curve": "cubic", "speed": 2},
            "target_health": {"target_health_factor": "0.9", "health_factor_for_max_bonus": 1},
        }
    )
    for expected in (
        "market.auction.cut: must be in (0, 1], was 0",
        "market.auction.cusp: must be in [0, 1), was 1",
        "market.auction.buf: must be > 0, was -1",
        "market.auction.speed: unknown key",
        "market.target_health.target_health_factor: must be >= 1, was 0.9",
        "market.target_health.health_factor_for_max_bonus: must be in [0, 1), was 1",
    ):
        assert expected in found
    assert any(p.startswith("market.auction.curve:") for p in found)


def test_a_storefront_needs_its_base_and_known_assets() -> None:
    found = problems(
        {
            "liquidation": "storefront",
            "storefront": {"base": "USDC", "liquidation_factor": {"USDC": "0.9"}},
        }
    )
    assert found == ["market.storefront.liquidation_factor.USDC: the base asset's is 1, was 0.9"]
    found = problems(
        {
            "liquidation": "storefront",
            "storefront": {"base": "DAI", "liquidation_factor": {"XYZ": 1}},
        }
    )
    assert found == [
        "market.storefront.base: unknown asset 'DAI'",
        "market.storefront.liquidation_factor.XYZ: unknown asset",
    ]


def test_auction_state_is_validated_with_locations() -> None:
    auction = {
        "account": "ghost",
        "debt_asset": "USDC",
        "collateral_asset": "WETH",
        "debt": "10.0000001",
        "tab": 5,
        "lot": 0,
        "top": 2400,
        "tic": "2024-06-01T08:00:00Z",
        "colour": "red",
    }
    found = problems(state={"auctions": {"1": auction, "x": {}}, "auction_count": 0})
    for expected in (
        "state.auctions.1.colour: unknown key",
        "state.auctions.x: an auction's id must be a whole number >= 1",
    ):
        assert expected in found
    auction.pop("colour")
    found = problems(state={"auctions": {"1": auction}})
    for expected in (
        "state.auctions.1.account: unknown account 'ghost'",
        "state.auctions.1.debt: has more than 6 decimal places, was 10.0000001",
        "state.auctions.1.lot: must be > 0, was 0",
    ):
        assert expected in found


def test_design_state_is_validated() -> None:
    found = problems(
        state={
            "reserves": {"USDC": "-1.0000001"},
            "protocol_collateral": {"WETH": -1},
            "supply_index": {"USDC": -1, "XYZ": 1},
            "auction_count": "two",
        }
    )
    for expected in (
        "state.reserves.USDC: has more than 6 decimal places, was -1.0000001",
        "state.protocol_collateral.WETH: must be >= 0, was -1",
        "state.supply_index.USDC: must be >= 0, was -1",
        "state.supply_index.XYZ: unknown asset 'XYZ'",
        "state.auction_count: must be a whole number >= 0, was 'two'",
    ):
        assert expected in found


def test_valid_design_state_loads() -> None:
    m = make_market(
        assets=ASSETS,
        accounts={"a": {"supply": {"WETH": 1}}},
        state={"reserves": {"USDC": "-12.5"}, "supply_index": {"USDC": "0.9"}},
    )
    assert m.reserves == {"USDC": D("-12.5")} and m.supply_index == {"USDC": D("0.9")}
    again = parse_market(market_to_dict(m))
    assert again.state_equals(m)
