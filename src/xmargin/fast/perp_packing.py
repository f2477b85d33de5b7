"""The float64 packing of a market's perps (contract 5), beside the spot tables.

:class:`PerpTables` holds one value per perp (market-file order, index ``j``): its
underlying's and settlement asset's index in :class:`~xmargin.fast.packing.SpotTables`
(market-file asset order), the margins before the size factor, the fees, the PnL weight,
the funding index F and the mark price where one is given (NaN: the underlying's price).
The market's ``pnl_initial_cap`` is ``cap`` (``inf``: none). Read by the risk book and
the simulations through the rules of :mod:`xmargin.fast.perps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

import numpy as np

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.errors import UnknownPerp
from xmargin.fast.packing import check_float_range
from xmargin.model.market import Market
from xmargin.model.perps import PerpParams

__all__ = ["PerpTables"]


@dataclass(frozen=True, eq=False)
class PerpTables:
    """Per-perp float64 parameters (module docstring)."""

    names: tuple[str, ...]
    underlying: Int64Array1D
    settlement: Int64Array1D
    initial_margin: Float64Array1D
    maintenance_margin: Float64Array1D
    size_factor: Float64Array1D
    liquidation_fee: Float64Array1D
    insurance_fee: Float64Array1D
    pnl_initial_weight: Float64Array1D
    funding_index: Float64Array1D
    mark_price: Float64Array1D
    cap: float
    perp_index: Mapping[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "perp_index", {s: j for j, s in enumerate(self.names)})

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def of(
        cls,
        perps: Mapping[str, PerpParams],
        asset_index: Mapping[str, int],
        pnl_initial_cap: Decimal | None,
    ) -> PerpTables:
        """Pack ``perps``; ``asset_index``: the spot tables' index of every asset."""
        ps = list(perps.values())
        for p in ps:
            for key in ("initial_margin", "maintenance_margin", "size_factor"):
                check_float_range(f"perps.{p.name}.{key}", getattr(p, key))

        def col(key: str) -> Float64Array1D:
            return np.array([float(getattr(p, key)) for p in ps], dtype=np.float64)

        return cls(
            names=tuple(perps),
            underlying=np.array([asset_index[p.underlying] for p in ps], dtype=np.int64),
            settlement=np.array([asset_index[p.settlement_asset] for p in ps], dtype=np.int64),
            initial_margin=col("initial_margin"),
            maintenance_margin=col("maintenance_margin"),
            size_factor=col("size_factor"),
            liquidation_fee=col("liquidation_fee"),
            insurance_fee=col("insurance_fee"),
            pnl_initial_weight=col("pnl_initial_weight"),
            funding_index=col("funding_index"),
            mark_price=np.array(
                [np.nan if p.mark_price is None else float(p.mark_price) for p in ps],
                dtype=np.float64,
            ),
            cap=np.inf if pnl_initial_cap is None else float(pnl_initial_cap),
        )

    @classmethod
    def of_market(cls, market: Market) -> PerpTables:
        """The perp packing of a :class:`~xmargin.model.market.Market` (asset indexes in
        its market-file order, as :class:`~xmargin.fast.packing.SpotTables`)."""
        index = {s: a for a, s in enumerate(market.assets)}
        return cls.of(market.perps, index, market.params.pnl_initial_cap)

    def index_of(self, name: str) -> int:
        """The index of perp ``name``; :class:`~xmargin.errors.UnknownPerp` if none."""
        try:
            return self.perp_index[name]
        except KeyError:
            raise UnknownPerp(name) from None

    def prices_of(self, asset_price: Float64Array1D) -> Float64Array1D:
        """P per perp (quote per unit): its mark price, else its underlying's price in
        ``asset_price`` (per asset, spot-table order)."""
        under = asset_price[self.underlying] if len(self) else np.zeros(0)
        out: Float64Array1D = np.where(np.isnan(self.mark_price), under, self.mark_price)
        return out

    def with_funding_index(self, indexes: Mapping[str, float]) -> PerpTables:
        """The same tables with some perps' funding index F replaced."""
        f = self.funding_index.copy()
        for name, value in indexes.items():
            f[self.index_of(name)] = value
        return replace(self, funding_index=f)
