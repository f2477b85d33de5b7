"""Rule 7.1: calibration from prices or stated volatility, horizon from liquidity, CLI."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.analysis.conftest import DEMO_VOLS
from xmargin.analytics.analysis_inputs import MarketInputs, load_inputs
from xmargin.analytics.calibration import CalibrationConfig, calibrate, liquidity_within
from xmargin.analytics.volatility import (
    despike,
    ewma_volatility,
    historical_first_passage,
    load_histories,
)

POOL_MARKET = """
[market]
quote = "USD"
[assets.WETH]
price = 2000
collateral_factor = 0.8
liquidation_threshold = 0.825
liquidation_bonus = 0.05
liquidity = { model = "cpmm", reserve_units = 1000, reserve_quote = 2000000 }
[assets.USDC]
price = 1
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.04
[accounts.big]
supply = { WETH = 100 }
borrow = { USDC = 100000 }
[accounts.small]
supply = { WETH = 10 }
borrow = { USDC = 5000 }
[accounts.saver]
supply = { WETH = 500 }
"""


def test_ewma_is_the_riskmetrics_recursion() -> None:
    r = np.array([0.01, -0.02, 0.03] * 12)
    v = float(np.mean(r[:30] ** 2))
    for x in r:
        v = 0.94 * v + 0.06 * x**2
    assert ewma_volatility(r, 0.94, 365.0) == pytest.approx(math.sqrt(v * 365.0), rel=1e-12)


def test_despike_replaces_a_one_off_print_and_keeps_a_lasting_move() -> None:
    px = np.ones(200)
    px[50] = 0.9631  # a one-hour print, as USDC's on 2021-01-05
    px[120:] = 0.90  # a de-peg that lasts
    out, n = despike(px)
    assert n == 1 and out[50] == 1.0
    assert (out[121:] == 0.90).all()


def test_historical_first_passage_takes_the_worst_fall_within_the_window() -> None:
    # 1 h steps; over 1 day (24 steps) the worst fall from any start is 100 -> 80.
    px = np.r_[np.full(30, 100.0), np.linspace(100, 80, 10), np.full(60, 80.0)]
    cut, windows = historical_first_passage(px, 1.0, 1.0, 1.0)
    assert cut == pytest.approx(0.2) and windows == len(px) - 24


def test_liquidity_within_the_bonus_of_a_constant_product_pool() -> None:
    # X = sqrt(k / m) = sqrt(2e9 / 2000) = 1000 units; q/(X + q) = 0.05 -> q = 52.6316.
    inputs = load_inputs_text(POOL_MARKET)
    got = liquidity_within(inputs.liquidity, 0, 2000.0, 0.05)
    assert got == pytest.approx(0.05 * 1000 / 0.95 * 2000, rel=1e-12)
    # Selling that many units fills 5% below mid on average.
    q = got / 2000
    assert 1 - float(inputs.liquidity.proceeds(0, 2000.0, 0.0, q)) / got == pytest.approx(0.05)


def load_inputs_text(text: str) -> MarketInputs:
    import tempfile

    d = Path(tempfile.mkdtemp())
    p = d / "m.toml"
    p.write_text(text, encoding="utf-8")
    return load_inputs(p)


def test_horizon_is_the_days_to_sell_the_largest_borrowers_position() -> None:
    inputs = load_inputs_text(POOL_MARKET)
    res = calibrate(inputs, ["WETH"], CalibrationConfig(), stated={"WETH": 0.8})
    a = res.assets[0]
    l_beta = 0.05 * 1000 / 0.95 * 2000  # 105,263.16 quote a day
    # 'big' supplies 100 WETH = 200,000 (the saver borrows nothing: never liquidated).
    assert a.horizon["account_position_value"] == 200_000
    assert a.horizon["market_position_value"] == 220_000
    assert a.horizon_days == pytest.approx(200_000 / l_beta)
    assert a.horizon["source"] == "liquidity"
    market = calibrate(
        inputs, ["WETH"], CalibrationConfig(horizon_basis="market"), stated={"WETH": 0.8}
    ).assets[0]
    assert market.horizon_days == pytest.approx(220_000 / l_beta)
    slow = calibrate(inputs, ["WETH"], CalibrationConfig(recovery=0.5), stated={"WETH": 0.8})
    assert slow.assets[0].horizon_days == pytest.approx(2 * a.horizon_days)


def test_recommended_parameters_follow_the_formulas_rounded_down() -> None:
    inputs = load_inputs_text(POOL_MARKET)
    res = calibrate(inputs, ["WETH"], CalibrationConfig(horizon_days=1), stated={"WETH": 0.8})
    a = res.assets[0]
    assert str(a.lt_recommended) == "0.8550"  # (1 - 0.102245) / 1.05 = 0.855011
    # cf = 0.8550 e^(-0.8/sqrt(365)) = 0.81991 -> 0.8199
    assert str(a.cf_recommended) == "0.8199"
    assert a.horizon["source"] == "given"


def test_cli_json_has_the_contract_fields(xm: Callable[..., object], demo: Path) -> None:
    run = xm("calibrate", demo, *DEMO_VOLS, "--horizon", "7", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["confidence"] == "0.99"
    weth = next(a for a in doc["assets"] if a["asset"] == "WETH")
    for key in ("asset", "volatility", "horizon_days", "haircut", "haircut_terminal",
                "liquidation_threshold", "collateral_factor", "liquidation_bonus"):  # fmt: skip
        assert key in weth
    assert round(float(weth["haircut"]), 4) == 0.2483
    assert round(float(weth["haircut_terminal"]), 4) == 0.2272
    assert weth["liquidation_threshold"]["current"] == "0.83"
    assert float(weth["collateral_factor"]["recommended"]) <= float(
        weth["liquidation_threshold"]["recommended"]
    )
    assert {a["asset"] for a in doc["assets"]} == {"WETH", "WBTC", "USDC", "USDT", "wstETH", "STG"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --prices"),
        (("--vol", "WETH=0.8", "--asset", "NOPE"), "unknown asset 'NOPE'"),
        (("--vol", "WETH=abc", "--asset", "WETH"), "not a number"),
        (("--vol", "WETH=0.8", "--asset", "WETH", "--confidence", "1.5"), "--confidence"),
        (("--vol", "WETH=0.8", "--asset", "WETH", "--estimator", "x"), "--estimator"),
        (("--prices", "/nonexistent", "--asset", "WETH"), "no such price file"),
    ],
)
def test_bad_options_exit_2_with_a_clear_error(
    xm: Callable[..., object], demo: Path, args: tuple[str, ...], message: str
) -> None:
    run = xm("calibrate", demo, *args)
    assert run.code == 2
    assert message in run.err and run.err.startswith("error: ")


def test_real_hourly_prices_calibrate_with_both_estimators(shared_data: Path) -> None:
    inputs = load_inputs(Path(__file__).parents[2] / "src/xmargin/data/demo.toml")
    hist = load_histories([shared_data / "prices_hourly"], ["WETH", "USDC"])
    res = calibrate(inputs, ["WETH", "USDC"], CalibrationConfig(estimator="garch"), hist)
    weth, usdc = res.assets
    assert weth.garch is not None and weth.garch.converged
    assert 0.2 < weth.volatilities["ewma"] < 2.0  # type: ignore[operator]
    assert weth.volatility == weth.volatilities["garch"]
    # USDC's aggregated feed carries one-off prints: the pegged-series filter removes them.
    assert usdc.despiked > 0
    assert usdc.volatility < 0.2
    # The history check is reported beside the model (2021-22 saw worse than the model).
    assert weth.checks["historical"]["haircut"] > 0
