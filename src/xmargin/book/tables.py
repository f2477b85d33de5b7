"""The book's view of the market packing: entry codes and per-code price tables.

Assets are indexed in market-file order (``a``); each asset has two codes per category,
``c * 2K + 2a`` (supply) and ``c * 2K + 2a + 1`` (borrow); index ``C`` (one past the
last category) means "no category". The weights per code are the market packing's
(:class:`xmargin.fast.packing.SpotTables`, the category rule applied), flattened; the
size haircut is applied per position in the kernels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.book.kernels import PriceTables
from xmargin.fast.packing import SpotTables
from xmargin.model.params import AssetParams, CategoryParams

__all__ = ["Layout"]


@dataclass(frozen=True, eq=False)
class Layout:
    """Names and per-code float64 vectors of a market, as the book indexes them.

    ``w_m``, ``w_i`` and ``ksz`` hold one value per code: the maintenance and initial
    weights of the packing and the asset's size factor.
    """

    spot: SpotTables
    w_m: Float64Array1D = field(init=False)
    w_i: Float64Array1D = field(init=False)
    ksz: Float64Array1D = field(init=False)

    def __post_init__(self) -> None:
        sp = self.spot
        object.__setattr__(self, "w_m", np.ascontiguousarray(sp.maintenance.reshape(-1)))
        object.__setattr__(self, "w_i", np.ascontiguousarray(sp.initial.reshape(-1)))
        ksz = np.tile(np.repeat(sp.size_factor, 2), len(sp.categories) + 1)
        object.__setattr__(self, "ksz", ksz)

    @classmethod
    def of(
        cls, assets: Mapping[str, AssetParams], categories: Mapping[str, CategoryParams]
    ) -> Layout:
        """Pack ``assets`` and ``categories`` (contract 1.2) and index them."""
        return cls(SpotTables.of(assets, categories))

    @property
    def assets(self) -> tuple[str, ...]:
        return self.spot.assets

    @property
    def asset_index(self) -> Mapping[str, int]:
        return self.spot.asset_index

    @property
    def categories(self) -> tuple[str, ...]:
        return self.spot.categories

    @property
    def category_index(self) -> Mapping[str, int]:
        return self.spot.category_index

    @property
    def decimals(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.spot.decimals)

    @property
    def k2(self) -> int:
        return 2 * len(self.assets)

    @property
    def no_category(self) -> int:
        """The category index of an account without a category."""
        return self.spot.no_category

    @property
    def n_codes(self) -> int:
        return (len(self.categories) + 1) * self.k2

    @property
    def code_dtype(self) -> type[np.unsignedinteger[Any]]:
        if self.n_codes <= 1 << 8:
            return np.uint8
        return np.uint16 if self.n_codes <= 1 << 16 else np.uint32

    @property
    def cat_dtype(self) -> type[np.unsignedinteger[Any]]:
        """Each account's category index (``C`` = none) in one byte where it fits."""
        return np.uint8 if len(self.categories) < 1 << 8 else np.uint16

    def code(self, category: int, asset: int, side: int) -> int:
        return category * self.k2 + 2 * asset + side

    def tables(self, prices: Mapping[str, Decimal], warn: Decimal) -> PriceTables:
        """Float64 tables at ``prices`` (every asset) and warning level ``warn``."""
        price = self.spot.prices_of(prices)
        hp = np.tile(np.repeat(price, 2), len(self.categories) + 1)
        t = PriceTables(
            k2=self.k2,
            hp=hp,
            hw=self.w_m,
            wi=self.w_i,
            hk=self.ksz,
            tab=np.empty(2 * self.n_codes),
            warn=float(warn),
        )
        self._fill(t, np.arange(self.n_codes))
        return t

    def _fill(self, t: PriceTables, codes: Int64Array1D) -> None:
        """``tab`` for ``codes``: price x weight, on the code's side (supply, borrow)."""
        pw = t.hp[codes] * self.w_m[codes]  # quote/unit x weight
        borrow = (codes & 1).astype(bool)
        t.tab[2 * codes] = np.where(borrow, 0.0, pw)
        t.tab[2 * codes + 1] = np.where(borrow, pw, 0.0)

    def set_prices(self, t: PriceTables, prices: Mapping[int, float]) -> None:
        """Change some assets' prices in ``t``, in place (both sides, every category)."""
        if not prices:
            return
        per_cat = np.arange(len(self.categories) + 1, dtype=np.int64) * self.k2
        assets = np.fromiter(prices, dtype=np.int64, count=len(prices))
        price = np.fromiter(prices.values(), dtype=np.float64, count=len(prices))
        supply = (per_cat[:, None] + 2 * assets[None, :]).ravel()
        each = np.broadcast_to(price, (per_cat.size, price.size)).ravel()
        t.hp[supply] = each
        t.hp[supply + 1] = each
        self._fill(t, np.concatenate([supply, supply + 1]))
