"""xmargin: a risk engine for inter-asset collateralization.

Exact single-account math (Decimal) for decisions that move money, a columnar risk book
(NumPy) for monitoring and simulation, one contract (docs/contract.md) for both.

The names below are imported at first use (PEP 562), so that ``import xmargin`` and
the command line start fast: only the Decimal context and the exception tree load
eagerly.
"""

import importlib
import typing

from xmargin import mathlib as mathlib  # sets the exact Decimal context first
from xmargin.errors import (
    AuctionCannotReset,
    AuctionNeedsReset,
    CapExceeded,
    CategoryViolation,
    InputError,
    InsufficientBalance,
    InsufficientMargin,
    InsufficientReserves,
    InsuranceFundCovers,
    InvalidAmount,
    InvalidPrice,
    InvalidTime,
    IsolationViolation,
    LiquidationDesignMismatch,
    MarketFileError,
    NoCounterparty,
    NoPosition,
    NotBankrupt,
    NotBorrowable,
    NotForSale,
    NothingToLiquidate,
    NothingToSocialize,
    NotLiquidatable,
    OpenInterestCapExceeded,
    PermissionDenied,
    PriceAboveMax,
    PriceDeviation,
    Problem,
    RuleViolation,
    StalePrice,
    StoreError,
    UnknownAccount,
    UnknownAsset,
    UnknownAuction,
    UnknownCategory,
    UnknownPerp,
    WouldLeaveDust,
    XmarginError,
)

if typing.TYPE_CHECKING:
    from xmargin.analytics.stress import StressResult, StressSummary, stress
    from xmargin.io.market_file import dump_market, load_market, market_to_dict, parse_market
    from xmargin.ledger.actions import (
        execute_borrow,
        execute_deposit,
        execute_liquidate,
        execute_repay,
        execute_withdraw,
    )
    from xmargin.ledger.auctions import (
        execute_auction_reset,
        execute_auction_start,
        execute_auction_take,
    )
    from xmargin.ledger.events import LedgerEvent
    from xmargin.ledger.loss_waterfall import (
        execute_deleverage,
        execute_socialize_perp_loss,
        execute_socialize_spot_loss,
    )
    from xmargin.ledger.options import (
        execute_liquidate_options,
        execute_trade_option,
        settle_expired_options,
    )
    from xmargin.ledger.perps import (
        execute_liquidate_perp,
        execute_settle,
        execute_trade,
        set_funding_index,
    )
    from xmargin.ledger.storefront import execute_absorb, execute_buy_collateral
    from xmargin.model import (
        Account,
        AssetParams,
        BonusPolicy,
        CategoryParams,
        Market,
        MarketParams,
        PerpParams,
        PerpPosition,
    )
    from xmargin.model.auction import Auction
    from xmargin.model.liquidation_params import (
        AuctionCurve,
        AuctionParams,
        LiquidationDesign,
        StorefrontParams,
        TargetHealthParams,
    )
    from xmargin.model.options import MarginMethod, OptionKind, OptionMarginParams, OptionParams
    from xmargin.model.portfolio_params import PortfolioMarginParams, Scenario, VolShock
    from xmargin.option_errors import OptionExpired, UnknownOption
    from xmargin.risk.adl import DeleverageQuote, quote_deleverage
    from xmargin.risk.auction import (
        AuctionResetQuote,
        AuctionStartQuote,
        AuctionTakeQuote,
        quote_auction_reset,
        quote_auction_start,
        quote_auction_take,
    )
    from xmargin.risk.auction_curves import auction_status, buffer_margin, max_fraction
    from xmargin.risk.black76 import black76, norm_cdf
    from xmargin.risk.greeks import Greeks, account_greeks
    from xmargin.risk.health import AccountHealth, account_health, weighted_sums
    from xmargin.risk.liquidation import LiquidationQuote, quote_liquidation
    from xmargin.risk.liquidation_price import LiquidationPrice, liquidation_price
    from xmargin.risk.option_liquidation import OptionLiquidationQuote, quote_option_liquidation
    from xmargin.risk.option_trading import OptionTradeQuote, SettledOption, quote_trade_option
    from xmargin.risk.options import mark_value, with_vol_shocks
    from xmargin.risk.perp_liquidation import PerpLiquidationQuote, quote_perp_liquidation
    from xmargin.risk.portfolio_margin import PortfolioMargin, portfolio_margins
    from xmargin.risk.shocks import parse_shock
    from xmargin.risk.socialized_loss import (
        PerpLossQuote,
        SpotLossQuote,
        quote_socialize_perp_loss,
        quote_socialize_spot_loss,
    )
    from xmargin.risk.storefront import (
        AbsorbQuote,
        BuyCollateralQuote,
        quote_absorb,
        quote_buy_collateral,
    )
    from xmargin.risk.target_health import quote_target_liquidation
    from xmargin.risk.trading import SettleQuote, TradeQuote, quote_settle, quote_trade

__version__ = "0.1.0"

#: Public name -> the module that defines it, imported at first use.
_LAZY: dict[str, str] = {
    "StressResult": "xmargin.analytics.stress",
    "StressSummary": "xmargin.analytics.stress",
    "stress": "xmargin.analytics.stress",
    "dump_market": "xmargin.io.market_file",
    "load_market": "xmargin.io.market_file",
    "market_to_dict": "xmargin.io.market_file",
    "parse_market": "xmargin.io.market_file",
    "execute_borrow": "xmargin.ledger.actions",
    "execute_deposit": "xmargin.ledger.actions",
    "execute_liquidate": "xmargin.ledger.actions",
    "execute_repay": "xmargin.ledger.actions",
    "execute_withdraw": "xmargin.ledger.actions",
    "execute_auction_reset": "xmargin.ledger.auctions",
    "execute_auction_start": "xmargin.ledger.auctions",
    "execute_auction_take": "xmargin.ledger.auctions",
    "LedgerEvent": "xmargin.ledger.events",
    "execute_deleverage": "xmargin.ledger.loss_waterfall",
    "execute_socialize_perp_loss": "xmargin.ledger.loss_waterfall",
    "execute_socialize_spot_loss": "xmargin.ledger.loss_waterfall",
    "execute_liquidate_options": "xmargin.ledger.options",
    "execute_trade_option": "xmargin.ledger.options",
    "settle_expired_options": "xmargin.ledger.options",
    "execute_liquidate_perp": "xmargin.ledger.perps",
    "execute_settle": "xmargin.ledger.perps",
    "execute_trade": "xmargin.ledger.perps",
    "set_funding_index": "xmargin.ledger.perps",
    "execute_absorb": "xmargin.ledger.storefront",
    "execute_buy_collateral": "xmargin.ledger.storefront",
    "Account": "xmargin.model",
    "AssetParams": "xmargin.model",
    "BonusPolicy": "xmargin.model",
    "CategoryParams": "xmargin.model",
    "Market": "xmargin.model",
    "MarketParams": "xmargin.model",
    "PerpParams": "xmargin.model",
    "PerpPosition": "xmargin.model",
    "Auction": "xmargin.model.auction",
    "AuctionCurve": "xmargin.model.liquidation_params",
    "AuctionParams": "xmargin.model.liquidation_params",
    "LiquidationDesign": "xmargin.model.liquidation_params",
    "StorefrontParams": "xmargin.model.liquidation_params",
    "TargetHealthParams": "xmargin.model.liquidation_params",
    "MarginMethod": "xmargin.model.options",
    "OptionKind": "xmargin.model.options",
    "OptionMarginParams": "xmargin.model.options",
    "OptionParams": "xmargin.model.options",
    "PortfolioMarginParams": "xmargin.model.portfolio_params",
    "Scenario": "xmargin.model.portfolio_params",
    "VolShock": "xmargin.model.portfolio_params",
    "OptionExpired": "xmargin.option_errors",
    "UnknownOption": "xmargin.option_errors",
    "DeleverageQuote": "xmargin.risk.adl",
    "quote_deleverage": "xmargin.risk.adl",
    "AuctionResetQuote": "xmargin.risk.auction",
    "AuctionStartQuote": "xmargin.risk.auction",
    "AuctionTakeQuote": "xmargin.risk.auction",
    "quote_auction_reset": "xmargin.risk.auction",
    "quote_auction_start": "xmargin.risk.auction",
    "quote_auction_take": "xmargin.risk.auction",
    "auction_status": "xmargin.risk.auction_curves",
    "buffer_margin": "xmargin.risk.auction_curves",
    "max_fraction": "xmargin.risk.auction_curves",
    "black76": "xmargin.risk.black76",
    "norm_cdf": "xmargin.risk.black76",
    "Greeks": "xmargin.risk.greeks",
    "account_greeks": "xmargin.risk.greeks",
    "AccountHealth": "xmargin.risk.health",
    "account_health": "xmargin.risk.health",
    "weighted_sums": "xmargin.risk.health",
    "LiquidationQuote": "xmargin.risk.liquidation",
    "quote_liquidation": "xmargin.risk.liquidation",
    "LiquidationPrice": "xmargin.risk.liquidation_price",
    "liquidation_price": "xmargin.risk.liquidation_price",
    "OptionLiquidationQuote": "xmargin.risk.option_liquidation",
    "quote_option_liquidation": "xmargin.risk.option_liquidation",
    "OptionTradeQuote": "xmargin.risk.option_trading",
    "SettledOption": "xmargin.risk.option_trading",
    "quote_trade_option": "xmargin.risk.option_trading",
    "mark_value": "xmargin.risk.options",
    "with_vol_shocks": "xmargin.risk.options",
    "PerpLiquidationQuote": "xmargin.risk.perp_liquidation",
    "quote_perp_liquidation": "xmargin.risk.perp_liquidation",
    "PortfolioMargin": "xmargin.risk.portfolio_margin",
    "portfolio_margins": "xmargin.risk.portfolio_margin",
    "parse_shock": "xmargin.risk.shocks",
    "PerpLossQuote": "xmargin.risk.socialized_loss",
    "SpotLossQuote": "xmargin.risk.socialized_loss",
    "quote_socialize_perp_loss": "xmargin.risk.socialized_loss",
    "quote_socialize_spot_loss": "xmargin.risk.socialized_loss",
    "AbsorbQuote": "xmargin.risk.storefront",
    "BuyCollateralQuote": "xmargin.risk.storefront",
    "quote_absorb": "xmargin.risk.storefront",
    "quote_buy_collateral": "xmargin.risk.storefront",
    "quote_target_liquidation": "xmargin.risk.target_health",
    "SettleQuote": "xmargin.risk.trading",
    "TradeQuote": "xmargin.risk.trading",
    "quote_settle": "xmargin.risk.trading",
    "quote_trade": "xmargin.risk.trading",
}


def __getattr__(name: str) -> typing.Any:
    """Import a public name's module at its first use, and keep the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'xmargin' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AbsorbQuote",
    "Account",
    "AccountHealth",
    "AssetParams",
    "Auction",
    "AuctionCannotReset",
    "AuctionCurve",
    "AuctionNeedsReset",
    "AuctionParams",
    "AuctionResetQuote",
    "AuctionStartQuote",
    "AuctionTakeQuote",
    "BonusPolicy",
    "BuyCollateralQuote",
    "CapExceeded",
    "CategoryParams",
    "CategoryViolation",
    "DeleverageQuote",
    "Greeks",
    "InputError",
    "InsufficientBalance",
    "InsufficientMargin",
    "InsufficientReserves",
    "InsuranceFundCovers",
    "InvalidAmount",
    "InvalidPrice",
    "InvalidTime",
    "IsolationViolation",
    "LedgerEvent",
    "LiquidationDesign",
    "LiquidationDesignMismatch",
    "LiquidationPrice",
    "LiquidationQuote",
    "MarginMethod",
    "Market",
    "MarketFileError",
    "MarketParams",
    "NoCounterparty",
    "NoPosition",
    "NotBankrupt",
    "NotBorrowable",
    "NotForSale",
    "NotLiquidatable",
    "NothingToLiquidate",
    "NothingToSocialize",
    "OpenInterestCapExceeded",
    "OptionExpired",
    "OptionKind",
    "OptionLiquidationQuote",
    "OptionMarginParams",
    "OptionParams",
    "OptionTradeQuote",
    "PermissionDenied",
    "PerpLiquidationQuote",
    "PerpLossQuote",
    "PerpParams",
    "PerpPosition",
    "PortfolioMargin",
    "PortfolioMarginParams",
    "PriceAboveMax",
    "PriceDeviation",
    "Problem",
    "RuleViolation",
    "Scenario",
    "SettleQuote",
    "SettledOption",
    "SpotLossQuote",
    "StalePrice",
    "StoreError",
    "StorefrontParams",
    "StressResult",
    "StressSummary",
    "TargetHealthParams",
    "TradeQuote",
    "UnknownAccount",
    "UnknownAsset",
    "UnknownAuction",
    "UnknownCategory",
    "UnknownOption",
    "UnknownPerp",
    "VolShock",
    "WouldLeaveDust",
    "XmarginError",
    "__version__",
    "account_greeks",
    "account_health",
    "auction_status",
    "black76",
    "buffer_margin",
    "dump_market",
    "execute_absorb",
    "execute_auction_reset",
    "execute_auction_start",
    "execute_auction_take",
    "execute_borrow",
    "execute_buy_collateral",
    "execute_deleverage",
    "execute_deposit",
    "execute_liquidate",
    "execute_liquidate_options",
    "execute_liquidate_perp",
    "execute_repay",
    "execute_settle",
    "execute_socialize_perp_loss",
    "execute_socialize_spot_loss",
    "execute_trade",
    "execute_trade_option",
    "execute_withdraw",
    "liquidation_price",
    "load_market",
    "mark_value",
    "market_to_dict",
    "max_fraction",
    "norm_cdf",
    "parse_market",
    "parse_shock",
    "portfolio_margins",
    "quote_absorb",
    "quote_auction_reset",
    "quote_auction_start",
    "quote_auction_take",
    "quote_buy_collateral",
    "quote_deleverage",
    "quote_liquidation",
    "quote_option_liquidation",
    "quote_perp_liquidation",
    "quote_settle",
    "quote_socialize_perp_loss",
    "quote_socialize_spot_loss",
    "quote_target_liquidation",
    "quote_trade",
    "quote_trade_option",
    "set_funding_index",
    "settle_expired_options",
    "stress",
    "weighted_sums",
    "with_vol_shocks",
]
