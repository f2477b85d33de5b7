"""What a cascade run leaves per path: :class:`PathOutcome`, and the outcomes of groups
of paths put together (:func:`concat_outcomes`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from xmargin.analytics.cascade.layout import FloatArray, IntArray

__all__ = ["PathOutcome", "concat_outcomes", "row_dot"]


@dataclass(frozen=True)
class PathOutcome:
    """Totals per path of a chunk, and per pair (path, account) that was ever liquidatable.

    Per path (quote unless a count): ``bad_debt = written_off + residual``, the values
    repaid, seized and paid in protocol fees; counts of liquidations, of liquidated and
    toxic accounts, of liquidation attempts refused (unprofitable, capped by the round
    cap, paused), of accounts still liquidatable at the end, and of rounds that executed
    something; the sums of initial collateral and initial debt at the end
    (``borrowing_power``, ``borrowed``); and the final prices.
    """

    bad_debt: FloatArray
    written_off: FloatArray
    residual: FloatArray
    repaid: FloatArray
    seized: FloatArray
    fees: FloatArray
    liquidations: FloatArray
    accounts_liquidated: FloatArray
    toxic_accounts: FloatArray
    unprofitable: FloatArray
    capped: FloatArray
    paused: FloatArray
    still_liquidatable: FloatArray
    rounds: FloatArray
    borrowing_power: FloatArray
    borrowed: FloatArray
    final_prices: FloatArray
    pair_path: IntArray
    pair_acct: IntArray
    pair_bad: FloatArray
    pair_toxic: FloatArray
    pair_seized: FloatArray
    #: perp liquidations (contract 5.4) per path: count, closed notional, the fees to
    #: the liquidators and to the insurance fund (quote); zeros without perps
    perp_liquidations: FloatArray
    perp_closed_value: FloatArray
    perp_liquidator_fees: FloatArray
    perp_insurance_fees: FloatArray
    #: option liquidations (contract 6.5): positions closed, their mark value closed,
    #: the fees to the liquidators and to the insurance fund (quote); zeros without options
    option_liquidations: FloatArray
    option_closed_value: FloatArray
    option_liquidator_fees: FloatArray
    option_insurance_fees: FloatArray

    def per_path(self) -> dict[str, FloatArray]:
        """The Monte Carlo's per-path figures (:mod:`xmargin.analytics.montecarlo`); the
        option liquidations' where a path closed an option or the book holds them
        (``with_options``)."""
        return {
            "bad_debt": self.bad_debt,
            "written_off": self.written_off,
            "residual": self.residual,
            "liquidated_volume": self.seized,
            "repaid_value": self.repaid,
            "protocol_fees": self.fees,
            "liquidations": self.liquidations,
            "accounts_liquidated": self.accounts_liquidated,
            "toxic_accounts": self.toxic_accounts,
            "still_liquidatable": self.still_liquidatable,
            "borrowing_power": self.borrowing_power,
            "borrowed": self.borrowed,
            "rounds": self.rounds,
            "refused_unprofitable": self.unprofitable,
            "refused_capped": self.capped,
            "refused_paused": self.paused,
            "perp_liquidations": self.perp_liquidations,
        }

    def option_per_path(self) -> dict[str, FloatArray]:
        """The option liquidations' per-path figures (books holding options)."""
        return {
            "option_liquidations": self.option_liquidations,
            "option_closed_value": self.option_closed_value,
            "option_fees": self.option_liquidator_fees + self.option_insurance_fees,
        }


def row_dot(m: FloatArray, v: np.ndarray[Any, Any]) -> FloatArray:
    """``m @ v`` row by row, in an order that does not depend on how many rows ``m`` has
    (BLAS blocks a matrix-vector product by its shape)."""
    return np.asarray((m * v[None, :]).sum(axis=1), np.float64)


def concat_outcomes(parts: list[PathOutcome], group: int) -> PathOutcome:
    """The outcomes of consecutive groups of ``group`` paths as one (pairs' paths shifted
    to the run's numbering)."""
    fields: dict[str, FloatArray | IntArray] = {}
    for name in PathOutcome.__dataclass_fields__:
        if name == "pair_path":
            fields[name] = np.concatenate([o.pair_path + i * group for i, o in enumerate(parts)])
        else:
            fields[name] = np.concatenate([getattr(o, name) for o in parts])
    return PathOutcome(**fields)  # type: ignore[arg-type]
