"""Exact decimal helpers: every rounded money step goes through here.

One :class:`decimal.Context` with traps on, precision far above the largest product the
contract allows (amounts and prices up to 1e24, each with up to 36 decimals, times a
weight). Each helper names its rounding direction; no other module rounds money.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import ParamSpec, TypeVar

__all__ = [
    "CTX",
    "HF_DECIMALS",
    "ONE",
    "VALUE_DECIMALS",
    "WEIGHT_DECIMALS",
    "ZERO",
    "div_down",
    "div_up",
    "exact",
    "finite_text",
    "float_text",
    "fmt",
    "mul_div_down",
    "mul_div_up",
    "quantize_down",
    "quantize_up",
    "round_sums",
    "shown",
    "sqrt_down",
    "sqrt_up",
]

#: Precision of every exact computation: 1e24 units x 1e24 price x weight, each with up to
#: 36 decimals, stays exact well inside 200 digits.
CTX = decimal.Context(
    prec=200,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
decimal.setcontext(CTX)
decimal.DefaultContext.prec = CTX.prec
decimal.DefaultContext.traps = CTX.traps.copy()

ZERO = Decimal(0)
ONE = Decimal(1)

#: Quote values (``*_value`` figures) are held to 1e-18 of the quote unit.
VALUE_DECIMALS = 18
#: Health factors and other ratios are held to 1e-18.
HF_DECIMALS = 18
#: Weights produced by the size haircut (irrational in general) are held to 1e-18.
WEIGHT_DECIMALS = 18

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` under :data:`CTX`, whatever decimal context the caller has set.

    Public entry points of the exact path wear this, so that a caller's
    ``localcontext(prec=5)`` (or a thread whose context predates this module) can never
    round an amount or a sum. Where the current context already is :data:`CTX` (the
    thread that imported this module, unless it changed context) ``fn`` runs directly:
    entering a context costs as much as a tenth of one account's figures.
    """

    getcontext = decimal.getcontext  # a closure cell: no global and attribute look-up

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if getcontext() is CTX:
            return fn(*args, **kwargs)
        with decimal.localcontext(CTX):
            return fn(*args, **kwargs)

    return wrapper


_EXP: dict[int, Decimal] = {n: Decimal(1).scaleb(-n) for n in range(0, 80)}


def _exp(decimals: int) -> Decimal:
    e = _EXP.get(decimals)
    return e if e is not None else Decimal(1).scaleb(-decimals)


def quantize_down(x: Decimal, decimals: int) -> Decimal:
    """``x`` rounded toward -inf to ``decimals`` places (collateral, seized amounts)."""
    # The hottest helper of the exact path: one dict lookup, positional arguments.
    e = _EXP.get(decimals)
    return x.quantize(e if e is not None else _exp(decimals), ROUND_FLOOR, CTX)


def quantize_up(x: Decimal, decimals: int) -> Decimal:
    """``x`` rounded toward +inf to ``decimals`` places (debt, repaid amounts, fees)."""
    e = _EXP.get(decimals)
    return x.quantize(e if e is not None else _exp(decimals), ROUND_CEILING, CTX)


def round_sums(
    cv: Decimal, dv: Decimal, ic: Decimal, id_: Decimal, mc: Decimal, md: Decimal, decimals: int
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
    """The six sums of contract section 2 rounded to ``decimals`` places in favour of the
    protocol: the collateral side (``cv``, ``ic``, ``mc``) toward -inf, the debt side
    (``dv``, ``id_``, ``md``) toward +inf; in that order. One call for the six, since
    every account's figures end here (six helper calls cost a twentieth of them)."""
    e = _EXP.get(decimals)
    if e is None:
        e = _exp(decimals)
    return (
        cv.quantize(e, ROUND_FLOOR, CTX),
        dv.quantize(e, ROUND_CEILING, CTX),
        ic.quantize(e, ROUND_FLOOR, CTX),
        id_.quantize(e, ROUND_CEILING, CTX),
        mc.quantize(e, ROUND_FLOOR, CTX),
        md.quantize(e, ROUND_CEILING, CTX),
    )


#: Contexts that divide to just the digits a quotient needs, rounding in one direction,
#: by precision: see :func:`_quotient`.
_FLOOR_CTX: dict[int, decimal.Context] = {}
_CEILING_CTX: dict[int, decimal.Context] = {}


def _directed(prec: int, rounding: str) -> decimal.Context:
    ctx = CTX.copy()
    ctx.prec = prec
    ctx.rounding = rounding
    return ctx


def _quotient(a: Decimal, b: Decimal, decimals: int, up: bool) -> Decimal:
    """``a / b`` rounded toward -inf (``up``: +inf) to a grid at least as fine as
    ``10**-decimals``, for the quantize that follows.

    A quotient's leading digit is at ``a.adjusted() - b.adjusted()`` or one below, so
    that many digits plus ``decimals + 1`` reach the grid: dividing to that precision in
    the same direction gives what the 200-digit quotient quantizes to (directed rounding
    to a fine grid, then to a coarser one that contains it, is one directed rounding)
    for a twentieth of its digits, half the cost of a health factor. Zeros and
    quotients outside that range take the 200-digit path (``CTX`` traps 1/0 and 0/0).
    """
    prec = a.adjusted() - b.adjusted() + decimals + 1
    if 0 < prec <= CTX.prec and a and b:
        table = _CEILING_CTX if up else _FLOOR_CTX
        ctx = table.get(prec)
        if ctx is None:
            ctx = table[prec] = _directed(prec, ROUND_CEILING if up else ROUND_FLOOR)
        return ctx.divide(a, b)
    return CTX.divide(a, b)


def div_down(a: Decimal, b: Decimal, decimals: int) -> Decimal:
    """``a / b`` rounded toward -inf to ``decimals`` places."""
    e = _EXP.get(decimals)  # quantize_down inlined: every health factor comes here
    q = _quotient(a, b, decimals, False)
    return q.quantize(e if e is not None else _exp(decimals), ROUND_FLOOR, CTX)


def div_up(a: Decimal, b: Decimal, decimals: int) -> Decimal:
    """``a / b`` rounded toward +inf to ``decimals`` places."""
    e = _EXP.get(decimals)
    q = _quotient(a, b, decimals, True)
    return q.quantize(e if e is not None else _exp(decimals), ROUND_CEILING, CTX)


def mul_div_down(a: Decimal, b: Decimal, c: Decimal, decimals: int) -> Decimal:
    """``a * b / c`` rounded toward -inf to ``decimals`` places."""
    return quantize_down(CTX.divide(CTX.multiply(a, b), c), decimals)


def mul_div_up(a: Decimal, b: Decimal, c: Decimal, decimals: int) -> Decimal:
    """``a * b / c`` rounded toward +inf to ``decimals`` places."""
    return quantize_up(CTX.divide(CTX.multiply(a, b), c), decimals)


def sqrt_down(x: Decimal, decimals: int) -> Decimal:
    """``sqrt(x)`` rounded toward -inf to ``decimals`` places."""
    return quantize_down(CTX.sqrt(x), decimals)


def sqrt_up(x: Decimal, decimals: int) -> Decimal:
    """``sqrt(x)`` rounded toward +inf to ``decimals`` places."""
    return quantize_up(CTX.sqrt(x), decimals)


def fmt(x: Decimal | None) -> str | None:
    """A decimal as the contract prints it: full precision, no exponent, no trailing zeros.

    >>> fmt(Decimal("0E-50")), fmt(Decimal("1.2300")), fmt(Decimal("1E+3")), fmt(None)
    ('0', '1.23', '1000', None)
    """
    if x is None:
        return None
    if not x:
        return "0"
    s = format(x.normalize(CTX), "f")
    return s


def float_text(x: float) -> str:
    """A float64 as a plain decimal string (shortest repr, no exponent).

    >>> float_text(1.5), float_text(2.5e-07), float_text(1e22), float_text(-0.0)
    ('1.5', '0.00000025', '10000000000000000000000', '0')
    """
    text = repr(float(x))
    if "e" not in text and "inf" not in text and "nan" not in text:
        if text.endswith(".0"):
            text = text[:-2]
        return "0" if text in ("0", "-0") else text
    d = Decimal(text)
    if not d.is_finite():
        raise ValueError(f"not a finite number: {text}")
    out = format(d, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("0", "-0") else out


def finite_text(x: float | None) -> str | None:
    """:func:`float_text`, or ``None`` (JSON ``null``) for ``None`` and non-finite floats.

    >>> finite_text(0.25), finite_text(float("nan")), finite_text(3)
    ('0.25', None, '3')
    """
    if x is None or not math.isfinite(x):
        return None
    return float_text(x)


def shown(value: object, limit: int = 48) -> str:
    """A value as a message shows it: decimals normalised (``1.275``, never
    ``1.275000000000000000`` or ``1.275E+3``), anything at most about ``limit`` characters
    (a 10,000-digit amount is shown by its head and its length)."""
    if isinstance(value, Decimal) and value.is_finite():
        if value.is_zero():
            text = "0"
        elif -40 < value.adjusted() < 40:
            text = format(value.normalize(CTX), "f")
        else:
            text = str(value)
    else:
        text = str(value)
    if len(text) > limit:
        return f"{text[: limit - 12]}… ({len(text)} characters)"
    return text
