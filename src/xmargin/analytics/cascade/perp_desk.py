"""Accounts holding perps in a cascade: their liquidation (contract 5.4) and its hedge.

The spot kernels see balances only, so the engine gives them a book in which accounts
holding perps have no balances, and this desk carries those accounts on every path: their
balances (paths x accounts x assets, small: only accounts holding perps), their positions
(paths x positions) and each perp's funding index (paths x perps). At each check, an
account whose maintenance collateral is below its maintenance debt, perp terms included
(:mod:`xmargin.fast.perps`), has its first open position closed by the most 5.4 allows
(:func:`~xmargin.fast.perps.max_closable`) at the oracle: funding settled, PnL realised,
the liquidator's and the insurance fee paid, each a flow into or out of the settlement
asset (repaying borrow first, drawing supply first). The liquidator who took the position
over hedges it in the underlying's liquidity: a long taken over is sold, a short bought
(a buy moves the mid up by the factor a sale of the same size moves it down), so perp
liquidations push prices as spot sales do. Funding accrues between steps at a given
rate: F rises by rate x P per step (a positive rate: longs pay shorts).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from xmargin.analytics.cascade.layout import FloatArray
from xmargin.analytics.cascade.option_desk import OptionLegs
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.simbook import SimBook
from xmargin.analytics.simperps import SimPerps
from xmargin.fast.perps import (
    cap_initial_pnl,
    liquidation_fees,
    max_closable,
    perp_sums,
    pnl,
    realized_pnl,
)
from xmargin.fast.weights import effective_weights

if TYPE_CHECKING:
    from xmargin.analytics.cascade.outcome import PathOutcome

__all__ = ["PerpDesk", "with_desk"]

MAX_PERP_ROUNDS = 100


class PerpDesk:
    """The perp accounts of ``book`` on ``n_paths`` paths (module docstring)."""

    def __init__(
        self,
        book: SimBook,
        n_paths: int,
        funding_per_step: FloatArray | None = None,
        hours_per_step: float = 0.0,
        elasticity: float = 0.0,
    ) -> None:
        pp = book.perps if book.perps is not None else SimPerps.empty(book.price)
        self.book, self.pp, sp = book, pp, book.pack.spot
        self.held = pp.accounts()
        if book.options is not None:
            self.held = np.union1d(self.held, book.options.held)
        self.n_paths = n_paths
        n_h, n_a = len(self.held), book.n_assets
        local = np.searchsorted(self.held, pp.row)
        self.pos_acct = local  # position -> index in ``held``
        s = np.zeros((n_h, n_a))
        b = np.zeros((n_h, n_a))
        for h, r in enumerate(self.held):
            sl = slice(int(book.indptr[r]), int(book.indptr[r + 1]))
            s[h, book.col[sl]] = book.s[sl]
            b[h, book.col[sl]] = book.b[sl]
        self.s = np.repeat(s[None], n_paths, 0)
        self.b = np.repeat(b[None], n_paths, 0)
        cat = book.cat[self.held]
        self.cf = sp.initial[cat, :, 0]
        self.lt = sp.maintenance[cat, :, 0]
        self.bw = np.broadcast_to(sp.borrow_weight, (n_h, n_a))
        self.mbw = np.broadcast_to(sp.maintenance_borrow_weight, (n_h, n_a))
        self.k = np.broadcast_to(sp.size_factor, (n_h, n_a))
        rows, cols = book.full_value_entries()
        if rows.size:  # full value under 6.3
            h_pm = np.searchsorted(self.held, rows)
            self.cf, self.lt, self.bw, self.mbw, self.k = (
                np.array(w) for w in (self.cf, self.lt, self.bw, self.mbw, self.k)
            )
            for w in (self.cf, self.lt, self.bw, self.mbw):
                w[h_pm, cols] = 1.0
            self.k[h_pm, cols] = 0.0
        self.q = np.repeat(pp.size[None], n_paths, 0)
        self.f0 = np.repeat(pp.entry_index[None], n_paths, 0)
        self.F = np.repeat(pp.tables.funding_index[None], n_paths, 0)
        self.funding = np.zeros(len(pp.tables)) if funding_per_step is None else funding_per_step
        self.full_health, self.small_value, self.close_factor = _rules(book)
        t = pp.tables
        self.scale = 10.0 ** np.array(
            [book.pack.spot.decimals[u] for u in t.underlying], np.float64
        ).reshape(-1)
        # Totals per path.
        self.liquidations = np.zeros(n_paths)
        #: perp liquidations per (path, held account)
        self.touched = np.zeros((n_paths, n_h))
        self.closed_value = np.zeros(n_paths)
        self.liquidator_fees = np.zeros(n_paths)
        self.insurance_fees = np.zeros(n_paths)
        #: the option positions of the held accounts (``None``: none holds one)
        self.options: OptionLegs | None = None
        if book.options is not None:
            self.options = OptionLegs(book.options, self.held, n_paths, hours_per_step, elasticity)

    # -- figures ------------------------------------------------------------------------------
    def figures(self, mids: FloatArray) -> FloatArray:
        """(cv, dv, ic, id, mc, md) of every held account on every path: (6, paths, held)."""
        pp = self.pp
        t, j = pp.tables, pp.perp
        cf, lt, bw, mbw = effective_weights(
            self.s, self.b, self.cf, self.lt, self.bw, self.mbw, self.k
        )
        pm = mids[:, None, :]
        spot = [
            (self.s * pm).sum(2), (self.b * pm).sum(2), (self.s * cf * pm).sum(2),
            (self.b * bw * pm).sum(2), (self.s * lt * pm).sum(2), (self.b * mbw * pm).sum(2),
        ]  # fmt: skip
        price = pp.prices(mids)[:, j]
        r_i, r_m, k_size = pp.margin_rates()
        terms = perp_sums(
            self.q, price, pp.entry, self.F[:, j], self.f0, r_i, r_m, k_size,
            t.pnl_initial_weight[j],
        )  # fmt: skip
        out = np.stack(spot)
        n_h = len(self.held)
        for kk, term in enumerate(terms):
            per = np.zeros((self.n_paths, n_h))
            for i in range(self.n_paths):
                per[i] = np.bincount(self.pos_acct, weights=term[i], minlength=n_h)
            if kk == 2:
                per = cap_initial_pnl(per, t.cap)
            out[kk] += per
        if self.options is not None:
            out += self.options.terms(mids, self)[:6]
        alone = pp.margined
        if alone is not None and pp.margined_rows is not None:  # 6.3, perps and no option
            h = np.searchsorted(self.held, pp.margined_rows)
            hu = h[alone.unit_account]
            s, b = self.s[:, hu, alone.unit_col], self.b[:, hu, alone.unit_col]
            out[2:6][:, :, h] += pp.portfolio_terms(mids, s, b, self.q)
        return out

    # -- liquidations -------------------------------------------------------------------------
    def liquidate(self, mids: FloatArray, liq: Liquidity) -> tuple[FloatArray, bool]:
        """Rounds of perp liquidations at ``mids`` until none is left; returns the mids
        after the hedges and whether anything was closed."""
        acted = False
        for _ in range(MAX_PERP_ROUNDS):
            sold = self._round(mids)
            if sold is None:
                break
            acted = True
            mids = mids * _impact(liq, mids, sold)
        return mids, acted

    def _round(self, mids: FloatArray) -> FloatArray | None:
        """One round: on each path each liquidatable account's first open position closed
        as 5.4 allows; returns the units the liquidators hedge (paths x assets: > 0 sold,
        < 0 bought), or ``None`` when nothing was closed."""
        pp = self.pp
        t = pp.tables
        f = self.figures(mids)
        mc, md = f[4], f[5]
        liable = (md > mc) & (md > 0.0)
        if not liable.any():
            return None
        prices = pp.prices(mids)
        sold = np.zeros_like(mids)
        closed_any = False
        for path, h in zip(*np.nonzero(liable), strict=True):
            if self.options is not None and self.options.liquidate(self, path, h, mids[path]):
                closed_any = True
                continue
            open_ = np.flatnonzero((self.pos_acct == h) & (self.q[path] != 0.0))
            if not open_.size:
                continue
            i = int(open_[0])
            j = int(pp.perp[i])
            q, price = self.q[path, i], prices[path, j]
            hf = mc[path, h] / md[path, h]
            c = float(
                max_closable(hf, q, price, self.full_health, self.small_value,
                             self.close_factor, self.scale[j])
            )  # fmt: skip
            if c <= 0.0:
                continue
            funding = q * (self.F[path, j] - self.f0[path, i])
            gain = realized_pnl(c, price, pp.entry[i], q)
            fee_l, fee_i = liquidation_fees(c, price, t.liquidation_fee[j], t.insurance_fee[j])
            settle = int(t.settlement[j])
            flow = (gain - funding - fee_l - fee_i) / mids[path, settle]
            self.flow(path, h, settle, flow)
            self.q[path, i] = q - c if q > 0.0 else q + c
            self.f0[path, i] = self.F[path, j]
            sold[path, t.underlying[j]] += c if q > 0.0 else -c
            self.liquidations[path] += 1.0
            self.touched[path, h] += 1.0
            self.closed_value[path] += c * price
            self.liquidator_fees[path] += fee_l
            self.insurance_fees[path] += fee_i
            closed_any = True
        return sold if closed_any else None

    def flow(self, path: int, h: int, asset: int, units: float) -> None:
        """Move ``units`` into (> 0: repaying borrow first) or out of (< 0: drawing
        supply first, then borrowing) a balance (contract 5.3 step 3)."""
        s, b = self.s[path, h, asset], self.b[path, h, asset]
        if units >= 0.0:
            repay = min(b, units)
            self.b[path, h, asset], self.s[path, h, asset] = b - repay, s + units - repay
        else:
            draw = min(s, -units)
            self.s[path, h, asset], self.b[path, h, asset] = s - draw, b - units - draw

    def at_step(self, step: int) -> None:
        """Step ``step`` begins: the options are valued at its time."""
        if self.options is not None:
            self.options.at_step(step)

    def accrue(self, mids: FloatArray) -> None:
        """One step of funding: F += rate x P per perp on each path."""
        pp = self.pp
        self.F += self.funding[None, :] * pp.prices(mids)

    def unrealised(self, mids: FloatArray) -> FloatArray:
        """Σ PnL of the open positions per path (quote), for reports."""
        pp = self.pp
        j = pp.perp
        x = pnl(self.q, pp.prices(mids)[:, j], pp.entry, self.F[:, j], self.f0)
        return np.asarray(x.sum(axis=1), np.float64)


def _rules(book: SimBook) -> tuple[float, float, float]:
    """(full_liquidation_health, small_position_value, close_factor) of the market."""
    r = book.pack.rules
    return float(r.full_liquidation_health), float(r.small_position_value), float(r.close_factor)


def _impact(liq: Liquidity, mids: FloatArray, units: FloatArray) -> FloatArray:
    """The mid after the hedges over the mid: a sale of u units moves it by the model's
    factor, a buy by the inverse of a sale's of the same size."""
    out = np.ones_like(mids)
    p, a = np.nonzero(units != 0.0)
    if p.size:
        m = mids[p, a]
        after = liq.mid_after(a, m, np.abs(units[p, a]))
        with np.errstate(all="ignore"):
            f = after / m
        out[p, a] = np.where(units[p, a] > 0.0, f, 1.0 / f)
    return out


def with_desk(out: PathOutcome, desk: PerpDesk, final: FloatArray) -> PathOutcome:
    """``out`` with the accounts of ``desk`` (perps, options) at the final prices: their
    deficits as residual bad debt (and as pairs, after the spot ones), those still
    liquidatable, their borrowing power and borrowed, and the perp and option
    liquidations' totals."""
    cv, dv, ic, id_, mc, md = desk.figures(final)
    deficit = np.maximum(dv - cv, 0.0)
    residual = out.residual + deficit.sum(axis=1)
    path, h = np.nonzero(deficit > 0.0)
    zeros = np.zeros(len(path))
    opt = desk.options
    zero = np.zeros(desk.n_paths)
    opt_liq = zero if opt is None else opt.liquidations
    return replace(
        out,
        residual=residual,
        bad_debt=out.written_off + residual,
        liquidations=out.liquidations + desk.liquidations + opt_liq,
        accounts_liquidated=out.accounts_liquidated + (desk.touched > 0).sum(axis=1),
        still_liquidatable=out.still_liquidatable + ((md > mc) & (md > 0.0)).sum(axis=1),
        borrowing_power=out.borrowing_power + ic.sum(axis=1),
        borrowed=out.borrowed + id_.sum(axis=1),
        pair_path=np.concatenate([out.pair_path, path.astype(np.int64)]),
        pair_acct=np.concatenate([out.pair_acct, desk.held[h]]),
        pair_bad=np.concatenate([out.pair_bad, deficit[path, h]]),
        pair_toxic=np.concatenate([out.pair_toxic, zeros]),
        pair_seized=np.concatenate([out.pair_seized, zeros]),
        perp_liquidations=desk.liquidations.copy(),
        perp_closed_value=desk.closed_value.copy(),
        perp_liquidator_fees=desk.liquidator_fees.copy(),
        perp_insurance_fees=desk.insurance_fees.copy(),
        option_liquidations=opt_liq.copy(),
        option_closed_value=(zero if opt is None else opt.closed_value).copy(),
        option_liquidator_fees=(zero if opt is None else opt.liquidator_fees).copy(),
        option_insurance_fees=(zero if opt is None else opt.insurance_fees).copy(),
    )
