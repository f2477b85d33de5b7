"""Contract 6.3 and docs/contract.md 6.6, portfolio margin: Derive's Portfolio Margin Risk
Manager (v2) portfolio cases, the covered call, and each part of the method.

The Derive cases are the published inputs and results of ``test/risk-managers/unit-tests/
PMRM_2/portfolio_cases/`` in derivexyz/v2-core (computed there in floats: compared to 1e-9
relative). test_29 is also a hand-checked vector file (tests/vectors/derive_pmrm.toml).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.builders import D, load_vector
from tests.option_builders import TIME, option_market
from xmargin.mathlib import quantize_up
from xmargin.model import Market
from xmargin.model.liquidation_params import format_time, parse_time
from xmargin.model.portfolio_params import DEFAULT_SCENARIOS, VolShock
from xmargin.risk.health import account_health
from xmargin.risk.option_margin import standard_option_sums
from xmargin.risk.options import expiry_groups
from xmargin.risk.portfolio_margin import (
    naked_shorts,
    portfolio_margin,
    portfolio_margins,
    scenario_pnls,
    static_discounts,
    vol_shock_multipliers,
)

DAY = D(86_400)


def close(a: Decimal, b: str, rel: str = "1e-9") -> bool:
    return abs(a - D(b)) <= abs(D(b)) * D(rel)


def margins(market: Market, account: str) -> tuple[Decimal, Decimal]:
    """(MM, IM) in Derive's sense: maintenance (initial) collateral minus debt."""
    h = account_health(market.accounts[account], market)
    return (
        h.maintenance_collateral - h.maintenance_debt,
        h.initial_collateral - h.initial_debt,
    )


def derive_case(option: dict[str, Any], seconds: int, spot: str, q: str, **kw: Any) -> Market:
    """One option of a Derive case, ``seconds`` to expiry, the account holding only it."""
    expiry = format_time(parse_time(TIME) + timedelta(seconds=seconds))
    return option_market(
        {"X": {**option, "expiry": expiry}},
        {"a": {"X": q}},
        spot=spot,
        usdc=0,
        accounts={"a": {"margin": "portfolio", "supply": {}}},
        **kw,
    )


def test_derive_pmrm_test_29_perps_basic_perp() -> None:
    """Derive PMRM test_29: 1 perp long, perp price 3,100, spot 3,000, unrealised funding
    +10: worst loss -558, MM -481.4, IM -608 (exact)."""
    m = load_vector("derive_pmrm.toml")
    (pm,) = portfolio_margins(m.accounts["test_29"], m)
    assert pm.worst_scenario_loss == D(-558)
    assert m.portfolio_margin.scenarios[pm.worst_scenario or 0].spot == D("0.82")
    assert pm.maintenance_contingency == 45
    assert pm.initial_contingency == 60
    assert margins(m, "test_29") == (D("-481.4"), D(-608))


def test_derive_pmrm_test_20_structures_basic_put() -> None:
    """Derive PMRM test_20: 1 short BTC put, K 100,000, spot 95,663.51, 1,399,652 s to
    expiry: worst loss -15,603.26 (spot -18 %, vol up), MM -18,851.84, IM -22,163.82."""
    m = derive_case(
        {
            "kind": "put",
            "strike": "100000",
            "forward": "95923.63240250274",
            "rate": "0.17",
            "volatility": "0.4547630768795904",
        },
        1_399_652,
        "95663.50604855",
        "-1",
    )
    (pm,) = portfolio_margins(m.accounts["a"], m)
    assert close(pm.worst_scenario_loss, "-15603.263080487519")
    assert close(pm.option_value, "-6082.239829372652")
    assert close(pm.maintenance_contingency, "286.99051814565")  # naked short 0.3 %
    mm, im = margins(m, "a")
    assert close(mm, "-18851.840811908318")
    assert close(im, "-22163.82044010292")


def test_derive_pmrm_test_42_skews_abs_as_worst_case_simple() -> None:
    """Derive PMRM test_42: 10 long 6,000 ETH calls, the abs skew scenario (damping 2,
    cap 9.5) the worst: -3,348.12; basis contingency -251.08; MM -1,859.68, IM -2,529.31.
    Derive's regular scenario losses are matched one by one."""
    scenarios = [
        {"spot": s.spot, "vol": s.vol.value, "damping": s.damping} for s in DEFAULT_SCENARIOS
    ]
    scenarios[-1]["damping"] = 2
    m = derive_case(
        {
            "kind": "call",
            "strike": "6000",
            "forward": "2801.18485249767",
            "rate": "0.29",
            "volatility": "0.7390799803804741",
        },
        18_938_852,
        "2681.6029850999994",
        "10",
        portfolio_margin={
            "scenarios": scenarios,
            "skew_abs_cap": "9.5",
            "k_star_width": "4.9",
            "k_star_vol": "3.5",
            "k_star_vol_slope": "-0.3",
        },
    )
    (pm,) = portfolio_margins(m.accounts["a"], m)
    assert close(pm.worst_scenario_loss, "-3348.1163693225085")
    assert pm.worst_scenario == len(scenarios) - 1
    assert close(pm.basis_contingency, "-251.08370463202428")
    pnls = scenario_pnls(m.accounts["a"], m, "ETH")
    derive_regular = [
        "2008.742020456457566979", "-373.002541068506843658", "230.65871951495751091",
        "1724.684845386662573219", "-461.652394310782767661", "73.056987523408793095",
        "1455.425242142662909828", "-537.208919236423753318", "-69.004102647780769075",
        "1201.240896749002558863", "-600.691146106818678163", "-195.928339744268328104",
        "962.384296532993403162", "-653.181045297952664441", "-308.210952544998576741",
        "739.076647758541412259", "-695.807426717399266636", "-406.441673104662925198",
        "531.500866641072889252", "-729.726830768672357408", "-491.306178790938645307",
        "339.793537719111554907", "164.035734531110506396",
    ]  # fmt: skip
    for ours, theirs in zip(pnls, derive_regular, strict=False):
        assert close(ours, theirs)
    assert close(pnls[-2], "-179.626736868093530575")  # the linear skew
    mm, im = margins(m, "a")
    assert close(mm, "-1859.683585366735")
    assert close(im, "-2529.3068592312366")


COVERED = {"C": ("call", 3200)}


def _covered_call_market(margin: str) -> Market:
    # ETH at 3,000, a 3,200 call 27 days out at 60 % vol; "covered" holds 1 ETH and writes
    # 1 call, "naked" only writes it, "spot" only holds the ETH.
    return option_market(
        COVERED,
        {"covered": {"C": "-1"}, "naked": {"C": "-1"}, "spot": {}},
        spot=3000,
        volatility="0.6",
        usdc=1000,
        accounts={
            "covered": {"margin": margin, "supply": {"USDC": 1000, "ETH": 1}},
            "naked": {"margin": margin},
            "spot": {"margin": margin, "supply": {"USDC": 1000, "ETH": 1}},
        },
    )


def test_a_covered_call_is_offset_by_its_collateral_under_portfolio_margin() -> None:
    m = _covered_call_market("portfolio")
    covered = portfolio_margin(m.accounts["covered"], m, "ETH")
    naked = portfolio_margin(m.accounts["naked"], m, "ETH")
    spot = portfolio_margin(m.accounts["spot"], m, "ETH")
    # The ETH alone loses 18 % x 3,000 = 540 in the worst scenario.
    assert spot.worst_scenario_loss == D(-540)
    # Together they lose far less than apart: the call's upside loss is the ETH's gain.
    assert covered.worst_scenario_loss > naked.worst_scenario_loss + spot.worst_scenario_loss + 400
    assert covered.maintenance_requirement > (
        naked.maintenance_requirement + spot.maintenance_requirement
    )
    # In the sums: the covered call's excess maintenance margin beats the parts'.
    excess = {a: margins(m, a)[0] for a in ("covered", "naked", "spot")}
    assert excess["covered"] > excess["naked"] + excess["spot"] - D(950)  # the 1,000 USDC twice


def test_a_covered_call_is_not_offset_under_standard_margin() -> None:
    m = _covered_call_market("standard")
    covered = standard_option_sums(m.accounts["covered"], m)
    naked = standard_option_sums(m.accounts["naked"], m)
    assert covered == naked  # the ETH changes nothing of the call's margin
    hc = account_health(m.accounts["covered"], m)
    hs = account_health(m.accounts["spot"], m)
    # ...and the ETH counts at its liquidation threshold, as without the call.
    assert hc.maintenance_collateral == hs.maintenance_collateral == D(1000) + D(3000) * D("0.85")
    assert hc.maintenance_debt == quantize_up(covered.maintenance_debt, 18)  # rounded up


def test_vol_shock_multipliers_follow_the_power_law_with_its_floor() -> None:
    p = _covered_call_market("portfolio").portfolio_margin
    assert vol_shock_multipliers(30 * DAY, p) == (D("1.5"), D("0.725"))  # mult = 1
    up, down = vol_shock_multipliers(DAY / 2, p)  # floored at 1 day: mult = 30^0.3
    mult = D(30) ** D("0.3")
    assert abs(up - (1 + D("0.5") * mult)) < D("1e-190")
    assert down == max(D(0), 1 - D("0.275") * mult)
    up90, _ = vol_shock_multipliers(90 * DAY, p)  # beyond 30 days: power 0.13
    assert abs(up90 - (1 + D("0.5") * (D(1) / 3) ** D("0.13"))) < D("1e-190")


def test_static_discounts_are_the_documented_exponentials() -> None:
    m = option_market(
        {"C": {"kind": "call", "strike": 1500, "rate": "0.1"}}, {"a": {"C": "-1"}}, volatility="0.5"
    )
    (g,) = expiry_groups(m.accounts["a"], m)
    pos, neg = static_discounts(g, m.portfolio_margin)
    tau = D(27) / 365
    assert abs(pos - D("0.95") * (-tau * D("0.18")).exp()) < D("1e-190")
    assert abs(neg - min(1 / (-tau * D("0.1")).exp(), D("1.04") / (-tau * D("0.13")).exp())) < D(
        "1e-190"
    )


def test_naked_shorts_net_per_strike_calls_and_puts_together() -> None:
    m = option_market(
        {"C15": ("call", 1500), "P15": ("put", 1500), "C16": ("call", 1600)},
        {"a": {"C15": "-3", "P15": "1", "C16": "-2"}},
    )
    (g,) = expiry_groups(m.accounts["a"], m)
    assert naked_shorts(g) == D(4)  # (3 - 1) at 1,500 and 2 at 1,600


def test_the_skew_scenarios_leave_an_at_the_money_option_unchanged() -> None:
    # k = ln(K/F) = 0: σ_K = σ, so the skew PnL is only the static discount.
    m = option_market(
        {"C": ("call", 1500)},
        {"a": {"C": "-1"}},
        volatility="0.5",
        accounts={"a": {"margin": "portfolio"}},
    )
    pnls = scenario_pnls(m.accounts["a"], m, "ETH")
    scenarios = m.portfolio_margin.scenarios
    (g,) = expiry_groups(m.accounts["a"], m)
    _, neg = static_discounts(g, m.portfolio_margin)
    mtm = g.mtm()
    for pnl, sc in zip(pnls, scenarios, strict=True):
        if sc.vol in (VolShock.SKEW_LINEAR, VolShock.SKEW_ABS):
            assert abs(pnl + abs(mtm * neg - mtm)) < D("1e-180")


def test_the_underlyings_balance_counts_at_full_value_and_other_balances_keep_weights() -> None:
    m = _covered_call_market("portfolio")
    h = account_health(m.accounts["spot"], m)
    # "spot" holds no option or perp: no scenario margin, its ETH at lt 0.85.
    assert h.maintenance_collateral == D(1000) + D(2550)
    pm = portfolio_margin(m.accounts["covered"], m, "ETH")
    hc = account_health(m.accounts["covered"], m)
    g_mm = pm.maintenance_requirement + pm.option_value
    assert g_mm < 0
    # USDC at weight 1 + ETH at full value; the requirement and the call's mtm as debt.
    assert hc.maintenance_collateral == D(1000) + D(3000)
    assert abs(hc.maintenance_debt + g_mm) < D("1e-18")


def test_perp_margins_are_replaced_by_the_scenarios_under_portfolio_margin() -> None:
    m = load_vector("derive_pmrm.toml")
    h = account_health(m.accounts["test_29"], m)
    # 5 % of the 3,100 notional under standard margin would be 155; the scenarios ask 491.4.
    assert h.maintenance_debt == D("491.4")


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("maintenance_factor", "1.5", "portfolio_margin.maintenance_factor"),
        ("basis_spot_up", "0.9", "portfolio_margin.basis_spot_up"),
        ("min_k_star", "0", "portfolio_margin.min_k_star"),
        ("scenarios", [{"spot": 2, "vol": "skew_abs"}], "portfolio_margin.scenarios.0.spot"),
        ("scenarios", [{"spot": 1, "vol": "sideways"}], "portfolio_margin.scenarios.0.vol"),
        ("maintenance_haircut", {"XYZ": "0.1"}, "portfolio_margin.maintenance_haircut.XYZ"),
        ("colour", "red", "portfolio_margin.colour"),
    ],
)
def test_bad_portfolio_margin_keys_are_located(key: str, value: object, where: str) -> None:
    from xmargin.errors import MarketFileError

    with pytest.raises(MarketFileError) as info:
        option_market(COVERED, {"a": {}}, portfolio_margin={key: value})
    assert where in [p.location for p in info.value.problems]
