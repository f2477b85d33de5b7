"""Parameter optimisation (contract 7.2): the most borrowing capacity within a VaR budget.

``capacity`` = Σ over accounts and assets of supply × price × collateral_factor, the
weights effective (category rule and size haircut, contract 1.2): the book's
``Σ initial_collateral`` at today's prices; ``usage`` = Σ initial_debt / capacity.
Constraint: VaR99 of bad debt ≤ K computed by :func:`xmargin.simulate.monte_carlo` with
the options of ``simulate montecarlo`` (so that command reproduces it on the written
market), Liquidations-at-Risk ≤ L when given, and the rules of
:mod:`xmargin.analytics.proposal` (max step, cf ≤ lt, lt·(1+bonus) < 1).

Every candidate is simulated with the same seed: the paths are the same draws (common
random numbers), so differences between candidates are the parameters' alone.

Two searches, same budget of simulations:

- ``chaos`` (Chaos Labs' procedure): each asset alone over its candidate moves (the
  VaR/capacity curve), the largest feasible move kept per asset; then the combined
  proposal simulated and trimmed, one step of one asset at a time, the asset giving up
  the least capacity per unit of VaR (from its curve) first, until the constraint holds.
- ``joint``: greedy on the combined book. From every asset at its top candidate, each
  round simulates one step down for every asset still above its floor and takes the
  step with the most VaR saved per unit of capacity lost, until the constraint holds;
  then tries single steps back up. It measures interactions that the per-asset curves
  miss, and pays for it in simulations per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np

from xmargin import simulate as sim
from xmargin.analytics.analysis_inputs import MarketInputs, number
from xmargin.analytics.proposal import Change, Move, candidate_moves, move_params
from xmargin.errors import InputError

__all__ = ["Evaluation", "Evaluator", "OptimizeConfig", "OptimizeResult", "optimize"]

Runner = Callable[[sim.SimBook, list[tuple[int, int, int]]], Any]


@dataclass(frozen=True)
class OptimizeConfig:
    """Options of ``xmargin optimize`` beyond those of ``simulate montecarlo``."""

    var99_max: float
    lar_max: float | None = None
    max_step: Decimal = Decimal("0.03")
    candidates: int = 10
    method: Literal["chaos", "joint"] = "chaos"
    caps: tuple[Literal["supply", "borrow"], ...] = ()
    cap_iterations: int = 12
    cap_max_scale: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.var99_max) and self.var99_max >= 0):
            raise InputError(f"--var99-max: must be >= 0, was {self.var99_max}")
        if self.lar_max is not None and not (math.isfinite(self.lar_max) and self.lar_max >= 0):
            raise InputError(f"--lar-max: must be >= 0, was {self.lar_max}")
        if not Decimal(0) < self.max_step <= Decimal("0.5"):
            raise InputError(f"--max-step: must be in (0, 0.5], was {self.max_step}")
        if not 1 <= self.candidates <= 100:
            raise InputError(f"--candidates: must be from 1 to 100, was {self.candidates}")
        if self.method not in ("chaos", "joint"):
            raise InputError(f"--method: expected chaos or joint, was {self.method!r}")
        if not (math.isfinite(self.cap_max_scale) and self.cap_max_scale > 1):
            raise InputError(f"--cap-max-scale: must be > 1, was {self.cap_max_scale}")


@dataclass(frozen=True)
class Evaluation:
    """One simulated candidate: its moves and figures (quote)."""

    moves: Mapping[str, Move]
    var99: float
    var99_std_error: float
    lar: float
    capacity: float
    borrowed: float

    @property
    def usage(self) -> float:
        return self.borrowed / self.capacity if self.capacity > 0 else math.nan

    def feasible(self, cfg: OptimizeConfig) -> bool:
        ok = self.var99 <= cfg.var99_max
        return ok and (cfg.lar_max is None or self.lar <= cfg.lar_max)

    def to_doc(self) -> dict[str, Any]:
        return {
            "var99": number(self.var99),
            "var99_std_error": number(self.var99_std_error),
            "liquidations_at_risk": number(self.lar),
            "capacity": number(self.capacity),
            "borrowed": number(self.borrowed),
            "usage": number(self.usage),
        }


class Evaluator:
    """Simulates candidates on the book with the Monte Carlo of ``simulate montecarlo``."""

    def __init__(
        self,
        inputs: MarketInputs,
        model: sim.ReturnModel,
        cfg: sim.MonteCarloConfig,
        liquidity: sim.Liquidity | None,
        runner: Runner | None = None,
        on_eval: Callable[[], None] | None = None,
    ) -> None:
        self.inputs = inputs
        self.model = model
        self.cfg = cfg
        self.liquidity = liquidity
        self.runner = runner
        self.on_eval = on_eval
        self.count = 0
        self._cache: dict[tuple[Any, ...], Evaluation] = {}

    def book_for(self, moves: Mapping[str, Move], book: sim.SimBook | None = None) -> sim.SimBook:
        """The book (the market's, or ``book``) with each moved asset's cf and lt: the
        pack derived through :meth:`xmargin.simulate.SimBook.with_asset_params`, so that
        accounts whose category lists the asset keep the category's weights."""
        b = self.inputs.book if book is None else book
        changes = {
            a: {"collateral_factor": m.cf, "liquidation_threshold": m.lt} for a, m in moves.items()
        }
        return b.with_asset_params(changes, "--asset") if changes else b

    def evaluate(
        self, moves: Mapping[str, Move], book: sim.SimBook | None = None, tag: Any = None
    ) -> Evaluation:
        """Simulate ``moves`` (the same seed, hence the same paths, every time).

        ``book``: another book (the cap search's), remembered under ``tag``.
        """
        if book is not None and tag is None:
            raise ValueError("a book other than the market's needs a tag")
        key = (tag, tuple(sorted((a, m.cf, m.lt) for a, m in moves.items())))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        bk = self.book_for(moves, book)
        res = sim.monte_carlo(bk, self.model, self.cfg, self.liquidity, runner=self.runner)
        self.count += 1
        if self.on_eval is not None:
            self.on_eval()
        var = res.figures["var_99"]
        ev = Evaluation(
            dict(moves),
            var.value,
            var.std_error,
            res.figures["liquidations_at_risk"].value,
            float((bk.wic * bk.price[bk.col]).sum()),
            float((bk.wid * bk.price[bk.col]).sum()),
        )
        self._cache[key] = ev
        return ev


@dataclass
class OptimizeResult:
    """The proposal, the curves, the caps and what the search cost."""

    config: OptimizeConfig
    before: Evaluation
    after: Evaluation
    feasible: bool
    changes: list[Change]
    curves: dict[str, list[Evaluation]]
    caps: list[dict[str, Any]]
    evaluations: int
    method: str
    warnings: list[str] = field(default_factory=list)
    diff: str = ""

    def to_doc(self) -> dict[str, Any]:
        return {
            "feasible": self.feasible,
            "var99_max": number(self.config.var99_max),
            "lar_max": number(self.config.lar_max),
            "method": self.method,
            "evaluations": self.evaluations,
            "before": self.before.to_doc(),
            "after": self.after.to_doc(),
            "changes": [c.to_doc() for c in self.changes],
            "curves": {
                a: [
                    {"delta": str(e.moves[a].delta) if a in e.moves else "0", **e.to_doc()}
                    for e in c
                ]
                for a, c in self.curves.items()
            },
            "caps": self.caps,
            "warnings": self.warnings,
        }


def _options(
    inputs: MarketInputs, assets: Sequence[str], cfg: OptimizeConfig
) -> tuple[dict[str, list[Move]], list[str]]:
    """Per asset, its valid moves in increasing order (the current values as delta 0)."""
    grid = candidate_moves(cfg.max_step, cfg.candidates)
    out: dict[str, list[Move]] = {}
    warnings: list[str] = []
    for a in assets:
        ap = inputs.market.assets[a]
        cf, lt, bonus = ap.collateral_factor, ap.liquidation_threshold, ap.liquidation_bonus
        moves = [
            m for d in grid if (m := move_params(cf, lt, bonus, d, a, cfg.max_step)) is not None
        ]
        current = Move(a, Decimal(0), cf, lt)
        if lt * (1 + bonus) >= 1:
            warnings.append(
                f"{a}: liquidation_threshold x (1 + bonus) >= 1 now; "
                "only moves that fix it are kept"
            )
            moves = [m for m in moves if m.lt * (1 + bonus) < 1]
        else:
            moves.append(current)
        uniq: dict[tuple[Decimal, Decimal], Move] = {}
        for m in sorted(moves, key=lambda m: (m.delta != 0, m.delta)):
            uniq.setdefault((m.cf, m.lt), m)
        out[a] = sorted(uniq.values(), key=lambda m: m.delta)
        if not out[a]:
            warnings.append(f"{a}: no move within --max-step satisfies lt x (1 + bonus) < 1")
    for name, cat in inputs.market.categories.items():
        if cat.liquidation_threshold * (1 + cat.liquidation_bonus) >= 1:
            warnings.append(
                f"category {name}: liquidation_threshold x (1 + bonus) >= 1 (not searched)"
            )
    return out, warnings


def _chaos(
    ev: Evaluator, opts: dict[str, list[Move]], base: Evaluation, cfg: OptimizeConfig
) -> tuple[Evaluation, dict[str, list[Evaluation]], list[Evaluation]]:
    curves: dict[str, list[Evaluation]] = {}
    pick: dict[str, int] = {}
    for a, moves in opts.items():
        curve = [base if m.delta == 0 else ev.evaluate({a: m}) for m in moves]
        curves[a] = curve
        ok = [i for i, e in enumerate(curve) if e.feasible(cfg)]
        pick[a] = ok[-1] if ok else int(np.argmin([e.var99 for e in curve]))
    tried: list[Evaluation] = []
    while True:
        cur = ev.evaluate({a: opts[a][i] for a, i in pick.items()})
        tried.append(cur)
        if cur.feasible(cfg):
            return cur, curves, tried
        best, best_ratio = None, -math.inf
        for a, i in pick.items():
            if i == 0:
                continue
            hi, lo = curves[a][i], curves[a][i - 1]
            saved = hi.var99 - lo.var99
            lost = max(hi.capacity - lo.capacity, 1e-12)
            ratio = saved / lost if saved > 0 else -lost
            if ratio > best_ratio:
                best, best_ratio = a, ratio
        if best is None:
            return min(tried, key=_least_risk), curves, tried
        pick[best] -= 1


def _joint(
    ev: Evaluator, opts: dict[str, list[Move]], base: Evaluation, cfg: OptimizeConfig, budget: int
) -> tuple[Evaluation, list[Evaluation]]:
    pick = {a: len(m) - 1 for a, m in opts.items() if m}
    start = ev.count
    cur = ev.evaluate({a: opts[a][i] for a, i in pick.items()})
    tried = [cur]
    while not cur.feasible(cfg) and ev.count - start < budget:
        best, best_ratio, best_ev = None, -math.inf, None
        for a, i in pick.items():
            if i == 0:
                continue
            cand = ev.evaluate({b: opts[b][pick[b] - (b == a)] for b in pick})
            saved = cur.var99 - cand.var99
            lost = max(cur.capacity - cand.capacity, 1e-12)
            ratio = saved / lost if saved > 0 else -lost
            if ratio > best_ratio:
                best, best_ratio, best_ev = a, ratio, cand
        if best is None or best_ev is None:
            break
        pick[best] -= 1
        cur = best_ev
        tried.append(cur)
    if not cur.feasible(cfg):
        return min(tried, key=_least_risk), tried
    for a in list(pick):  # a step back up where a trimmed asset left room
        while pick[a] + 1 < len(opts[a]) and ev.count - start < budget:
            cand = ev.evaluate({b: opts[b][pick[b] + (b == a)] for b in pick})
            if not cand.feasible(cfg):
                break
            pick[a] += 1
            cur = cand
    return cur, tried


def _least_risk(e: Evaluation) -> tuple[float, float]:
    """Order of the best infeasible proposal: least VaR99, then most capacity."""
    return (e.var99, -e.capacity)


def _changes(inputs: MarketInputs, moves: Mapping[str, Move]) -> list[Change]:
    out: list[Change] = []
    for a, m in moves.items():
        ap = inputs.market.assets[a]
        if m.cf != ap.collateral_factor:
            out.append(Change(a, "collateral_factor", ap.collateral_factor, m.cf))
        if m.lt != ap.liquidation_threshold:
            out.append(Change(a, "liquidation_threshold", ap.liquidation_threshold, m.lt))
    return out


def optimize(
    inputs: MarketInputs,
    ev: Evaluator,
    assets: Sequence[str] | None,
    cfg: OptimizeConfig,
) -> OptimizeResult:
    """Search the proposal (see the module docstring); caps last, on the proposal."""
    from xmargin.analytics.caps import search_caps

    book = inputs.book
    if assets:
        for a in assets:
            book.asset_index(a, "--asset")
        chosen = list(dict.fromkeys(assets))
    else:
        chosen = [a for a in book.assets if inputs.market.assets[a].liquidation_threshold > 0]
    opts, warnings = _options(inputs, chosen, cfg)
    opts = {a: m for a, m in opts.items() if m}
    base = ev.evaluate({})
    budget = max(1, sum(len(m) - 1 for m in opts.values()))
    curves: dict[str, list[Evaluation]] = {}
    if cfg.method == "chaos":
        best, curves, _ = _chaos(ev, opts, base, cfg)
    else:
        best, _ = _joint(ev, opts, base, cfg, budget)
        curves = {a: [] for a in opts}
    if not best.feasible(cfg):
        best = min((best, base), key=_least_risk)
    moves = {a: m for a, m in best.moves.items() if m.delta != 0}
    final = ev.evaluate(moves)
    changes = _changes(inputs, moves)
    caps: list[dict[str, Any]] = []
    if cfg.caps:
        cap_changes, caps = search_caps(inputs, ev, moves, chosen, cfg)
        changes += cap_changes
    return OptimizeResult(
        cfg, base, final, final.feasible(cfg), changes, curves, caps, ev.count, cfg.method, warnings
    )
