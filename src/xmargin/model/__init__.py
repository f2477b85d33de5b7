"""Domain models: frozen parameters and the mutable market state."""

from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.params import AssetParams, BonusPolicy, CategoryParams, MarketParams
from xmargin.model.perps import PerpParams, PerpPosition

__all__ = [
    "Account",
    "AssetParams",
    "BonusPolicy",
    "CategoryParams",
    "Market",
    "MarketParams",
    "PerpParams",
    "PerpPosition",
]
