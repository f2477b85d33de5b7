"""Options in a market: time to expiry, forward, discount and mark value (contract 6.1),
the grouping by underlying and expiry that both margin methods use, and volatility shocks.

An option is valued from ``market.time``: τ = (expiry − time) in seconds / 31,536,000,
D = e^(−rate·τ), F = its ``forward`` (default the underlying's price S). A position whose
expiry has passed but that is not yet settled (the clock moved after loading) is valued
at what settlement would pay, max(0, ±(S − K)), undiscounted: so every figure agrees
before and after :func:`xmargin.ledger.options.settle_expired_options`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from xmargin.errors import InputError, UnknownAsset
from xmargin.mathlib import CTX, ONE, ZERO, exact
from xmargin.model.account import Account
from xmargin.model.liquidation_params import seconds_between
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod, OptionParams
from xmargin.risk.black76 import black76, year_fraction
from xmargin.risk.shocks import ShockValue, shock_fractions

__all__ = [
    "ExpiryGroup",
    "Leg",
    "expiry_groups",
    "is_expired",
    "mark_value",
    "market_time",
    "option_mtm",
    "portfolio_underlyings",
    "settlement_value",
    "with_vol_shocks",
]


def market_time(market: Market) -> datetime:
    """``market.time``, which a market with options must have (contract 6)."""
    t = market.params.time
    if t is None:
        raise InputError("market.time: required when the market has options (contract 6)")
    return t


def is_expired(option: OptionParams, market: Market) -> bool:
    """Whether ``option``'s expiry is at or before ``market.time`` (settled, 6.1)."""
    return option.expiry <= market_time(market)


def settlement_value(option: OptionParams, spot: Decimal) -> Decimal:
    """What one contract pays at expiry: max(0, ±(S − K)), undiscounted, in quote (6.1).

    >>> from xmargin.model.options import OptionParams
    >>> o = OptionParams(name="C", underlying="A", settlement_asset="B", kind="put",
    ...                  strike=2000, expiry="2024-06-28T08:00:00Z", volatility=0)
    >>> settlement_value(o, Decimal(1900))
    Decimal('100')
    """
    gain = spot - option.strike if option.is_call else option.strike - spot
    return gain if gain > ZERO else ZERO


class Leg(NamedTuple):
    """One position in one option, with what valuing it needs: ``q`` signed contracts,
    ``forward`` F (S once expired), ``tau`` in years (0 once expired), ``seconds`` to
    expiry (0 once expired), ``discount`` D (1 once expired) and ``value`` per contract."""

    name: str
    option: OptionParams
    q: Decimal
    forward: Decimal
    tau: Decimal
    seconds: Decimal
    discount: Decimal
    value: Decimal


def _leg(name: str, option: OptionParams, q: Decimal, market: Market) -> Leg:
    spot = market.assets[option.underlying].price
    seconds = seconds_between(market_time(market), option.expiry)
    if seconds <= ZERO:
        return Leg(name, option, q, spot, ZERO, ZERO, ONE, settlement_value(option, spot))
    tau = year_fraction(seconds)
    forward = option.forward if option.forward is not None else spot
    discount = CTX.exp(-CTX.multiply(option.rate, tau)) if option.rate else ONE
    value = black76(option.is_call, forward, option.strike, option.volatility, tau, discount)
    return Leg(name, option, q, forward, tau, seconds, discount, value)


@exact
def mark_value(market: Market, name: str) -> Decimal:
    """The mark value of one contract of option ``name``, in quote (contract 6.1): Black-76
    at the market's time, forward and volatility; the settlement value once expired."""
    option = market.option(name)
    return _leg(name, option, ONE, market).value


class ExpiryGroup(NamedTuple):
    """An account's positions in options of one underlying and expiry: they share F, τ and
    D, and net against each other (6.2, 6.3)."""

    underlying: str
    expiry: datetime
    legs: tuple[Leg, ...]

    @property
    def forward(self) -> Decimal:
        return self.legs[0].forward

    @property
    def tau(self) -> Decimal:
        return self.legs[0].tau

    @property
    def seconds(self) -> Decimal:
        return self.legs[0].seconds

    @property
    def discount(self) -> Decimal:
        return self.legs[0].discount

    @property
    def rate(self) -> Decimal:
        return self.legs[0].option.rate

    def mtm(self) -> Decimal:
        """Σ q·value, in quote."""
        return sum((CTX.multiply(leg.q, leg.value) for leg in self.legs), ZERO)


def expiry_groups(account: Account, market: Market) -> list[ExpiryGroup]:
    """``account``'s option positions grouped by (underlying, expiry), in the order the
    account first holds each group."""
    groups: dict[tuple[str, datetime], list[Leg]] = {}
    for name, q in account.options.items():
        option = market.options[name]
        groups.setdefault(option.expiry_key(), []).append(_leg(name, option, q, market))
    return [ExpiryGroup(u, e, tuple(legs)) for (u, e), legs in groups.items()]


def option_mtm(account: Account, market: Market) -> Decimal:
    """Σ q·value over ``account``'s options, in quote, exact to the values' precision."""
    return sum((g.mtm() for g in expiry_groups(account, market)), ZERO)


def portfolio_underlyings(account: Account, market: Market) -> frozenset[str]:
    """The underlyings margined by scenarios under ``margin = "portfolio"`` (6.3): those
    of the account's options and perps. Empty under standard margin."""
    if account.margin is not MarginMethod.PORTFOLIO:
        return frozenset()
    out = {market.options[n].underlying for n in account.options}
    out.update(market.perps[n].underlying for n in account.perps)
    return frozenset(out)


@exact
def with_vol_shocks(market: Market, shocks: Mapping[str, ShockValue]) -> Market:
    """A copy of ``market`` whose options on each shocked underlying have σ → σ·(1 + x),
    floored at 0 (contract 6.1). Balances are shared read-only, as in ``with_prices``.
    A shock may be a Decimal, int, float or string (:func:`shock_fractions`)."""
    shocks = shock_fractions(shocks, "--vol-shock")
    for asset in shocks:
        if asset not in market.assets:
            raise UnknownAsset(asset, "--vol-shock")
    shocked = market.with_prices({})
    options = dict(market.options)
    for name, option in market.options.items():
        x = shocks.get(option.underlying)
        if x is None:
            continue
        sigma = CTX.multiply(option.volatility, ONE + x)
        options[name] = option.model_copy(update={"volatility": max(sigma, ZERO)})
    shocked.options = options
    return shocked
