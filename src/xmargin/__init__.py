"""xmargin: a risk engine for inter-asset collateralization.

Exact single-account math (Decimal) for decisions that move money, a columnar risk book
(NumPy) for monitoring and simulation, one contract (docs/contract.md) for both.
"""

from xmargin import mathlib as mathlib  # sets the exact Decimal context first
from xmargin.analytics.stress import StressResult, StressSummary, stress
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
    NotBorrowable,
    NothingToLiquidate,
    NotLiquidatable,
    PermissionDenied,
    PriceDeviation,
    Problem,
    RuleViolation,
    StalePrice,
    StoreError,
    UnknownAccount,
    UnknownAsset,
    UnknownCategory,
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
from xmargin.model import Account, AssetParams, BonusPolicy, CategoryParams, Market, MarketParams
from xmargin.risk.health import AccountHealth, account_health, weighted_sums
from xmargin.risk.liquidation import LiquidationQuote, quote_liquidation
from xmargin.risk.liquidation_price import LiquidationPrice, liquidation_price
from xmargin.risk.shocks import parse_shock

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
    "NotBorrowable",
    "NotLiquidatable",
    "NothingToLiquidate",
    "PermissionDenied",
    "PriceDeviation",
    "Problem",
    "RuleViolation",
    "StalePrice",
    "StoreError",
    "StressResult",
    "StressSummary",
    "UnknownAccount",
    "UnknownAsset",
    "UnknownCategory",
    "WouldLeaveDust",
    "XmarginError",
    "__version__",
    "account_health",
    "dump_market",
    "execute_borrow",
    "execute_deposit",
    "execute_liquidate",
    "execute_repay",
    "execute_withdraw",
    "liquidation_price",
    "load_market",
    "market_to_dict",
    "parse_market",
    "parse_shock",
    "quote_liquidation",
    "stress",
    "weighted_sums",
]
