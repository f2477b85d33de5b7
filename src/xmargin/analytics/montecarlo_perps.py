"""Accounts holding perps or options in the one-step Monte Carlo and in settling a book.

Their health includes their perp terms (:mod:`xmargin.analytics.simperps`, the float
twins of :mod:`xmargin.fast.perps`) and option terms (:mod:`xmargin.analytics.simoptions`,
float Black-76 and standard margin at the path's prices, time and volatility), so the
spot kernels, which see balances only, do not liquidate them; such an account
liquidatable at a path's prices counts as still liquidatable and its deficit
``max(0, dv - cv)`` (perp PnL and option value included) as residual bad debt, as an
account the kernels leave liquidatable does. (Closing options at their mark value moves
no value but the fees: the deficit after a 6.5 liquidation is this one plus its fees.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.simbook import SimBook

__all__ = ["carried_accounts", "perp_accounts", "perp_deficit", "perp_figures"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def carried_accounts(book: SimBook) -> IntArray:
    """The rows judged here: accounts holding a perp or an option (sorted)."""
    return book.carried_rows()


def perp_figures(
    book: SimBook,
    prices: FloatArray,
    held: IntArray,
    hours: float = 0.0,
    elasticity: float = 0.0,
) -> FloatArray:
    """(cv, dv, ic, id, mc, md) of accounts ``held`` at each row of ``prices``, with
    their perp terms (:mod:`xmargin.analytics.simperps`) and option terms
    (:mod:`xmargin.analytics.simoptions`, ``hours`` after today with volatility
    elasticity ``elasticity``): shape (6, paths, held)."""
    out = np.zeros((6, prices.shape[0], len(held)))
    if book.perps is not None:
        out += book.perps.sums(prices, book.n_accounts)[:, :, held]
    if book.options is not None:
        out += book.options.sums(prices, book.n_accounts, hours, elasticity)[:6][:, :, held]
    ent = book.indptr
    for h, r in enumerate(held):
        sl = slice(int(ent[r]), int(ent[r + 1]))
        pc = prices[:, book.col[sl]]
        for k, w in enumerate((book.s[sl], book.b[sl], book.wic[sl], book.wid[sl])):
            out[k, :, h] += pc @ w
        out[4, :, h] += pc @ book.wmc[sl]
        out[5, :, h] += pc @ book.wmd[sl]
    return out


def perp_deficit(f: FloatArray) -> tuple[NDArray[np.bool_], FloatArray]:
    """(liquidatable, deficit ``max(0, dv - cv)`` where liquidatable) from figures of
    :func:`perp_figures`."""
    stuck = f[5] > f[4]
    return stuck, np.where(stuck, np.maximum(f[1] - f[0], 0.0), 0.0)


def perp_accounts(
    book: SimBook,
    prices: FloatArray,
    held: IntArray,
    per: dict[str, FloatArray],
    acct: FloatArray,
    hours: float = 0.0,
    elasticity: float = 0.0,
) -> None:
    """Add the accounts holding perps or options at each path's prices, their terms
    included: their borrowing power and borrowed; as their liquidation is not simulated
    in one step, those liquidatable count as still liquidatable, their deficit as
    residual bad debt."""
    f = perp_figures(book, prices, held, hours, elasticity)
    stuck, deficit = perp_deficit(f)
    per["residual"] = per["residual"] + deficit.sum(axis=1)
    per["bad_debt"] = per["bad_debt"] + deficit.sum(axis=1)
    per["still_liquidatable"] = per["still_liquidatable"] + stuck.sum(axis=1)
    per["borrowing_power"] = (
        per["borrowing_power"] + f[2].sum(axis=1) - prices @ _spot(book, held, book.wic)
    )
    per["borrowed"] = per["borrowed"] + f[3].sum(axis=1) - prices @ _spot(book, held, book.wid)
    acct[held] += deficit.sum(axis=0)


def _spot(book: SimBook, held: IntArray, w: FloatArray) -> FloatArray:
    """Per asset, the sum of ``w`` over the entries of accounts ``held``."""
    ent = book.rows_of(held)[1]
    out = np.bincount(book.col[ent], weights=w[ent], minlength=book.n_assets)
    return np.asarray(out, np.float64)
