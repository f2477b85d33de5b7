"""Contract 8.3, Compound v3's storefront: tests/vectors/comet_storefront.toml, and two of
Comet's own published test vectors with their parameters written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import D, load_vector, make_market
from xmargin.errors import (
    InputError,
    InsufficientReserves,
    LiquidationDesignMismatch,
    MarketFileError,
    NotForSale,
    NothingToLiquidate,
    NotLiquidatable,
)
from xmargin.io import dump_market, load_market
from xmargin.ledger.storefront import execute_absorb, execute_buy_collateral
from xmargin.model import Market
from xmargin.model.liquidation_params import LiquidationDesign, StorefrontParams
from xmargin.risk.storefront import (
    liquidation_factor,
    quote_buy_collateral,
    quote_collateral,
    store_front_price,
)


@pytest.fixture()
def m() -> Market:
    return load_vector("comet_storefront.toml")


def test_comets_quote_collateral_vector() -> None:
    # Comet test/quote-collateral-test.ts: storeFrontPriceFactor 0.8, COMP at 200 with
    # liquidationFactor 0.75: discounted 200 x (1 - 0.8 x 0.25) = 160; 200 USDC buys 1.25
    price = store_front_price(D(200), D("0.8"), D("0.75"))
    assert price == D(160)
    assert quote_collateral(D(200), D(1), price, 18) == D("1.25")


def test_comets_absorb_vector_with_more_than_enough_collateral() -> None:
    # Comet test/absorb-test.ts: 1 COMP (175) + 1 WETH (3,000) + 1 WBTC (41,000) at a
    # liquidation factor of 1, liquidateCF 2/3, against 44,174.999999 USDC: the account is
    # left with 0.000001 USDC (Comet: final principal 1).
    token = {"collateral_factor": "0.5", "liquidation_threshold": "0.666", "liquidation_bonus": 0}
    m = make_market(
        market={
            "liquidation": "storefront",
            "storefront": {
                "base": "USDC",
                "liquidation_factor": {"COMP": 1, "WETH": 1, "WBTC": 1},
            },
        },
        assets={
            "USDC": {"price": 1, "decimals": 6, **token},
            "COMP": {"price": 175, **token},
            "WETH": {"price": 3000, **token},
            "WBTC": {"price": 41000, "decimals": 8, **token},
        },
        accounts={
            "underwater": {
                "supply": {"COMP": 1, "WETH": 1, "WBTC": 1},
                "borrow": {"USDC": "44174.999999"},
            }
        },
    )
    q = execute_absorb(m, "underwater")
    assert q.excess == D("0.000001")
    assert m.accounts["underwater"].supply == {"USDC": D("0.000001")}
    assert m.protocol_collateral == {"COMP": D(1), "WETH": D(1), "WBTC": D(1)}
    assert m.reserves == {"USDC": D("-44175.000000")}  # -44,174.999999 - 0.000001


def test_absorb_credits_the_excess_at_the_liquidation_factors(m: Market) -> None:
    q = execute_absorb(m, "under")
    assert q.collateral_value == D(7100)
    assert q.credited_value == D(6480)  # 3,000 x 0.93 + 4,100 x 0.9
    assert q.debt_value == D(6000)
    assert q.excess == D(480)
    assert q.protocol_value == D(620)  # 7,100 - 6,000 - 480
    assert q.health_factor_after is None
    assert m.accounts["under"].supply == {"USDC": D(480)}
    assert m.accounts["under"].borrow == {}
    assert m.reserves == {"USDC": D(-6480)}
    assert m.protocol_collateral == {"WETH": D(1), "WBTC": D("0.1")}
    assert m.total_borrow == {"USDC": D(4500)}  # sunk 3,500 + safe 1,000


def test_absorb_of_an_account_under_water_leaves_it_nothing(m: Market) -> None:
    q = execute_absorb(m, "sunk")
    assert q.excess == 0
    assert q.protocol_value == D(-500)  # 3,000 - 3,500
    assert m.accounts["sunk"].supply == {} and m.accounts["sunk"].borrow == {}
    assert m.reserves == {"USDC": D(-3500)}
    assert m.deficit == {}  # under storefront the reserves take the loss


def test_a_healthy_account_is_not_absorbed(m: Market) -> None:
    with pytest.raises(NotLiquidatable):
        execute_absorb(m, "safe")


def test_buying_collateral_at_the_store_front_price(m: Market) -> None:
    execute_absorb(m, "under")
    q = execute_buy_collateral(m, "WETH", "1447.5")
    assert q.price == D(2895)  # 3,000 x (1 - 0.5 x 0.07)
    assert q.bought == D("0.5")
    assert q.buyer_value == D("52.5")  # 0.5 x 3,000 - 1,447.5
    assert m.reserves == {"USDC": D("-5032.5")}  # -6,480 + 1,447.5
    assert m.protocol_collateral["WETH"] == D("0.5")


def test_buying_all_of_a_holding_rounds_the_price_up(m: Market) -> None:
    execute_absorb(m, "under")
    q = execute_buy_collateral(m, "WBTC", "max")
    assert (q.bought, q.paid) == (D("0.1"), D(3895))  # 0.1 x 41,000 x 0.95
    assert "WBTC" not in m.protocol_collateral


def test_collateral_is_not_for_sale_once_reserves_reach_the_target(m: Market) -> None:
    execute_absorb(m, "under")
    m.reserves = {"USDC": D(1000000)}
    with pytest.raises(NotForSale):
        quote_buy_collateral(m, "WETH", "100")


def test_a_purchase_beyond_the_protocols_holding_is_refused(m: Market) -> None:
    execute_absorb(m, "under")
    with pytest.raises(InsufficientReserves):
        quote_buy_collateral(m, "WETH", "3000")  # 1.036.. WETH > 1 held
    m.protocol_collateral = {}
    with pytest.raises(InsufficientReserves, match="no WETH"):
        quote_buy_collateral(m, "WETH", "max")


def test_the_base_asset_is_not_for_sale(m: Market) -> None:
    with pytest.raises(InputError, match="base asset"):
        quote_buy_collateral(m, "USDC", "10")


def test_the_default_liquidation_factor_is_the_bonus_penalty(m: Market) -> None:
    sf = m.params.storefront
    assert sf is not None
    sf = sf.model_copy(update={"liquidation_factor": {}})
    assert liquidation_factor(m, sf, "WETH") == D("0.952380952380952380")  # 1/1.05, down
    assert liquidation_factor(m, sf, "USDC") == 1


def test_absorb_refuses_accounts_with_perp_positions() -> None:
    m = load_vector("insurance_fund.toml")
    m.params = m.params.model_copy(
        update={
            "liquidation": LiquidationDesign.STOREFRONT,
            "storefront": StorefrontParams(base="USDC"),
        }
    )
    with pytest.raises(NothingToLiquidate, match="perp"):
        execute_absorb(m, "bankrupt")


def test_storefront_commands_need_a_storefront_market() -> None:
    with pytest.raises(LiquidationDesignMismatch):
        execute_absorb(load_vector("basic.toml"), "alice")


def test_a_storefront_market_must_name_a_known_base() -> None:
    with pytest.raises(MarketFileError) as err:
        make_market(market={"liquidation": "storefront"}, assets={})
    assert any(p.location == "market.storefront" for p in err.value.problems)
    with pytest.raises(MarketFileError) as err:
        make_market(
            market={"liquidation": "storefront", "storefront": {"base": "XYZ"}},
            assets={
                "USDC": {
                    "price": 1,
                    "collateral_factor": 0,
                    "liquidation_threshold": 0,
                    "liquidation_bonus": 0,
                }
            },
        )
    assert [str(p) for p in err.value.problems] == ["market.storefront.base: unknown asset 'XYZ'"]


def test_reserves_and_holdings_round_trip_through_a_written_market(
    m: Market, tmp_path: Path
) -> None:
    execute_absorb(m, "under")
    execute_buy_collateral(m, "WETH", "1447.5")
    out = tmp_path / "after.json"
    dump_market(m, out)
    again = load_market(out)
    assert again.state_equals(m)
    assert again.reserves == {"USDC": D("-5032.5")}
