"""Socialised loss: the loss waterfall after the insurance fund (contract 8.4), as quotes.

Bad debt the insurance fund did not cover stands in the market's deficit (contract 5.5).
Socialising it spreads it over those who share the market's risk:

- a perp's loss goes through the funding index (Drift): every open position, long or
  short, pays Δ = ⌈loss/(|OI long| + |OI short|)⌉ per unit of base. Drift moves a
  cumulative funding index per side; xmargin holds one index per perp and a funding
  snapshot per position, so it moves every position's snapshot instead (longs' f by −Δ,
  shorts' by +Δ): the same payment, settled as funding is (contract 5.3).
- an asset's loss is borne by its depositors: every supply balance is scaled by
  (1 − loss/total supply), and the asset's supply index by the same factor.

Rounding (docs/rounding.md): Δ rounds up (the positions together pay at least the loss);
scaled balances and the supply index round down (the depositors together bear at least
the loss; what rounding takes beyond it stays with the protocol).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xmargin.errors import InvalidAmount
from xmargin.liquidation_errors import NothingToSocialize
from xmargin.mathlib import CTX, ONE, ZERO, div_up, exact, quantize_down
from xmargin.model.market import Market
from xmargin.model.perps import PerpPosition
from xmargin.risk.validation import parse_amount

__all__ = [
    "INDEX_DECIMALS",
    "PerpLossQuote",
    "SpotLossQuote",
    "funding_delta_to_resolve_bankruptcy",
    "quote_socialize_perp_loss",
    "quote_socialize_spot_loss",
    "scaled_balance",
    "supply_index_after_loss",
]

#: Places of a supply index.
INDEX_DECIMALS = 18


@dataclass(frozen=True)
class PerpLossQuote:
    """Socialising ``loss`` units of ``asset`` (the perp's settlement asset) over a perp's
    open interest: ``funding_delta`` Δ per unit of base (quote), ``charged_value`` =
    Δ·(long + short) >= ``loss_value``; ``positions_after`` holds each position's new
    funding snapshot."""

    perp: str
    asset: str
    loss: Decimal
    loss_value: Decimal
    open_interest_long: Decimal
    open_interest_short: Decimal
    funding_delta: Decimal
    charged_value: Decimal
    positions_after: dict[str, PerpPosition] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SpotLossQuote:
    """Socialising ``loss`` units of ``asset`` over its depositors: ``taken`` (>= loss) is
    what the scaled balances lost together; ``balances_after`` each depositor's supply."""

    asset: str
    loss: Decimal
    total_supply: Decimal
    index_before: Decimal
    index_after: Decimal
    taken: Decimal
    balances_after: dict[str, Decimal] = field(repr=False, compare=False)


def funding_delta_to_resolve_bankruptcy(
    loss_value: Decimal, oi_long: Decimal, oi_short: Decimal, decimals: int
) -> Decimal:
    """Δ = ⌈loss/(|OI long| + |OI short|)⌉, quote per unit of base (Drift), rounded up to
    ``decimals`` places: the positions together pay at least the loss.

    >>> funding_delta_to_resolve_bankruptcy(Decimal(100), Decimal(7), Decimal(-4), 7)
    Decimal('9.0909091')
    """
    return div_up(loss_value, abs(oi_long) + abs(oi_short), decimals)


def supply_index_after_loss(index: Decimal, loss: Decimal, total_supply: Decimal) -> Decimal:
    """index·(1 − loss/total_supply), rounded down to 1e-18.

    >>> supply_index_after_loss(Decimal(1), Decimal(11), Decimal(120))
    Decimal('0.908333333333333333')
    """
    factor = CTX.divide(CTX.subtract(total_supply, loss), total_supply)
    return quantize_down(CTX.multiply(index, factor), INDEX_DECIMALS)


def scaled_balance(s: Decimal, loss: Decimal, total_supply: Decimal, decimals: int) -> Decimal:
    """s·(total_supply − loss)/total_supply, rounded down to the asset's decimals."""
    return quantize_down(
        CTX.divide(CTX.multiply(s, CTX.subtract(total_supply, loss)), total_supply), decimals
    )


def _loss(market: Market, asset: str, amount: Decimal | str | None, what: str) -> Decimal:
    """The units to socialise: ``amount`` (at most the deficit), else the whole deficit."""
    deficit = market.deficit.get(asset, ZERO)
    if amount is None:
        if deficit <= ZERO:
            raise NothingToSocialize(what, f"the deficit of {asset} is 0")
        return deficit
    units = parse_amount(amount, market.asset(asset).decimals, "amount")
    if units > deficit:
        raise InvalidAmount("amount", units, f"must be <= the deficit of {asset} ({deficit})")
    return units


@exact
def quote_socialize_perp_loss(
    market: Market, perp_name: str, amount: Decimal | str | None = None
) -> PerpLossQuote:
    """Exactly what socialising a perp's loss does (contract 8.4), without changes.

    ``amount``: units of the settlement asset's deficit to socialise (default: all of it).

    Raises
    ------
    UnknownPerp, InvalidAmount
        Bad input.
    NothingToSocialize
        No deficit, or nobody holds a position in the perp.
    """
    perp = market.perp(perp_name)
    asset = perp.settlement_asset
    loss = _loss(market, asset, amount, perp_name)
    long, short = market.open_interest.get(perp_name, (ZERO, ZERO))
    if not long and not short:
        raise NothingToSocialize(perp_name, "nobody holds a position in it")
    ap = market.assets[asset]
    loss_value = CTX.multiply(loss, ap.price)  # units x quote/unit = quote
    delta = funding_delta_to_resolve_bankruptcy(loss_value, long, short, ap.decimals)
    positions: dict[str, PerpPosition] = {}
    for acc in market.accounts.values():
        pos = acc.position(perp_name)
        if pos is not None:
            # pnl = q·(P − E) − q·(F − f): a long pays Δ·|q| when f falls by Δ, a short
            # when f rises by Δ.
            f = pos.funding_index - delta if pos.size > ZERO else pos.funding_index + delta
            positions[acc.id] = PerpPosition(pos.size, pos.entry_price, f)
    return PerpLossQuote(
        perp=perp_name,
        asset=asset,
        loss=loss,
        loss_value=loss_value,
        open_interest_long=long,
        open_interest_short=short,
        funding_delta=delta,
        charged_value=CTX.multiply(delta, long + short),
        positions_after=positions,
    )


@exact
def quote_socialize_spot_loss(
    market: Market, asset: str, amount: Decimal | str | None = None
) -> SpotLossQuote:
    """Exactly what socialising ``asset``'s loss over its depositors does (contract 8.4).

    At most the whole supply is socialised; the rest stays in the deficit.

    Raises
    ------
    UnknownAsset, InvalidAmount
        Bad input.
    NothingToSocialize
        No deficit, or nobody supplies the asset.
    """
    ap = market.asset(asset)
    loss = _loss(market, asset, amount, asset)
    total = market.total_supply.get(asset, ZERO)
    if total <= ZERO:
        raise NothingToSocialize(asset, "nobody supplies it")
    loss = min(loss, total)
    balances = {
        acc.id: scaled_balance(acc.supplied(asset), loss, total, ap.decimals)
        for acc in market.accounts.values()
        if acc.supplied(asset)
    }
    index = market.supply_index.get(asset, ONE)
    return SpotLossQuote(
        asset=asset,
        loss=loss,
        total_supply=total,
        index_before=index,
        index_after=supply_index_after_loss(index, loss, total),
        taken=total - sum(balances.values(), ZERO),
        balances_after=balances,
    )
