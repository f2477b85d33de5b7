"""The float option rules equal their exact twins (the float rule source, ``xmargin.fast``).

The tolerance follows tests/properties/test_float_twins.py (``REL_TOL`` relative,
``ABS_TOL`` absolute), taken relative to the figure's *scale*: N(x) keeps its relative
precision (erfc), so its scale is itself; a Black-76 value F·N(d1) − K·N(d2) carries a
few ulps of the notional D·(F + K), so its scale is that notional; a margin figure's is
Σ|q|·(F + K + S) of the legs it sums.

FLOAT-O1  N(x) equals the exact N(x), relative, over [−37, 37].
FLOAT-O2  A Black-76 value equals the exact one (calls and puts, σ and τ from 0).
FLOAT-O3  Each expiry's standard margin (isolated sums, max loss, M_IM, M_MM) and an
          account's standard option sums, from the packed legs, equal the exact ones.
FLOAT-O4  Portfolio margin of an underlying (W, B, contingencies, R_MM, R_IM, Σ mtm)
          equals the exact one; the worst scenario is the same where no other scenario is
          within the band of it.
FLOAT-O5  The rules compiled into a Numba kernel give what the Python call gives.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.option_builders import option_market
from xmargin.book.tolerances import ABS_TOL, REL_TOL
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.fast import portfolio_margin as fpm
from xmargin.fast.backend import numba_available
from xmargin.model import Market
from xmargin.model.portfolio_params import PortfolioMarginParams
from xmargin.risk import black76 as xb
from xmargin.risk import option_margin as xom
from xmargin.risk import portfolio_margin as xpm
from xmargin.risk.options import expiry_groups


def close(f: object, e: Decimal | float, scale: float) -> bool:
    """``f`` within REL_TOL of ``scale`` (and ABS_TOL) of the exact ``e``."""
    return abs(float(f) - float(e)) <= REL_TOL * abs(scale) + ABS_TOL  # type: ignore[arg-type]


def dec(lo: int, hi: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(lo, hi).map(lambda i: Decimal(i).scaleb(-places))


# -- FLOAT-O1, FLOAT-O2 ---------------------------------------------------------------------
@given(x=dec(-37_000, 37_000, 3))
def test_float_o1_norm_cdf_equals_its_exact_twin(x: Decimal) -> None:
    exact = xb.norm_cdf(x)
    # d ln N / dx ~ |x| in the tail: the rounding of x and of x/√2 alone costs x²·ulp.
    rel = 1e-14 + 1e-15 * float(x) ** 2
    assert abs(float(fo.norm_cdf(float(x))) - float(exact)) <= rel * float(exact) + 1e-300


@given(
    is_call=st.booleans(),
    forward=dec(1, 10**9, 3),
    moneyness=dec(20, 500, 2),
    sigma=st.one_of(st.just(Decimal(0)), dec(1, 300, 2)),
    tau=st.one_of(st.just(Decimal(0)), dec(1, 5000, 3)),
    rate=dec(-5, 20, 2),
)
def test_float_o2_black76_equals_its_exact_twin(
    is_call: bool, forward: Decimal, moneyness: Decimal, sigma: Decimal, tau: Decimal, rate: Decimal
) -> None:
    strike = forward * moneyness
    discount = (-rate * tau).exp()
    exact = xb.black76(is_call, forward, strike, sigma, tau, discount)
    got = fo.black76(
        is_call, float(forward), float(strike), float(sigma), float(tau), float(discount)
    )
    assert close(got, exact, float(discount * (forward + strike)))


# -- books ----------------------------------------------------------------------------------
EXPIRIES = ["2024-06-01T20:00:00Z", "2024-06-28T08:00:00Z", "2025-03-28T08:00:00Z"]


@st.composite
def option_books(draw: st.DrawFn) -> Market:
    """ETH near 1,500 with 1-6 options over 1-3 expiries (strikes repeat sometimes), the
    account "a" holding a position in each, maybe ETH collateral or an ETH borrow."""
    spot = draw(dec(50_000, 500_000, 2))
    n = draw(st.integers(1, 6))
    expiries = draw(st.lists(st.sampled_from(EXPIRIES), min_size=1, max_size=3, unique=True))
    strikes = [draw(dec(40_000, 800_000, 2)) for _ in range(3)]
    options: dict[str, Any] = {}
    for i in range(n):
        options[f"O{i}"] = {
            "kind": draw(st.sampled_from(["call", "put"])),
            "strike": draw(st.sampled_from(strikes)),
            "expiry": draw(st.sampled_from(expiries)),
        }
    held = {name: draw(dec(-500, 500, 2).filter(bool)) for name in options}
    supply: dict[str, Any] = {"USDC": 10_000_000}
    borrow: dict[str, Any] = {}
    if draw(st.booleans()):
        supply["ETH"] = draw(dec(0, 500, 2))
    elif draw(st.booleans()):
        borrow["ETH"] = draw(dec(1, 50, 2))
    market = option_market(
        options,
        {"a": held},
        spot=spot,
        volatility=draw(dec(0, 200, 2)),
        accounts={"a": {"supply": supply, "borrow": borrow, "margin": "portfolio"}},
    )
    return market


def notional(legs: np.ndarray) -> float:
    return float(
        np.sum(
            np.abs(legs[:, fo.Q]) * (legs[:, fo.FORWARD] + legs[:, fo.STRIKE] + legs[:, fo.SPOT])
        )
    )


def group_ranges(legs: np.ndarray) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(legs) + 1):
        if i == len(legs) or legs[i, fo.GROUP] != legs[start, fo.GROUP]:
            out.append((start, i))
            start = i
    return out


# -- FLOAT-O3 -------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(market=option_books())
def test_float_o3_standard_margin_equals_its_exact_twin(market: Market) -> None:
    account = market.accounts["a"]
    legs = fop.pack_legs(account, market)
    pm = fop.pack_option_margin(market.option_margin)
    scale = notional(legs)
    spot = market.assets["ETH"].price
    groups = expiry_groups(account, market)
    assert [hi - lo for lo, hi in group_ranges(legs)] == [len(g.legs) for g in groups]
    for (lo, hi), group in zip(group_ranges(legs), groups, strict=True):
        for i, leg in zip(range(lo, hi), group.legs, strict=True):
            assert close(legs[i, fo.VALUE], leg.value, scale)
        exact = xom.expiry_margin(group, spot, market.option_margin)
        got = fo.expiry_margin(legs, lo, hi, float(spot), pm)
        for g, e in zip(got, exact, strict=True):
            assert close(g, e, scale)
        assert close(fo.max_loss(legs, lo, hi), xom.max_loss(group), scale)
    exact_sums = xom.standard_option_sums(account, market)
    for g, e in zip(fo.standard_option_sums(legs, 0, len(legs), pm), exact_sums, strict=True):
        assert close(g, e, scale)


# -- FLOAT-O4 -------------------------------------------------------------------------------
def portfolio_inputs(market: Market) -> tuple[float, float, float, np.ndarray]:
    account = market.accounts["a"]
    spot = market.assets["ETH"].price
    net = account.supplied("ETH") - account.borrowed("ETH")
    p = market.portfolio_margin
    haircuts = np.array(
        [float(p.maintenance_haircut.get("ETH", 0)), float(p.initial_haircut.get("ETH", 0))]
    )
    return float(net * spot), 0.0, float(account.supplied("ETH")), haircuts


@settings(max_examples=40, deadline=None)
@given(market=option_books())
def test_float_o4_portfolio_margin_equals_its_exact_twin(market: Market) -> None:
    account = market.accounts["a"]
    legs = fop.pack_legs(account, market, "ETH")
    pp = fop.pack_portfolio_margin(market.portfolio_margin)
    scen = fop.pack_scenarios(market.portfolio_margin)
    linear, perp_units, supplied, haircuts = portfolio_inputs(market)
    spot = market.assets["ETH"].price
    scale = notional(legs) + abs(linear)
    got = fpm.portfolio_margin(
        legs, 0, len(legs), float(spot), linear, perp_units, supplied, haircuts, pp, scen
    )
    exact = xpm.portfolio_margin(account, market, "ETH")
    pairs = [
        (got[0], exact.worst_scenario_loss),
        (got[2], exact.basis_contingency),
        (got[3], exact.maintenance_contingency),
        (got[4], exact.initial_contingency),
        (got[5], exact.maintenance_requirement),
        (got[6], exact.initial_requirement),
        (got[7], exact.option_value),
    ]
    for g, e in pairs:
        assert close(g, e, scale)
    pnls = sorted(float(x) for x in xpm.scenario_pnls(account, market, "ETH"))
    if len(pnls) > 1 and pnls[1] - pnls[0] > 4 * (REL_TOL * scale + ABS_TOL) and pnls[0] < 0:
        assert int(got[1]) == exact.worst_scenario


def test_float_o4_derive_pmrm_vector_needs_perps_inputs() -> None:
    """The float requirement of Derive's test_29 (1 perp long at 3,100, spot 3,000, no
    options): W −558, MM −481.4, IM −608 less funding (the perp's PnL is outside R)."""
    pp = fop.pack_portfolio_margin(PortfolioMarginParams())
    scen = fop.pack_scenarios(PortfolioMarginParams())
    legs = np.zeros((0, len(fo.LEG_COLUMNS)))
    got = fpm.portfolio_margin(legs, 0, 0, 3000.0, 3100.0, 1.0, 0.0, np.zeros(2), pp, scen)
    assert got[0] == pytest.approx(-558.0, rel=1e-12)
    assert got[5] == pytest.approx(-0.8 * 558 - 45, rel=1e-12)
    assert got[6] == pytest.approx(-558 - 45 - 15, rel=1e-12)


# -- FLOAT-O5 -------------------------------------------------------------------------------
@pytest.mark.skipif(not numba_available(), reason="numba not installed")
@settings(max_examples=10, deadline=None)
@given(market=option_books())
def test_float_o5_numba_kernels_compute_what_python_computes(market: Market) -> None:
    kernel = _numba_kernel()
    account = market.accounts["a"]
    legs = fop.pack_legs(account, market)
    pm = fop.pack_option_margin(market.option_margin)
    pp = fop.pack_portfolio_margin(market.portfolio_margin)
    scen = fop.pack_scenarios(market.portfolio_margin)
    linear, perp_units, supplied, haircuts = portfolio_inputs(market)
    spot = float(market.assets["ETH"].price)
    compiled = kernel(legs.copy(), pm, pp, scen, spot, linear, perp_units, supplied, haircuts)
    fop.price_legs(legs)
    std = fo.standard_option_sums(legs, 0, len(legs), pm)
    port = fpm.portfolio_margin(
        legs, 0, len(legs), spot, linear, perp_units, supplied, haircuts, pp, scen
    )
    expected = np.array([*std, *port])
    assert np.allclose(compiled, expected, rtol=1e-12, atol=1e-9)


_KERNEL: list[Any] = []


def _numba_kernel() -> Any:
    if not _KERNEL:
        from xmargin.fast.backend import load_numba

        numba = load_numba()

        @numba.njit(error_model="numpy")
        def kernel(legs, pm, pp, scen, spot, linear, perp_units, supplied, haircuts):  # type: ignore[no-untyped-def]
            n = legs.shape[0]
            for i in range(n):
                legs[i, fo.VALUE] = fo.black76(
                    legs[i, fo.CALL] > 0.5,
                    legs[i, fo.FORWARD],
                    legs[i, fo.STRIKE],
                    legs[i, fo.SIGMA],
                    legs[i, fo.TAU],
                    legs[i, fo.DISCOUNT],
                )
            out = np.zeros(15)
            std = fo.standard_option_sums(legs, 0, n, pm)
            for k in range(7):
                out[k] = std[k]
            port = fpm.portfolio_margin(
                legs, 0, n, spot, linear, perp_units, supplied, haircuts, pp, scen
            )
            for k in range(8):
                out[7 + k] = port[k]
            return out

        _KERNEL.append(kernel)
    return _KERNEL[0]
