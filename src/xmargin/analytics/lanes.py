"""The float liquidation engine in NumPy: many accounts at once, one lane each.

The NumPy twin of :mod:`xmargin.analytics.liquidator` (and of the book-wide kernels of
:mod:`xmargin.analytics.book_kernels`): each *lane* is one account at one price vector
(a book's account at today's prices, an account on one Monte Carlo path, a cascade
pair), and every step runs on all lanes together, calling the same float rules
(:mod:`xmargin.fast`) on columns. It is what runs where Numba is not installed; it
decides as the Numba kernels do (a test holds the two together) and is several times
slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.kernel_layout import FloatArray, IntArray, SimArrays
from xmargin.fast import liquidation as rule
from xmargin.fast import packing as pk
from xmargin.fast.health import is_liquidatable, weighted_sums
from xmargin.fast.weights import effective_weights

__all__ = [
    "Lanes",
    "Proposal",
    "apply",
    "propose",
    "ranges",
    "restrict",
    "sums",
    "until_done",
]


def ranges(starts: IntArray, lens: IntArray) -> IntArray:
    """Concatenated ``arange(start, start + len)`` for each pair of the arguments."""
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, np.int64)
    first = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    out: IntArray = first + np.arange(total, dtype=np.int64)
    return out


@dataclass
class Lanes:
    """Lanes and their entries (CSR): per entry its lane (``owner``), asset, balances
    (copies; ``src`` says where they came from), weights and price."""

    ptr: IntArray
    owner: IntArray
    col: IntArray
    s: FloatArray
    b: FloatArray
    cf: FloatArray
    lt: FloatArray
    bonus: FloatArray
    p: FloatArray
    src: IntArray

    @property
    def n(self) -> int:
        return len(self.ptr) - 1

    @classmethod
    def of(
        cls,
        bk: SimArrays,
        accounts: IntArray,
        s: FloatArray,
        b: FloatArray,
        at: IntArray,
        prices: FloatArray,
    ) -> Lanes:
        """Lane ``l``: account ``accounts[l]`` of the book, its balances read from
        ``s``/``b`` at ``at[l]:``, priced at ``prices[l]`` (a row of quote per unit)."""
        lens = bk.indptr[accounts + 1] - bk.indptr[accounts]
        ptr = np.zeros(len(accounts) + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        entry = ranges(bk.indptr[accounts], lens)
        src = ranges(np.asarray(at, np.int64), lens)
        owner = np.repeat(np.arange(len(accounts), dtype=np.int64), lens)
        col = bk.col[entry]
        w = bk.wts[entry]
        return cls(
            ptr, owner, col, s[src].copy(), b[src].copy(), w[:, kl.W_CF], w[:, kl.W_LT],
            w[:, kl.W_BONUS], prices[owner, col], src,
        )  # fmt: skip

    def per_lane(self, x: FloatArray) -> FloatArray:
        """Sum a per-entry quantity by lane (in entry order, as the kernels add)."""
        out: FloatArray = np.bincount(self.owner, weights=x, minlength=self.n).astype(np.float64)
        return out

    def subset(self, lanes: IntArray, chain: bool = False) -> Lanes:
        """The lanes ``lanes`` (sorted), their entries gathered; ``src`` indexes ``self``'s
        entries, or (``chain``) the arrays ``self``'s balances came from."""
        lens = self.ptr[lanes + 1] - self.ptr[lanes]
        ptr = np.zeros(len(lanes) + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        e = ranges(self.ptr[lanes], lens)
        owner = np.repeat(np.arange(len(lanes), dtype=np.int64), lens)
        return Lanes(
            ptr, owner, self.col[e], self.s[e], self.b[e], self.cf[e], self.lt[e],
            self.bonus[e], self.p[e], self.src[e] if chain else e,
        )  # fmt: skip


def sums(lanes: Lanes, ap: FloatArray) -> tuple[FloatArray, ...]:
    """(cv, dv, ic, id, mc, md) of contract 2 per lane, in quote."""
    c = lanes.col
    with np.errstate(all="ignore"):
        w = effective_weights(
            lanes.s, lanes.b, lanes.cf, lanes.lt, ap[c, kl.A_BW], ap[c, kl.A_MBW], ap[c, kl.A_KSZ]
        )
    terms = weighted_sums(lanes.s, lanes.b, lanes.p, *w)
    return tuple(lanes.per_lane(t) for t in terms)


def _first_max(lanes: Lanes, value: FloatArray, mask: np.ndarray) -> IntArray:
    """Per lane, the first of its entries where ``mask`` holds with the largest ``value``
    (-1 where none): the kernels' ``if v > best`` scan, in entry order."""
    out = np.full(lanes.n, -1, np.int64)
    if value.size == 0:
        return out
    v = np.where(mask, value, -np.inf)
    lens = np.diff(lanes.ptr)
    full = np.flatnonzero(lens > 0)
    starts = lanes.ptr[full]
    best = np.full(lanes.n, -np.inf)
    best[full] = np.maximum.reduceat(v, starts)
    at = np.where(mask & (v == best[lanes.owner]), np.arange(v.size), v.size)
    first = np.full(lanes.n, v.size, np.int64)
    first[full] = np.minimum.reduceat(at, starts)
    hit = first < v.size
    out[hit] = first[hit]
    return out


class Proposal(NamedTuple):
    """Per lane, what :func:`propose` found (entry indices are the lanes' own)."""

    status: IntArray
    debt: IntArray
    coll: IntArray
    repaid: FloatArray
    seized: FloatArray
    fee: FloatArray
    beta: FloatArray
    dv: FloatArray
    cv: FloatArray


def restrict(q: Proposal, lanes: Lanes, picked: IntArray, sub: Lanes) -> Proposal:
    """The proposals of lanes ``picked`` of ``lanes``, for ``sub = lanes.subset(picked)``
    (their entry indices moved to ``sub``'s)."""
    shift = sub.ptr[:-1] - lanes.ptr[picked]

    def moved(e: IntArray) -> IntArray:
        out: IntArray = np.where(e >= 0, e + shift, -1)
        return out

    return Proposal(
        q.status[picked], moved(q.debt[picked]), moved(q.coll[picked]), q.repaid[picked],
        q.seized[picked], q.fee[picked], q.beta[picked], q.dv[picked], q.cv[picked],
    )  # fmt: skip


def propose(lanes: Lanes, ap: FloatArray, rules: FloatArray, amount_cap: FloatArray) -> Proposal:
    """One liquidation per lane as the liquidator would ask for it (see the liquidator);
    ``amount_cap`` bounds the debt units asked for (``inf``: "max"). Nothing changes."""
    cv, dv, _, _, mc, md = sums(lanes, ap)
    vs = lanes.s * lanes.p
    vb = lanes.b * lanes.p
    d_e = _first_max(lanes, vb, lanes.b > 0.0)
    c_e = _first_max(lanes, vs, rule.has_collateral(lanes.s, lanes.lt))
    if lanes.col.size == 0:  # no lane holds anything: nothing to liquidate
        zero_f, none = np.zeros(lanes.n), np.full(lanes.n, -1, np.int64)
        status = np.full(lanes.n, kl.NOT_LIQUIDATABLE, np.int64)
        return Proposal(status, none, none, zero_f, zero_f, zero_f, zero_f, dv, cv)
    de, ce = np.maximum(d_e, 0), np.maximum(c_e, 0)
    d, c = lanes.b[de], lanes.s[ce]
    p_debt, p_coll = lanes.p[de], lanes.p[ce]
    bonus_c, lt_c = lanes.bonus[ce], lanes.lt[ce]
    fee_rate = ap[lanes.col[ce], kl.A_FEE]
    liq = is_liquidatable(mc, md)
    with np.errstate(all="ignore"):
        hf = mc / np.where(md > 0.0, md, 1.0)
        close, full, small = (
            rules[pk.R_CLOSE_FACTOR],
            rules[pk.R_FULL_HEALTH],
            rules[pk.R_SMALL_VALUE],
        )
        limit = rule.max_repayable(close, full, small, hf, d, c, dv, p_debt, p_coll)
        repaid = np.minimum(limit, amount_cap)
        beta = rule.liquidation_bonus(
            int(rules[pk.R_POLICY]), rules[pk.R_MAX_BONUS], bonus_c, lt_c, hf
        )
        seized, repaid = rule.seize(repaid, p_debt, p_coll, beta, c)
        fee = rule.protocol_fee(seized, beta, fee_rate)
        dust = rule.leaves_dust(rules[pk.R_MIN_LEFTOVER], repaid, d, seized, c, p_debt, p_coll)
    zero = ~((repaid > 0.0) & (seized > 0.0))
    status = np.select(
        [~liq, c_e < 0, zero, dust],
        [kl.NOT_LIQUIDATABLE, kl.STUCK_NO_COLLATERAL, kl.STUCK_ZERO, kl.STUCK_DUST],
        kl.OK,
    ).astype(np.int64)
    acted = (status != kl.NOT_LIQUIDATABLE) & (status != kl.STUCK_NO_COLLATERAL)
    fee = np.where(acted & ~zero, fee, 0.0)
    repaid, seized, beta = (np.where(acted, x, 0.0) for x in (repaid, seized, beta))
    return Proposal(status, d_e, c_e, repaid, seized, fee, beta, dv, cv)


def apply(lanes: Lanes, ok: np.ndarray, q: Proposal) -> FloatArray:
    """Apply the proposals of the lanes ``ok``; returns per lane the quote value written
    off as bad debt (contract 3.7: no collateral left, debt still owed)."""
    rows = np.flatnonzero(ok)
    d, c = q.debt[rows], q.coll[rows]
    lanes.b[d] = np.where(q.repaid[rows] < lanes.b[d], lanes.b[d] - q.repaid[rows], 0.0)
    lanes.s[c] = np.where(q.seized[rows] < lanes.s[c], lanes.s[c] - q.seized[rows], 0.0)
    owes = lanes.per_lane((lanes.b > 0.0).astype(np.float64)) > 0.0
    covered = lanes.per_lane(rule.has_collateral(lanes.s, lanes.lt).astype(np.float64)) > 0.0
    wipe = (ok & owes & ~covered)[lanes.owner] & (lanes.b > 0.0)
    written = lanes.per_lane(np.where(wipe, lanes.b * lanes.p, 0.0))
    lanes.b[wipe] = 0.0
    return written


def until_done(
    lanes: Lanes, ap: FloatArray, rules: FloatArray, max_rounds: int
) -> tuple[FloatArray, IntArray]:
    """Liquidate "max" on every lane until nothing more can be done (balances of
    ``lanes`` updated); per lane the totals (``O_*``) and the last status (``kl.OK`` only
    where ``max_rounds`` ran out)."""
    out = np.zeros((lanes.n, kl.N_O))
    status = np.full(lanes.n, kl.NOT_LIQUIDATABLE, np.int64)
    live = np.arange(lanes.n, dtype=np.int64)
    for _ in range(max_rounds):
        if live.size == 0:
            break
        sub = lanes.subset(live)
        q = propose(sub, ap, rules, np.full(sub.n, np.inf))
        status[live] = q.status
        ok = q.status == kl.OK
        at = live[ok]
        p_debt = sub.p[q.debt[ok]]
        p_coll = sub.p[q.coll[ok]]
        out[at, kl.O_TOXIC] = np.maximum(
            out[at, kl.O_TOXIC], q.dv[ok] * (1.0 + q.beta[ok]) > q.cv[ok]
        )
        out[at, kl.O_REPAID] += q.repaid[ok] * p_debt
        out[at, kl.O_SEIZED] += q.seized[ok] * p_coll
        out[at, kl.O_FEES] += q.fee[ok] * p_coll
        out[at, kl.O_LIQ] += 1.0
        out[at, kl.O_WRITTEN] += apply(sub, ok, q)[ok]
        lanes.s[sub.src] = sub.s
        lanes.b[sub.src] = sub.b
        live = at
    return out, status
