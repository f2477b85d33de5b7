"""Per-asset parameter vectors of the book, and the float64 range it can hold exactly enough.

Assets are indexed in market-file order (``a``); each asset has two codes, ``2a``
(supply) and ``2a + 1`` (borrow). Categories are indexed in file order; index ``C`` (one
past the last) means "no category". Weight tables are flat ``(C + 1) x 2K``: the category
rule of contract 1.2 is applied when the table is built, the size haircut per position in
the kernels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.book.kernels import PriceTables
from xmargin.errors import InputError
from xmargin.model.params import AssetParams, CategoryParams

__all__ = ["MIN_FLOAT", "Layout", "check_float_range"]

#: Smallest non-zero price, weight or size factor the book holds: every product of
#: units (>= 1e-36), price and weight then stays a normal float64, far from underflow.
MIN_FLOAT = Decimal("1e-100")


def check_float_range(where: str, value: Decimal) -> None:
    """Refuse a non-zero ``value`` below :data:`MIN_FLOAT` (it would lose float precision)."""
    if value and value < MIN_FLOAT:
        raise InputError(
            f"{where}: {value} is below {MIN_FLOAT}, the smallest the risk book holds; "
            "use the exact engine (xmargin health) for this market"
        )


@dataclass(frozen=True)
class Layout:
    """Names and static float64 vectors of a market, as the book indexes them.

    A code is ``category * 2K + 2 * asset + side``; ``w_m``, ``w_i`` and ``ksz`` hold one
    value per code (the category rule of contract 1.2 already applied).
    """

    assets: tuple[str, ...]
    asset_index: Mapping[str, int]
    categories: tuple[str, ...]
    category_index: Mapping[str, int]
    decimals: tuple[int, ...]
    w_m: Float64Array1D
    w_i: Float64Array1D
    ksz: Float64Array1D

    @property
    def k2(self) -> int:
        return 2 * len(self.assets)

    @property
    def no_category(self) -> int:
        """The category index of an account without a category."""
        return len(self.categories)

    @property
    def n_codes(self) -> int:
        return (len(self.categories) + 1) * self.k2

    @property
    def code_dtype(self) -> type[np.unsignedinteger[Any]]:
        return np.uint16 if self.n_codes <= 1 << 16 else np.uint32

    def code(self, category: int, asset: int, side: int) -> int:
        return category * self.k2 + 2 * asset + side

    def asset_of(self, code: int) -> int:
        return (code % self.k2) >> 1

    @classmethod
    def of(
        cls, assets: Mapping[str, AssetParams], categories: Mapping[str, CategoryParams]
    ) -> Layout:
        """Index ``assets`` and ``categories``; build the weight tables (contract 1.2)."""
        names = tuple(assets)
        cats = tuple(categories)
        k2 = 2 * len(names)
        n_cat = len(cats) + 1
        w_m = np.empty((n_cat, k2))
        w_i = np.empty((n_cat, k2))
        ksz = np.empty((n_cat, k2))
        for a, sym in enumerate(names):
            ap = assets[sym]
            loc = f"assets.{sym}"
            for field in ("collateral_factor", "liquidation_threshold", "size_factor"):
                check_float_range(f"{loc}.{field}", getattr(ap, field))
            ksz[:, 2 * a] = ksz[:, 2 * a + 1] = float(ap.size_factor)
            for c in range(n_cat):
                cf, lt = ap.collateral_factor, ap.liquidation_threshold
                if c < len(cats):
                    cp = categories[cats[c]]
                    if sym in cp.assets:
                        # Contract 1.2: the category's weights replace the asset's.
                        cf, lt = cp.collateral_factor, cp.liquidation_threshold
                        check_float_range(f"categories.{cats[c]}.collateral_factor", cf)
                        check_float_range(f"categories.{cats[c]}.liquidation_threshold", lt)
                w_i[c, 2 * a] = float(cf)
                w_m[c, 2 * a] = float(lt)
                w_i[c, 2 * a + 1] = float(ap.borrow_weight)
                w_m[c, 2 * a + 1] = float(ap.maintenance_borrow_weight)
        return cls(
            assets=names,
            asset_index={s: i for i, s in enumerate(names)},
            categories=cats,
            category_index={s: i for i, s in enumerate(cats)},
            decimals=tuple(assets[s].decimals for s in names),
            w_m=w_m.ravel(),
            w_i=w_i.ravel(),
            ksz=ksz.ravel(),
        )

    def tables(self, prices: Mapping[str, Decimal], warn: Decimal) -> PriceTables:
        """Float64 tables at ``prices`` (every asset) and warning level ``warn``."""
        price = np.empty(len(self.assets))
        for a, sym in enumerate(self.assets):
            p = prices[sym]
            check_float_range(f"assets.{sym}.price", p)
            price[a] = float(p)
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
        """``tab`` for ``codes``: ±price x weight, and price x weight."""
        pw = t.hp[codes] * self.w_m[codes]
        borrow = (codes & 1).astype(bool)
        t.tab[2 * codes] = np.where(borrow, -pw, pw)
        t.tab[2 * codes + 1] = pw

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
