"""Auctions and the storefront in the cascade (see :mod:`.designs`): state that outlives a
round.

Auction (contract 8.2, Maker's Clipper): a liquidatable pair with no running auction
(one per account at a time, as a Maker vault holds one collateral) starts one: its
largest debt, as much as its largest collateral covers at the penalty (section 3.3's
bonus, Maker's ``chop``), and that collateral move into the auction; the tab is the
debt times 1 + the penalty; a keeper is paid ``tip + tab·chip`` by the protocol. The
price starts at the oracle × ``buf`` and decays with the steps since, each
``step_seconds`` long. A taker buys while the auction price is below what the collateral
fetches in the liquidity (the marginal price), after gas, up to the lot and the tab;
the tab raised, the rest of the lot returns; the lot gone with debt left, the debt is
written off. ``tail`` and ``cusp`` reset the price (a keeper paid again).

Storefront (contract 8.3, Compound v3): every liquidatable pair is absorbed: all its
balances go to the protocol, which pays its debt and the excess it credits the account
out of its reserves (in quote), then sells the collateral at the store-front price while
its reserves are below target, to buyers who resell it into the same liquidity. At the
end the protocol's result (sales plus what it still holds, at the final prices, minus
what absorbing cost) is what it received or paid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xmargin.analytics import lanes as ln
from xmargin.analytics.cascade import designs as ds
from xmargin.analytics.cascade import layout as lay
from xmargin.analytics.cascade.layout import FloatArray, IntArray, RoundControl
from xmargin.analytics.cascade.pairs import Pairs
from xmargin.analytics.kernel_layout import OK
from xmargin.analytics.liquidity import Liquidity
from xmargin.fast import designs as fd
from xmargin.fast import liquidation as fl
from xmargin.fast.health import is_liquidatable

__all__ = ["AuctionState", "StoreState", "finish_of", "round_of", "state_of"]

#: A tab or lot below this share of what it started at is cleared (float rounding).
_CLEARED = 1e-12


@dataclass
class AuctionState:
    """Per pair (grown with the pairs): whether an auction runs, its entries in the
    pairs' balances, assets, debt, tab, lot (units), start price (debt units per unit
    of collateral) and start step."""

    active: np.ndarray
    e_debt: IntArray
    e_coll: IntArray
    a_debt: IntArray
    a_coll: IntArray
    debt: FloatArray
    tab: FloatArray
    lot: FloatArray
    top: FloatArray
    tic: FloatArray

    def grow(self, n: int) -> None:
        if n <= len(self.active):
            return
        for name, value in vars(self).items():
            out = np.zeros(max(n, 2 * len(value)), dtype=value.dtype)
            out[: len(value)] = value
            setattr(self, name, out)


@dataclass
class StoreState:
    """Per path: collateral the protocol holds (paths x assets, units), its reserves
    (quote), what absorbing paid out and what sales brought in (quote)."""

    held: FloatArray
    reserves: FloatArray
    paid_out: FloatArray
    sales: FloatArray


def state_of(step: ds.DesignStep, n_paths: int) -> AuctionState | StoreState:
    """The empty state of a run under ``step``'s design."""
    if step.design.name == "auction":
        i0, f0 = np.zeros(0, np.int64), np.zeros(0)
        return AuctionState(np.zeros(0, np.bool_), i0, i0, i0, i0, f0, f0, f0, f0, f0)
    n_assets = step.book.n_assets
    return StoreState(
        np.zeros((n_paths, n_assets)),
        np.full(n_paths, step.design.reserves),
        np.zeros(n_paths),
        np.zeros(n_paths),
    )


def round_of(
    step: ds.DesignStep,
    state: object,
    mids: FloatArray,
    pairs: Pairs,
    liquidity: Liquidity,
    ctl: RoundControl,
    path_round: FloatArray,
    at: int,
) -> None:
    """One round under the auction or storefront design."""
    if isinstance(state, AuctionState):
        state.grow(pairs.n)
        _start_auctions(step, state, mids, pairs, ctl, path_round, at)
        _take(step, state, mids, pairs, liquidity, ctl, path_round, at)
    elif isinstance(state, StoreState):
        _absorb(step, state, mids, pairs, ctl, path_round, at)
        _sell(step, state, mids, liquidity, ctl, path_round, at)


def _lanes(step: ds.DesignStep, t: IntArray, mids: FloatArray, pairs: Pairs) -> ln.Lanes:
    bk = step.book.arrays()
    return ln.Lanes.of(bk, pairs.acct[t], pairs.es, pairs.eb, pairs.off[t], mids[pairs.path[t]])


def _count(path_round: FloatArray, paths: IntArray, column: int, x: FloatArray | float) -> None:
    np.add.at(path_round[:, column], paths, x)


# -- auctions ----------------------------------------------------------------------------
def _start_auctions(
    step: ds.DesignStep,
    st: AuctionState,
    mids: FloatArray,
    pairs: Pairs,
    ctl: RoundControl,
    path_round: FloatArray,
    at: int,
) -> None:
    order = ds.by_path(pairs)
    t = order[(pairs.live[order] != 0) & ~st.active[order]]
    if t.size == 0:
        return
    lanes = _lanes(step, t, mids, pairs)
    with np.errstate(all="ignore"):
        q = ln.propose(lanes, step.book.ap, step.design.rules, np.full(lanes.n, np.inf))
    path = pairs.path[t]
    a = lanes.col[np.maximum(q.coll, 0)]
    paused = (q.status == OK) & ctl.paused[path, a]
    _count(path_round, path[paused], lay.R_PAUSED, 1.0)
    go = np.flatnonzero((q.status == OK) & ~paused)
    if go.size == 0:
        return
    de, ce, g, pg = q.debt[go], q.coll[go], t[go], path[go]
    d, c, beta = lanes.b[de], lanes.s[ce], q.beta[go]
    p_debt, p_coll = lanes.p[de], lanes.p[ce]
    debt = np.minimum(d, c * p_coll / (p_debt * (1.0 + beta)))
    tab = debt * (1.0 + beta)
    (_, _, _, _, _, _, _, buf, _, _, tip, chip) = step.design.auction
    st.active[g] = True
    st.e_debt[g], st.e_coll[g] = lanes.src[de], lanes.src[ce]
    st.a_debt[g], st.a_coll[g] = lanes.col[de], lanes.col[ce]
    st.debt[g], st.tab[g], st.lot[g] = debt, tab, c
    st.top[g], st.tic[g] = p_coll * buf / p_debt, float(at)
    pairs.eb[st.e_debt[g]] = d - debt
    pairs.es[st.e_coll[g]] = 0.0
    coin = fd.keeper_incentive(tip, chip, tab, p_debt) * p_debt
    step.add(pg, ds.D_FUND_OUT, coin)
    step.add(pg, ds.D_KEEPER, coin)
    step.add(pg, ds.D_LIQ_PROFIT, coin)
    toxic = q.dv[go] * (1.0 + beta) > q.cv[go]
    pairs.out[g, lay.T_TOXIC] = np.maximum(pairs.out[g, lay.T_TOXIC], toxic)
    pairs.out[g, lay.T_LIQ] += 1.0
    step.mark(pg, at)
    _count(path_round, pg, lay.R_EXECUTED, 1.0)


def _price(step: ds.DesignStep, st: AuctionState, g: IntArray, at: int) -> FloatArray:
    curve, tau, stp, cut, floor, fast, slow = step.design.auction[:7]
    dur = (at - st.tic[g]) * step.design.step_seconds
    out: FloatArray = fd.auction_price(int(curve), tau, stp, cut, floor, fast, slow, st.top[g], dur)
    return out


def _take(
    step: ds.DesignStep,
    st: AuctionState,
    mids: FloatArray,
    pairs: Pairs,
    liquidity: Liquidity,
    ctl: RoundControl,
    path_round: FloatArray,
    at: int,
) -> None:
    order = ds.by_path(pairs)
    live = order[st.active[order]]
    if live.size == 0:
        return
    (_, _, _, _, _, _, _, buf, tail, cusp, tip, chip) = step.design.auction
    room = np.full(mids.shape[0], ctl.cap_value)
    # As the liquidations (:mod:`.designs`): takes tie on a path through the cap, else
    # only through what was sold of the asset.
    tied = pairs.path[live]
    if not np.isfinite(ctl.cap_value):
        tied = tied * mids.shape[1] + st.a_coll[live]
    rank = ds._rank(tied)
    for k in range(int(rank.max()) + 1):
        g = live[rank == k]
        pg = pairs.path[g]
        a, b = st.a_coll[g], st.a_debt[g]
        p_coll, p_debt = mids[pg, a], mids[pg, b]
        price = _price(step, st, g, at)
        dur = (at - st.tic[g]) * step.design.step_seconds
        reset = (dur > tail) | (price < cusp * st.top[g])
        if reset.any():  # Maker's redo: a new start price at the oracle, a keeper paid
            r = g[reset]
            st.top[r], st.tic[r] = p_coll[reset] * buf / p_debt[reset], float(at)
            coin = fd.keeper_incentive(tip, chip, st.tab[r], p_debt[reset]) * p_debt[reset]
            step.add(pg[reset], ds.D_FUND_OUT, coin)
            step.add(pg[reset], ds.D_KEEPER, coin)
            step.add(pg[reset], ds.D_LIQ_PROFIT, coin)
            price = np.where(reset, st.top[g], price)
        price_q = price * p_debt  # quote per unit of collateral
        with np.errstate(all="ignore"):
            u = liquidity.units_until(a, p_coll, ctl.sold[pg, a], price_q)
            bought = np.minimum(np.minimum(st.lot[g], u), st.tab[g] / price)
            bought = np.minimum(bought, room[pg] / price_q)
            got = liquidity.proceeds(a, p_coll, ctl.sold[pg, a], bought)
        profit = got - bought * price_q - ctl.gas
        go = (bought > 0.0) & (profit > 0.0) & ~ctl.paused[pg, a]
        if not go.any():
            continue
        g, pg, a, b = g[go], pg[go], a[go], b[go]
        bought, price, p_coll, p_debt = bought[go], price[go], p_coll[go], p_debt[go]
        paid = np.minimum(bought * price, st.tab[g])
        principal = np.minimum(paid, st.debt[g])
        st.debt[g] -= principal
        st.tab[g] -= paid
        st.lot[g] -= bought
        np.add.at(ctl.sold, (pg, a), bought)
        np.add.at(room, pg, -paid * p_debt)
        out = pairs.out
        out[g, lay.T_REPAID] += principal * p_debt
        out[g, lay.T_SEIZED] += bought * p_coll
        out[g, lay.T_FEES] += (paid - principal) * p_debt
        step.add(pg, ds.D_VOLUME, principal * p_debt)
        step.add(pg, ds.D_LIQ_PROFIT, profit[go])
        step.add(pg, ds.D_BORROWER_LOSS, bought * p_coll - principal * p_debt)
        step.add(pg, ds.D_FUND_IN, (paid - principal) * p_debt)
        step.mark(pg, at)
        _count(path_round, pg, lay.R_EXECUTED, 1.0)
        _count(path_round, pg, lay.R_SEIZED, bought * p_coll)
        _count(path_round, pg, lay.R_REPAID, principal * p_debt)
        _end_auctions(step, st, g, mids, pairs)


def _end_auctions(
    step: ds.DesignStep, st: AuctionState, g: IntArray, mids: FloatArray, pairs: Pairs
) -> None:
    """Close the auctions of ``g`` whose tab is raised (the rest of the lot returns) or
    whose lot is gone (the debt left is written off), then write off an account left
    owing without collateral (contract 3.7)."""
    raised = st.tab[g] <= _CLEARED * (st.tab[g] + st.debt[g] + 1.0)
    gone = st.lot[g] <= 0.0
    end, raised = g[raised | gone], raised[raised | gone]
    if end.size == 0:
        return
    pe = pairs.path[end]
    pairs.es[st.e_coll[end]] += np.where(raised, st.lot[end], 0.0)
    written = np.where(raised, 0.0, st.debt[end]) * mids[pe, st.a_debt[end]]
    st.active[end] = False
    lanes = _lanes(step, end, mids, pairs)
    owes = lanes.per_lane((lanes.b > 0.0).astype(np.float64)) > 0.0
    covered = lanes.per_lane(fl.has_collateral(lanes.s, lanes.lt).astype(np.float64)) > 0.0
    wipe = (owes & ~covered)[lanes.owner] & (lanes.b > 0.0)
    written = written + lanes.per_lane(np.where(wipe, lanes.b * lanes.p, 0.0))
    pairs.eb[lanes.src[wipe]] = 0.0
    pairs.out[end, lay.T_WRITTEN] += written
    step.add(pe, ds.D_FUND_OUT, written)
    pairs.live[end] = (owes & covered).astype(np.int8)


# -- storefront --------------------------------------------------------------------------
def _absorb(
    step: ds.DesignStep,
    st: StoreState,
    mids: FloatArray,
    pairs: Pairs,
    ctl: RoundControl,
    path_round: FloatArray,
    at: int,
) -> None:
    order = ds.by_path(pairs)
    t = order[pairs.live[order] != 0]
    if t.size == 0:
        return
    lanes = _lanes(step, t, mids, pairs)
    cv, dv, _, _, mc, md = ln.sums(lanes, step.book.ap)
    path = pairs.path[t]
    held = lanes.s > 0.0
    paused = lanes.per_lane((held & ctl.paused[path[lanes.owner], lanes.col]) * 1.0) > 0.0
    liq = is_liquidatable(mc, md)
    _count(path_round, path[liq & paused], lay.R_PAUSED, 1.0)
    go = liq & ~paused
    if not go.any():
        return
    lf = step.design.liquidation_factor[lanes.col]
    credited = lanes.per_lane(lanes.s * lanes.p * lf)
    excess = np.maximum(credited - dv, 0.0)
    e = go[lanes.owner]
    np.add.at(st.held, (path[lanes.owner[e]], lanes.col[e]), lanes.s[e])
    pairs.es[lanes.src[e]] = 0.0
    pairs.eb[lanes.src[e]] = 0.0
    g, pg = t[go], path[go]
    pairs.live[g] = 0
    cost = dv[go] + excess[go]
    np.add.at(st.reserves, pg, -cost)
    np.add.at(st.paid_out, pg, cost)
    # Debt beyond the collateral is absorbed, not cleared by it: counted as written off
    # (the protocol's result at the end carries its cost), as a liquidation's write-off.
    cleared = np.minimum(dv[go], cv[go])
    under = dv[go] - cleared
    out = pairs.out
    out[g, lay.T_REPAID] += cleared
    out[g, lay.T_SEIZED] += cv[go]
    out[g, lay.T_WRITTEN] += under
    out[g, lay.T_LIQ] += 1.0
    out[g, lay.T_TOXIC] = np.maximum(out[g, lay.T_TOXIC], dv[go] > cv[go])
    step.add(pg, ds.D_VOLUME, cleared)
    step.add(pg, ds.D_BORROWER_LOSS, cv[go] - cleared - excess[go])
    step.mark(pg, at)
    _count(path_round, pg, lay.R_EXECUTED, 1.0)
    _count(path_round, pg, lay.R_SEIZED, cv[go])
    _count(path_round, pg, lay.R_REPAID, cleared)


def _sell(
    step: ds.DesignStep,
    st: StoreState,
    mids: FloatArray,
    liquidity: Liquidity,
    ctl: RoundControl,
    path_round: FloatArray,
    at: int,
) -> None:
    """Sell what the protocol holds, asset by asset, while its reserves are below target
    (the base asset counts as reserves at once)."""
    design = step.design
    base = design.storefront_base
    n_paths = mids.shape[0]
    every = np.arange(n_paths)
    base_held = st.held[:, base]
    if base_held.any():
        value = base_held * mids[:, base]
        st.reserves += value
        st.sales += value
        st.held[:, base] = 0.0
    for a in range(st.held.shape[1]):
        want = np.maximum(design.target_reserves - st.reserves, 0.0)
        can = (st.held[:, a] > 0.0) & (want > 0.0) & ~ctl.paused[:, a]
        if a == base or not can.any():
            continue
        p = every[can]
        mid = mids[p, a]
        price = fd.store_front_price(mid, design.storefront_factor, design.liquidation_factor[a])
        col = np.full(p.size, a)
        with np.errstate(all="ignore"):
            u = liquidity.units_until(col, mid, ctl.sold[p, a], price)
            bought = np.minimum(np.minimum(st.held[p, a], u), want[p] / price)
            got = liquidity.proceeds(col, mid, ctl.sold[p, a], bought)
        profit = got - bought * price - ctl.gas
        go = (bought > 0.0) & (profit > 0.0)
        if not go.any():
            continue
        p, bought, price = p[go], bought[go], price[go]
        st.held[p, a] -= bought
        st.reserves[p] += bought * price
        st.sales[p] += bought * price
        ctl.sold[p, a] += bought
        step.add(p, ds.D_LIQ_PROFIT, profit[go])
        step.mark(p, at)
        _count(path_round, p, lay.R_EXECUTED, 1.0)


def finish_of(
    step: ds.DesignStep, state: object, final: FloatArray, pairs: Pairs, pp: FloatArray
) -> None:
    """What is still running at the end, valued at ``final``, added to ``pp`` (per path,
    the ``D_*`` columns; see the module docstring)."""
    if isinstance(state, AuctionState):
        on = np.flatnonzero(state.active[: pairs.n])
        if on.size:
            pe = pairs.path[on]
            short = state.debt[on] * final[pe, state.a_debt[on]]
            short -= state.lot[on] * final[pe, state.a_coll[on]]
            np.add.at(pp[:, ds.D_RESIDUAL], pe, np.maximum(short, 0.0))
            np.add.at(pp[:, ds.D_OPEN], pe, 1.0)
    elif isinstance(state, StoreState):
        kept = (state.held * final).sum(axis=1)
        result = state.sales + kept - state.paid_out
        pp[:, ds.D_FUND_IN] += np.maximum(result, 0.0)
        pp[:, ds.D_FUND_OUT] += np.maximum(-result, 0.0)
        pp[:, ds.D_OPEN] += (state.held > 0.0).sum(axis=1)
