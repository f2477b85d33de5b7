"""Option accounts in a cascade: their positions on every path and their liquidation
(docs/contract.md 6.5; issue 14 item 5).

The cascade's desk (:class:`~xmargin.analytics.cascade.perp_desk.PerpDesk`) carries every
account that holds a perp or an option, with its balances per path; this part holds the
option contracts per path (paths x legs) and adds their terms to the desk's figures
(:class:`~xmargin.analytics.simoptions.SimOptions`: float Black-76 at the path's prices,
standard margin, or portfolio margin's float twin for an account under it). A
liquidatable account that holds an open option is liquidated as the exact engine does
(:func:`xmargin.risk.option_liquidation.quote_option_liquidation`): positions are taken
over at their mark value, shorts first, each side by |q·value| from the largest, then by
name; closing c contracts moves sign(q)·c·value through the settlement asset, then the
account pays ``liquidation_fee`` and ``insurance_fee`` of the notional c·S; positions are
closed in turn until the account is no longer liquidatable (the last one only as far as
needed: the fewest contracts on the underlying's decimals, by bisection, at most 64
steps) or none is left. Each trial re-evaluates the account's margin: standard margin,
or for a portfolio-margined account its scenarios
(:meth:`~xmargin.analytics.simportfolio.SimPortfolio.account_margin`) with the contracts
and balances left. An account whose value is negative then is bad debt at the end of the
path, as a perp account's (5.5: the simulations report bad debt before the insurance
fund). Its perps, if it holds any, are liquidated (5.4) only once its options are closed.
The liquidator keeps the options taken over (no hedge: an option takeover moves no
price).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from xmargin.analytics.cascade.layout import FloatArray, IntArray
from xmargin.analytics.simoptions import SimOptions
from xmargin.fast import options as fo
from xmargin.fast.perps import perp_sums
from xmargin.fast.weights import effective_weights

if TYPE_CHECKING:
    from xmargin.analytics.cascade.perp_desk import PerpDesk

__all__ = ["MAX_BISECTION_STEPS", "OptionLegs"]

#: As the exact engine's (:data:`xmargin.risk.option_liquidation.MAX_BISECTION_STEPS`).
MAX_BISECTION_STEPS = 64


class OptionLegs:
    """The option contracts of a desk's accounts on ``n_paths`` paths (module docstring).

    ``held``: the desk's accounts (book rows, sorted); ``hours_per_step`` and
    ``elasticity``: time and the volatility path (:meth:`SimOptions.moved`), step ``t``
    valued ``(t + 1)·hours_per_step`` after today."""

    def __init__(
        self,
        so: SimOptions,
        held: IntArray,
        n_paths: int,
        hours_per_step: float = 0.0,
        elasticity: float = 0.0,
    ) -> None:
        self.so = so
        self.n_held = len(held)
        self.desk_of = np.searchsorted(held, so.held)  # option account -> desk index
        self.index = {int(d): k for k, d in enumerate(self.desk_of)}
        self.q = np.repeat(so.legs[:, fo.Q][None], n_paths, 0)
        self.hours_per_step = float(hours_per_step)
        self.elasticity = float(elasticity)
        self.hours = 0.0
        self.liquidations = np.zeros(n_paths)
        self.closed_value = np.zeros(n_paths)
        self.liquidator_fees = np.zeros(n_paths)
        self.insurance_fees = np.zeros(n_paths)

    def at_step(self, step: int) -> None:
        """Value the options at step ``step``'s time."""
        self.hours = (step + 1) * self.hours_per_step

    def terms(self, mids: FloatArray, desk: PerpDesk | None = None) -> FloatArray:
        """(cv, dv, ic, id, mc, md, option_value) of every desk account on every path:
        (7, paths, desk accounts); zero for those holding no option. A portfolio-margined
        account's scenarios take ``desk``'s balances and perp sizes on each path."""
        s = b = q = None
        pm = self.so.margined
        if desk is not None and pm is not None:
            h = self.desk_of[pm.unit_account]
            s, b = desk.s[:, h, pm.unit_col], desk.b[:, h, pm.unit_col]
            q = desk.q
        t = self.so.terms(mids, self.hours, self.elasticity, self.q, s, b, q)
        out = np.zeros((7, mids.shape[0], self.n_held))
        out[:, :, self.desk_of] = t
        return out

    def value(self, mids: FloatArray) -> FloatArray:
        """Σ q·V of the open positions per path (quote)."""
        legs = self.so.moved(mids, self.hours, self.elasticity, self.q)
        return np.asarray((legs[:, :, fo.Q] * legs[:, :, fo.VALUE]).sum(axis=1), np.float64)

    # -- liquidation ---------------------------------------------------------------------
    def liquidate(self, desk: PerpDesk, path: int, h: int, mids: FloatArray) -> bool:
        """Liquidate the options of desk account ``h`` on ``path`` at ``mids`` (one
        price vector), which the caller found liquidatable; ``False`` when it holds no
        open option."""
        k = self.index.get(int(h))
        if k is None:
            return False
        so = self.so
        lo, hi = int(so.ptr[k]), int(so.ptr[k + 1])
        q_now = self.q[path, lo:hi]
        if not (q_now != 0.0).any():
            return False
        legs = so.moved(mids[None], self.hours, self.elasticity, self.q[path][None])[0][lo:hi]
        values = legs[:, fo.VALUE].copy()
        order = sorted(
            (i for i in range(hi - lo) if q_now[i] != 0.0),
            key=lambda i: (q_now[i] > 0.0, -abs(q_now[i] * values[i]), so.names[lo + i]),
        )
        for i in order:
            q = float(self.q[path, lo + i])
            if self._healthy_after(desk, path, h, mids, legs, lo, i, abs(q), values[i]):
                least = self._least(desk, path, h, mids, legs, lo, i, q, values[i])
                self._close(desk, path, h, mids, lo, i, least, values[i])
                break
            self._close(desk, path, h, mids, lo, i, abs(q), values[i])
        desk.touched[path, h] += 1.0
        return True

    def _close(
        self,
        desk: PerpDesk,
        path: int,
        h: int,
        mids: FloatArray,
        lo: int,
        i: int,
        c: float,
        value: float,
        record: bool = True,
    ) -> None:
        """Close ``c`` contracts of leg ``lo + i`` at ``value``, fees paid."""
        so, leg = self.so, lo + i
        q = float(self.q[path, leg])
        sign = 1.0 if q > 0.0 else -1.0
        settle = int(so.settle[leg])
        px = float(mids[settle])
        notional = c * float(mids[so.under[leg]])
        fee_l = notional * float(so.liquidation_fee[leg])
        fee_i = notional * float(so.insurance_fee[leg])
        desk.flow(path, h, settle, sign * c * value / px)
        desk.flow(path, h, settle, -fee_l / px)
        desk.flow(path, h, settle, -fee_i / px)
        self.q[path, leg] = q - sign * c
        if record:
            self.liquidations[path] += 1.0
            self.closed_value[path] += c * value
            self.liquidator_fees[path] += fee_l
            self.insurance_fees[path] += fee_i

    def _healthy_after(
        self,
        desk: PerpDesk,
        path: int,
        h: int,
        mids: FloatArray,
        legs: FloatArray,
        lo: int,
        i: int,
        c: float,
        value: float,
    ) -> bool:
        """Whether closing ``c`` contracts of leg ``lo + i`` leaves the account not
        liquidatable (a trial: nothing changes)."""
        s, b = desk.s[path, h].copy(), desk.b[path, h].copy()
        q = self.q[path].copy()
        self._close(desk, path, h, mids, lo, i, c, value, record=False)
        mc, md = self.margin(desk, path, h, mids, legs, lo)
        desk.s[path, h], desk.b[path, h], self.q[path] = s, b, q
        return not (md > 0.0 and mc < md)

    def _least(
        self,
        desk: PerpDesk,
        path: int,
        h: int,
        mids: FloatArray,
        legs: FloatArray,
        lo: int,
        i: int,
        q: float,
        value: float,
    ) -> float:
        """The fewest contracts (on the underlying's decimals) whose close leaves the
        account not liquidatable, given that closing all of |q| does."""
        unit = 10.0 ** -float(self.so.decimals[lo + i])
        low, high = 0.0, abs(q)
        for _ in range(MAX_BISECTION_STEPS):
            if high - low <= unit:
                break
            mid = low + ((high - low) / unit // 2) * unit
            if mid <= low or mid >= high:
                break
            if self._healthy_after(desk, path, h, mids, legs, lo, i, mid, value):
                high = mid
            else:
                low = mid
        return high

    def margin(
        self, desk: PerpDesk, path: int, h: int, mids: FloatArray, legs: FloatArray, lo: int
    ) -> tuple[float, float]:
        """(mc, md) of desk account ``h`` on ``path`` at ``mids``: balances, perps and
        options (``legs``: the account's leg rows at these prices, from ``lo``)."""
        s, b = desk.s[path, h], desk.b[path, h]
        _, lt, _, mbw = effective_weights(
            s, b, desk.cf[h], desk.lt[h], desk.bw[h], desk.mbw[h], desk.k[h]
        )
        mc = float((s * lt * mids).sum())
        md = float((b * mbw * mids).sum())
        pp = desk.pp
        idx = np.flatnonzero(desk.pos_acct == h)
        if idx.size:
            t, j = pp.tables, pp.perp[idx]
            r_i, r_m, k_size = (r[idx] for r in pp.margin_rates())
            terms = perp_sums(
                desk.q[path, idx], pp.prices(mids)[j], pp.entry[idx], desk.F[path, j],
                desk.f0[path, idx], r_i, r_m, k_size, t.pnl_initial_weight[j],
            )  # fmt: skip
            mc += float(np.sum(terms[4]))
            md += float(np.sum(terms[5]))
        rows = legs.copy()
        rows[:, fo.Q] = self.q[path, lo : lo + len(rows)]
        k = self.index[int(h)]
        pm = self.so.margined
        if pm is not None and self.so.portfolio[k]:  # 6.3: the scenarios, re-evaluated
            pmc, pmd = pm.account_margin(k, rows, lo, mids, s, b, desk.q[path])
            return mc + pmc, md + pmd
        o = fo.standard_option_sums(rows, 0, len(rows), self.so.pm)
        return mc + float(o[4]), md + float(o[5])
