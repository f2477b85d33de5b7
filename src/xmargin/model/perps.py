"""Perpetual futures: frozen market parameters and the immutable position (contract 5).

A perp is priced by its underlying asset's price P (the oracle price); its PnL, funding
and fees settle into the balance of its settlement asset. ``funding_index`` F is market
state that the oracle moves (:func:`xmargin.ledger.perps.set_funding_index`), replaced with
``model_copy(update=...)`` as an asset's price is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from xmargin.mathlib import ONE, ZERO
from xmargin.model.numbers import Fraction, NonNegative, Number, Positive

__all__ = ["PerpParams", "PerpPosition"]

_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)


def _margin(d: Decimal) -> Decimal:
    if not ZERO < d <= ONE:
        raise ValueError(f"must be in (0, 1], was {d}")
    return d


Margin = Annotated[Number, AfterValidator(_margin)]


class PerpParams(BaseModel):
    """One ``[perps.X]`` table (contract 5): a perpetual future on an asset of the market.

    Cross-field rules: 0 < maintenance_margin <= initial_margin <= 1, and
    liquidation_fee + insurance_fee < maintenance_margin (a liquidation's fees never
    take more than the margin they are paid from). Whether ``underlying`` and
    ``settlement_asset`` name assets of the market is checked by the loader.
    """

    model_config = _FROZEN

    name: Annotated[StrictStr, Field(min_length=1)]
    underlying: Annotated[StrictStr, Field(min_length=1)]
    settlement_asset: Annotated[StrictStr, Field(min_length=1)]
    initial_margin: Margin
    maintenance_margin: Margin
    size_factor: NonNegative = ZERO
    liquidation_fee: NonNegative = ZERO
    insurance_fee: NonNegative = ZERO
    funding_index: Number = ZERO
    pnl_initial_weight: Fraction = ONE
    open_interest_cap: NonNegative | None = None
    # Extension (docs/contract.md 6.5): a mark price P apart from the underlying's price
    # (a basis). Price shocks move it with the underlying, as an option's forward.
    mark_price: Positive | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        problems: list[str] = []
        if self.maintenance_margin > self.initial_margin:
            problems.append(
                f"@maintenance_margin: must be <= initial_margin ({self.initial_margin}), "
                f"was {self.maintenance_margin}"
            )
        fees = self.liquidation_fee + self.insurance_fee
        if fees >= self.maintenance_margin:
            problems.append(
                "@liquidation_fee: liquidation_fee + insurance_fee must be < "
                f"maintenance_margin ({self.maintenance_margin}), was {fees}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


@dataclass(frozen=True, slots=True)
class PerpPosition:
    """A position in one perp: ``size`` q in signed base units (> 0 long), ``entry_price``
    E (quote per unit, > 0) and ``funding_index`` f (F when funding was last settled).

    Immutable: a trade replaces the position (``Account.set_perp``).
    """

    size: Decimal
    entry_price: Decimal
    funding_index: Decimal
