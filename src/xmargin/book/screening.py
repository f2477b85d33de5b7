"""Where the book's float figures cannot decide, and how far prices may move before a row
must be looked at again: the band and the screening margin, for both kernel backends.

With x = maintenance_collateral, y = maintenance_debt (quote, float64) and L the warning
level, the decisions are :func:`xmargin.fast.health.status_of` (x < y, x < L y). They are
taken from floats only outside the band of :mod:`xmargin.book.tolerances` around each
level; inside it the exact engine decides (:func:`needs_recheck`).

The screening margin of a row (:class:`xmargin.book.kernels.Reference`): with
t = :func:`band`, a relative move of every price by at most δ moves x − y by at most
δ (x + y) and x − L y by at most δ L (x + y), so the row cannot cross a level, nor enter
a band, while δ < min(|x − y| − 2t, (|x − L y| − (1 + L) t) / L) / (x + y).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xmargin.book.tolerances import ABS_TOL, REL_TOL
from xmargin.fast.backend import elementwise, select

__all__ = ["band", "near_level", "needs_recheck", "screening_margin"]

#: Margins are kept a hair below their value, so float32 rounding never widens them.
_SHRINK = 1.0 - 1e-6


@elementwise
def band(x: Any, y: Any) -> Any:
    """Half-width (quote) of the band around x = y inside which the exact engine decides."""
    return REL_TOL * (x + y) + ABS_TOL


@elementwise
def near_level(x: Any, y: Any, warn: Any) -> Any:
    """Whether a row lies in the band of either level (1 or ``warn``)."""
    t = band(x, y)
    return (np.abs(x - y) <= t) | (np.abs(x - warn * y) <= (0.5 + 0.5 * warn) * t)


@elementwise
def needs_recheck(x: Any, y: Any, warn: Any) -> Any:
    """Whether the exact engine decides a row: it has debt and lies in a level's band
    (kernels test :func:`near_level` first, and this only for the rows near a level)."""
    return (y > 0.0) & near_level(x, y, warn)


@elementwise
def screening_margin(x: Any, y: Any, warn: Any) -> Any:
    """The relative price move a row can take without any decision changing (see the
    module docstring), rounded down; -1 where the row must always be re-priced."""
    t = band(x, y)
    s = x + y
    to_one = np.abs(x - y) - 2.0 * t
    to_warn = (np.abs(x - warn * y) - (1.0 + warn) * t) / warn
    num = select(to_one < to_warn, to_one, to_warn)
    ok = (s > 0.0) & (num > 0.0)
    return select(ok, num / select(ok, s, 1.0) * _SHRINK, -1.0)
