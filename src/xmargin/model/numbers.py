"""Parsing and bounding of the contract's numbers: exact decimals, never floats.

Contract 1: every number may be written as a number or a decimal string and is read as an
exact decimal; non-finite numbers and magnitudes above 1e24 are refused (1.1).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from xmargin.mathlib import CTX, ONE, ZERO

__all__ = [
    "MAX_MAGNITUDE",
    "Fraction",
    "MaxOne",
    "NonNegative",
    "Number",
    "NumberError",
    "Positive",
    "parse_number",
]

MAX_MAGNITUDE = Decimal("1e24")


class NumberError(ValueError):
    """A value that is not a number the contract accepts.

    ``reason`` says why without the value (``"must be a finite number"``); ``str()`` is
    ``"<reason>, was <value>"``, the form pydantic and the loaders show. Callers that name
    the field themselves use ``reason`` and never parse the message.
    """

    def __init__(self, reason: str, value: object) -> None:
        self.reason = reason
        self.value = value
        super().__init__(f"{reason}, was {value}")


def parse_number(value: Any) -> Decimal:
    """An exact, finite decimal of magnitude <= 1e24 from an int, a Decimal or a string.

    Floats are accepted only through their shortest repr (``0.1`` -> ``Decimal("0.1")``),
    for programmatic callers; market files never produce floats. Booleans are refused.
    """
    if isinstance(value, bool):
        raise NumberError("must be a number", str(value).lower())
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(float.__repr__(value))  # shortest repr, also of numpy float64
    elif isinstance(value, str):
        text = value.strip()
        try:
            d = Decimal(text)
        except (InvalidOperation, ValueError):
            raise NumberError("must be a number", repr(value)) from None
    else:
        raise NumberError("must be a number", type(value).__name__)
    if not d.is_finite():
        raise NumberError("must be a finite number", d)
    if abs(d) > MAX_MAGNITUDE:
        raise NumberError("magnitude must be <= 1e24", d)
    if d.is_zero():
        return ZERO
    return CTX.plus(d) if len(d.as_tuple().digits) <= CTX.prec else d


def _bound(test: Callable[[Decimal], bool], text: str) -> Callable[[Decimal], Decimal]:
    def check(d: Decimal) -> Decimal:
        if not test(d):
            raise ValueError(f"{text}, was {d}")
        return d

    return check


Number = Annotated[Decimal, BeforeValidator(parse_number)]
NonNegative = Annotated[Number, AfterValidator(_bound(lambda d: d >= ZERO, "must be >= 0"))]
Positive = Annotated[Number, AfterValidator(_bound(lambda d: d > ZERO, "must be > 0"))]
Fraction = Annotated[
    Number, AfterValidator(_bound(lambda d: ZERO <= d <= ONE, "must be between 0 and 1"))
]
MaxOne = Annotated[Number, AfterValidator(_bound(lambda d: d >= ONE, "must be >= 1"))]
