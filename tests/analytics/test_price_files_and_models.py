"""PRICES: price files onto a regular grid, and the return models' reproducible draws."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from xmargin.analytics.prices import (
    load_price_file,
    load_prices,
    parse_duration_hours,
    parse_time,
)
from xmargin.analytics.return_models import GBM, FilteredBootstrap, StudentT
from xmargin.data import data_path
from xmargin.errors import InputError

T0 = 1_650_000_000  # 2022-04-15T05:20:00Z


def _long_form(tmp: Path, name: str, symbol: str, prices: list[float], step: int = 3600) -> Path:
    rows = ["symbol,timestamp,USD_price"]
    rows += [f"{symbol},{(T0 + i * step) * 1000},{p}" for i, p in enumerate(prices)]
    f = tmp / name
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return f


def test_the_three_price_file_formats_are_read(tmp_path: Path) -> None:
    a = _long_form(tmp_path, "a.csv", "AAA", [1.0, 2.0, 4.0])
    assert load_price_file(a)["AAA"][1].tolist() == [1.0, 2.0, 4.0]
    b = tmp_path / "b.csv"
    b.write_text(
        "timestamp_x,ask_price,bid_price,x\n1650000000000000.0,101,99,0\n1650000060000000.0,103,101,0\n",
        encoding="utf-8",
    )
    assert load_price_file(b, "ETH")["ETH"][1].tolist() == [100.0, 102.0]
    crash = load_price_file(data_path("eth_crash_2021-01-11.csv"))
    assert set(crash) == {"WETH"} and len(crash["WETH"][0]) == 240


def test_prices_are_aligned_on_a_grid_carrying_the_last_observation(tmp_path: Path) -> None:
    _long_form(tmp_path, "a.csv", "AAA", [1.0, 2.0, 3.0, 4.0, 5.0])
    # BBB trades every two hours: its price is carried through the hour between.
    _long_form(tmp_path, "b.csv", "BBB", [10.0, 20.0, 30.0], step=7200)
    h = load_prices(tmp_path, step="1h")
    assert h.symbols == ("AAA", "BBB")
    assert h.column("BBB").tolist() == [10.0, 10.0, 20.0, 20.0]
    assert h.column("AAA").tolist() == [1.0, 2.0, 3.0, 4.0]


def test_a_window_with_too_few_prices_or_a_missing_series_is_refused(tmp_path: Path) -> None:
    _long_form(tmp_path, "a.csv", "AAA", [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="no price series for ZZZ"):
        load_prices(tmp_path, symbols=["ZZZ"])
    with pytest.raises(InputError, match="fewer than two steps"):
        load_prices(tmp_path, start="2030-01-01")
    with pytest.raises(InputError, match="unknown price file columns"):
        (tmp_path / "c.csv").write_text("x,y\n1,2\n", encoding="utf-8")
        load_prices(tmp_path)


@pytest.mark.parametrize(
    ("text", "hours"), [("24h", 24.0), ("5m", 5 / 60), ("1d", 24.0), ("90s", 0.025), (3, 3.0)]
)
def test_durations_read_as_hours(text: str | int, hours: float) -> None:
    assert parse_duration_hours(text) == pytest.approx(hours)


@pytest.mark.parametrize("bad", ["-1h", "soon", "5y", 0])
def test_a_bad_duration_is_refused(bad: str | int) -> None:
    with pytest.raises(InputError):
        parse_duration_hours(bad)


def test_times_read_as_utc() -> None:
    assert parse_time("2022-05-09T12:00Z") == parse_time("2022-05-09T12:00:00+00:00")
    with pytest.raises(InputError):
        parse_time("May 9th")


def test_gbm_log_returns_have_the_stated_moments() -> None:
    sigma = np.array([0.8, 0.2])
    corr = np.array([[1.0, 0.6], [0.6, 1.0]])
    model = GBM(("A", "B"), sigma, None, corr)
    r = model.sample(np.random.default_rng(0), 200_000, 1, 24.0)[:, 0, :]
    dt = 24.0 / (365 * 24)
    np.testing.assert_allclose(r.std(axis=0), sigma * math.sqrt(dt), rtol=0.01)
    np.testing.assert_allclose(r.mean(axis=0), -0.5 * sigma**2 * dt, atol=4e-4)
    assert np.corrcoef(r.T)[0, 1] == pytest.approx(0.6, abs=0.01)


def test_student_t_draws_have_unit_variance_per_step_scaled_by_sigma() -> None:
    model = StudentT(("A",), np.array([0.01]), np.eye(1), dof=5.0)
    r = model.sample(np.random.default_rng(1), 400_000, 1, 4.0)
    assert r.std() == pytest.approx(0.01 * 2.0, rel=0.02)
    # Heavier tails than a normal of the same variance.
    kurt = float(((r - r.mean()) ** 4).mean() / r.var() ** 2)
    assert kurt > 4.0


def test_the_filtered_bootstrap_is_reproducible_and_scales_with_current_volatility() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    # Calm, then a volatile last stretch: the bootstrap starts from the volatile regime.
    r = np.r_[rng.normal(0, 0.005, n - 200), rng.normal(0, 0.03, 200)]
    prices = 100 * np.exp(np.cumsum(r))
    from xmargin.analytics.prices import PriceHistory

    hist = PriceHistory(("A",), T0 + 3600 * np.arange(n), prices[:, None], 3600)
    boot = FilteredBootstrap(hist)
    a = boot.sample(np.random.default_rng(7), 5000, 1, 1.0)
    b = boot.sample(np.random.default_rng(7), 5000, 1, 1.0)
    np.testing.assert_array_equal(a, b)
    assert a.std() == pytest.approx(0.03, rel=0.25)
    with pytest.raises(InputError, match="whole multiples"):
        boot.sample(np.random.default_rng(7), 10, 1, 0.5)
