"""Black-76 and the standard normal distribution, exact-path, in Decimal (contract 6.1).

Written here rather than taken from a library: no well-kept library computes the normal
CDF in :class:`decimal.Decimal` (mpmath works in its own binary floats). Everything runs
in the engine's 200-digit context (:data:`xmargin.mathlib.CTX`); ``ln``, ``exp`` and
``sqrt`` are :mod:`decimal`'s own (correctly rounded), π comes from Machin's formula.

The complementary error function, for z >= 0:

- z <= 20: the everywhere-convergent series of positive terms
  erfc(z) = 1 − (2z/√π)·e^(−z²)·Σ_{n>=0} (2z²)^n / (1·3·5···(2n+1)), summed with
  ⌈z²/ln 10⌉ + 10 guard digits, so that the cancellation in 1 − (...) leaves erfc(z) (as
  small as 1e-175 there) with 200 correct digits;
- z > 20: Laplace's continued fraction erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z +
  3/2/(z + ...)))), evaluated by the modified Lentz method to 1e-205 relative.

N(x) = erfc(−x/√2)/2 for x < 0 (no cancellation: tiny tails keep their relative
precision) and 1 − erfc(x/√2)/2 for x >= 0. The relative error of N, of φ and of a
Black-76 value is far below the 1e-18 the contract needs (≈ 1e-190; the difference
F·N(d1) − K·N(d2) of a far out-of-the-money option loses at most the digits of the ratio
of its terms to the result). Put–call parity C − P = D·(F − K) holds to the context's
precision (tests/rules/test_black76.py checks 1e-24).
"""

from __future__ import annotations

from decimal import Context, Decimal, localcontext
from functools import cache
from typing import NamedTuple

from xmargin.mathlib import CTX, ONE, ZERO

__all__ = [
    "SECONDS_PER_YEAR",
    "Black76Greeks",
    "black76",
    "black76_greeks",
    "erfc",
    "norm_cdf",
    "norm_pdf",
    "year_fraction",
]

#: τ = seconds / 31,536,000: a year of 365 days (contract 6.1).
SECONDS_PER_YEAR = Decimal(31_536_000)
_TWO = Decimal(2)
_HALF = Decimal("0.5")
#: Above this z, erfc by the continued fraction (fewer terms than the series there).
_SERIES_MAX_Z = Decimal(20)
_LN10 = Decimal("2.302585092994045684017960")


def _context(prec: int) -> Context:
    return Context(prec=prec, rounding=CTX.rounding, Emax=CTX.Emax, Emin=CTX.Emin, traps=[])


@cache
def _pi(prec: int) -> Decimal:
    """π to ``prec`` digits: Machin's π/4 = 4·arctan(1/5) − arctan(1/239)."""
    work = prec + 10
    with localcontext(_context(work)):

        def arctan_inv(x: int) -> Decimal:
            eps = Decimal(10) ** (-work)
            total = ZERO
            power = ONE / x  # x^-(2n+1)
            x2 = x * x
            n = 0
            while power > eps:
                term = power / (2 * n + 1)
                total = total - term if n % 2 else total + term
                power /= x2
                n += 1
            return total

        pi = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    return _context(prec).plus(pi)


@cache
def _sqrt_pi(prec: int) -> Decimal:
    return _context(prec).sqrt(_pi(prec + 5))


@cache
def _sqrt_two(prec: int) -> Decimal:
    return _context(prec).sqrt(_TWO)


def _erfc_series(z: Decimal, prec: int) -> Decimal:
    """erfc(z) by the positive series, with guard digits against the cancellation."""
    guard = int(CTX.divide(z * z, _LN10)) + 10
    work = prec + guard
    with localcontext(_context(work)):
        z2 = z * z
        ratio_num = 2 * z2
        eps = Decimal(10) ** (-work)
        term = total = ONE
        n = 0
        while True:
            n += 1
            term = term * ratio_num / (2 * n + 1)
            total += term
            # Once 2z²/(2n+1) <= 1/2 the remainder is at most the last term.
            if 2 * n + 1 >= 2 * ratio_num and term <= total * eps:
                break
        result = ONE - 2 * z / _sqrt_pi(work) * (-z2).exp() * total
    return _context(prec).plus(result)


def _erfc_continued_fraction(z: Decimal, prec: int) -> Decimal:
    """erfc(z) by Laplace's continued fraction (modified Lentz), z > 0 large."""
    work = prec + 10
    with localcontext(_context(work)):
        tiny = Decimal(10) ** (-3 * work)
        eps = Decimal(10) ** (-(prec + 5))
        f = c = z
        d = ZERO
        k = 0
        while True:
            k += 1
            a = Decimal(k) / 2
            d = z + a * d
            d = ONE / (d if d else tiny)
            c = z + a / c
            if not c:
                c = tiny
            delta = c * d
            f *= delta
            if abs(delta - ONE) < eps:
                break
        result = (-z * z).exp() / _sqrt_pi(work) / f
    return _context(prec).plus(result)


def erfc(z: Decimal) -> Decimal:
    """The complementary error function of z >= 0, to the 200-digit context.

    >>> float(erfc(Decimal(1)))
    0.15729920705028513
    """
    if z < ZERO:
        raise ValueError(f"erfc: z must be >= 0, was {z}")
    if not z:
        return ONE
    prec = CTX.prec
    if z <= _SERIES_MAX_Z:
        return _erfc_series(z, prec)
    return _erfc_continued_fraction(z, prec)


def norm_cdf(x: Decimal) -> Decimal:
    """N(x), the standard normal distribution function, in the 200-digit context.

    >>> float(norm_cdf(Decimal("1.96")))
    0.9750021048517795
    >>> norm_cdf(Decimal(0))
    Decimal('0.5')
    """
    z = CTX.divide(abs(x), _sqrt_two(CTX.prec + 5))
    tail = CTX.multiply(_HALF, erfc(z))
    return tail if x < ZERO else CTX.subtract(ONE, tail)


def norm_pdf(x: Decimal) -> Decimal:
    """φ(x) = e^(−x²/2)/√(2π), in the 200-digit context.

    >>> float(norm_pdf(Decimal(0)))
    0.3989422804014327
    """
    prec = CTX.prec
    return CTX.divide(
        CTX.exp(-CTX.multiply(_HALF, CTX.multiply(x, x))),
        CTX.multiply(_sqrt_pi(prec + 5), _sqrt_two(prec + 5)),
    )


def year_fraction(seconds: Decimal) -> Decimal:
    """τ in years of 365 days (contract 6.1): seconds / 31,536,000.

    >>> year_fraction(Decimal(86_400 * 73))
    Decimal('0.2')
    """
    return CTX.divide(seconds, SECONDS_PER_YEAR)


def _d1_d2(
    forward: Decimal, strike: Decimal, sigma: Decimal, tau: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """(d1, d2, σ√τ) for σ, τ > 0."""
    vol = CTX.multiply(sigma, CTX.sqrt(tau))
    d1 = CTX.divide(
        CTX.add(CTX.ln(CTX.divide(forward, strike)), CTX.multiply(_HALF, vol * vol)), vol
    )
    return d1, CTX.subtract(d1, vol), vol


def black76(
    is_call: bool,
    forward: Decimal,
    strike: Decimal,
    sigma: Decimal,
    tau: Decimal,
    discount: Decimal,
) -> Decimal:
    """The Black-76 value of one contract, in quote (contract 6.1).

    Notes
    -----
    .. math:: C = D (F N(d_1) - K N(d_2)),\\quad P = D (K N(-d_2) - F N(-d_1))

    d1 = (ln(F/K) + σ²τ/2)/(σ√τ), d2 = d1 − σ√τ; the intrinsic value D·max(0, ±(F − K))
    when σ = 0 or τ = 0.

    >>> one = Decimal(1)
    >>> round(float(black76(True, Decimal(100), Decimal(100), Decimal("0.2"), one, one)), 10)
    7.9655674554
    """
    if not sigma or tau <= ZERO:
        gain = forward - strike if is_call else strike - forward
        return CTX.multiply(discount, gain) if gain > ZERO else ZERO
    d1, d2, _ = _d1_d2(forward, strike, sigma, tau)
    if is_call:
        value = CTX.multiply(forward, norm_cdf(d1)) - CTX.multiply(strike, norm_cdf(d2))
    else:
        value = CTX.multiply(strike, norm_cdf(-d2)) - CTX.multiply(forward, norm_cdf(-d1))
    return CTX.multiply(discount, value)


class Black76Greeks(NamedTuple):
    """Sensitivities of one contract's Black-76 value V(F, σ, τ), D = e^(−rτ):
    ``delta_forward`` ∂V/∂F, ``gamma_forward`` ∂²V/∂F², ``vega`` ∂V/∂σ (quote per 1.00 of
    σ) and ``dtau`` ∂V/∂τ (quote per year of time to expiry, F held)."""

    delta_forward: Decimal
    gamma_forward: Decimal
    vega: Decimal
    dtau: Decimal


def black76_greeks(
    is_call: bool,
    forward: Decimal,
    strike: Decimal,
    sigma: Decimal,
    tau: Decimal,
    discount: Decimal,
    rate: Decimal,
) -> Black76Greeks:
    """∂V/∂F, ∂²V/∂F², ∂V/∂σ and ∂V/∂τ of one contract (``discount`` = e^(−rate·τ)).

    Notes
    -----
    Call ∂V/∂F = D·N(d1), put D·(N(d1) − 1); ∂²V/∂F² = D·φ(d1)/(F·σ√τ); ∂V/∂σ =
    D·F·φ(d1)·√τ; ∂V/∂τ = −r·V + D·F·φ(d1)·σ/(2√τ). With σ = 0 or τ = 0 the value is
    intrinsic: ∂V/∂F = ±D where in the money (0 at the money), the second-order terms
    are 0 and ∂V/∂τ = −r·V.
    """
    value = black76(is_call, forward, strike, sigma, tau, discount)
    carry = -CTX.multiply(rate, value)
    if not sigma or tau <= ZERO:
        gain = forward - strike if is_call else strike - forward
        delta = (discount if is_call else -discount) if gain > ZERO else ZERO
        return Black76Greeks(delta, ZERO, ZERO, carry)
    d1, _, vol = _d1_d2(forward, strike, sigma, tau)
    n1 = norm_cdf(d1)
    delta = CTX.multiply(discount, n1 if is_call else n1 - ONE)
    density = CTX.multiply(discount, norm_pdf(d1))  # D·φ(d1)
    root_tau = CTX.sqrt(tau)
    gamma = CTX.divide(density, CTX.multiply(forward, vol))
    vega = CTX.multiply(CTX.multiply(density, forward), root_tau)
    decay = CTX.divide(CTX.multiply(CTX.multiply(density, forward), sigma), 2 * root_tau)
    return Black76Greeks(delta, gamma, vega, CTX.add(carry, decay))
