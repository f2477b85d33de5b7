"""Errors of the liquidation designs and the loss waterfall (contract 8).

Part of the one exception tree of :mod:`xmargin.errors`, which re-exports every name
here; kept apart so that each module stays a readable size::

    InputError (CLI exit 2)
      UnknownAuction                  unknown_auction
      InvalidTime                     invalid_time
      LiquidationDesignMismatch       liquidation_design_mismatch
    RuleViolation (CLI exit 1)
      AuctionNeedsReset               auction_needs_reset
      AuctionCannotReset              auction_cannot_reset
      PriceAboveMax                   price_above_max
      NotForSale                      not_for_sale
      InsufficientReserves            insufficient_reserves
      NothingToSocialize              nothing_to_socialize
      NotBankrupt                     not_bankrupt
      InsuranceFundCovers             insurance_fund_covers
      NoCounterparty                  no_counterparty
"""

from __future__ import annotations

from decimal import Decimal

from xmargin.errors import InputError, RuleViolation

__all__ = [
    "AuctionCannotReset",
    "AuctionNeedsReset",
    "InsufficientReserves",
    "InsuranceFundCovers",
    "InvalidTime",
    "LiquidationDesignMismatch",
    "NoCounterparty",
    "NotBankrupt",
    "NotForSale",
    "NothingToSocialize",
    "PriceAboveMax",
    "UnknownAuction",
]


class UnknownAuction(InputError):
    code = "unknown_auction"

    def __init__(self, auction_id: object) -> None:
        self.auction_id = auction_id
        super().__init__(f"unknown auction {auction_id!s} (no running auction has that id)")


class InvalidTime(InputError):
    """A time that cannot be used: missing, malformed, or before the market's clock."""

    code = "invalid_time"

    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why}")


class LiquidationDesignMismatch(InputError):
    """A design's command on a market whose ``liquidation`` is another design."""

    code = "liquidation_design_mismatch"

    def __init__(self, command: str, needed: str, actual: str) -> None:
        self.command, self.needed, self.actual = command, needed, actual
        super().__init__(
            f"{command} needs market.liquidation = {needed}; this market's is '{actual}'"
        )


class AuctionNeedsReset(RuleViolation):
    code = "auction_needs_reset"

    def __init__(self, auction_id: int, why: str) -> None:
        self.auction_id = auction_id
        super().__init__(f"auction {auction_id} needs a reset ({why}); run auction reset first")


class AuctionCannotReset(RuleViolation):
    code = "auction_cannot_reset"

    def __init__(self, auction_id: int, why: str) -> None:
        self.auction_id = auction_id
        super().__init__(f"auction {auction_id} cannot be reset: {why}")


class PriceAboveMax(RuleViolation):
    code = "price_above_max"

    def __init__(self, auction_id: int, price: Decimal, max_price: Decimal) -> None:
        self.auction_id, self.price, self.max_price = auction_id, price, max_price
        super().__init__(
            f"auction {auction_id}: the price {price} is above the most the taker accepts, "
            f"{max_price}"
        )


class NotForSale(RuleViolation):
    code = "not_for_sale"

    def __init__(self, base: str, reserves: Decimal, target: Decimal) -> None:
        self.base, self.reserves, self.target = base, reserves, target
        super().__init__(
            f"collateral is not for sale: reserves of {base} are {reserves}, at or above "
            f"target_reserves {target}"
        )


class InsufficientReserves(RuleViolation):
    code = "insufficient_reserves"

    def __init__(self, asset: str, wanted: Decimal | None, held: Decimal) -> None:
        self.asset, self.wanted, self.held = asset, wanted, held
        if wanted is None:
            super().__init__(f"the protocol holds no {asset} to sell")
        else:
            super().__init__(
                f"the protocol holds {held} {asset}, less than the {wanted} this purchase buys"
            )


class NothingToSocialize(RuleViolation):
    code = "nothing_to_socialize"

    def __init__(self, what: str, why: str) -> None:
        self.what = what
        super().__init__(f"{what}: nothing to socialize: {why}")


class NotBankrupt(RuleViolation):
    code = "not_bankrupt"

    def __init__(self, account: str, net_value: Decimal) -> None:
        self.account, self.net_value = account, net_value
        super().__init__(
            f"account {account!r} is not bankrupt: its net value {net_value} is not below 0"
        )


class InsuranceFundCovers(RuleViolation):
    code = "insurance_fund_covers"

    def __init__(self, account: str, shortfall: Decimal, fund_value: Decimal) -> None:
        self.account, self.shortfall, self.fund_value = account, shortfall, fund_value
        super().__init__(
            f"account {account!r}: the insurance fund ({fund_value} in quote) covers its "
            f"shortfall {shortfall}; liquidate it instead of deleveraging others"
        )


class NoCounterparty(RuleViolation):
    code = "no_counterparty"

    def __init__(self, account: str, perp: str) -> None:
        self.account, self.perp = account, perp
        super().__init__(
            f"account {account!r}: no profitable opposite position in {perp} to deleverage"
        )
