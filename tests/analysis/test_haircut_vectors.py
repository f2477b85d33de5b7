"""Rule 7.1: first-passage and terminal haircuts, lt and cf from them (hand-checked vectors)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmargin.analytics import haircuts as hc
from xmargin.analytics.volatility import mc_first_passage


def test_contract_vector_seven_days_first_passage_and_terminal() -> None:
    # σ 0.8, T 7, q 0.99: z(0.995) = 2.5758, σ√(7/365) = 0.110788 -> 1 - e^-0.28537.
    assert round(hc.first_passage_haircut(0.8, 7, 0.99), 4) == 0.2483
    # z(0.99) = 2.3263 -> 1 - e^-0.25773.
    assert round(hc.terminal_haircut(0.8, 7, 0.99), 4) == 0.2272


def test_contract_vector_one_day_liquidation_threshold() -> None:
    h = hc.first_passage_haircut(0.8, 1, 0.99)  # 0.102245
    assert round(hc.liquidation_threshold_for(h, 0.05), 4) == 0.8550


def test_first_passage_needs_more_haircut_than_the_terminal_price() -> None:
    for sigma, days in ((0.2, 1), (0.8, 7), (1.5, 30)):
        assert hc.first_passage_haircut(sigma, days, 0.99) > hc.terminal_haircut(sigma, days, 0.99)


@given(st.floats(0.01, 3.0), st.floats(0.05, 60.0), st.floats(0.6, 0.999), st.floats(0.0, 0.2))
def test_HC_1_the_recommended_threshold_covers_the_bonus_after_the_haircut(
    sigma: float, days: float, q: float, bonus: float
) -> None:
    """HC-1: lt·(1 + bonus) = 1 − h, so lt·(1 + bonus) < 1 and cf ≤ lt."""
    h = hc.first_passage_haircut(sigma, days, q)
    lt = hc.liquidation_threshold_for(h, bonus)
    assert math.isclose(lt * (1 + bonus), 1 - h, rel_tol=1e-12)
    assert hc.collateral_factor_with_buffer(lt, sigma, 1.0, 1.0) <= lt


def test_monte_carlo_running_minimum_agrees_with_the_reflection_principle() -> None:
    # Hourly monitoring misses part of the continuous minimum: the MC figure lies a
    # little below the formula (Broadie–Glasserman: about 0.58 σ√Δt), never above it
    # by more than its error.
    h = hc.first_passage_haircut(0.8, 7, 0.99)
    mc, se = mc_first_passage(0.8, 7, 0.99, 20_000, seed=3)
    assert mc == pytest.approx(h, abs=4 * se + 0.01)
    assert mc < h + 3 * se


def test_smartltv_with_our_confidence_is_one_minus_haircut_minus_bonus() -> None:
    c = hc.z(0.995)
    h = hc.first_passage_haircut(0.8, 2.0, 0.99)
    # d/l = 2 days of liquidity.
    assert hc.smart_ltv(0.8, 2e6, 1e6, 0.05, c) == pytest.approx(1 - h - 0.05, rel=1e-12)


def test_bad_inputs_are_refused_with_their_name() -> None:
    with pytest.raises(ValueError, match="confidence"):
        hc.first_passage_haircut(0.8, 1, 1.0)
    with pytest.raises(ValueError, match="horizon"):
        hc.terminal_haircut(0.8, 0, 0.99)
    with pytest.raises(ValueError, match="volatility"):
        hc.first_passage_haircut(float("nan"), 1, 0.99)
