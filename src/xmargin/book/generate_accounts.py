"""Drawing a synthetic book's accounts: which assets each holds, and how much.

The account half of :func:`xmargin.book.generate.generate_book` (whose module docstring
gives the shape drawn), vectorized with NumPy over chunks of accounts: no per-account
Python loop. Amounts are quantized to 9 significant digits and each asset's decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from xmargin.book.generate_assets import CATEGORY_WEIGHTS, Asset

__all__ = ["MAX_POSITIONS", "SIG_DIGITS", "Drawn", "draw_accounts", "per_account_weights", "places"]

MAX_POSITIONS = 6
SIG_DIGITS = 9

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]
_BOOL = NDArray[np.bool_]


def _top_k(
    rng: np.random.Generator, weights: _F64, k: _I64, exclude: _BOOL | None = None
) -> tuple[_I64, _BOOL]:
    """Per row, up to ``k`` distinct assets drawn without replacement by ``weights``.

    Gumbel top-k: the largest of log(w) + Gumbel noise are a weighted sample without
    replacement. Returns (asset index per slot, slot used), each of shape (rows, 6).
    """
    rows, n_assets = weights.shape
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=(rows, n_assets))
    if exclude is not None:
        keys[exclude] = -np.inf
    slots = min(MAX_POSITIONS, n_assets)
    if n_assets > slots:
        part = np.argpartition(-keys, slots - 1, axis=1)[:, :slots]
    else:
        part = np.broadcast_to(np.arange(n_assets), (rows, n_assets)).copy()
    part_keys = np.take_along_axis(keys, part, axis=1)
    order = np.argsort(-part_keys, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    finite = np.isfinite(np.take_along_axis(part_keys, order, axis=1))
    used = (np.arange(slots)[None, :] < k[:, None]) & finite
    if slots < MAX_POSITIONS:
        pad = MAX_POSITIONS - slots
        idx = np.pad(idx, ((0, 0), (0, pad)))
        used = np.pad(used, ((0, 0), (0, pad)))
    return idx, used


def _split(rng: np.random.Generator, used: _BOOL) -> _F64:
    """Random shares over the used slots of each row (Dirichlet-like, no share near 0)."""
    g = (rng.gamma(0.8, size=used.shape) + 0.05) * used
    total = g.sum(axis=1, keepdims=True)
    out: _F64 = np.divide(g, total, out=np.zeros_like(g), where=total > 0)
    return out


def _health_targets(rng: np.random.Generator, n: int) -> _F64:
    """Target health factors: a tail under and near 1, most accounts comfortably above."""
    u = rng.random(n)
    deep = rng.uniform(0.35, 0.8, n)
    liq = rng.uniform(0.8, 1.0, n)
    at_risk = rng.uniform(1.0, 1.1, n)
    healthy = 1.1 + rng.gamma(1.3, 0.9, n)
    out: _F64 = np.where(
        u < 0.005, deep, np.where(u < 0.04, liq, np.where(u < 0.12, at_risk, healthy))
    )
    return out


@dataclass
class Drawn:
    """Slots (accounts x 6): asset index, supply and borrow in units, used."""

    asset: _I64
    supply: _F64
    borrow: _F64
    used: _BOOL
    category: _BOOL  # per account


#: How many positions an account draws (1 to 6): mean 2.52.
_PER_ACCOUNT = np.array([0.28, 0.30, 0.19, 0.12, 0.07, 0.04])


def per_account_weights(mean: float | None) -> _F64:
    """:data:`_PER_ACCOUNT` tilted (p_k x θ^k, θ by bisection) to ``mean``, if given."""
    if mean is None:
        return _PER_ACCOUNT
    k = np.arange(1, 7)
    lo, hi = 1e-3, 1e3
    for _ in range(200):
        th = math.sqrt(lo * hi)
        p = _PER_ACCOUNT * th**k
        lo, hi = (th, hi) if (p * k).sum() / p.sum() < mean else (lo, th)
    return np.asarray(p / p.sum())


def draw_accounts(
    n_accounts: int, assets: list[Asset], has_category: bool, rng: np.random.Generator,
    per_account: _F64 = _PER_ACCOUNT,
) -> Drawn:  # fmt: skip
    n_assets = len(assets)
    price = np.array([float(a.price) for a in assets])
    lt = np.array([float(a.lt) for a in assets])
    iso = np.array([a.debt_ceiling is not None for a in assets])
    in_iso = np.array([a.in_isolation for a in assets])
    eth = np.array([a.eth for a in assets]) & has_category
    c_pop = np.array([a.collateral_pop for a in assets])
    d_pop = np.array([a.debt_pop for a in assets])
    cat_lt = float(CATEGORY_WEIGHTS[1])  # the category's lt (sizing the debt only)

    # Account kinds: isolated supplier, category member, or plain.
    can_iso = bool(iso.any() and in_iso.any())
    u = rng.random(n_accounts)
    kind_iso = (u < 0.02) & can_iso
    kind_cat = (~kind_iso) & (u < 0.14) & has_category
    n_members = int(eth.sum())

    # Positions per account and how many of them are debts.
    n_total = rng.choice(np.arange(1, 7), size=n_accounts, p=per_account).astype(np.int64)
    borrows = (n_total >= 2) & (rng.random(n_accounts) < 0.85)
    n_debt = np.where(borrows, 1 + rng.binomial(np.maximum(n_total - 2, 0), 0.35), 0)
    n_coll = n_total - n_debt
    # Isolated suppliers hold exactly one (isolated) collateral; category borrowers keep
    # at least one member free to borrow (wstETH against WETH, say).
    n_debt = np.where(kind_iso, np.maximum(n_total - 1, 1), n_debt)
    n_coll = np.where(kind_iso, 1, n_coll)
    cat_coll = np.where(n_debt > 0, np.minimum(n_coll, n_members - 1), n_coll)
    n_debt = np.where(kind_cat, np.minimum(n_debt, n_members - cat_coll), n_debt)
    n_coll = np.where(kind_cat, cat_coll, n_coll)

    # Pools by kind: collateral and debt weights per asset.
    w_coll = np.where(iso, 0.0, c_pop)
    w_debt = np.where([a.borrowable for a in assets], d_pop, 0.0)
    # In the category: staked ETH as collateral, WETH as debt, mostly.
    weth = np.array([a.symbol == "WETH" for a in assets])
    w_coll_cat = np.where(eth, np.where(weth, 1.0, 6.0), 0.0)
    w_debt_cat = np.where(eth, np.where(weth, 10.0, 0.3), 0.0)
    w_coll_iso = np.where(iso, c_pop, 0.0)
    w_debt_iso = np.where(in_iso, d_pop, 0.0)  # borrowable_in_isolation assets only

    kind = np.where(kind_iso, 2, np.where(kind_cat, 1, 0))
    wc = np.stack([w_coll, w_coll_cat, w_coll_iso])[kind]
    wd = np.stack([w_debt, w_debt_cat, w_debt_iso])[kind]

    asset = np.zeros((n_accounts, MAX_POSITIONS), np.int64)
    supply = np.zeros((n_accounts, MAX_POSITIONS))
    borrow = np.zeros((n_accounts, MAX_POSITIONS))
    used = np.zeros((n_accounts, MAX_POSITIONS), bool)
    chunk = max(1_024, 4_000_000 // max(n_assets, 1))
    for lo in range(0, n_accounts, chunk):
        hi = min(lo + chunk, n_accounts)
        sl = slice(lo, hi)
        rows = hi - lo
        c_idx, c_used = _top_k(rng, wc[sl], n_coll[sl])
        taken = np.zeros((rows, n_assets), bool)
        rr, cc = np.nonzero(c_used)
        taken[rr, c_idx[rr, cc]] = True
        d_idx, d_used = _top_k(rng, wd[sl], n_debt[sl], exclude=taken)
        # Collateral: a log-normal value in quote, split over the collateral slots.
        value = np.clip(rng.lognormal(math.log(4_000.0), 1.9, rows), 50.0, 2e8)
        s_units = _quantize(value[:, None] * _split(rng, c_used) / price[c_idx], assets, c_idx)
        lt_eff = np.where(kind_cat[sl, None] & eth[c_idx], cat_lt, lt[c_idx])
        mc = (s_units * price[c_idx] * lt_eff).sum(axis=1)
        # Debt: sized to a drawn health factor, split over the debt slots.
        debt_value = mc / _health_targets(rng, rows)
        b_units = _quantize(debt_value[:, None] * _split(rng, d_used) / price[d_idx], assets, d_idx)
        d_used &= b_units > 0
        # Pack: collateral slots first, then debt slots.
        nc = c_used.sum(axis=1)
        for j in range(MAX_POSITIONS):
            src = j - nc  # debt slot feeding output slot j
            take_c = c_used[:, j]
            take_d = ~take_c & (src >= 0)
            src_c = np.clip(src, 0, MAX_POSITIONS - 1)
            d_ok = take_d & np.take_along_axis(d_used, src_c[:, None], 1)[:, 0]
            asset[sl, j] = np.where(
                take_c, c_idx[:, j], np.take_along_axis(d_idx, src_c[:, None], 1)[:, 0]
            )
            supply[sl, j] = np.where(take_c, s_units[:, j], 0.0)
            borrow[sl, j] = np.where(
                d_ok, np.take_along_axis(b_units, src_c[:, None], 1)[:, 0], 0.0
            )
            used[sl, j] = take_c | d_ok
    return Drawn(asset, supply, borrow, used, kind_cat)


def _quantize(x: _F64, assets: list[Asset], idx: _I64) -> _F64:
    """``x`` (units) held to 9 significant digits and to each asset's decimal places.

    The result is m / 10^k (or m * 10^-k) for an integer m of at most 9 digits: a float64
    whose shortest repr is exactly that decimal.
    """
    dec = np.array([a.decimals for a in assets], np.int64)[idx]
    k = places(x, dec)
    pos = k >= 0
    scale = 10.0 ** np.abs(k)
    m = np.rint(np.where(pos, x * scale, x / scale))
    out: _F64 = np.where(pos, m / scale, m * scale)
    return np.where(x > 0, out, 0.0)


def places(x: _F64, dec: _I64) -> _I64:
    """Decimal places that keep 9 significant digits of ``x``, at most ``dec``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        e10 = np.floor(np.log10(np.where(x > 0, x, 1.0))).astype(np.int64)
    out: _I64 = np.minimum(dec, SIG_DIGITS - 1 - e10)
    return out
