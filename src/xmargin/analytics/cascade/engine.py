"""Liquidations along price paths, in rounds, against each asset's liquidity.

The engine walks a chunk of price paths step by step. At each step the oracle price of
every asset is its exogenous path price times the price impact left by earlier sales.
Then rounds follow on each path until a round executes nothing on it (a path does not
wait for the others: a round on an unchanged path would do nothing again, and count its
refusals again):

1. every account that is liquidatable at the current prices is found (a sparse product
   ``Σ wnet P`` over the accounts not yet touched on that path, and a direct check of
   the touched ones, whose balances the simulation has changed);
2. on each path, in the order they were found, the liquidator proposes the most the rules
   allow (contract 3, the float rules of :mod:`xmargin.fast`: largest debt against
   largest collateral). In ``gate`` mode it sizes the trade so that the marginal sale
   price of the collateral it receives still covers what it repays, and acts only when
   ``proceeds - repaid - gas > 0`` (bonus minus slippage minus gas); circuit breakers may
   refuse or shrink it: a cap on the value repaid per round (as Maker's ``Hole``) and a
   pause of liquidations seizing an asset whose price fell more than ``pause_drop`` below
   its highest step-start price within ``pause_window_steps``;
3. the collateral the liquidators received is sold into the liquidity in that order;
   the mid after the sales is the next round's oracle price (the price impact).

An account whose debt to collateral value ratio exceeds ``1/(1+β)`` when it is
liquidated is *toxic*: liquidating it makes the ratio worse. Bad debt on a path is the
debt written off (contract 3.7, valued when written off) plus ``Σ max(0, dv - cv)`` of
the accounts at the end. The kernels (Numba, or NumPy where it is missing) are behind
:mod:`xmargin.analytics.cascade.kernels`; the pairs' state is
:class:`~xmargin.analytics.cascade.pairs.Pairs`.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from xmargin.analytics.cascade import layout as lay
from xmargin.analytics.cascade.designs import DesignStep
from xmargin.analytics.cascade.kernels import CascadeKernels, Detector, cascade_kernels
from xmargin.analytics.cascade.layout import FloatArray, IntArray, RoundControl
from xmargin.analytics.cascade.outcome import PathOutcome, concat_outcomes, row_dot
from xmargin.analytics.cascade.pairs import Pairs
from xmargin.analytics.cascade.perp_desk import PerpDesk, with_desk
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.simbook import SimBook
from xmargin.fast.backend import Backend

__all__ = ["ENGINE_GROUP", "Breakers", "CascadeRecord", "PathEngine", "PathOutcome"]

#: Paths the engine runs together: their state (``pair_of`` is paths x accounts) stays
#: small enough to be read from cache. A performance choice only: paths are independent.
ENGINE_GROUP = 32


@dataclass(frozen=True)
class Breakers:
    """Circuit breakers to compare (``None``: off).

    ``max_round_value``: the most debt value (quote) liquidated per round on a path.
    ``pause_drop``: pause liquidations seizing an asset whose price is more than this
    fraction below its highest step-start price over the last ``pause_window_steps``.
    """

    max_round_value: float | None = None
    pause_drop: float | None = None
    pause_window_steps: int = 12


@dataclass
class CascadeRecord:
    """Round by round, for a recorded run: step, oracle prices, and what was done."""

    step: list[int] = field(default_factory=list)
    prices: list[FloatArray] = field(default_factory=list)  # (paths, assets) per round
    executed: list[FloatArray] = field(default_factory=list)  # per path
    seized_value: list[FloatArray] = field(default_factory=list)
    repaid_value: list[FloatArray] = field(default_factory=list)
    #: balances of every entry of the book on path 0 at the end
    final_s: FloatArray | None = None
    final_b: FloatArray | None = None
    #: accounts holding perps (rows) and their (cv, dv, ic, id, mc, md) on path 0 at the
    #: end (the perp desk's; ``final_s``/``final_b`` keep their balances of before)
    perp_accounts: IntArray | None = None
    perp_figures: FloatArray | None = None

    def add(self, step: int, prices: FloatArray, round_: FloatArray | None) -> None:
        """One row: ``round_`` is the round's per-path counts (``None``: nothing done)."""
        n = prices.shape[0]
        self.step.append(step)
        self.prices.append(prices.copy())
        for lst, col in (
            (self.executed, lay.R_EXECUTED),
            (self.seized_value, lay.R_SEIZED),
            (self.repaid_value, lay.R_REPAID),
        ):
            lst.append(np.zeros(n) if round_ is None else round_[:, col].copy())

    def health_after(self, book: SimBook, final: FloatArray) -> FloatArray:
        """Every account's health factor on path 0 at ``final`` prices, after the run:
        ``book`` with the run's final balances, and the accounts the perp desk held
        (perps, options) at the desk's figures, which count what their liquidations
        closed (the book itself still holds their positions of before)."""
        assert self.final_s is not None and self.final_b is not None
        hf: FloatArray = book.with_balances(self.final_s, self.final_b).health_factors(final)
        if self.perp_accounts is not None and self.perp_figures is not None:
            mc, md = self.perp_figures[4], self.perp_figures[5]
            with np.errstate(all="ignore"):
                hf[self.perp_accounts] = np.where(md > 0.0, mc / md, np.nan)
        return hf


class PathEngine:
    """Runs a chunk of paths through rounds of liquidations (see the module docstring).

    Parameters
    ----------
    book
        The book (already settled at today's prices if the caller wants that).
    liquidity
        Where seized collateral is sold; ``None`` or no model: at mid, no impact.
    gate
        Liquidators act only when profitable (bonus - slippage - gas > 0).
    gas
        Quote a liquidator pays per liquidation.
    impact_half_life_steps
        Price impact decays toward 1 with this half-life in steps (``None``: permanent).
    backend
        The kernels (``auto``: the package's policy, :mod:`xmargin.fast.backend`).
    design
        Liquidate by a design of contract 8 (:mod:`.designs`) instead of the close-factor
        kernels; the caller reads its per-path figures with ``design.finish``.
    funding_per_step
        Per perp of the book, the funding rate over one step (a fraction of P added to
        the funding index F each step; ``None``: F held fixed).
    option_hours_per_step, vol_elasticity
        Options are valued (t + 1)·hours after today at step t, with σ·(S/S_0)^(−E)
        (:mod:`xmargin.analytics.simoptions`; 0 and 0: today's τ and σ).

    Accounts holding perps or options (where the book carries them) are run by a
    :class:`~xmargin.analytics.cascade.perp_desk.PerpDesk` (options:
    :mod:`~xmargin.analytics.cascade.option_desk`); the spot kernels get the book
    without their balances.
    """

    def __init__(
        self,
        book: SimBook,
        liquidity: Liquidity | None = None,
        gate: bool = False,
        gas: float = 0.0,
        breakers: Breakers | None = None,
        impact_half_life_steps: float | None = None,
        max_rounds_per_step: int = 1000,
        backend: Backend = "auto",
        design: DesignStep | None = None,
        funding_per_step: FloatArray | None = None,
        option_hours_per_step: float = 0.0,
        vol_elasticity: float = 0.0,
    ) -> None:
        carried = book.perps is not None or book.options is not None
        self.perp_book = book if carried else None
        self.funding = funding_per_step
        self.option_hours = option_hours_per_step
        self.elasticity = vol_elasticity
        if carried:
            ent = book.rows_of(book.carried_rows())[1]
            s, b = book.s.copy(), book.b.copy()
            s[ent], b[ent] = 0.0, 0.0
            book = book.with_balances(s, b)
        self.book = book
        self.kernels = cascade_kernels(backend)
        self.liquidity = liquidity or Liquidity.none(book.assets)
        self.gate = gate
        self.gas = float(gas)
        self.breakers = breakers or Breakers()
        self.decay = (
            1.0 if impact_half_life_steps is None else 0.5 ** (1.0 / impact_half_life_steps)
        )
        self.max_rounds_per_step = max_rounds_per_step
        #: exact pruning of the liquidatable check (off only to test that it is exact)
        self.prune = True
        self.band = lay.WATCH_BAND
        #: a liquidation design of contract 8 (``None``: the close-factor kernels)
        self.design = design
        #: paths per group (any value gives the same figures; see :meth:`run`)
        self.group = ENGINE_GROUP

    def run(self, exo: FloatArray, record: bool = False) -> tuple[PathOutcome, CascadeRecord]:
        """Run ``exo`` (paths x steps x assets, prices in quote) through the rounds.

        Paths are independent, so they run in groups of ``self.group`` (smaller state per
        group, read from cache); the draws are the caller's, so the grouping changes no
        figure. Groups run on as many threads as the kernels may use (Numba's thread
        count: one in a Dask worker of one slot). A recorded run is one group (the record
        is of path 0).
        """
        # A design's step keeps per-path state of the whole run: one group.
        g = exo.shape[0] if record or self.design is not None else max(1, self.group)
        starts = range(0, exo.shape[0], g)
        workers = min(len(starts), self.kernels.threads())
        if workers > 1:  # the kernels release the GIL: one group per core at a time
            with ThreadPoolExecutor(workers) as pool:
                parts = list(pool.map(lambda i: self._run_group(exo[i : i + g], record), starts))
        else:
            parts = [self._run_group(exo[i : i + g], record) for i in starts]
        if len(parts) == 1:
            return parts[0]
        return concat_outcomes([o for o, _ in parts], g), parts[0][1]

    def _run_group(self, exo: FloatArray, record: bool) -> tuple[PathOutcome, CascadeRecord]:
        bk = self.book
        n_paths, n_steps, n_assets = exo.shape
        k = self.kernels
        pairs = Pairs(bk, n_paths)
        det = k.detector(bk, exo[:, 0, :], self.band, self.prune)
        impact = np.ones((n_paths, n_assets))
        path_tot = np.zeros((n_paths, lay.N_ROUND))
        rounds = np.zeros(n_paths)
        rec = CascadeRecord()
        if self.design is not None:
            self.design.begin(n_paths)
        window = max(1, self.breakers.pause_window_steps)
        ring = np.repeat(bk.price[None, None, :], window, axis=0).repeat(n_paths, axis=1)
        desk = None
        if self.perp_book is not None:
            desk = PerpDesk(
                self.perp_book, n_paths, self.funding, self.option_hours, self.elasticity
            )
        for step in range(n_steps):
            if self.decay != 1.0:
                impact = impact**self.decay
            mids = exo[:, step, :] * impact
            pause_ref = ring.max(axis=0)
            ring[step % window] = mids
            if record and step == 0:
                rec.add(-1, np.repeat(bk.price[None, :], n_paths, axis=0), None)
            if desk is not None:
                desk.at_step(step)
                if step:
                    desk.accrue(mids)
                mids, perp_acted = self._perp_rounds(desk, mids, impact)
            mids, acted = self._step(
                k,
                det,
                pairs,
                mids,
                pause_ref,
                impact,
                path_tot,
                rounds,
                rec if record else None,
                step,
            )
            while desk is not None:  # the spot sales may have made perp accounts liable
                mids, perp_acted = self._perp_rounds(desk, mids, impact)
                if not perp_acted:
                    break
                mids, _ = self._step(
                    k, det, pairs, mids, pause_ref, impact, path_tot, rounds,
                    rec if record else None, step,
                )  # fmt: skip
            if record and not acted:
                rec.add(step, mids, None)
        final = exo[:, -1, :] * impact
        fin = k.final(final, pairs.arrays(), bk.arrays(), bk.s, bk.b)
        if record:
            rec.final_s, rec.final_b = pairs.balances_on(0)
            if desk is not None and self.perp_book is not None:
                ent = self.perp_book.rows_of(desk.held)[1]
                rec.final_s[ent] = self.perp_book.s[ent]
                rec.final_b[ent] = self.perp_book.b[ent]
                rec.perp_accounts = desk.held
                rec.perp_figures = desk.figures(final)[:, 0, :]
        out = self._outcome(pairs, fin, final, path_tot, rounds)
        return (out if desk is None else with_desk(out, desk, final)), rec

    def _perp_rounds(
        self, desk: PerpDesk, mids: FloatArray, impact: FloatArray
    ) -> tuple[FloatArray, bool]:
        """The perp desk's liquidations at ``mids``; their hedges' impact is kept in
        ``impact`` (in place), as the spot sales' is."""
        after, acted = desk.liquidate(mids, self.liquidity)
        if acted:
            with np.errstate(all="ignore"):
                impact *= np.where(mids > 0.0, after / mids, 1.0)
        return after, acted

    def _step(
        self,
        k: CascadeKernels,
        det: Detector,
        pairs: Pairs,
        mids: FloatArray,
        pause_ref: FloatArray,
        impact: FloatArray,
        path_tot: FloatArray,
        rounds: FloatArray,
        rec: CascadeRecord | None,
        step: int,
    ) -> tuple[FloatArray, bool]:
        """The rounds of one step, until a round executes nothing (``impact`` is updated
        in place); returns the mids after the step and whether any round acted."""
        bk = self.book
        n_paths, n_assets = mids.shape
        drop = self.breakers.pause_drop
        cap = self.breakers.max_round_value
        liq = self.liquidity.arrays()
        # A path's rounds end at its first round that executes nothing: the next would do
        # the same (nothing), so only paths that acted run again, and only paths whose
        # mids moved are searched for new liquidatable accounts.
        active = np.arange(n_paths, dtype=np.int64)
        moved = active
        acted = False
        paused_none = np.zeros((n_paths, n_assets), np.bool_)
        for _ in range(self.max_rounds_per_step):
            if moved.size:
                pairs.add(*det.detect(mids, pairs.pair_of, moved))
            if pairs.n == 0:
                break
            ctl = RoundControl(
                gate=self.gate,
                gas=self.gas,
                cap_value=math.inf if cap is None else cap,
                prune=self.prune,
                paused=mids < (1.0 - drop) * pause_ref if drop is not None else paused_none,
                sold=np.zeros((n_paths, n_assets)),
                active=active,
            )
            this = np.zeros((n_paths, lay.N_ROUND))
            if self.design is None:
                k.one_round(mids, det, pairs.arrays(), bk.arrays(), liq, ctl, this)
            else:
                self.design.one_round(mids, pairs, self.liquidity, ctl, this, step)
            executed = this[:, lay.R_EXECUTED]
            path_tot += this
            active = np.flatnonzero(executed > 0)
            if active.size == 0:
                break
            rounds[active] += 1.0
            acted = True
            moved = active[:0]
            if self.liquidity.any:
                factor = k.impact(mids, ctl.sold, liq)
                changed = (factor != 1.0).any(axis=1)
                if changed.any():
                    impact *= factor
                    mids = mids * factor
                    moved = np.flatnonzero(changed)
            if rec is not None:
                rec.add(step, mids, this)
        return mids, acted

    def _outcome(
        self,
        pairs: Pairs,
        fin: FloatArray,
        final: FloatArray,
        path_tot: FloatArray,
        rounds: FloatArray,
    ) -> PathOutcome:
        bk = self.book
        n_paths, n_assets = final.shape
        # Pairs path by path, each path's in the order found: an order no grouping of
        # the paths changes (sums over pairs then add in the same order).
        order = pairs.order[: pairs.n]
        pp = pairs.path[order]
        po = pairs.out[order]
        fin = fin[order]

        def per_path(x: FloatArray) -> FloatArray:
            return np.asarray(np.bincount(pp, weights=x, minlength=n_paths), np.float64)

        written = per_path(po[:, lay.T_WRITTEN])
        residual = per_path(fin[:, lay.F_RESIDUAL])
        ic_by_asset = np.bincount(bk.col, weights=bk.wic, minlength=n_assets)
        id_by_asset = np.bincount(bk.col, weights=bk.wid, minlength=n_assets)
        return PathOutcome(
            bad_debt=written + residual,
            written_off=written,
            residual=residual,
            repaid=per_path(po[:, lay.T_REPAID]),
            seized=per_path(po[:, lay.T_SEIZED]),
            fees=per_path(po[:, lay.T_FEES]),
            liquidations=per_path(po[:, lay.T_LIQ]),
            accounts_liquidated=per_path((po[:, lay.T_LIQ] > 0).astype(np.float64)),
            toxic_accounts=per_path(po[:, lay.T_TOXIC]),
            unprofitable=path_tot[:, lay.R_UNPROFITABLE],
            capped=path_tot[:, lay.R_CAPPED],
            paused=path_tot[:, lay.R_PAUSED],
            still_liquidatable=per_path(fin[:, lay.F_LIQUIDATABLE]),
            rounds=rounds,
            borrowing_power=row_dot(final, ic_by_asset) + per_path(fin[:, lay.F_DELTA_IC]),
            borrowed=row_dot(final, id_by_asset) + per_path(fin[:, lay.F_DELTA_ID]),
            final_prices=final,
            pair_path=pp,
            pair_acct=pairs.acct[order],
            pair_bad=po[:, lay.T_WRITTEN] + fin[:, lay.F_RESIDUAL],
            pair_toxic=po[:, lay.T_TOXIC].copy(),
            pair_seized=po[:, lay.T_SEIZED].copy(),
            perp_liquidations=np.zeros(n_paths),
            perp_closed_value=np.zeros(n_paths),
            perp_liquidator_fees=np.zeros(n_paths),
            perp_insurance_fees=np.zeros(n_paths),
            option_liquidations=np.zeros(n_paths),
            option_closed_value=np.zeros(n_paths),
            option_liquidator_fees=np.zeros(n_paths),
            option_insurance_fees=np.zeros(n_paths),
        )
