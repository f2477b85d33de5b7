"""Price shocks (contract 4 ``stress``): ``ASSET=-30%`` texts and shocked prices, exact.

A shock is a fraction (-0.3 = -30%); a shocked price is ``price x (1 + shock)`` and must
stay > 0. The exact ``stress``, the risk book, the dashboard's what-if, the network
analysis and the simulations' ``cascade`` command all read and apply shocks here; every
fraction written as ``-30%`` or ``-0.3`` (scenario files, ``--pause-drop``) is read by
:func:`parse_fraction`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from xmargin.errors import InputError, InvalidPrice, UnknownAsset
from xmargin.mathlib import CTX, ONE, ZERO, exact
from xmargin.model.numbers import NumberError, parse_number

__all__ = [
    "parse_fraction",
    "parse_shock",
    "parse_shocks",
    "parse_vol_shock",
    "parse_vol_shocks",
    "shock_fractions",
    "shocked_prices",
    "vol_shock_fraction",
]

#: What a library caller may pass as a shock: a Decimal, an int, a float (read through its
#: shortest repr, as ``str`` gives it) or a string (``"-0.3"`` or ``"-30%"``).
ShockValue = Decimal | int | float | str

_PERCENT = Decimal(100)
_SHOCK = re.compile(r"^\s*([^=\s]+)\s*=\s*([^%\s]+\s*%?)\s*$")


@exact
def parse_fraction(value: object) -> Decimal:
    """A fraction written as a percentage (``"-30%"``) or a number (``"-0.3"``, ``-0.3``, a
    document's number token), exact; :class:`~xmargin.model.numbers.NumberError` (a
    :class:`ValueError`) with the reason otherwise.

    >>> parse_fraction("-30%"), parse_fraction("0.25")
    (Decimal('-0.3'), Decimal('0.25'))
    """
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            return CTX.divide(parse_number(text[:-1].rstrip()), _PERCENT)
        return parse_number(text)
    return parse_number(value)


def _asset_fraction(
    text: str, option: str, example: str, read: Callable[[object], Decimal]
) -> tuple[str, Decimal]:
    """``ASSET=x%`` (or ``ASSET=x``) as ``(asset, read(x))``; errors name ``option``."""
    m = _SHOCK.match(text)
    if m is None:
        raise InputError(f"{option} {text!r}: expected {example}")
    asset, number = m.groups()
    try:
        return asset, read(number)
    except NumberError as exc:
        raise InputError(f"{option} {text!r}: {exc}") from None


@exact
def parse_shock(text: str) -> tuple[str, Decimal]:
    """``"WETH=-30%"`` -> ``("WETH", Decimal("-0.3"))``; a bare number is a fraction."""
    asset, shock = _asset_fraction(text, "--shock", "ASSET=-30% (or ASSET=-0.3)", parse_fraction)
    if shock <= -ONE:
        raise InputError(f"--shock {text!r}: must be above -100% so that the price stays > 0")
    return asset, shock


@exact
def vol_shock_fraction(value: object) -> Decimal:
    """A volatility shock's value (``"+50%"``, ``"0.5"``, ``0.5``) as a fraction: what
    ``--vol-shock ASSET=x`` and a scenario file's ``vol_shock = {ASSET = x}`` both read.

    Any number is accepted: σ·(1 + x) is floored at 0 (contract 6.1), so -100 % and below
    leave no volatility. :class:`~xmargin.model.numbers.NumberError` otherwise.
    """
    return parse_fraction(value)


@exact
def parse_vol_shock(text: str) -> tuple[str, Decimal]:
    """``"WETH=+50%"`` -> ``("WETH", Decimal("0.5"))``: a volatility shock (contract 6.4),
    its value read by :func:`vol_shock_fraction`."""
    return _asset_fraction(text, "--vol-shock", "ASSET=+50% (or ASSET=0.5)", vol_shock_fraction)


def _unique(pairs: Iterable[tuple[str, Decimal]], option: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for asset, shock in pairs:
        if asset in out:
            raise InputError(f"{option}: {asset} is shocked more than once")
        out[asset] = shock
    return out


def parse_shocks(texts: Iterable[str]) -> dict[str, Decimal]:
    """Several ``--shock`` texts as ``{asset: fraction}``; an asset shocked twice is refused."""
    return _unique(map(parse_shock, texts), "--shock")


def parse_vol_shocks(texts: Iterable[str]) -> dict[str, Decimal]:
    """Several ``--vol-shock`` texts as ``{underlying: fraction}``; twice is refused."""
    return _unique(map(parse_vol_shock, texts), "--vol-shock")


@exact
def shock_fractions(shocks: Mapping[str, ShockValue], where: str) -> dict[str, Decimal]:
    """``{asset: shock}`` with every shock an exact fraction (issue 9, item 2: a library
    caller's ``{"WETH": -0.3}`` or ``{"WETH": "-30%"}`` means what ``--shock WETH=-30%``
    means); a value that is not a number is :class:`~xmargin.errors.InputError`, located."""
    out: dict[str, Decimal] = {}
    for asset, value in shocks.items():
        if isinstance(value, Decimal) and value.is_finite():
            out[asset] = value
            continue
        try:
            out[asset] = parse_fraction(value)
        except NumberError as exc:
            raise InputError(f"{where} {asset}: {exc}") from None
    return out


@exact
def shocked_prices(
    prices: Mapping[str, Decimal], shocks: Mapping[str, ShockValue], where: str = "--shock"
) -> dict[str, Decimal]:
    """Each shocked asset's price (``prices``: every asset's) times (1 + shock).

    Raises
    ------
    UnknownAsset
        A shocked asset the market does not list.
    InvalidPrice
        A shock that would leave the price at or below zero.
    """
    out: dict[str, Decimal] = {}
    for asset, shock in shock_fractions(shocks, where).items():
        if asset not in prices:
            raise UnknownAsset(asset, where)
        p = prices[asset] * (ONE + shock)
        if p <= ZERO:
            raise InvalidPrice(asset, p, "a shock must leave the price > 0")
        out[asset] = p
    return out
