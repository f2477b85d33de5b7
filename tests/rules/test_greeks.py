"""Greeks per account and underlying (docs/contract.md 6.5), checked against finite
differences of the account's mark value on the underlying: V = Σ option mtm + Σ perp pnl
+ (supply − borrow)·S, with forwards and perp marks following the spot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.builders import D
from tests.option_builders import option_market
from xmargin import account_greeks
from xmargin.model import Market
from xmargin.risk.options import option_mtm
from xmargin.risk.perps import perp_sums

LATE = "2024-09-27T08:00:00Z"


def book() -> Market:
    return option_market(
        {
            "C": {"kind": "call", "strike": 1600, "forward": "1510", "rate": "0.04",
                  "volatility": "0.55"},
            "P": {"kind": "put", "strike": 1350, "forward": "1510", "rate": "0.04",
                  "volatility": "0.7"},
            "C-late": {"kind": "call", "strike": 1500, "expiry": LATE, "volatility": "0.6"},
        },
        {"a": {"C": "-3", "P": "2", "C-late": "1.5"}},
        accounts={
            "a": {
                "supply": {"USDC": 10000, "ETH": "1.25"},
                "borrow": {"ETH": "0.5"},
                "perps": {"ETH-PERP": {"size": "-0.75", "entry_price": 1490}},
            }
        },
        perps={"ETH-PERP": {"underlying": "ETH", "settlement_asset": "USDC",
                            "initial_margin": "0.1", "maintenance_margin": "0.05",
                            "mark_price": "1504"}},
    )  # fmt: skip


def value(m: Market) -> Decimal:
    acc = m.accounts["a"]
    spot = m.assets["ETH"].price
    return (
        option_mtm(acc, m)
        + perp_sums(acc, m).pnl
        + (acc.supplied("ETH") - acc.borrowed("ETH")) * spot
    )


def at_spot(m: Market, spot: Decimal) -> Market:
    return m.with_prices({"ETH": spot})


def at_time(m: Market, seconds: int) -> Market:
    view = m.with_prices({})
    assert m.params.time is not None
    view.params = m.params.model_copy(update={"time": m.params.time + timedelta(seconds=seconds)})
    return view


def near(a: Decimal, b: Decimal, rel: str) -> bool:
    return abs(a - b) <= abs(b) * D(rel) + D("1e-17")


def test_greeks_match_finite_differences_of_the_mark_value() -> None:
    m = book()
    (g,) = account_greeks(m, "a")
    s = m.assets["ETH"].price
    e = s * D("1e-20")
    delta = (value(at_spot(m, s + e)) - value(at_spot(m, s - e))) / (2 * e)
    assert near(g.delta, delta, "1e-15")
    e2 = s * D("1e-12")
    gamma = (value(at_spot(m, s + e2)) - 2 * value(m) + value(at_spot(m, s - e2))) / (e2 * e2)
    assert near(g.gamma, gamma, "1e-12")
    # vega, one option at a time (their volatilities differ): ∂V/∂σ_i summed
    vega = D(0)
    for name in m.accounts["a"].options:
        sigma = m.options[name].volatility
        h = D("1e-20")
        up, down = m.with_prices({}), m.with_prices({})
        up.options = {
            **m.options,
            name: m.options[name].model_copy(update={"volatility": sigma + h}),
        }
        down.options = {
            **m.options,
            name: m.options[name].model_copy(update={"volatility": sigma - h}),
        }
        vega += (value(up) - value(down)) / (2 * h)
    assert near(g.vega, vega, "1e-15")
    theta_per_second = (value(at_time(m, 1)) - value(at_time(m, -1))) / 2
    assert near(g.theta, theta_per_second * 86_400, "1e-6")


def test_delta_counts_perps_at_their_mark_and_balances_of_the_underlying() -> None:
    m = option_market({"C": ("call", 1600)}, {"a": {}},
                      accounts={"a": {"supply": {"ETH": 2}, "borrow": {"ETH": "0.5"},
                                      "perps": {"ETH-PERP": {"size": 3, "entry_price": 1500}}}},
                      perps={"ETH-PERP": {"underlying": "ETH", "settlement_asset": "USDC",
                                          "initial_margin": "0.1", "maintenance_margin": "0.05",
                                          "mark_price": 1530}})  # fmt: skip
    (g,) = account_greeks(m, "a")
    # 2 − 0.5 + 3 x 1530/1500 = 1.5 + 3.06
    assert g.delta == D("4.56")
    assert (g.gamma, g.vega, g.theta) == (0, 0, 0)


def test_at_zero_volatility_an_in_the_money_call_has_delta_one_per_contract() -> None:
    m = option_market({"C": ("call", 1400)}, {"a": {"C": "2"}}, usdc=0,
                      accounts={"a": {"supply": {}}})  # fmt: skip
    (g,) = account_greeks(m, "a")
    assert g.delta == 2
    assert g.gamma == g.vega == 0


def test_an_account_without_exposure_has_no_greeks() -> None:
    m = option_market({"C": ("call", 1400)}, {"cash": {}})
    assert account_greeks(m, "cash") == []
