"""Where liquidators sell seized collateral: constant-product pools and depth curves.

Each asset may declare a ``liquidity`` table in the market file (contract extension, see
:class:`xmargin.model.params.LiquidityParams`). An asset without one is sold at mid,
without slippage or price impact.

Constant product (``cpmm``), re-centred on the mid ``m``: with ``k = x0 * y0`` the pool
holds ``X = sqrt(k / m)`` units and ``Y = sqrt(k * m)`` quote. Selling ``q`` units:

- proceeds ``F(q) = Y q / (X + q) = m X q / (X + q)``;
- average price ``m X / (X + q)``: below mid by the fraction ``q / (X + q)``;
- marginal price, and the mid after the sale, ``m X^2 / (X + q)^2``.

Depth curve (``depth``): points ``(x_i, V_i)``: ``V_i`` of quote (valued at mid) can be
sold before the price falls by ``x_i``. Between points ``x(V)`` is linear (from (0, 0));
beyond the last point it goes on with the last slope, and the price never falls below
``1e-6`` of mid. Selling a notional ``V = q m``:

- marginal price, and the mid after the sale, ``m (1 - x(V))``;
- proceeds ``F(V) = ∫_0^V (1 - x(v)) dv`` in quote (exact on each linear piece).

Depth is held fixed in quote as the price moves (a book restocked around the new mid);
a pool keeps its ``k``. The model functions are elementwise rules
(:func:`xmargin.fast.backend.elementwise`): the cascade's Numba kernels call them on
scalars, its NumPy kernels and the :class:`Liquidity` methods on arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xmargin.fast.backend import elementwise, select
from xmargin.model.params import AssetParams

__all__ = [
    "CPMM",
    "DEPTH",
    "NO_MODEL",
    "Liquidity",
    "LiquidityArrays",
    "by_kind",
    "cpmm_average_price_slippage",
    "mid_after",
    "proceeds",
    "units_until",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

NO_MODEL, CPMM, DEPTH = 0, 1, 2
#: The deepest fall a depth curve allows: the price stays above 1e-6 of mid.
MAX_FALL = 1.0 - 1e-6


def cpmm_average_price_slippage(q: float, reserve_units: float) -> float:
    """``q / (X + q)``: how far below mid selling ``q`` units into ``X`` fills on average."""
    return q / (reserve_units + q)


# -- the depth curve, for scalars (Numba kernels) and arrays alike ---------------------------
# Points come as ``xs``/``vs`` of shape (W,) for one asset, or (W, lanes) for several,
# padded with NaN beyond the real ones (a NaN point never matches a comparison), and
# ``tail`` = (x, v) of the last point and the slope of the last segment, which goes on
# beyond it: shape (3,) or (3, lanes).


@elementwise
def _depth_fall(xs: Any, vs: Any, tail: Any, v: Any) -> Any:
    """x(V): the fall of the price after selling notional ``v`` (quote at mid)."""
    out = np.minimum(tail[0] + tail[2] * (v - tail[1]), MAX_FALL)
    for i in range(xs.shape[0] - 1, -1, -1):  # the first point at or above v wins
        x_prev = select(i > 0, xs[i - 1], 0.0)
        v_prev = select(i > 0, vs[i - 1], 0.0)
        inside = x_prev + (xs[i] - x_prev) * (v - v_prev) / (vs[i] - v_prev)
        out = select(v <= vs[i], inside, out)
    return out


@elementwise
def _depth_area(xs: Any, vs: Any, tail: Any, v: Any) -> Any:
    """∫_0^v (1 - x(u)) du: quote received per unit of mid for notional ``v``."""
    area = 0.0 * v
    for i in range(xs.shape[0]):
        x_prev = select(i > 0, xs[i - 1], 0.0)
        v_prev = select(i > 0, vs[i - 1], 0.0)
        slope = (xs[i] - x_prev) / (vs[i] - v_prev)
        w = np.minimum(v, vs[i]) - v_prev
        area = area + select(w > 0.0, w * (1.0 - x_prev) - 0.5 * slope * w * w, 0.0)
    x_last, v_last, slope = tail[0], tail[1], tail[2]
    extra = v - v_last
    to_floor = select(slope > 0.0, (MAX_FALL - x_last) / slope, np.inf)
    e1 = np.minimum(extra, to_floor)
    beyond = e1 * (1.0 - x_last) - 0.5 * slope * e1 * e1 + (extra - e1) * (1.0 - MAX_FALL)
    return area + select(extra > 0.0, beyond, 0.0)


@elementwise
def _depth_inverse(xs: Any, vs: Any, tail: Any, fall: Any) -> Any:
    """The notional whose sale moves the price down by ``fall`` (inverse of x(V))."""
    out = select(fall >= MAX_FALL, np.inf, tail[1] + (fall - tail[0]) / tail[2])
    for i in range(xs.shape[0] - 1, -1, -1):  # the first point at or above the fall wins
        x_prev = select(i > 0, xs[i - 1], 0.0)
        v_prev = select(i > 0, vs[i - 1], 0.0)
        inside = v_prev + (vs[i] - v_prev) * (fall - x_prev) / (xs[i] - x_prev)
        out = select(fall <= xs[i], inside, out)
    return select(fall <= 0.0, 0.0, out)


# -- one model at a time: ``kind`` is one number for every element (the Numba kernels pass
# one asset's; :func:`by_kind` calls them once per model present in a column) ----------------
@elementwise
def proceeds(kind: int, k: Any, xs: Any, vs: Any, tail: Any, m: Any, q0: Any, q: Any) -> Any:
    """Quote received for ``q`` units sold after ``q0`` units already sold at mid ``m``."""
    if kind == CPMM:
        x = np.sqrt(k / m)
        out = m * x * (q0 + q) / (x + q0 + q) - m * x * q0 / (x + q0)
    elif kind == DEPTH:
        out = _depth_area(xs, vs, tail, (q0 + q) * m) - _depth_area(xs, vs, tail, q0 * m)
    else:
        out = q * m
    return select(q > 0.0, out, 0.0)


@elementwise
def mid_after(kind: int, k: Any, xs: Any, vs: Any, tail: Any, m: Any, q: Any) -> Any:
    """The mid after ``q`` units have been sold into the liquidity at mid ``m``."""
    if kind == CPMM:
        x = np.sqrt(k / m)
        out = m * x * x / ((x + q) * (x + q))
    elif kind == DEPTH:
        out = m * (1.0 - _depth_fall(xs, vs, tail, q * m))
    else:
        out = m + 0.0 * q
    return select(q > 0.0, out, m)


@elementwise
def units_until(kind: int, k: Any, xs: Any, vs: Any, tail: Any, m: Any, q0: Any, floor: Any) -> Any:
    """Units that sell, after ``q0``, before the marginal price falls to ``floor``.

    ``inf`` when the marginal price never gets there (no model and ``floor <= m``).
    """
    if kind == CPMM:
        total = np.sqrt(k / m) * (np.sqrt(m / floor) - 1.0)
    elif kind == DEPTH:
        total = _depth_inverse(xs, vs, tail, 1.0 - floor / m) / m
    else:
        total = select(floor <= m, np.inf, 0.0)
    return select(floor <= 0.0, np.inf, np.maximum(total - q0, 0.0))


def by_kind(fn: Any, kind: IntArray, *args: Any) -> FloatArray:
    """``fn(kind, *args)`` on columns whose elements have models ``kind``: called once per
    model present, on its elements (depth points and tails, of shape (W, n) and (3, n),
    split on their last axis), so that a model's formula runs only where it applies."""
    out = np.empty(len(kind))
    with np.errstate(all="ignore"):
        for model in np.unique(kind).tolist():
            sel = kind == model
            part = [a[..., sel] if np.ndim(a) else a for a in args]
            out[sel] = fn(model, *part)
    return out


class LiquidityArrays(NamedTuple):
    """Every asset's model, packed for the kernels (see :class:`Liquidity`)."""

    kind: IntArray
    k: FloatArray
    dx: FloatArray
    dv: FloatArray
    tail: FloatArray


def _flat(*arrays: ArrayLike) -> list[FloatArray]:
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
    return [np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in arrs]


@dataclass(frozen=True)
class Liquidity:
    """The liquidity of every asset of a market; index ``j`` is asset ``j``.

    Attributes
    ----------
    kind
        0 none (sold at mid), 1 constant product, 2 depth curve.
    k
        ``reserve_units * reserve_quote`` of a pool (units x quote).
    depth_x, depth_v
        Depth-curve points (fractions, quote), padded with NaN beyond the real ones.
    depth_tail
        Per asset (x, v) of the last point and the slope of the last segment.
    """

    assets: tuple[str, ...]
    kind: IntArray
    k: FloatArray
    depth_x: FloatArray
    depth_v: FloatArray
    depth_tail: FloatArray

    @classmethod
    def none(cls, assets: Sequence[str]) -> Liquidity:
        """No model for any asset: every sale fills at mid."""
        n = len(assets)
        return cls(
            tuple(assets),
            np.zeros(n, np.int64),
            np.zeros(n),
            np.full((n, 1), np.nan),
            np.full((n, 1), np.nan),
            np.zeros((n, 3)),
        )

    @classmethod
    def from_params(cls, assets: Mapping[str, AssetParams]) -> Liquidity:
        """Read every asset's ``liquidity`` table (absent: no model)."""
        syms = tuple(assets)
        n = len(syms)
        kind = np.zeros(n, np.int64)
        k = np.zeros(n)
        curves: list[list[tuple[float, float]]] = []
        for j, s in enumerate(syms):
            lp = assets[s].liquidity
            pts: list[tuple[float, float]] = []
            if lp is not None and lp.model == "cpmm":
                assert lp.reserve_units is not None and lp.reserve_quote is not None
                kind[j] = CPMM
                k[j] = float(lp.reserve_units) * float(lp.reserve_quote)
            elif lp is not None and lp.depth is not None:
                kind[j] = DEPTH
                pts = [(float(x), float(v)) for x, v in lp.depth]
            curves.append(pts)
        width = max([1, *(len(c) for c in curves)])
        dx = np.full((n, width), np.nan)
        dv = np.full((n, width), np.nan)
        tail = np.zeros((n, 3))
        for j, pts in enumerate(curves):
            if pts:
                dx[j, : len(pts)] = [p[0] for p in pts]
                dv[j, : len(pts)] = [p[1] for p in pts]
                (x0, v0), (x1, v1) = [(0.0, 0.0), *pts][-2:]
                tail[j] = (x1, v1, (x1 - x0) / (v1 - v0))
        return cls(syms, kind, k, dx, dv, tail)

    @property
    def any(self) -> bool:
        """Whether any asset has a model (else the cascade has no price impact)."""
        return bool((self.kind != NO_MODEL).any())

    def arrays(self) -> LiquidityArrays:
        """The models as the kernels take them."""
        return LiquidityArrays(self.kind, self.k, self.depth_x, self.depth_v, self.depth_tail)

    def _of(
        self, asset: ArrayLike
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Per element of ``asset`` (indices): its model's parameters, points as (W, n)."""
        j = np.asarray(asset, dtype=np.int64).reshape(-1)
        return self.kind[j], self.k[j], self.depth_x[j].T, self.depth_v[j].T, self.depth_tail[j].T

    def proceeds(self, asset: ArrayLike, mid: ArrayLike, q0: ArrayLike, q: ArrayLike) -> FloatArray:
        """Quote received for ``q`` units of ``asset`` (index) sold after ``q0`` at ``mid``."""
        j, m, a, b = _flat(asset, mid, q0, q)
        kind, *model = self._of(j)
        return by_kind(proceeds, kind, *model, m, a, b).reshape(_shape(asset, mid, q0, q))

    def mid_after(self, asset: ArrayLike, mid: ArrayLike, q: ArrayLike) -> FloatArray:
        """The mid after ``q`` units of ``asset`` (index) were sold at ``mid``."""
        j, m, b = _flat(asset, mid, q)
        kind, *model = self._of(j)
        return by_kind(mid_after, kind, *model, m, b).reshape(_shape(asset, mid, q))

    def units_until(
        self, asset: ArrayLike, mid: ArrayLike, q0: ArrayLike, floor: ArrayLike
    ) -> FloatArray:
        """Units of ``asset`` that sell after ``q0`` before the marginal price hits ``floor``."""
        j, m, a, f = _flat(asset, mid, q0, floor)
        kind, *model = self._of(j)
        return by_kind(units_until, kind, *model, m, a, f).reshape(_shape(asset, mid, q0, floor))


def _shape(*arrays: ArrayLike) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(a) for a in arrays))
