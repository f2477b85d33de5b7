"""``xmargin.mathlib`` against closed forms: every helper rounds the way its name says,
to the grid it is asked for, exactly (Fraction and integer square roots as the reference).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor, isqrt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xmargin.mathlib import (
    CTX,
    div_down,
    div_up,
    fmt,
    mul_div_down,
    mul_div_up,
    quantize_down,
    quantize_up,
    sqrt_down,
    sqrt_up,
)

D = Decimal


@st.composite
def decimals(draw: st.DrawFn, positive: bool = False, max_places: int = 36) -> Decimal:
    """Exact decimals in the contract's range: |x| <= 1e24 with up to 36 places."""
    places = draw(st.integers(0, max_places))
    bound = 10 ** (24 + places)
    lo = 1 if positive else -bound
    return Decimal(draw(st.integers(lo, bound))).scaleb(-places)


places = st.integers(0, 40)


def grid_floor(x: Fraction, n: int) -> Fraction:
    return Fraction(floor(x * 10**n), 10**n)


def grid_ceil(x: Fraction, n: int) -> Fraction:
    return Fraction(ceil(x * 10**n), 10**n)


@given(decimals(max_places=60), places)
def test_quantize_down_is_floor_and_quantize_up_is_ceiling(x: Decimal, n: int) -> None:
    assert Fraction(quantize_down(x, n)) == grid_floor(Fraction(x), n)
    assert Fraction(quantize_up(x, n)) == grid_ceil(Fraction(x), n)


@given(decimals(), decimals(positive=True), places)
def test_div_down_and_div_up_bracket_the_exact_quotient(a: Decimal, b: Decimal, n: int) -> None:
    exact = Fraction(a) / Fraction(b)
    assert Fraction(div_down(a, b, n)) == grid_floor(exact, n)
    assert Fraction(div_up(a, b, n)) == grid_ceil(exact, n)


@given(decimals(), decimals(), places)
def test_div_down_and_div_up_equal_the_200_digit_quotient_quantized(
    a: Decimal, b: Decimal, n: int
) -> None:
    """Dividing to the digits the grid needs (issue 11) changes no digit nor exponent."""
    if not b:
        return
    grid = Decimal(1).scaleb(-n)
    full = CTX.divide(a, b)
    assert str(div_down(a, b, n)) == str(full.quantize(grid, decimal.ROUND_FLOOR, CTX))
    assert str(div_up(a, b, n)) == str(full.quantize(grid, decimal.ROUND_CEILING, CTX))


@given(decimals(), decimals(), decimals(positive=True), places)
def test_mul_div_rounds_the_exact_product_quotient(
    a: Decimal, b: Decimal, c: Decimal, n: int
) -> None:
    exact = Fraction(a) * Fraction(b) / Fraction(c)
    assert Fraction(mul_div_down(a, b, c, n)) == grid_floor(exact, n)
    assert Fraction(mul_div_up(a, b, c, n)) == grid_ceil(exact, n)


@given(st.integers(0, 10**60), st.integers(0, 36), st.integers(18, 40))
def test_sqrt_down_and_up_match_the_integer_square_root(m: int, p: int, n: int) -> None:
    x = Decimal(m).scaleb(-p)  # x = m / 10^p with p <= 2n, so x x 10^(2n) is an integer
    big = m * 10 ** (2 * n - p)
    r = isqrt(big)
    assert sqrt_down(x, n) == Decimal(r).scaleb(-n)
    assert sqrt_up(x, n) == Decimal(r if r * r == big else r + 1).scaleb(-n)


@pytest.mark.parametrize(
    ("x", "n", "down", "up"),
    [
        ("2", 18, "1.414213562373095048", "1.414213562373095049"),
        ("4", 18, "2", "2"),
        ("0.01", 5, "0.1", "0.1"),
        ("10000", 0, "100", "100"),
        ("3", 2, "1.73", "1.74"),
    ],
)
def test_sqrt_examples(x: str, n: int, down: str, up: str) -> None:
    assert sqrt_down(D(x), n) == D(down)
    assert sqrt_up(D(x), n) == D(up)


def test_rounding_directions_on_a_negative_number() -> None:
    assert quantize_down(D("-1.5"), 0) == D("-2")  # toward -inf, not toward zero
    assert quantize_up(D("-1.5"), 0) == D("-1")
    assert div_down(D("-1"), D("3"), 2) == D("-0.34")
    assert div_up(D("-1"), D("3"), 2) == D("-0.33")


def test_rounding_of_one_third() -> None:
    assert div_down(D("1"), D("3"), 18) == D("0.333333333333333333")
    assert div_up(D("1"), D("3"), 18) == D("0.333333333333333334")
    assert mul_div_down(D("2"), D("1"), D("3"), 6) == D("0.666666")
    assert mul_div_up(D("2"), D("1"), D("3"), 6) == D("0.666667")


def test_exact_results_are_not_moved() -> None:
    assert div_down(D("1"), D("4"), 2) == div_up(D("1"), D("4"), 2) == D("0.25")
    assert mul_div_down(D("3"), D("5"), D("2"), 1) == mul_div_up(D("3"), D("5"), D("2"), 1)


def test_the_context_traps_division_by_zero_and_invalid_operations() -> None:
    with pytest.raises(decimal.DivisionByZero):
        div_down(D("1"), D("0"), 18)
    with pytest.raises(decimal.InvalidOperation):
        CTX.sqrt(D("-1"))
    with pytest.raises(decimal.InvalidOperation):
        div_up(D("0"), D("0"), 18)


def test_the_context_is_exact_for_the_largest_contract_product() -> None:
    # 1e24 units x 1e24 price, each with 36 places, times an 18-place weight: exact.
    a = D("999999999999999999999999.123456789012345678901234567890123456")
    b = D("999999999999999999999999.987654321098765432109876543210987654")
    w = D("0.123456789012345678")
    assert Fraction(CTX.multiply(CTX.multiply(a, b), w)) == Fraction(a) * Fraction(b) * Fraction(w)


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (D("0E-50"), "0"),
        (D("1.2300"), "1.23"),
        (D("1E+3"), "1000"),
        (D("-0.000000000000000001"), "-0.000000000000000001"),
        (D("123456789012345678901234.5"), "123456789012345678901234.5"),
        (None, None),
    ],
)
def test_fmt_prints_full_precision_without_exponent(x: Decimal | None, text: str | None) -> None:
    assert fmt(x) == text
