"""The standard-margin terms of a simulation book's option accounts on many paths at once
(contract 6.2; :meth:`xmargin.analytics.simoptions.SimOptions.terms`).

One rule, :func:`xmargin.fast.options.standard_option_sums`, run two ways (the package's
backend policy, :mod:`xmargin.fast.backend`):

- Numba: a kernel calls it on every (path, account) slice of the leg tables;
- NumPy: the same rule on whole columns (paths x legs) — the per-leg rules
  (:func:`~xmargin.fast.options.isolated_margin`,
  :func:`~xmargin.fast.options.settlement_value`) elementwise, the per-expiry and
  per-account sums by ``reduceat`` over the contiguous rows, and max loss (the payoff at
  X ∈ {0} ∪ strikes of each expiry, the same for every path) as one sparse product of the
  contracts held with the payoff matrix.

Both add in the rule's order; the NumPy sums may round differently (``reduceat``), by a
few ulps of the terms (tests/analytics/test_option_lanes.py holds both to the rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

from xmargin.fast import options as fo
from xmargin.fast.backend import Backend, jit, per_backend

__all__ = ["option_terms"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _numba_terms() -> Any:
    @jit()
    def terms(legs: Any, ptr: Any, pm: Any, out: Any) -> None:  # pragma: no cover - compiled
        for p in range(legs.shape[0]):
            table = legs[p]
            for h in range(ptr.shape[0] - 1):
                s = fo.standard_option_sums(table, ptr[h], ptr[h + 1], pm)
                for j in range(7):
                    out[j, p, h] = s[j]

    def run(legs: FloatArray, ptr: IntArray, pm: FloatArray) -> FloatArray:
        out = np.zeros((7, legs.shape[0], len(ptr) - 1))
        terms(np.ascontiguousarray(legs), ptr, pm, out)
        return out

    return run


def _numpy_terms(legs: FloatArray, ptr: IntArray, pm: FloatArray) -> FloatArray:
    """(7, paths, accounts) terms of leg tables ``legs`` (paths x legs x columns), the
    accounts' rows CSR by ``ptr`` (each holding at least one leg), expiries contiguous."""
    n_paths, n_legs = legs.shape[0], legs.shape[1]
    out = np.zeros((7, n_paths, len(ptr) - 1))
    if not n_legs:
        return out
    first = legs[0]
    # Expiry groups: a new one at each account's first row and where GROUP changes.
    new = np.zeros(n_legs, np.bool_)
    new[ptr[:-1]] = True
    new[1:] |= first[1:, fo.GROUP] != first[:-1, fo.GROUP]
    starts = np.flatnonzero(new)
    group_of = np.cumsum(new) - 1
    acc_groups = np.searchsorted(starts, ptr[:-1])  # each account's first group
    is_call = first[:, fo.CALL] > 0.5
    strike = first[:, fo.STRIKE]
    q = legs[:, :, fo.Q]
    mtm = q * legs[:, :, fo.VALUE]
    spot = legs[:, starts, fo.SPOT][:, group_of]
    iso_im, iso_mm = fo.isolated_margin(is_call, strike, q, spot, mtm, pm)
    iso_im = np.add.reduceat(iso_im, starts, axis=1)
    iso_mm = np.add.reduceat(iso_mm, starts, axis=1)
    calls = np.add.reduceat(np.where(is_call, q, 0.0), starts, axis=1)
    # Max loss: per group, the points X = 0 then its strikes in row order.
    size = np.diff(np.append(starts, n_legs))
    point_start = np.concatenate(([0], np.cumsum(size + 1)[:-1]))
    x = np.zeros(int((size + 1).sum()))
    x[point_start[group_of] + 1 + np.arange(n_legs) - starts[group_of]] = strike
    point_group = np.repeat(np.arange(len(starts)), size + 1)
    # Payoff matrix (points x legs): at each point, the legs of its own group.
    width = size[point_group]
    pt = np.repeat(np.arange(len(x)), width)
    offset = np.arange(len(pt)) - np.repeat(np.cumsum(width) - width, width)
    leg = starts[point_group][pt] + offset
    payoff = fo.settlement_value(is_call[leg], strike[leg], x[pt])
    m = sparse.csr_matrix((payoff, (pt, leg)), shape=(len(x), n_legs))
    pnl = np.asarray((m @ q.T).T)
    loss = np.minimum(np.minimum.reduceat(pnl, point_start, axis=1), 0.0)
    fq = legs[:, starts, fo.FORWARD] * calls
    short = calls < 0.0
    loss_im = np.where(short, loss + pm[fo.UNPAIRED_IM] * fq, loss)
    loss_mm = np.where(short, loss + pm[fo.UNPAIRED_MM] * fq, loss)
    rows = ptr[:-1]
    out[0] = np.add.reduceat(np.where(mtm > 0.0, mtm, 0.0), rows, axis=1)
    out[1] = -np.add.reduceat(np.where(mtm > 0.0, 0.0, mtm), rows, axis=1)
    out[3] = -np.add.reduceat(np.maximum(iso_im, loss_im), acc_groups, axis=1)
    out[5] = -np.add.reduceat(np.maximum(iso_mm, loss_mm), acc_groups, axis=1)
    out[6] = np.add.reduceat(mtm, rows, axis=1)
    return out


_terms = per_backend(lambda b: _numba_terms() if b == "numba" else _numpy_terms)


def option_terms(
    legs: FloatArray, ptr: IntArray, pm: FloatArray, backend: Backend = "auto"
) -> FloatArray:
    """(cv, dv, ic, id, mc, md, option_value) of every account on every path: shape (7,
    paths, accounts); ``legs`` (paths x legs x :data:`~xmargin.fast.options.LEG_COLUMNS`)
    with the accounts' rows CSR by ``ptr`` (each holds at least one), ``pm`` packed
    ``[option_margin]``."""
    run: Any = _terms(backend)
    res: FloatArray = run(legs, ptr, pm)
    return res
