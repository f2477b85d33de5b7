"""Contract 6.2, standard option margin: the vectors of Derive's Standard Risk Manager unit
tests (S = F = 1,500, σ = 0, default parameters; tests/vectors/derive_srm.toml has the
hand computation), and the netting rules one by one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.builders import D, load_vector, make_market
from tests.option_builders import option_market
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.option_margin import expiry_margin, isolated_margin, max_loss
from xmargin.risk.options import expiry_groups

SPOT = D(1500)


def margins(market: Market, account: str) -> tuple[Decimal, Decimal]:
    (group,) = expiry_groups(market.accounts[account], market)
    m = expiry_margin(group, SPOT, market.option_margin)
    return m.initial, m.maintenance


@pytest.fixture(scope="module")
def srm() -> Market:
    return load_vector("derive_srm.toml")


@pytest.mark.parametrize(
    ("account", "im", "mm"),
    [
        ("short-1400-call", "-325", "-212.5"),
        ("short-400-call", "-1325", "-1212.5"),
        ("short-1600-call", "-150", "-112.5"),
        ("short-1600-put", "-325", "-212.5"),
        ("short-3000-put", "-1725", "-1612.5"),
        ("short-1400-put", "-150", "-112.5"),
        ("call-spread", "-100", "-100"),
    ],
)
def test_derive_srm_unit_vectors(srm: Market, account: str, im: str, mm: str) -> None:
    """Derive SRM: each single short (and the 1500/1600 call spread) margins as listed."""
    assert margins(srm, account) == (D(im), D(mm))
    # With 100,000 USDC at weight 1 the section-2 sums carry exactly -M.
    h = account_health(srm.accounts[account], srm)
    assert h.initial_debt == -D(im)
    assert h.maintenance_debt == -D(mm)
    assert h.initial_collateral == h.maintenance_collateral == D(100_000)


def test_derive_srm_unpaired_short_call_with_scale_1_4() -> None:
    """Derive SRM: 1.01 short 1500 C + 1 long 1600 C, unpaired_initial_scale 1.4: IM -122.

    Isolated: 0.15 x 1500 x -1.01 = -227.25. max_loss at X = 1600: -1.01 x 100 = -101;
    unpaired calls -0.01: 1.4 x 1500 x -0.01 = -21, so max_loss = -122 > -227.25.
    """
    m = option_market(
        {"C1500": ("call", 1500), "C1600": ("call", 1600)},
        {"a": {"C1500": "-1.01", "C1600": "1"}},
        option_margin={"unpaired_initial_scale": "1.4"},
    )
    im, mm = margins(m, "a")
    assert im == D(-122)
    # MM: isolated -0.075 x 1500 x 1.01 = -113.625 beats -101 + 1.1 x 1500 x -0.01 = -117.5
    assert mm == D("-113.625")


def test_a_lone_short_call_keeps_its_isolated_margin_not_the_unpaired_charge() -> None:
    m = option_market({"C": ("call", 1400)}, {"a": {"C": "-1"}})
    (group,) = expiry_groups(m.accounts["a"], m)
    em = expiry_margin(group, SPOT, m.option_margin)
    assert em.max_loss_initial == D(-1800)  # 0 + 1.2 x 1500 x -1
    assert em.initial == em.isolated_initial == D(-325)


def test_a_long_position_has_no_margin_and_counts_only_as_collateral_value() -> None:
    m = option_market({"C": ("call", 1400)}, {"a": {"C": "2"}})
    option = m.options["C"]
    assert isolated_margin(option, D(2), SPOT, D(200), m.option_margin) == (0, 0)
    h = account_health(m.accounts["a"], m)
    assert h.option_value == D(200)  # 2 x (1500 - 1400)
    assert h.collateral_value == D(100_000) + D(200)
    assert h.maintenance_collateral == D(100_000)
    assert h.maintenance_debt == 0


def test_max_loss_is_the_worst_settlement_over_zero_and_the_strikes() -> None:
    # short 1400 P + long 1300 P: at X = 0 the loss is -1400 + 1300 = -100; at 1300 it is
    # -100 too; at 1400 it is 0.
    m = option_market(
        {"P1400": ("put", 1400), "P1300": ("put", 1300)}, {"a": {"P1400": "-1", "P1300": "1"}}
    )
    (group,) = expiry_groups(m.accounts["a"], m)
    assert max_loss(group) == D(-100)
    assert margins(m, "a") == (D(-100), D(-100))


def test_expiries_and_underlyings_net_separately() -> None:
    m = option_market(
        {"C1500": ("call", 1500), "C1600-late": ("call", 1600, "2024-07-26T08:00:00Z")},
        {"a": {"C1500": "-1", "C1600-late": "1"}},
    )
    groups = expiry_groups(m.accounts["a"], m)
    assert len(groups) == 2
    h = account_health(m.accounts["a"], m)
    # no netting across expiries: the short keeps its isolated -225 / -112.5
    assert h.initial_debt == D(225)
    assert h.maintenance_debt == D("112.5")


def test_the_parameters_are_read_from_the_option_margin_table() -> None:
    m = option_market(
        {"C": ("call", 1600)},
        {"a": {"C": "-1"}},
        option_margin={"min_spot_requirement": "0.12", "maintenance_spot_requirement": "0.08"},
    )
    # OTM 1/15: m = max(0.12, 0.15 - 0.0667) = 0.12 -> IM -180; MM -0.08 x 1500 = -120
    assert margins(m, "a") == (D(-180), D(-120))


def test_a_market_without_options_answers_as_before() -> None:
    m = make_market(
        assets={
            "USDC": {
                "price": 1,
                "collateral_factor": 1,
                "liquidation_threshold": 1,
                "liquidation_bonus": 0,
            }
        },
        accounts={"a": {"supply": {"USDC": 10}}},
    )
    h = account_health(m.accounts["a"], m)
    assert h.option_value == 0
    assert m.options == {}
