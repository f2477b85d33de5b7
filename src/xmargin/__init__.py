"""xmargin: a risk engine for inter-asset collateralization.

Exact single-account math (Decimal) for decisions that move money, a columnar risk book
(NumPy) for monitoring and simulation, one contract (docs/contract.md) for both.
"""

from xmargin import mathlib as mathlib  # sets the exact Decimal context first
from xmargin.analytics.stress import StressResult, StressSummary, stress
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
