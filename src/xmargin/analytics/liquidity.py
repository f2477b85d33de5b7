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
a pool keeps its ``k``. The scalar functions are Numba kernels used by the cascade; the
:class:`Liquidity` methods apply them elementwise to arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from xmargin.analytics._jit import njit
from xmargin.model.params import AssetParams

__all__ = [
    "CPMM",
    "DEPTH",
    "NO_MODEL",
    "Liquidity",
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


# -- scalar kernels ---------------------------------------------------------------------
@njit()
def _depth_fall(xs: FloatArray, vs: FloatArray, n: int, v: float) -> float:
    """x(V): the fall of the price after selling notional ``v`` (quote at mid)."""
    x_prev = 0.0
    v_prev = 0.0
    for i in range(n):
        if v <= vs[i]:
            return float(x_prev + (xs[i] - x_prev) * (v - v_prev) / (vs[i] - v_prev))
        x_prev = xs[i]
        v_prev = vs[i]
    x_before = xs[n - 2] if n >= 2 else 0.0
    v_before = vs[n - 2] if n >= 2 else 0.0
    slope = (xs[n - 1] - x_before) / (vs[n - 1] - v_before)
    return float(min(xs[n - 1] + slope * (v - vs[n - 1]), MAX_FALL))


@njit()
def _depth_area(xs: FloatArray, vs: FloatArray, n: int, v: float) -> float:
    """∫_0^v (1 - x(u)) du: quote received per unit of mid for notional ``v``."""
    area = 0.0
    x_prev = 0.0
    v_prev = 0.0
    for i in range(n):
        slope = (xs[i] - x_prev) / (vs[i] - v_prev)
        w = min(v, vs[i]) - v_prev
        if w <= 0.0:
            return area
        area += w * (1.0 - x_prev) - 0.5 * slope * w * w
        x_prev = xs[i]
        v_prev = vs[i]
    extra = v - v_prev
    if extra <= 0.0:
        return area
    x_before = xs[n - 2] if n >= 2 else 0.0
    v_before = vs[n - 2] if n >= 2 else 0.0
    slope = (xs[n - 1] - x_before) / (vs[n - 1] - v_before)
    to_floor = (MAX_FALL - x_prev) / slope if slope > 0.0 else math.inf
    e1 = min(extra, to_floor)
    area += e1 * (1.0 - x_prev) - 0.5 * slope * e1 * e1
    return float(area + (extra - e1) * (1.0 - MAX_FALL))


@njit()
def _depth_inverse(xs: FloatArray, vs: FloatArray, n: int, fall: float) -> float:
    """The notional whose sale moves the price down by ``fall`` (inverse of x(V))."""
    if fall <= 0.0:
        return 0.0
    x_prev = 0.0
    v_prev = 0.0
    for i in range(n):
        if fall <= xs[i]:
            return float(v_prev + (vs[i] - v_prev) * (fall - x_prev) / (xs[i] - x_prev))
        x_prev = xs[i]
        v_prev = vs[i]
    if fall >= MAX_FALL:
        return math.inf
    x_before = xs[n - 2] if n >= 2 else 0.0
    v_before = vs[n - 2] if n >= 2 else 0.0
    slope = (xs[n - 1] - x_before) / (vs[n - 1] - v_before)
    return float(v_prev + (fall - x_prev) / slope)


@njit()
def proceeds(
    kind: int, k: float, xs: FloatArray, vs: FloatArray, n: int, m: float, q0: float, q: float
) -> float:
    """Quote received for ``q`` units sold after ``q0`` units already sold at mid ``m``."""
    if q <= 0.0:
        return 0.0
    if kind == CPMM:
        x = math.sqrt(k / m)
        return m * x * (q0 + q) / (x + q0 + q) - m * x * q0 / (x + q0)
    if kind == DEPTH:
        return _depth_area(xs, vs, n, (q0 + q) * m) - _depth_area(xs, vs, n, q0 * m)
    return q * m


@njit()
def mid_after(
    kind: int, k: float, xs: FloatArray, vs: FloatArray, n: int, m: float, q: float
) -> float:
    """The mid after ``q`` units have been sold into the liquidity at mid ``m``."""
    if q <= 0.0:
        return m
    if kind == CPMM:
        x = math.sqrt(k / m)
        return m * x * x / ((x + q) * (x + q))
    if kind == DEPTH:
        return m * (1.0 - _depth_fall(xs, vs, n, q * m))
    return m


@njit()
def units_until(
    kind: int, k: float, xs: FloatArray, vs: FloatArray, n: int, m: float, q0: float, floor: float
) -> float:
    """Units that sell, after ``q0``, before the marginal price falls to ``floor``.

    ``inf`` when the marginal price never gets there (no model and ``floor <= m``).
    """
    if floor <= 0.0:
        return math.inf
    if kind == CPMM:
        x = math.sqrt(k / m)
        total = x * (math.sqrt(m / floor) - 1.0)
    elif kind == DEPTH:
        total = _depth_inverse(xs, vs, n, 1.0 - floor / m) / m
    else:
        total = math.inf if floor <= m else 0.0
    return max(total - q0, 0.0)


@njit()
def _apply_proceeds(
    kind: IntArray, k: FloatArray, dx: FloatArray, dv: FloatArray, dn: IntArray,
    j: IntArray, m: FloatArray, q0: FloatArray, q: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    for i in range(len(j)):
        a = j[i]
        out[i] = proceeds(kind[a], k[a], dx[a], dv[a], dn[a], m[i], q0[i], q[i])


@njit()
def _apply_mid_after(
    kind: IntArray, k: FloatArray, dx: FloatArray, dv: FloatArray, dn: IntArray,
    j: IntArray, m: FloatArray, q: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    for i in range(len(j)):
        a = j[i]
        out[i] = mid_after(kind[a], k[a], dx[a], dv[a], dn[a], m[i], q[i])


@njit()
def _apply_units_until(
    kind: IntArray, k: FloatArray, dx: FloatArray, dv: FloatArray, dn: IntArray,
    j: IntArray, m: FloatArray, q0: FloatArray, floor: FloatArray, out: FloatArray,
) -> None:  # fmt: skip
    for i in range(len(j)):
        a = j[i]
        out[i] = units_until(kind[a], k[a], dx[a], dv[a], dn[a], m[i], q0[i], floor[i])


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
    depth_x, depth_v, depth_n
        Depth-curve points (fractions, quote) and how many of each row are real.
    """

    assets: tuple[str, ...]
    kind: IntArray
    k: FloatArray
    depth_x: FloatArray
    depth_v: FloatArray
    depth_n: IntArray

    @classmethod
    def none(cls, assets: Sequence[str]) -> Liquidity:
        """No model for any asset: every sale fills at mid."""
        n = len(assets)
        return cls(
            tuple(assets),
            np.zeros(n, np.int64),
            np.zeros(n),
            np.zeros((n, 1)),
            np.ones((n, 1)),
            np.ones(n, np.int64),
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
        dx = np.zeros((n, width))
        dv = np.ones((n, width))
        dn = np.ones(n, np.int64)
        for j, pts in enumerate(curves):
            if pts:
                dn[j] = len(pts)
                dx[j, : len(pts)] = [p[0] for p in pts]
                dv[j, : len(pts)] = [p[1] for p in pts]
        return cls(syms, kind, k, dx, dv, dn)

    @property
    def any(self) -> bool:
        """Whether any asset has a model (else the cascade has no price impact)."""
        return bool((self.kind != NO_MODEL).any())

    def _args(self) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
        return self.kind, self.k, self.depth_x, self.depth_v, self.depth_n

    def proceeds(self, asset: ArrayLike, mid: ArrayLike, q0: ArrayLike, q: ArrayLike) -> FloatArray:
        """Quote received for ``q`` units of ``asset`` (index) sold after ``q0`` at ``mid``."""
        j = np.asarray(asset, dtype=np.int64)
        jj, m, a, b = _flat(j, mid, q0, q)
        out = np.empty_like(m)
        _apply_proceeds(*self._args(), jj.astype(np.int64), m, a, b, out)
        return out.reshape(np.broadcast_shapes(j.shape, np.shape(mid), np.shape(q0), np.shape(q)))

    def mid_after(self, asset: ArrayLike, mid: ArrayLike, q: ArrayLike) -> FloatArray:
        """The mid after ``q`` units of ``asset`` (index) were sold at ``mid``."""
        j = np.asarray(asset, dtype=np.int64)
        jj, m, b = _flat(j, mid, q)
        out = np.empty_like(m)
        _apply_mid_after(*self._args(), jj.astype(np.int64), m, b, out)
        return out.reshape(np.broadcast_shapes(j.shape, np.shape(mid), np.shape(q)))

    def units_until(
        self, asset: ArrayLike, mid: ArrayLike, q0: ArrayLike, floor: ArrayLike
    ) -> FloatArray:
        """Units of ``asset`` that sell after ``q0`` before the marginal price hits ``floor``."""
        j = np.asarray(asset, dtype=np.int64)
        jj, m, a, f = _flat(j, mid, q0, floor)
        out = np.empty_like(m)
        _apply_units_until(*self._args(), jj.astype(np.int64), m, a, f, out)
        return out.reshape(
            np.broadcast_shapes(j.shape, np.shape(mid), np.shape(q0), np.shape(floor))
        )
