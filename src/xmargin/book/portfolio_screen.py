"""Float figures of the book's portfolio-margined rows (contract 6.3, docs/contract.md 6.6),
for the option pass to screen them as it screens the others (:mod:`xmargin.book.option_pass`).

A portfolio-margined row's (maintenance_collateral, maintenance_debt) are built as the
exact engine builds them (:func:`xmargin.risk.portfolio_margin.portfolio_sums`), with the
scenario valuation in floats:

- the balances of the other assets and the perps' PnL: exact (the Decimal spot and perp
  sums are cheap; :func:`xmargin.risk.health.weighted_sums` of the account without its
  options and without the balances of the scenario underlyings), less the perps' notional
  maintenance margin (the scenarios replace it);
- per scenario underlying U: the balance of U at full value (s·S, b·S) and G = R_MM +
  Σ mtm from the float twin :func:`xmargin.fast.portfolio_margin.portfolio_margin` over
  the row's legs on U (the book's legs, re-priced on every tick), max(G, 0) to the
  collateral side and max(−G, 0) to the debt side.

The float twin is property-tested (FLOAT-O4) to ``REL_TOL`` of the scale Σ|q|·(F + K + S)
+ |linear value| of its legs; R and Σ mtm each carry that error, so G carries at most
twice it. :func:`portfolio_rows` returns that scale (with the contingencies' notional
S·(Σ|perp q| + supply), held to a few ulps) for the pass to widen its band by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from xmargin._typing import Float64Array2D, Int64Array1D
from xmargin.book.option_book import BookOptions
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.fast import portfolio_margin as fpm
from xmargin.fast.backend import Backend, jit, per_backend
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.risk.health import weighted_sums
from xmargin.risk.options import portfolio_underlyings
from xmargin.risk.perps import perp_sums

__all__ = ["PortfolioRows", "portfolio_rows"]

#: The float figures of some rows, 8 x rows: (cv, dv, ic, id, mc, md, option_value,
#: error scale).
PortfolioRows = Callable[[Int64Array1D], Float64Array2D]


def _numba_margin() -> Any:
    @jit()
    def margin(legs: Any, spot: Any, linear: Any, units: Any, supplied: Any, hc: Any, pp: Any,
               scen: Any) -> Any:  # fmt: skip  # pragma: no cover
        return fpm.portfolio_margin(
            legs, 0, legs.shape[0], spot, linear, units, supplied, hc, pp, scen
        )

    return margin


def _numpy_margin(
    legs: Any, spot: Any, linear: Any, units: Any, supplied: Any, hc: Any, pp: Any, scen: Any
) -> Any:
    return fpm.portfolio_margin(legs, 0, legs.shape[0], spot, linear, units, supplied, hc, pp, scen)


_margin = per_backend(lambda b: _numba_margin() if b == "numba" else _numpy_margin)


def _row(
    account: Account,
    market: Market,
    legs: Any,
    under: Any,
    assets: Sequence[str],
    margin: Any,
    packed: tuple[Any, Any],
) -> list[float]:
    """The figures and error scale of one portfolio-margined account (module
    docstring)."""
    scenario = portfolio_underlyings(account, market)
    rest = Account(
        account.id,
        {a: s for a, s in account.supply.items() if a not in scenario},
        {a: b for a, b in account.borrow.items() if a not in scenario},
        account.category,
        account.perps or None,
    )
    sums = weighted_sums(rest, market)
    id_exact, md_exact = sums.initial_debt, sums.maintenance_debt
    if account.perps:
        ps = perp_sums(account, market)
        id_exact -= ps.initial_margin
        md_exact -= ps.maintenance_margin
    cv, dv = float(sums.collateral_value), float(sums.debt_value)
    ic, id_ = float(sums.initial_collateral), float(id_exact)
    mc, md = float(sums.maintenance_collateral), float(md_exact)
    value = scale = 0.0
    p = market.portfolio_margin
    pp, scen = packed
    for u in sorted(scenario):
        price = market.assets[u].price
        supplied, borrowed = account.supplied(u), account.borrowed(u)
        spot = float(price)
        s, b = float(supplied * price), float(borrowed * price)
        cv, ic, mc = cv + s, ic + s, mc + s
        dv, id_, md = dv + b, id_ + b, md + b
        linear = float((supplied - borrowed) * price)
        units = 0.0
        for name, pos in account.perps.items():
            perp = market.perps[name]
            if perp.underlying == u:
                linear += float(pos.size * market.perp_price(perp))
                units += abs(float(pos.size))
        mine = legs[under == assets.index(u)]
        hc = fop.pack_haircuts(p, u)
        got = margin(mine, spot, linear, units, float(supplied), hc, pp, scen)
        mtm = mine[:, fo.Q] * mine[:, fo.VALUE]
        cv += float(mtm[mtm > 0.0].sum())
        dv -= float(mtm[mtm <= 0.0].sum())
        g_im, g_mm = got[6] + got[7], got[5] + got[7]
        ic, id_ = (ic + g_im, id_) if g_im > 0.0 else (ic, id_ - g_im)
        mc, md = (mc + g_mm, md) if g_mm > 0.0 else (mc, md - g_mm)
        value += got[7]
        notional = np.abs(mine[:, fo.Q]) * (mine[:, fo.FORWARD] + mine[:, fo.STRIKE] + spot)
        scale += float(notional.sum()) + abs(linear) + spot * (units + float(supplied))
    return [cv, dv, ic, id_, mc, md, value, scale]


def portfolio_rows(
    options: BookOptions,
    account: Callable[[int], Account],
    market: Callable[[], Market],
    assets: Sequence[str],
    backend: Backend = "auto",
) -> PortfolioRows:
    """The float figures (:data:`PortfolioRows`) of portfolio-margined book rows:
    ``account(row)`` the row's exact account, ``market()`` the exact market at the current
    prices."""
    margin = _margin(backend)
    names = list(assets)

    def figures(rows: Int64Array1D) -> Float64Array2D:
        out: Float64Array2D = np.zeros((8, rows.size))
        if rows.size:
            m = market()
            p = m.portfolio_margin
            packed = (fop.pack_portfolio_margin(p), fop.pack_scenarios(p))
            c = options.cols
            for i, r in enumerate(rows.tolist()):
                lo, hi = int(c.ptr[r]), int(c.ptr[r + 1])
                out[:, i] = _row(
                    account(r), m, c.legs[lo:hi], c.under[lo:hi], names, margin, packed
                )
        return out

    return figures
