"""Parsing and bounding of the contract's numbers: exact decimals, never floats.

Contract 1: every number may be written as a number or a decimal string and is read as an
exact decimal; non-finite numbers and magnitudes above 1e24 are refused (1.1).

Every number that is *read* (a string, a number token of a JSON or TOML document, a CSV
cell, a command-line value, a float handed over by a program) must also be written in the
contract's decimal syntax and fit the storage window (contract extension "Numbers"):

- syntax: ``[+-]digits[.digits][e[+-]digits]`` in ASCII digits, nothing around it (no
  spaces, ``_`` separators, other scripts' digits); ``NaN``/``Infinity`` are named as
  non-finite;
- at most :data:`MAX_SIGNIFICANT_DIGITS` significant digits and
  :data:`MAX_NUMBER_TEXT` characters;
- zero, or a magnitude from :data:`MIN_MAGNITUDE` to :data:`MAX_MAGNITUDE`.

So every accepted number is stored exactly by both databases (PostgreSQL ``NUMERIC``
holds at most 16,383 digits after the point; the SQLite text column stays short) and no
product of two of them leaves the exact context's precision. A :class:`~decimal.Decimal`
handed over by a program is an exact value the engine computed (a balance after a
liquidation may hold more digits than any input): it is checked for finiteness and the
1e24 bound only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from xmargin.mathlib import CTX, ONE, ZERO, shown

__all__ = [
    "MAX_DECIMALS",
    "MAX_MAGNITUDE",
    "MAX_NUMBER_TEXT",
    "MAX_SIGNIFICANT_DIGITS",
    "MIN_MAGNITUDE",
    "Fraction",
    "MaxOne",
    "NonNegative",
    "Number",
    "NumberError",
    "NumberToken",
    "Positive",
    "json_int_token",
    "parse_number",
    "toml_float_token",
]

MAX_MAGNITUDE = Decimal("1e24")
#: The most ``decimals`` an asset may declare.
MAX_DECIMALS = 36
#: The smallest non-zero magnitude a number may be written with: one unit of an asset
#: of the most ``decimals`` allowed (36).
MIN_MAGNITUDE = Decimal("1e-36")
#: Significant digits of a number as written (trailing zeros not counted): 24 before the
#: point (up to 1e24) and 36 after it (the most ``decimals``), so that every amount an
#: asset's ``decimals`` allows can be written.
MAX_SIGNIFICANT_DIGITS = 60
#: Characters of a number as written.
MAX_NUMBER_TEXT = 100

_DECIMAL_SYNTAX = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(?:s?nan|inf|infinity)", re.IGNORECASE)
_SYNTAX_HELP = (
    "must be a number in decimal notation such as 12.5 or -1e-3 (ASCII digits, nothing "
    "around it: no spaces, separators or other characters)"
)
_WINDOW = "magnitude must be 0 or from 1e-36 to 1e24"


class NumberError(ValueError):
    """A value that is not a number the contract accepts.

    ``reason`` says why without the value (``"must be a finite number"``); ``str()`` is
    ``"<reason>, was <value>"``, the form pydantic and the loaders show. Callers that name
    the field themselves use ``reason`` and never parse the message.
    """

    def __init__(self, reason: str, value: object) -> None:
        self.reason = reason
        self.value = value
        super().__init__(f"{reason}, was {shown(value)}")


class NumberToken:
    """A number as written in a JSON or TOML document, kept as its text until validated.

    The document readers hand these to the validators instead of Decimals, so that the
    syntax and window checks of :func:`parse_number` see what the file says (``1e-300``
    is refused with its location, not silently turned into a value nothing can use).
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NumberToken) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def toml_float_token(text: str) -> NumberToken:
    """TOML's ``parse_float`` hook: the token's text (TOML's ``_`` digit separators, which
    its grammar allows only between digits, are dropped)."""
    return NumberToken(text.replace("_", ""))


def json_int_token(text: str) -> int | NumberToken:
    """JSON's ``parse_int`` hook: an ``int`` when short, else the text (so that a
    5,000-digit integer is refused with its location, not by Python's int limit)."""
    return int(text) if len(text) <= 26 else NumberToken(text)


def _significant_digits(d: Decimal) -> int:
    digits = d.as_tuple().digits
    n = len(digits)
    while n > 1 and digits[n - 1] == 0:
        n -= 1
    return n


def _parse_text(text: str, original: object, quoted: object) -> Decimal:
    """The contract's decimal syntax and window (module docstring); ``quoted`` is how a
    message shows text that is not a number (a string with its quotes)."""
    if len(text) > MAX_NUMBER_TEXT:
        raise NumberError(
            f"is too long for a number (at most {MAX_NUMBER_TEXT} characters)", quoted
        )
    if _NON_FINITE.fullmatch(text):
        raise NumberError("must be a finite number", original)
    if not _DECIMAL_SYNTAX.fullmatch(text):
        raise NumberError(_SYNTAX_HELP, quoted)
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):  # an exponent beyond what Decimal holds
        raise NumberError(_WINDOW, original) from None
    if d.is_zero():
        return ZERO
    if abs(d) > MAX_MAGNITUDE:
        raise NumberError("magnitude must be <= 1e24", original)
    if abs(d) < MIN_MAGNITUDE:
        raise NumberError("magnitude must be 0 or >= 1e-36", original)
    if _significant_digits(d) > MAX_SIGNIFICANT_DIGITS:
        raise NumberError(f"has more than {MAX_SIGNIFICANT_DIGITS} significant digits", original)
    return d


def parse_number(value: Any) -> Decimal:
    """An exact, finite decimal from an int, a Decimal, a number token or a string.

    Text (strings, :class:`NumberToken`, a float's shortest repr) must be in the
    contract's syntax and window (module docstring); ints and Decimals must be finite and
    of magnitude <= 1e24. Booleans are refused.
    """
    if isinstance(value, bool):
        raise NumberError("must be a number", str(value).lower())
    if isinstance(value, NumberToken):
        return _parse_text(value.text, value, value)
    if isinstance(value, str):
        return _parse_text(value, value, repr(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError("must be a finite number", value)
        text = float.__repr__(value)  # shortest repr, also of numpy float64
        return _parse_text(text, value, value)
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
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
            raise ValueError(f"{text}, was {shown(d)}")
        return d

    return check


Number = Annotated[Decimal, BeforeValidator(parse_number)]
NonNegative = Annotated[Number, AfterValidator(_bound(lambda d: d >= ZERO, "must be >= 0"))]
Positive = Annotated[Number, AfterValidator(_bound(lambda d: d > ZERO, "must be > 0"))]
Fraction = Annotated[
    Number, AfterValidator(_bound(lambda d: ZERO <= d <= ONE, "must be between 0 and 1"))
]
MaxOne = Annotated[Number, AfterValidator(_bound(lambda d: d >= ONE, "must be >= 1"))]
