"""Supply and borrow cap search (Chaos Labs' cap method): the largest cap within the VaR budget.

For asset ``a`` and a scale ``x``, the book is grown as if new users arrived like the
current ones: every account that supplies ``a`` (supply caps) or borrows ``a`` (borrow
caps) has all its balances multiplied by ``x``, so the total of ``a`` becomes ``x``
times today's. The loss, VaR99 of bad debt simulated with the proposal's parameters on
the same paths, grows with ``x`` (positions scale, and liquidity impact grows faster
than linearly), so the largest ``x`` with VaR99 ≤ K is found by bisection:
``[1, cap_max_scale]`` when today's book meets the budget, ``[0, 1]`` when it does not.
The cap is ``x*`` times today's total, rounded down to three significant figures.

Caps gate new supply and borrowing only (contract 1.1): they change no simulated
figure of the proposal, and ``after.var99`` stays what ``simulate montecarlo`` gives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from xmargin.analytics.analysis_inputs import MarketInputs, number
from xmargin.analytics.proposal import Change, Move

if TYPE_CHECKING:
    from xmargin.analytics.optimize import Evaluator, OptimizeConfig

__all__ = ["round_cap_down", "search_caps"]


def round_cap_down(units: float) -> Decimal:
    """``units`` rounded down to three significant figures.

    >>> round_cap_down(1834567.2), round_cap_down(0.0123456)
    (Decimal('1830000'), Decimal('0.0123'))
    """
    if not (math.isfinite(units) and units > 0):
        return Decimal(0)
    d = Decimal(repr(units))
    exp = d.adjusted() - 2
    q = Decimal(1).scaleb(exp)
    out = d.quantize(q, rounding=ROUND_DOWN)
    return out if exp < 0 else Decimal(int(out))


def search_caps(
    inputs: MarketInputs,
    ev: Evaluator,
    moves: Mapping[str, Move],
    assets: Sequence[str],
    cfg: OptimizeConfig,
) -> tuple[list[Change], list[dict[str, Any]]]:
    """Cap per asset and kind (see the module docstring): ``(changes, report rows)``."""
    book = inputs.book
    changes: list[Change] = []
    rows: list[dict[str, Any]] = []
    for a in assets:
        j = book.asset_index(a)
        ap = inputs.market.assets[a]
        for kind in cfg.caps:
            held = book.s if kind == "supply" else book.b
            on = (book.col == j) & (held > 0)
            total = float(held[on].sum())
            current = ap.supply_cap if kind == "supply" else ap.borrow_cap
            if total <= 0:
                rows.append({"asset": a, "kind": kind, "current_cap": number(
                    None if current is None else float(current)), "current_total": "0",
                    "recommended_cap": None, "note": f"no account {kind}s {a}"})  # fmt: skip
                continue
            accounts = np.bincount(book.row, weights=on, minlength=book.n_accounts) > 0
            grow = accounts[book.row]

            def var_at(x: float, kind: str = kind, a: str = a, grow: Any = grow) -> float:
                scaled = book.with_balances(
                    np.where(grow, book.s * x, book.s), np.where(grow, book.b * x, book.b)
                )
                return ev.evaluate(moves, scaled, tag=("cap", kind, a, x)).var99

            k = cfg.var99_max
            at_one = var_at(1.0)
            note = ""
            if at_one <= k:
                lo, hi = 1.0, cfg.cap_max_scale
                if var_at(hi) <= k:
                    lo = hi
                    note = f"the budget holds up to the search bound ({cfg.cap_max_scale:g}x)"
            else:
                lo, hi = 0.0, 1.0
                note = "today's total already exceeds the budget"
            if lo < hi:
                for _ in range(cfg.cap_iterations):
                    mid = 0.5 * (lo + hi)
                    if var_at(mid) <= k:
                        lo = mid
                    else:
                        hi = mid
            cap = round_cap_down(lo * total)
            rows.append(
                {
                    "asset": a,
                    "kind": kind,
                    "current_cap": None if current is None else str(current),
                    "current_total": number(total),
                    "scale": number(lo),
                    "recommended_cap": str(cap),
                    "var99_at_cap": number(var_at(lo)) if lo > 0 else None,
                    "note": note,
                }
            )
            if cap > 0 and cap != current:
                changes.append(Change(a, f"{kind}_cap", current, cap))
    return changes, rows
