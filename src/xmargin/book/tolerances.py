"""How near a level a float64 figure must be for the book to ask the exact engine.

The book screens every account in float64; the decision of contract section 2
(``liquidatable``: maintenance_debt > 0 and maintenance_collateral < maintenance_debt) and
the warning level (health_factor < level) are taken from floats only where they cannot
differ from the exact Decimal engine's (:func:`xmargin.risk.health.account_health`).

Error bound (x = maintenance_collateral, y = maintenance_debt, u = 2^-53):

- each cell (units, price, weight) converts to float64 with relative error <= u;
- a position's term ``units * price * weight`` adds at most 2 roundings, a size haircut
  ``1.1 / (1 + k sqrt(s))`` at most 6; a row of n entries sums with relative error
  <= (n - 1) u (all terms are non-negative);
- the exact engine holds size-haircut weights to a grid: asset weights to 1e-100
  (relative 1e-100 / w, and w >= 1.1 / (1 + 1e24 x 1e12) within the contract's
  magnitudes, so below 1e-63), liability weights (>= 1) to 1e-18 (relative < 1e-18);
- the exact engine rounds x down and y up to 1e-18 of the quote: absolute 1e-18 each.

So |x_float - x_exact| <= eps x + 1e-18 with eps <= (n + 8) u + 1e-18, and n <= 65,536
entries (two per asset) gives eps < 1e-11. The decision ``x < L y`` (L = 1 or the warning
level) can only differ where |x - L y| <= 2 eps (x + L y) + 2e-18 (1 + L), which
:data:`REL_TOL` and :data:`ABS_TOL` cover a hundred times over. Every account inside that
band is re-checked with the exact engine, so decisions equal the exact engine's always.
"""

from __future__ import annotations

__all__ = [
    "ABS_TOL",
    "REL_TOL",
    "SLOW_ROW",
    "STATUS_BITS",
]

#: Relative half-width of the band around a level inside which the exact engine decides.
REL_TOL = 1e-9
#: Absolute half-width (quote) added to the band, for figures near the 1e-18 grid.
ABS_TOL = 1e-15

# The status byte of an account: bits 0-1 its status (0 healthy, 1 at risk, 2 liquidatable).
#: Mask of the status itself.
STATUS_BITS = 0x03
#: The row holds size-haircut entries: the kernels take their slower, general path.
SLOW_ROW = 0x80
