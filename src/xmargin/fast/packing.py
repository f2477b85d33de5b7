"""One float64 packing of a market's parameters, for every float kernel.

Built once from the validated parameters, through the exact engine's own category rule
(:func:`xmargin.risk.weights.category_weights`), and read by the risk book, stress,
Monte Carlo, cascades and scenarios alike. It is organised by kind of position: the
market's rules (:class:`MarketRules`), then one table set per position kind —
:class:`SpotTables` for supply and borrow balances. A new kind (perpetual positions)
adds its own table set beside ``spot`` in :class:`MarketPack`; nothing else changes.

Spot tables are indexed by category ``c`` (market-file order; ``C``, one past the last,
means "no category"), asset ``a`` (market-file order) and side (0 supply, 1 borrow):

- ``initial[c, a, side]``: collateral factor (supply) or borrow weight (borrow);
- ``maintenance[c, a, side]``: liquidation threshold or maintenance borrow weight;
- ``bonus[c, a]``: liquidation bonus; per asset ``size_factor``, ``protocol_fee``,
  ``price`` (quote per unit) and ``decimals``.

Flattened in C order, ``initial`` and ``maintenance`` are one value per *code*
``c * 2K + 2a + side``, the risk book's entry codes.

A pack keeps the validated parameters it was built from, so that an analysis that asks
"what if this asset had other parameters" derives a new pack from them
(:meth:`MarketPack.with_asset_params`: the parameters re-validated, the category rule
applied again) instead of editing packed weights by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.errors import InputError, UnknownAsset
from xmargin.fast.liquidation import POLICY_CODE
from xmargin.model.market import Market
from xmargin.model.params import AssetParams, CategoryParams, MarketParams
from xmargin.model.problems import revalidated
from xmargin.risk.weights import category_weights

__all__ = [
    "MIN_FLOAT",
    "N_RULES",
    "R_CLOSE_FACTOR",
    "R_FULL_HEALTH",
    "R_MAX_BONUS",
    "R_MIN_LEFTOVER",
    "R_POLICY",
    "R_SMALL_VALUE",
    "MarketPack",
    "MarketRules",
    "SpotTables",
    "check_float_range",
]

#: Smallest non-zero price, weight or size factor the float kernels hold: every product
#: of units (>= 1e-36), price and weight then stays a normal float64, far from underflow.
MIN_FLOAT = Decimal("1e-100")

#: Positions in :meth:`MarketRules.vector`.
R_CLOSE_FACTOR, R_FULL_HEALTH, R_SMALL_VALUE, R_MIN_LEFTOVER, R_POLICY, R_MAX_BONUS = range(6)
N_RULES = 6


def check_float_range(where: str, value: Decimal) -> None:
    """Refuse a non-zero ``value`` below :data:`MIN_FLOAT` (it would lose float precision)."""
    if value and value < MIN_FLOAT:
        raise InputError(
            f"{where}: {value} is below {MIN_FLOAT}, the smallest the risk book holds; "
            "use the exact engine (xmargin health) for this market"
        )


@dataclass(frozen=True)
class MarketRules:
    """The ``[market]`` table's liquidation rules (contract 3) as float64."""

    close_factor: float
    full_liquidation_health: float
    small_position_value: float
    min_leftover_value: float
    bonus_policy: int
    max_bonus: float

    @classmethod
    def of(cls, params: MarketParams) -> MarketRules:
        return cls(
            float(params.close_factor),
            float(params.full_liquidation_health),
            float(params.small_position_value),
            float(params.min_leftover_value),
            POLICY_CODE[params.bonus_policy],
            float(params.max_bonus),
        )

    def vector(self) -> Float64Array1D:
        """The rules as one vector (positions ``R_*``), as the kernels take them."""
        return np.array(
            [
                self.close_factor,
                self.full_liquidation_health,
                self.small_position_value,
                self.min_leftover_value,
                float(self.bonus_policy),
                self.max_bonus,
            ]
        )


@dataclass(frozen=True, eq=False)
class SpotTables:
    """Per (category, asset, side) weights and per-asset parameters (module docstring)."""

    assets: tuple[str, ...]
    categories: tuple[str, ...]
    price: Float64Array1D
    decimals: Int64Array1D
    initial: NDArray[np.float64]
    maintenance: NDArray[np.float64]
    bonus: NDArray[np.float64]
    size_factor: Float64Array1D
    protocol_fee: Float64Array1D
    asset_index: Mapping[str, int] = field(init=False)
    category_index: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "asset_index", {s: i for i, s in enumerate(self.assets)})
        object.__setattr__(self, "category_index", {s: i for i, s in enumerate(self.categories)})

    @property
    def no_category(self) -> int:
        """The category index of an account without a category."""
        return len(self.categories)

    @property
    def borrow_weight(self) -> Float64Array1D:
        """Per asset (categories change only supply-side weights)."""
        out: Float64Array1D = self.initial[self.no_category, :, 1]
        return out

    @property
    def maintenance_borrow_weight(self) -> Float64Array1D:
        out: Float64Array1D = self.maintenance[self.no_category, :, 1]
        return out

    @classmethod
    def of(
        cls, assets: Mapping[str, AssetParams], categories: Mapping[str, CategoryParams]
    ) -> SpotTables:
        """Pack ``assets`` and ``categories``; the category rule of contract 1.2 applied."""
        names = tuple(assets)
        cats = tuple(categories)
        shape = (len(cats) + 1, len(names))
        initial = np.empty((*shape, 2))
        maintenance = np.empty((*shape, 2))
        bonus = np.empty(shape)
        for a, sym in enumerate(names):
            ap = assets[sym]
            for name in ("collateral_factor", "liquidation_threshold", "size_factor"):
                check_float_range(f"assets.{sym}.{name}", getattr(ap, name))
            for c in range(len(cats) + 1):
                cp = categories[cats[c]] if c < len(cats) else None
                w = category_weights(ap, cp)
                if cp is not None and sym in cp.assets:
                    loc = f"categories.{cats[c]}"
                    check_float_range(f"{loc}.collateral_factor", w.collateral_factor)
                    check_float_range(f"{loc}.liquidation_threshold", w.liquidation_threshold)
                initial[c, a] = (float(w.collateral_factor), float(ap.borrow_weight))
                maintenance[c, a] = (
                    float(w.liquidation_threshold),
                    float(ap.maintenance_borrow_weight),
                )
                bonus[c, a] = float(w.liquidation_bonus)
        params = [assets[s] for s in names]
        return cls(
            assets=names,
            categories=cats,
            price=np.array([float(p.price) for p in params]),
            decimals=np.array([p.decimals for p in params], dtype=np.int64),
            initial=initial,
            maintenance=maintenance,
            bonus=bonus,
            size_factor=np.array([float(p.size_factor) for p in params]),
            protocol_fee=np.array([float(p.protocol_fee) for p in params]),
        )

    def prices_of(self, prices: Mapping[str, Decimal]) -> Float64Array1D:
        """Float64 prices of every asset from exact ``prices`` (each within range)."""
        out = np.empty(len(self.assets))
        for a, sym in enumerate(self.assets):
            p = prices[sym]
            check_float_range(f"assets.{sym}.price", p)
            out[a] = float(p)
        return out


@dataclass(frozen=True, eq=False)
class MarketPack:
    """Everything the float kernels read about a market, by kind of position, and the
    validated parameters it was packed from (``params``, ``assets``, ``categories``)."""

    quote: str
    rules: MarketRules
    spot: SpotTables
    params: MarketParams
    assets: Mapping[str, AssetParams]
    categories: Mapping[str, CategoryParams]

    @classmethod
    def of(
        cls,
        params: MarketParams,
        assets: Mapping[str, AssetParams],
        categories: Mapping[str, CategoryParams],
    ) -> MarketPack:
        return cls(
            params.quote,
            MarketRules.of(params),
            SpotTables.of(assets, categories),
            params,
            dict(assets),
            dict(categories),
        )

    def with_asset_params(
        self, changes: Mapping[str, Mapping[str, object]], where: str = "asset"
    ) -> MarketPack:
        """The pack of the same market with some assets' parameters changed.

        ``changes`` maps an asset to the fields that change (``{"WETH":
        {"liquidation_threshold": Decimal("0.8")}}``). Each changed asset is validated
        again as a market file's is (``cf <= lt <= 1`` ...), and the pack is rebuilt
        through the category rule, so an account whose category lists the asset keeps the
        category's weights (contract 1.2). Assets, categories and their order stay.

        Raises
        ------
        UnknownAsset
            An asset the market does not list (``where`` names the option).
        MarketFileError
            Parameters a market file's validation would refuse, located
            (``assets.WETH.liquidation_threshold``); ``where`` is the source.
        """
        assets = dict(self.assets)
        for sym, update in changes.items():
            if sym not in assets:
                raise UnknownAsset(sym, where)
            assets[sym] = revalidated(assets[sym], update, f"assets.{sym}", where)
        return MarketPack.of(self.params, assets, self.categories)

    @classmethod
    def of_market(cls, market: Market) -> MarketPack:
        """The packing of a :class:`~xmargin.model.market.Market`."""
        return cls.of(market.params, market.assets, market.categories)
