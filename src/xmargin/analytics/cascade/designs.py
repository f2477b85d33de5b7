"""The liquidation designs of contract 8 in the cascade: what one round does under each.

The cascade engine (:mod:`.engine`) finds the liquidatable pairs and moves prices; with a
:class:`DesignStep` it hands each round to it instead of its close-factor kernels, so the
same paths can be run under every design a market could choose:

- ``fixed``, ``threshold``, ``health``: the close factor of section 3 under that bonus
  policy (the kernels' rules, on NumPy lanes);
- ``target``: Aave v4's repayment to the target health factor (8.1), its variable bonus;
- ``auction``: a Dutch auction per liquidatable account (8.2, :mod:`.design_auctions`);
  a cascade step is auction time (``step_seconds``);
- ``storefront``: Compound v3's absorb and collateral sale (8.3, :mod:`.design_auctions`),
  sold into the same liquidity as every other design's.

Every rule comes from the float rule source (:mod:`xmargin.fast`); liquidators act in
the order the pairs were found, each seeing what the ones before it sold (waves: the
k-th pair of every path, or of every path and collateral asset when no cap ties a path's
liquidations, together). Besides the pairs' totals (``T_*``) a step keeps per
path the columns ``D_*`` (values in quote at the oracle unless said): debt cleared,
liquidators' (and keepers') profit after slippage and gas, the borrowers' loss (value
taken beyond the debt it cleared), what the protocol received (fees, penalties, a
storefront's gains) and paid (write-offs, keeper incentives, a storefront's losses), and
the first and last step anything was done (``D_KEEPER``: the keeper incentives among what
the protocol paid).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xmargin.analytics import lanes as ln
from xmargin.analytics.cascade import layout as lay
from xmargin.analytics.cascade.layout import FloatArray, IntArray, RoundControl
from xmargin.analytics.cascade.pairs import Pairs
from xmargin.analytics.kernel_layout import (
    A_BW,
    A_FEE,
    A_KSZ,
    A_MBW,
    NOT_LIQUIDATABLE,
    OK,
    STUCK_DUST,
    STUCK_NO_COLLATERAL,
    STUCK_ZERO,
)
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.simbook import SimBook
from xmargin.fast import designs as fd
from xmargin.fast import liquidation as fl
from xmargin.fast import packing as pk
from xmargin.fast.weights import effective_weights

__all__ = [
    "D_BORROWER_LOSS",
    "D_FIRST",
    "D_FUND_IN",
    "D_FUND_OUT",
    "D_KEEPER",
    "D_LAST",
    "D_LIQ_PROFIT",
    "D_OPEN",
    "D_RESIDUAL",
    "D_VOLUME",
    "CascadeDesign",
    "DesignStep",
    "by_path",
]

(
    D_VOLUME,
    D_LIQ_PROFIT,
    D_BORROWER_LOSS,
    D_FUND_IN,
    D_FUND_OUT,
    D_FIRST,
    D_LAST,
    D_OPEN,
    D_RESIDUAL,
    D_KEEPER,
) = range(10)
N_D = 10


@dataclass(frozen=True)
class CascadeDesign:
    """A design's parameters as floats (:meth:`xmargin.analytics.design_compare` builds
    them from a market). ``auction``: (curve, tau, step, cut, fast_floor, fast_seconds,
    slow_seconds, buf, tail (inf: none), cusp, tip, chip); ``storefront``: base asset
    index, store_front_price_factor, target reserves and reserves at the start (quote),
    and the liquidation factor per asset."""

    name: str
    rules: FloatArray
    step_seconds: float = 600.0
    target: tuple[float, float, float] = (1.05, 0.85, 0.8)
    auction: tuple[float, ...] = ()
    storefront_base: int = 0
    storefront_factor: float = 0.5
    target_reserves: float = 0.0
    reserves: float = 0.0
    liquidation_factor: FloatArray = field(default_factory=lambda: np.zeros(0))


def by_path(pairs: Pairs) -> IntArray:
    """Every pair, path by path, in the order found on each path (pairs are numbered as
    they are found): computed here, so the design step reads only the pairs' columns."""
    out: IntArray = np.argsort(pairs.path[: pairs.n], kind="stable").astype(np.int64)
    return out


def _rank(group: IntArray) -> IntArray:
    """Each element's place among those of its group, in the order given."""
    by = np.argsort(group, kind="stable")
    g = group[by]
    out: IntArray = np.empty(group.size, np.int64)
    out[by] = np.arange(group.size, dtype=np.int64) - np.searchsorted(g, g, side="left")
    return out


class DesignStep:
    """One run's state under ``design``; the engine calls :meth:`begin` then
    :meth:`one_round` for each round, the caller :meth:`finish` at the end."""

    def __init__(self, design: CascadeDesign, book: SimBook) -> None:
        self.design = design
        self.book = book
        self.per_path = np.zeros((0, N_D))
        self.pairs: Pairs | None = None
        self.rest: object | None = None  # the auctions' or the storefront's state

    def begin(self, n_paths: int) -> None:
        self.per_path = np.zeros((n_paths, N_D))
        self.per_path[:, D_FIRST] = -1.0
        self.per_path[:, D_LAST] = -1.0
        if self.design.name in ("auction", "storefront"):
            from xmargin.analytics.cascade.design_auctions import state_of

            self.rest = state_of(self, n_paths)

    def mark(self, paths: IntArray, step: int) -> None:
        """Record that something was done on ``paths`` at ``step``."""
        pp = self.per_path
        first = pp[paths, D_FIRST]
        pp[paths, D_FIRST] = np.where(first < 0, step, first)
        pp[paths, D_LAST] = step

    def add(self, paths: IntArray, column: int, x: FloatArray | float) -> None:
        np.add.at(self.per_path[:, column], paths, x)

    def one_round(
        self,
        mids: FloatArray,
        pairs: Pairs,
        liquidity: Liquidity,
        ctl: RoundControl,
        path_round: FloatArray,
        step: int,
    ) -> None:
        """One round on every path (what the engine's kernels' ``one_round`` does)."""
        self.pairs = pairs
        if self.rest is not None:
            from xmargin.analytics.cascade.design_auctions import round_of

            round_of(self, self.rest, mids, pairs, liquidity, ctl, path_round, step)
            return
        order = by_path(pairs)
        t = order[pairs.live[order] != 0]
        # Only the paths still in their rounds (the engine's ``active``, as its kernels).
        on = np.zeros(mids.shape[0], np.bool_)
        on[ctl.active] = True
        t = t[on[pairs.path[t]]]
        if t.size == 0:
            return
        bk = self.book.arrays()
        path = pairs.path[t]
        lanes = ln.Lanes.of(bk, pairs.acct[t], pairs.es, pairs.eb, pairs.off[t], mids[path])
        with np.errstate(all="ignore"):
            q = self.propose(lanes, np.full(lanes.n, np.inf))
        ok = q.status == OK
        stuck = path[(q.status != OK) & (q.status != NOT_LIQUIDATABLE)]
        np.add.at(path_round[:, lay.R_STUCK], stuck, 1.0)
        a = lanes.col[np.maximum(q.coll, 0)]
        paused = ok & ctl.paused[path, a]
        np.add.at(path_round[:, lay.R_PAUSED], path[paused], 1.0)
        act = np.flatnonzero(ok & ~paused)
        if act.size == 0:
            return
        room = np.full(mids.shape[0], ctl.cap_value)
        # The cap ties every liquidation of a path to the last; without it only what was
        # sold of an asset does (the gate reads it): the k-th of each (path, asset) go
        # together, as in the NumPy kernels.
        tied = path[act] if np.isfinite(ctl.cap_value) else path[act] * mids.shape[1] + a[act]
        rank = _rank(tied)
        with np.errstate(all="ignore"):
            for k in range(int(rank.max()) + 1):
                w = act[rank == k]
                sub = lanes.subset(w, chain=True)
                qw = ln.restrict(q, lanes, w, sub)
                self._wave(t[w], sub, qw, a[w], mids, pairs, liquidity, ctl, path_round, room, step)

    def propose(self, lanes: ln.Lanes, amount_cap: FloatArray) -> ln.Proposal:
        """The design's proposal per lane (close factor, or Aave v4's target)."""
        bk = self.book
        q = ln.propose(lanes, bk.ap, self.design.rules, amount_cap)
        if self.design.name != "target":
            return q
        return target_proposal(lanes, bk.ap, self.design, q, amount_cap)

    def _wave(
        self,
        t: IntArray,
        lanes: ln.Lanes,
        q: ln.Proposal,
        a: IntArray,
        mids: FloatArray,
        pairs: Pairs,
        liquidity: Liquidity,
        ctl: RoundControl,
        path_round: FloatArray,
        room: FloatArray,
        step: int,
    ) -> None:
        """Size the wave's proposals to profit and the round's cap, then liquidate."""
        path = pairs.path[t]
        p_debt = lanes.p[q.debt]
        cap = np.full(lanes.n, np.inf)
        if ctl.gate:
            received = q.seized - q.fee
            floor = q.repaid * p_debt / received
            u = liquidity.units_until(a, mids[path, a], ctl.sold[path, a], floor)
            cap = np.where(u < received, q.repaid * u / received, cap)
        capped = q.repaid * p_debt > room[path]
        cap = np.where(capped, np.minimum(cap, room[path] / p_debt), cap)
        again = cap < q.repaid
        go = np.ones(lanes.n, np.bool_)
        repaid, seized, fee = q.repaid.copy(), q.seized.copy(), q.fee.copy()
        if again.any():
            sub = np.flatnonzero(again)
            q2 = self.propose(lanes.subset(sub), cap[sub])
            refused = (q2.status != OK) & (q2.status != NOT_LIQUIDATABLE)
            why = np.where(capped[sub][refused], lay.R_CAPPED, lay.R_UNPROFITABLE)
            np.add.at(path_round, (path[sub][refused], why), 1.0)
            go[sub] = q2.status == OK
            repaid[sub], seized[sub], fee[sub] = q2.repaid, q2.seized, q2.fee
        p_coll = lanes.p[q.coll]
        got = liquidity.proceeds(a, p_coll, ctl.sold[path, a], seized - fee)
        profit = got - repaid * p_debt - ctl.gas
        if ctl.gate:
            loss = go & (profit <= 0.0)
            why = np.where(capped[loss], lay.R_CAPPED, lay.R_UNPROFITABLE)
            np.add.at(path_round, (path[loss], why), 1.0)
            go &= ~loss
        if not go.any():
            return
        done = ln.Proposal(q.status, q.debt, q.coll, repaid, seized, fee, q.beta, q.dv, q.cv)
        g, pg = t[go], path[go]
        out = pairs.out
        toxic = q.dv[go] * (1.0 + q.beta[go]) > q.cv[go]
        out[g, lay.T_TOXIC] = np.maximum(out[g, lay.T_TOXIC], toxic)
        out[g, lay.T_REPAID] += repaid[go] * p_debt[go]
        out[g, lay.T_SEIZED] += seized[go] * p_coll[go]
        out[g, lay.T_FEES] += fee[go] * p_coll[go]
        out[g, lay.T_LIQ] += 1.0
        written = ln.apply(lanes, go, done)[go]
        out[g, lay.T_WRITTEN] += written
        moved = go[lanes.owner]
        pairs.es[lanes.src[moved]] = lanes.s[moved]
        pairs.eb[lanes.src[moved]] = lanes.b[moved]
        owes = lanes.per_lane((lanes.b > 0.0).astype(np.float64)) > 0.0
        pairs.live[g[~owes[go]]] = 0
        np.add.at(ctl.sold, (pg, a[go]), seized[go] - fee[go])
        np.add.at(room, pg, -repaid[go] * p_debt[go])
        self.add(pg, D_VOLUME, repaid[go] * p_debt[go])
        self.add(pg, D_LIQ_PROFIT, profit[go])
        self.add(pg, D_BORROWER_LOSS, seized[go] * p_coll[go] - repaid[go] * p_debt[go])
        self.add(pg, D_FUND_IN, fee[go] * p_coll[go])
        self.add(pg, D_FUND_OUT, written)
        self.mark(pg, step)
        for col, x in (
            (lay.R_EXECUTED, 1.0),
            (lay.R_SEIZED, seized[go] * p_coll[go]),
            (lay.R_REPAID, repaid[go] * p_debt[go]),
        ):
            np.add.at(path_round[:, col], pg, x)

    def finish(self, final: FloatArray) -> FloatArray:
        """Per path the ``D_*`` columns at the end (``final``: the final prices); what is
        still running (an auction, collateral the protocol holds) is valued at ``final``
        and ``D_OPEN`` counts it, ``D_RESIDUAL`` its shortfall."""
        out = self.per_path.copy()  # the run's own figures stay as they are
        if self.rest is not None and self.pairs is not None:
            from xmargin.analytics.cascade.design_auctions import finish_of

            finish_of(self, self.rest, final, self.pairs, out)
        return out


def target_proposal(
    lanes: ln.Lanes, ap: FloatArray, design: CascadeDesign, q: ln.Proposal, amount_cap: FloatArray
) -> ln.Proposal:
    """Aave v4's liquidation (contract 8.1) of the pair ``q`` chose (largest debt against
    largest collateral): repay what brings health to the target, capped by the debt, the
    collateral and the dust rules, at the variable bonus."""
    rules = design.rules
    thf, hfm, factor = design.target
    cv, dv, _, _, mc, md = ln.sums(lanes, ap)
    de, ce = np.maximum(q.debt, 0), np.maximum(q.coll, 0)
    c_ = lanes.col
    w = effective_weights(
        lanes.s, lanes.b, lanes.cf, lanes.lt, ap[c_, A_BW], ap[c_, A_MBW], ap[c_, A_KSZ]
    )
    d, c = lanes.b[de], lanes.s[ce]
    p_debt, p_coll = lanes.p[de], lanes.p[ce]
    hf = mc / np.where(md > 0.0, md, 1.0)
    lb = fd.variable_liquidation_bonus(lanes.bonus[ce], hf, hfm, factor)
    beta = lb - 1.0
    to_target = fd.debt_to_target(mc, md, thf, lb, w[1][ce], w[3][de], p_debt)
    mlv = rules[pk.R_MIN_LEFTOVER]
    x = fd.debt_to_liquidate(amount_cap, d, to_target, p_debt, mlv)
    seized, repaid = fl.seize(x, p_debt, p_coll, beta, c)
    # Collateral dust: take all of it and repay its value (Aave v4).
    dust = (seized < c) & (repaid < d) & ((c - seized) * p_coll < mlv)
    seized = np.where(dust, c, seized)
    repaid = np.where(dust, np.minimum(d, c * p_coll / (p_debt * lb)), repaid)
    fee = fl.protocol_fee(seized, beta, ap[lanes.col[ce], A_FEE])
    # The close factor's refusals stand where they are the account's (not liquidatable,
    # no collateral); the amounts' are the target's: nothing at all, or more than the
    # liquidator asked for (Aave v4's MustNotLeaveDust).
    status = np.select(
        [
            (q.status == NOT_LIQUIDATABLE) | (q.status == STUCK_NO_COLLATERAL),
            ~((repaid > 0.0) & (seized > 0.0)),
            repaid > amount_cap * (1.0 + 1e-12),
        ],
        [q.status, STUCK_ZERO, STUCK_DUST],
        OK,
    ).astype(np.int64)
    keep = status == OK
    return ln.Proposal(
        status, q.debt, q.coll, np.where(keep, repaid, 0.0), np.where(keep, seized, 0.0),
        np.where(keep, fee, 0.0), np.where(keep, beta, 0.0), dv, cv,
    )  # fmt: skip
