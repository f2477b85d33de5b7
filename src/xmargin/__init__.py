"""xmargin: a risk engine for inter-asset collateralization.

Exact single-account math (Decimal) for decisions that move money, a columnar risk book
(NumPy) for monitoring and simulation, one contract (docs/contract.md) for both.
"""

from xmargin import mathlib as mathlib  # sets the exact Decimal context first
from xmargin.analytics.stress import StressResult, StressSummary, parse_shock, stress
from xmargin.errors import (
    CapExceeded,
    CategoryViolation,
    InputError,
    InsufficientBalance,
    InsufficientMargin,
    InvalidAmount,
    InvalidPrice,
    IsolationViolation,
    MarketFileError,
    NoPosition,
    NotBorrowable,
    NothingToLiquidate,
    NotLiquidatable,
    OpenInterestCapExceeded,
    PermissionDenied,
    PriceDeviation,
    Problem,
    RuleViolation,
    StalePrice,
    StoreError,
    UnknownAccount,
    UnknownAsset,
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
from xmargin.ledger.events import LedgerEvent
from xmargin.ledger.perps import (
    execute_liquidate_perp,
    execute_settle,
    execute_trade,
    set_funding_index,
)
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
from xmargin.risk.health import AccountHealth, account_health, weighted_sums
from xmargin.risk.liquidation import LiquidationQuote, quote_liquidation
from xmargin.risk.liquidation_price import LiquidationPrice, liquidation_price
from xmargin.risk.perp_liquidation import PerpLiquidationQuote, quote_perp_liquidation
from xmargin.risk.trading import SettleQuote, TradeQuote, quote_settle, quote_trade

__version__ = "0.1.0"

__all__ = [
    "Account",
    "AccountHealth",
    "AssetParams",
    "BonusPolicy",
    "CapExceeded",
    "CategoryParams",
    "CategoryViolation",
    "InputError",
    "InsufficientBalance",
    "InsufficientMargin",
    "InvalidAmount",
    "InvalidPrice",
    "IsolationViolation",
    "LedgerEvent",
    "LiquidationPrice",
    "LiquidationQuote",
    "Market",
    "MarketFileError",
    "MarketParams",
    "NoPosition",
    "NotBorrowable",
    "NotLiquidatable",
    "NothingToLiquidate",
    "OpenInterestCapExceeded",
    "PermissionDenied",
    "PerpLiquidationQuote",
    "PerpParams",
    "PerpPosition",
    "PriceDeviation",
    "Problem",
    "RuleViolation",
    "SettleQuote",
    "StalePrice",
    "StoreError",
    "StressResult",
    "StressSummary",
    "TradeQuote",
    "UnknownAccount",
    "UnknownAsset",
    "UnknownCategory",
    "UnknownPerp",
    "WouldLeaveDust",
    "XmarginError",
    "__version__",
    "account_health",
    "dump_market",
    "execute_borrow",
    "execute_deposit",
    "execute_liquidate",
    "execute_liquidate_perp",
    "execute_repay",
    "execute_settle",
    "execute_trade",
    "execute_withdraw",
    "liquidation_price",
    "load_market",
    "market_to_dict",
    "parse_market",
    "parse_shock",
    "quote_liquidation",
    "quote_perp_liquidation",
    "quote_settle",
    "quote_trade",
    "set_funding_index",
    "stress",
    "weighted_sums",
]
