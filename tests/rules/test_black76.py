"""Black-76 and the normal distribution in Decimal (contract 6.1, docs/contract.md 6.5):
closed forms, known constants, the two erfc methods against each other, the far tail
against its asymptotic series, and put–call parity to 1e-24."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import D
from xmargin.mathlib import CTX
from xmargin.risk.black76 import (
    _erfc_continued_fraction,
    _erfc_series,
    black76,
    black76_greeks,
    erfc,
    norm_cdf,
    norm_pdf,
    year_fraction,
)

ONE = D(1)


def rel(a: Decimal, b: Decimal) -> Decimal:
    return abs(a - b) / abs(b)


def test_erf_of_one_matches_its_published_digits() -> None:
    # erf(1) = 0.84270079294971486934122063508260925929606699796630... (A&S, OEIS A099286)
    published = D("0.8427007929497148693412206350826092592960669979663")
    assert abs((ONE - erfc(ONE)) - published) < D("1e-49")


@pytest.mark.parametrize("x", ["-6", "-3.3", "-1.96", "-0.5", "0", "0.25", "1", "2.5", "7"])
def test_the_normal_cdf_agrees_with_the_float_library_to_its_precision(x: str) -> None:
    expected = 0.5 * math.erfc(-float(x) / math.sqrt(2))
    assert float(norm_cdf(D(x))) == pytest.approx(expected, rel=1e-14)


def test_the_series_and_the_continued_fraction_agree_where_both_converge() -> None:
    # Two independent methods: the positive series with guard digits and Laplace's
    # continued fraction, at 200 digits, from z = 8 (where the fraction converges in a
    # few hundred terms) to z = 20 (the seam).
    for z in ("8", "12.5", "20"):
        a = _erfc_series(D(z), 200)
        b = _erfc_continued_fraction(D(z), 200)
        assert rel(a, b) < D("1e-190"), z


def test_the_far_tail_keeps_its_relative_precision() -> None:
    # N(-x) = φ(x)/x · Σ (-1)^n (2n-1)!!/x^(2n): at x = 40 the truncation after 12 terms is
    # below (25)!!/40^26 ≈ 1e-24 relative. Computing 1 − N(40) instead would give 0.
    x = D(40)
    series = term = ONE
    for n in range(1, 13):
        term = -term * (2 * n - 1) / (x * x)
        series += term
    asymptotic = norm_pdf(x) / x * series
    assert rel(norm_cdf(-x), asymptotic) < D("1e-22")
    assert norm_cdf(-x) < D("1e-340")


def test_the_cdf_is_symmetric_to_the_context_precision() -> None:
    for x in ("0.1", "1.7", "5", "13"):
        assert abs(norm_cdf(D(x)) + norm_cdf(-D(x)) - ONE) < D("1e-195")


def test_the_density_is_the_derivative_of_the_cdf() -> None:
    h = D("1e-30")
    for x in ("-2", "0.3", "1.5"):
        slope = (norm_cdf(D(x) + h) - norm_cdf(D(x) - h)) / (2 * h)
        assert rel(slope, norm_pdf(D(x))) < D("1e-55")


def test_an_at_the_money_call_is_the_textbook_value() -> None:
    # F = K = 100, σ = 0.2, τ = 1: C = 100·(2·N(0.1) − 1) = 7.965567455405804...
    c = black76(True, D(100), D(100), D("0.2"), ONE, ONE)
    assert abs(c - 100 * (2 * norm_cdf(D("0.1")) - 1)) < D("1e-190")
    assert float(c) == pytest.approx(7.965567455405804, rel=1e-15)


def test_zero_volatility_or_time_gives_the_discounted_intrinsic_value() -> None:
    d = D("0.98")
    assert black76(True, D(1500), D(1400), D(0), D("0.1"), d) == D("98.00")
    assert black76(False, D(1500), D(1400), D(0), D("0.1"), d) == 0
    assert black76(False, D(1500), D(1600), D("0.5"), D(0), d) == D("98.00")


def test_year_fractions_are_365_day_years() -> None:
    assert year_fraction(D(31_536_000)) == 1
    assert year_fraction(D(86_400)) == ONE / 365


@settings(max_examples=60, deadline=None)
@given(
    forward=st.integers(1, 10**7).map(lambda i: Decimal(i).scaleb(-2)),
    strike=st.integers(1, 10**7).map(lambda i: Decimal(i).scaleb(-2)),
    sigma=st.integers(0, 300).map(lambda i: Decimal(i).scaleb(-2)),
    seconds=st.integers(0, 5 * 31_536_000),
    rate=st.integers(-100, 300).map(lambda i: Decimal(i).scaleb(-3)),
)
def test_put_call_parity_to_1e_24(
    forward: Decimal, strike: Decimal, sigma: Decimal, seconds: int, rate: Decimal
) -> None:
    """C − P = D·(F − K), the identity of the exact Black-76, to 1e-24 absolute."""
    with localcontext(CTX):
        tau = year_fraction(Decimal(seconds))
        disc = (-rate * tau).exp()
        c = black76(True, forward, strike, sigma, tau, disc)
        p = black76(False, forward, strike, sigma, tau, disc)
        assert abs((c - p) - disc * (forward - strike)) <= D("1e-24")
        assert c >= 0 and p >= 0


def test_the_greeks_are_the_derivatives_of_the_value() -> None:
    f, k, s, t, r = D(1902), D(2000), D("0.65"), D("0.2"), D("0.05")
    disc = CTX.exp(-r * t)
    g = black76_greeks(True, f, k, s, t, disc, r)
    h = D("1e-25")

    def v(ff: Decimal = f, ss: Decimal = s, tt: Decimal = t) -> Decimal:
        return black76(True, ff, k, ss, tt, CTX.exp(-r * tt))

    assert rel((v(ff=f + h) - v(ff=f - h)) / (2 * h), g.delta_forward) < D("1e-40")
    assert rel((v(ff=f + h) - 2 * v() + v(ff=f - h)) / (h * h), g.gamma_forward) < D("1e-20")
    assert rel((v(ss=s + h) - v(ss=s - h)) / (2 * h), g.vega) < D("1e-40")
    assert rel((v(tt=t + h) - v(tt=t - h)) / (2 * h), g.dtau) < D("1e-40")
    put = black76_greeks(False, f, k, s, t, disc, r)
    assert abs(g.delta_forward - put.delta_forward - disc) < D("1e-190")  # parity in F
