"""Float twins of :mod:`xmargin.risk.health` and :mod:`xmargin.risk.status` (contract 2).

Per position (one asset of one account) :func:`weighted_sums` gives the six terms of
section 2; an account's figures are their sums over its positions. The figures decide
as the exact engine does wherever floats cannot disagree with it
(:mod:`xmargin.book.tolerances`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.fast.backend import elementwise, select

__all__ = [
    "AT_RISK",
    "HEALTHY",
    "LIQUIDATABLE",
    "available_to_borrow",
    "health_factor",
    "is_liquidatable",
    "status_of",
    "weighted_sums",
]

#: Status codes, as :class:`xmargin.risk.status.Status`.
HEALTHY, AT_RISK, LIQUIDATABLE = 0, 1, 2


@elementwise
def weighted_sums(s: Any, b: Any, p: Any, cf: Any, lt: Any, bw: Any, mbw: Any) -> Any:
    """(cv, dv, ic, id, mc, md) terms of one position, in quote (contract 2).

    ``s``/``b``: units supplied and borrowed; ``p``: quote per unit; the weights are
    effective (category rule and size haircut applied,
    :func:`xmargin.fast.weights.effective_weights`).

    Notes
    -----
    cv = s·p;  ic = s·p·cf;  mc = s·p·lt;  dv = b·p;  id = b·p·bw;  md = b·p·mbw.
    """
    vs = s * p  # units x quote/unit = quote
    vb = b * p
    return vs, vb, vs * cf, vb * bw, vs * lt, vb * mbw


#: No positions yet: the six sums of :func:`weighted_sums` at zero.
NO_SUMS = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


@elementwise
def add_sums(total: Any, terms: Any) -> Any:
    """``total`` plus one position's ``terms`` (both (cv, dv, ic, id, mc, md)): an account's
    figures are :data:`NO_SUMS` plus each of its positions' :func:`weighted_sums`."""
    return (
        total[0] + terms[0],
        total[1] + terms[1],
        total[2] + terms[2],
        total[3] + terms[3],
        total[4] + terms[4],
        total[5] + terms[5],
    )


@elementwise
def health_factor(mc: Any, md: Any) -> Any:
    """mc / md; NaN when md = 0 (the exact twin answers ``None``)."""
    return select(md > 0.0, mc / select(md > 0.0, md, 1.0), np.nan)


@elementwise
def available_to_borrow(ic: Any, id_: Any) -> Any:
    """max(0, initial_collateral − initial_debt), in quote."""
    return np.maximum(ic - id_, 0.0)


@elementwise
def is_liquidatable(mc: Any, md: Any) -> Any:
    """maintenance_debt > 0 and health factor < 1, decided as mc < md."""
    return (md > 0.0) & (mc < md)


@elementwise
def status_of(mc: Any, md: Any, warn: Any) -> Any:
    """:data:`LIQUIDATABLE` if mc < md, :data:`AT_RISK` if mc < warn·md, else
    :data:`HEALTHY` (``warn`` >= 1: the warning level; mc >= 0, so md > 0 in both).

    Counted rather than branched (warn >= 1: below 1 is also below ``warn``), with each
    comparison as a difference's sign: in floats ``a - b < 0`` exactly when ``a < b``.
    """
    return ((mc - md) < 0.0) * 1 + ((mc - warn * md) < 0.0) * 1
