"""Contract 5.1-5.2: position figures and what perps add to an account's sums.

Vectors: tests/vectors/drift_composite.toml (Drift v2's composite margin, with and without
``pnl_initial_cap``), tests/vectors/mango_perps.toml (Mango v4's M1/M2 shapes, funding).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.builders import D, load_vector, make_market, market_doc
from xmargin.io import parse_market
from xmargin.ledger.perps import set_funding_index
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.perps import effective_margin_up, notional, perp_sums, pnl


def test_drift_composite_initial_and_maintenance_sums() -> None:
    m = load_vector("drift_composite.toml")
    h = account_health(m.accounts["composite"], m)
    assert h.initial_collateral == D("6000")  # 1,000 + 4,000 + pnl 1,000 x 1
    assert h.initial_debt == D("4600")  # 3,000 x 1.2 + 10,000 x 0.10
    assert h.maintenance_collateral == D("6500")  # 1,000 + 4,500 + 1,000
    assert h.maintenance_debt == D("3800")  # 3,000 x 1.1 + 10,000 x 0.05
    assert h.collateral_value == D("7000")  # 1,000 + 5,000 + 1,000
    assert h.debt_value == D("3000")
    assert h.perp_notional == D("10000")  # 100 x 100
    assert h.unrealized_pnl == D("1000")  # 100 x (100 - 90)
    assert h.health_factor == D("1.710526315789473684")  # 6,500 / 3,800, rounded down
    assert h.available_to_borrow == D("1400")


def test_drift_composite_with_a_pnl_initial_cap_of_100() -> None:
    m = load_vector("drift_composite_capped.toml")
    h = account_health(m.accounts["composite"], m)
    assert h.initial_collateral == D("5100")  # 1,000 + 4,000 + min(1,000, 100)
    assert (h.maintenance_collateral, h.maintenance_debt) == (D("6500"), D("3800"))
    assert h.initial_debt == D("4600")


def test_mango_m1_a_short_with_positive_pnl_counts_in_collateral() -> None:
    m = load_vector("mango_perps.toml")
    h = account_health(m.accounts["m1_short_winner"], m)
    assert h.unrealized_pnl == D("400")  # -2 x (1,800 - 2,000)
    assert (h.collateral_value, h.debt_value) == (D("1400"), D("0"))
    assert (h.initial_collateral, h.maintenance_collateral) == (D("1400"), D("1400"))
    assert (h.initial_debt, h.maintenance_debt) == (D("360"), D("180"))  # 3,600 x 10 % / 5 %


def test_mango_m2_a_long_with_negative_pnl_counts_in_debt() -> None:
    m = load_vector("mango_perps.toml")
    h = account_health(m.accounts["m2_long_loser"], m)
    assert h.unrealized_pnl == D("-400")
    assert (h.collateral_value, h.debt_value) == (D("1000"), D("400"))
    assert h.initial_debt == D("760")  # 400 + 360
    assert h.maintenance_debt == D("580")  # 400 + 180
    assert h.health_factor == D("1.724137931034482758")  # 1,000 / 580


def test_mango_unsettled_funding_is_part_of_pnl() -> None:
    m = load_vector("mango_perps.toml")
    h = account_health(m.accounts["funded_long"], m)
    assert h.unrealized_pnl == D("-25")  # 2 x 0 - 2 x (12.5 - 0)
    assert h.debt_value == D("25")


@pytest.mark.parametrize("d_f", ["7.5", "-3.25", "0.000001"])
def test_mango_funding_moves_pnl_by_exactly_minus_q_dF(d_f: str) -> None:
    m = load_vector("mango_perps.toml")
    before = {a: account_health(acc, m).unrealized_pnl for a, acc in m.accounts.items()}
    set_funding_index(m, "ETH-PERP", D("12.5") + D(d_f))
    for a, acc in m.accounts.items():
        q = acc.perps["ETH-PERP"].size
        assert account_health(acc, m).unrealized_pnl - before[a] == -q * D(d_f)


def test_position_figures_follow_the_contracts_formulas() -> None:
    assert notional(D("-2.5"), D("1800")) == D("4500")
    # pnl = q (P - E) - q (F - f): a short gains when the price falls and when F rises
    assert pnl(D("-2"), D("1800"), D("2000"), D("10"), D("4")) == D("412")  # 400 + 12
    assert pnl(D("3"), D("100"), D("90"), D("1"), D("0")) == D("27")  # 30 - 3


def test_the_size_factor_raises_the_margin_ratio_up_to_one() -> None:
    # r_eff = min(1, max(r, 0.8 r + k sqrt|q|)): r = 0.05, k = 0.01, q = 100 -> 0.04 + 0.1
    assert effective_margin_up(D("0.05"), D("0.01"), D("-100")) == D("0.14")
    assert effective_margin_up(D("0.05"), D("0.01"), D("1")) == D("0.05")  # 0.05 > 0.05
    assert effective_margin_up(D("0.5"), D("1"), D("100")) == D("1")  # capped at 1
    assert effective_margin_up(D("0.05"), D("0"), D("1e9")) == D("0.05")
    # sqrt(2) is irrational: the ratio rounds up, against the trader
    r = effective_margin_up(D("0.05"), D("0.01"), D("200"))
    assert r == D("0.181421356237309505")  # 0.04 + 0.141421356237309504|88.. up


_ASSETS = {
    "USDC": {
        "price": 1,
        "decimals": 6,
        "collateral_factor": 1,
        "liquidation_threshold": 1,
        "liquidation_bonus": 0,
    },
    "ETH": {
        "price": 2000,
        "collateral_factor": "0.8",
        "liquidation_threshold": "0.85",
        "liquidation_bonus": "0.05",
    },
}


def _with_perp(perp: dict[str, object]) -> Market:
    """A long 2 ETH-PERP entered at 1,900 (ETH at 2,000) with 1,000 USDC."""
    doc = market_doc(
        assets=_ASSETS,
        accounts={
            "t": {"supply": {"USDC": 1000}, "perps": {"ETH-PERP": {"size": 2, "entry_price": 1900}}}
        },
    )
    doc["perps"] = {
        "ETH-PERP": {
            "underlying": "ETH",
            "settlement_asset": "USDC",
            "initial_margin": "0.1",
            "maintenance_margin": "0.05",
            **perp,
        }
    }
    return parse_market(doc, "test")


def test_pnl_initial_weight_scales_positive_pnl_in_initial_collateral_only() -> None:
    m = _with_perp({"pnl_initial_weight": "0.5"})  # pnl = 2 x (2,000 - 1,900) = 200
    h = account_health(m.accounts["t"], m)
    assert h.initial_collateral == D("1100")  # 1,000 + 200 x 0.5
    assert h.maintenance_collateral == D("1200")  # 1,000 + 200
    assert h.collateral_value == D("1200")


def test_perp_sums_of_an_account_without_perps_are_zero() -> None:
    m = make_market(assets=_ASSETS, accounts={"t": {"supply": {"USDC": 1000}}})
    assert perp_sums(m.accounts["t"], m) == (0, 0, 0, 0, 0, 0, 0)
    h = account_health(m.accounts["t"], m)
    assert (h.perp_notional, h.unrealized_pnl) == (Decimal(0), Decimal(0))


def test_perps_move_with_their_underlying_through_prices() -> None:
    m = _with_perp({})
    shocked = m.with_prices({"ETH": D("1500")})
    h = account_health(shocked.accounts["t"], shocked)
    assert h.perp_notional == D("3000")  # 2 x 1,500
    assert h.unrealized_pnl == D("-800")  # 2 x (1,500 - 1,900)
    assert h.maintenance_debt == D("950")  # 800 + 3,000 x 0.05
