"""Contract 5.4: liquidation of a perp position, with Drift v2's base-to-cover vector
(tests/vectors/drift_base_to_cover.toml) and the rules of each step."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.builders import D, load_vector, market_doc
from xmargin.errors import InvalidAmount, NothingToLiquidate, NotLiquidatable
from xmargin.io import parse_market
from xmargin.ledger.perps import execute_liquidate_perp
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.perp_liquidation import quote_perp_liquidation


@pytest.fixture()
def drift() -> Market:
    return load_vector("drift_base_to_cover.toml")


def test_drift_base_to_cover_one_unit_restores_health_exactly_one_without_fees(
    drift: Market,
) -> None:
    q = execute_liquidate_perp(drift, "no_fee", "SOL-PERP", "1")
    assert (q.closed, q.price, q.realized_pnl) == (D("1"), D("100"), D("0"))
    assert (q.liquidator_fee, q.insurance_fee) == (D("0"), D("0"))
    assert q.health_factor_before == D("0.9")  # 90 / 100
    assert q.health_factor_after == D("1")  # 90 / (9 x 100 x 0.10)


def test_drift_base_to_cover_1_111111_units_with_a_1_percent_liquidation_fee(
    drift: Market,
) -> None:
    # b = 10 / (100 x (0.10 - 0.01)) = 1.1111..: at 6 places health is within 1e-7 of 1,
    # just below; one more unit of the last place is just above.
    below = quote_perp_liquidation(drift, "fee", "SOL-PERP-FEE", "1.111111")
    above = quote_perp_liquidation(drift, "fee", "SOL-PERP-FEE", "1.111112")
    assert below.liquidator_fee == D("1.1111110")  # 1.111111 x 100 x 0.01
    assert below.health_factor_after is not None and above.health_factor_after is not None
    assert below.health_factor_after < 1 <= above.health_factor_after
    assert abs(below.health_factor_after - 1) < D("1e-7")
    # 88.888889 / 88.88889 (USDC after the fee / 8.888889 x 10)
    assert below.health_factor_after == D("0.99999998875000014")


def test_drift_base_to_cover_1_25_units_with_liquidation_and_insurance_fees(
    drift: Market,
) -> None:
    q = execute_liquidate_perp(drift, "fees", "SOL-PERP-FEES", "1.25")
    assert (q.liquidator_fee, q.insurance_fee) == (D("1.25"), D("1.25"))
    assert q.health_factor_after == D("1")  # (90 - 2.5) / (8.75 x 10)
    assert drift.insurance_fund == {"USDC": D("1.25")}
    assert drift.accounts["fees"].supply == {"USDC": D("87.5")}
    assert drift.open_interest["SOL-PERP-FEES"] == (D("8.75"), D("0"))


def _market(position: dict[str, object], usdc: object = 1000, **market: object) -> Market:
    """``usdc`` USDC (weight 1) and one ETH-PERP position; margins 10 % / 5 %, ETH 2,000."""
    doc = market_doc(
        assets={
            "USDC": {
                "price": 1,
                "decimals": 6,
                "collateral_factor": 1,
                "liquidation_threshold": 1,
                "liquidation_bonus": 0,
            },
            "ETH": {
                "price": 2000,
                "decimals": 8,
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": "0.05",
            },
        },
        accounts={"t": {"supply": {"USDC": usdc}, "perps": {"ETH-PERP": position}}},
        market=market,
    )
    doc["perps"] = {
        "ETH-PERP": {
            "underlying": "ETH",
            "settlement_asset": "USDC",
            "initial_margin": "0.1",
            "maintenance_margin": "0.05",
            "liquidation_fee": "0.01",
        }
    }
    return parse_market(doc, "test")


def test_above_full_liquidation_health_at_most_the_close_factor_of_q_is_closed() -> None:
    # long 10 at 2,000: md = 20,000 x 0.05 = 1,000; 1,000 USDC -> health 1, not liquidatable
    # entered at 2,009: pnl -90, md = 1,090 -> health 1,000/1,090 = 0.917.. <= 0.95 -> all
    # entered at 2,003: pnl -30, md = 1,030 -> health 0.9708.. > 0.95 -> 0.5 x 10 = 5
    part = _market({"size": 10, "entry_price": 2003})
    assert quote_perp_liquidation(part, "t", "ETH-PERP", "max").closed == D("5")
    assert quote_perp_liquidation(part, "t", "ETH-PERP", "7").closed == D("5")
    assert quote_perp_liquidation(part, "t", "ETH-PERP", "2").closed == D("2")
    whole = _market({"size": 10, "entry_price": 2009})
    assert quote_perp_liquidation(whole, "t", "ETH-PERP", "max").closed == D("10")


def test_the_close_factor_limit_rounds_down_to_the_underlyings_decimals() -> None:
    # md = 0.00000003 x 2,000 x 0.05 = 0.000003 > mc = 0.000002
    m = _market({"size": "0.00000003", "entry_price": 2000}, usdc="0.000002", close_factor="0.5")
    # health 0.666.. <= 0.95: whole position; with full_liquidation_health 0 the close
    # factor binds: 0.5 x 0.00000003 = 0.000000015 -> 0.00000001 (8 decimals, down)
    assert quote_perp_liquidation(m, "t", "ETH-PERP", "max").closed == D("0.00000003")
    m.params = m.params.model_copy(update={"full_liquidation_health": D("0")})
    assert quote_perp_liquidation(m, "t", "ETH-PERP", "max").closed == D("0.00000001")


def test_a_small_position_may_be_closed_whole() -> None:
    m = _market({"size": 10, "entry_price": 2003}, small_position_value=20001)
    assert quote_perp_liquidation(m, "t", "ETH-PERP", "max").closed == D("10")  # 20,000 < 20,001


def test_the_closed_part_is_taken_over_at_the_oracle_price_with_funding_first() -> None:
    m = _market({"size": -4, "entry_price": 1800, "funding_index": 0})
    m.perps = {"ETH-PERP": m.perps["ETH-PERP"].model_copy(update={"funding_index": D("-5")})}
    # short 4 entered at 1,800, ETH 2,000: pnl = -800 + (-4 x -(-5 - 0)) = -800 - 20
    # md = 820 + 8,000 x 0.05 = 1,220 > 1,000: liquidatable, health 0.8196.. -> all
    q = execute_liquidate_perp(m, "t", "ETH-PERP", "max")
    assert q.funding_paid == D("20")  # q x (F - f) = -4 x -5
    assert q.realized_pnl == D("-800")  # 4 x (2,000 - 1,800) x sign(-4)
    assert q.liquidator_fee == D("80")  # 4 x 2,000 x 0.01
    assert m.accounts["t"].supply == {"USDC": D("100")}  # 1,000 - 20 - 800 - 80
    assert m.accounts["t"].perps == {}
    assert q.health_factor_after is None


def test_a_healthy_account_is_not_liquidatable() -> None:
    m = _market({"size": 1, "entry_price": 2000})
    before = m.copy()
    with pytest.raises(NotLiquidatable):
        execute_liquidate_perp(m, "t", "ETH-PERP", "max")
    assert m.state_equals(before)


def test_an_account_without_a_position_in_the_perp_has_nothing_to_liquidate() -> None:
    m = load_vector("drift_base_to_cover.toml")
    with pytest.raises(NothingToLiquidate):
        execute_liquidate_perp(m, "no_fee", "SOL-PERP-FEE", "max")


@pytest.mark.parametrize("size", ["0", "-1", "abc", "0.0000000001"])
def test_a_bad_size_is_an_input_error(size: str) -> None:
    m = load_vector("drift_base_to_cover.toml")
    with pytest.raises(InvalidAmount):
        execute_liquidate_perp(m, "no_fee", "SOL-PERP", size)


def test_the_dust_rule_does_not_apply_to_perp_liquidations() -> None:
    m = _market({"size": 10, "entry_price": 2009}, min_leftover_value=1_000_000)
    q = execute_liquidate_perp(m, "t", "ETH-PERP", "0.01")  # leaves 9.99 ETH-PERP
    assert q.closed == D("0.01")


def test_no_write_off_while_a_position_remains() -> None:
    # 10 USDC against long 1 at 2,500, ETH 2,000: pnl -500. Closing half realises -250:
    # the 10 USDC are drawn and 240 + fee 10 borrowed; half the position remains.
    m = _market({"size": 1, "entry_price": 2500}, usdc=10, full_liquidation_health=0)
    q = execute_liquidate_perp(m, "t", "ETH-PERP", "max")
    assert q.closed == D("0.5")
    assert (q.bad_debt, q.insurance_fund_used) == ({}, {})
    assert m.accounts["t"].borrow == {"USDC": D("250")}  # 250 + 10 - 10
    h = account_health(m.accounts["t"], m)
    assert h.unrealized_pnl == D("-250") and h.liquidatable


def test_liquidating_an_insolvent_account_step_by_step_ends_in_bad_debt() -> None:
    m = _market({"size": 1, "entry_price": 2500}, usdc=10, full_liquidation_health=0)
    execute_liquidate_perp(m, "t", "ETH-PERP", "max")
    q = execute_liquidate_perp(m, "t", "ETH-PERP", "max")  # closes the last 0.5
    assert q.realized_pnl == D("-250")
    assert q.bad_debt == {"USDC": D("510")}  # 250 + 250 + 2 x 10 of fees - 10
    assert m.deficit == {"USDC": D("510")}
    assert m.accounts["t"].borrow == {} and m.accounts["t"].perps == {}
    assert Decimal(0) == m.total_borrow.get("USDC", Decimal(0))
