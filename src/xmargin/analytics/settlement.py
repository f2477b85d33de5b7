"""Settling a simulation book: liquidating every account at one price vector (today's by
default) until none is left liquidatable, as liquidators would (contract 3), before a Monte
Carlo (:mod:`xmargin.analytics.montecarlo`) or a scenario draws its paths.

Accounts holding perps or options are not liquidated here: their health includes their
perp and option terms (:mod:`xmargin.analytics.montecarlo_perps`), and one liquidatable
keeps its balances, its deficit counted as residual bad debt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics import kernel_layout as kl
from xmargin.analytics.montecarlo_perps import carried_accounts, perp_deficit, perp_figures
from xmargin.analytics.sim_kernels import sim_kernels
from xmargin.analytics.simbook import SimBook

__all__ = ["MAX_ROUNDS", "SettleResult", "settle"]

FloatArray = NDArray[np.float64]

#: Liquidation rounds per account at most (the kernels stop there).
MAX_ROUNDS = 1000


@dataclass(frozen=True)
class SettleResult:
    """What liquidating the whole book at one price vector did (values in quote).

    Per account (``per_account``, columns ``kernel_layout.AC_*``) and totals.
    """

    book_after: SimBook
    per_account: FloatArray

    @property
    def bad_debt(self) -> float:
        a = self.per_account
        return float(a[:, kl.AC_WRITTEN_OFF].sum() + a[:, kl.AC_RESIDUAL].sum())

    @property
    def seized(self) -> float:
        return float(self.per_account[:, kl.AC_SEIZED].sum())

    @property
    def liquidations(self) -> int:
        return int(self.per_account[:, kl.AC_LIQUIDATIONS].sum())

    def totals(self) -> dict[str, float | int]:
        a = self.per_account
        return {
            "bad_debt": self.bad_debt,
            "written_off": float(a[:, kl.AC_WRITTEN_OFF].sum()),
            "residual": float(a[:, kl.AC_RESIDUAL].sum()),
            "liquidated_volume": self.seized,
            "repaid_value": float(a[:, kl.AC_REPAID].sum()),
            "protocol_fees": float(a[:, kl.AC_FEES].sum()),
            "liquidations": self.liquidations,
            "accounts_liquidated": int((a[:, kl.AC_LIQUIDATIONS] > 0).sum()),
            "toxic_accounts": int(a[:, kl.AC_TOXIC].sum()),
        }


def settle(book: SimBook, prices: FloatArray | None = None) -> SettleResult:
    """Liquidate every account at ``prices`` (today's by default) until done."""
    p = book.price if prices is None else np.asarray(prices, dtype=np.float64)
    s, b, out = sim_kernels().settle(book.arrays(), book.s, book.b, p, MAX_ROUNDS)
    if book.perps is not None or book.options is not None:
        # Accounts holding perps or options are not liquidated here (their health
        # includes them); a liquidatable one keeps its balances, its deficit is residual.
        held = carried_accounts(book)
        _, ent = book.rows_of(held)
        s[ent], b[ent] = book.s[ent], book.b[ent]
        out[held] = 0.0
        out[held, kl.AC_RESIDUAL] = perp_deficit(perp_figures(book, p[None, :], held))[1][0]
    return SettleResult(book.with_balances(s, b), out)
