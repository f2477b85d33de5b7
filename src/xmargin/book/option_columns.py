"""Option positions as columns of the risk book: a separate pass whose terms add to each
account's six section-2 sums (contract 6.2), re-priced on every tick of an underlying.

Every position is a row of one leg table (:data:`xmargin.fast.options.LEG_COLUMNS`), the
rows of an account contiguous (CSR by the book's account row, ``ptr``) and, inside it,
grouped by expiry. The instruments are packed once (:class:`OptionTable`); a position row
copies its option's columns, so a tick of an underlying moves spot and forward (F·S′/S,
6.1) of the rows on it and re-prices them with the float Black-76, then recomputes the
standard-margin terms (:func:`xmargin.fast.options.standard_option_sums`) of the
accounts that hold them: Numba kernels, else NumPy (the same rules).

Accounts under portfolio margin are not summed here (their balances of the underlying
change weight, 6.6): :attr:`OptionColumns.exact_rows` lists them, for the exact engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from xmargin.book.constant_columns import constant
from xmargin.book.events import BookFigures
from xmargin.book.tolerances import ABS_TOL, REL_TOL
from xmargin.fast import option_packing as fop
from xmargin.fast import options as fo
from xmargin.fast.backend import Backend, jit, per_backend
from xmargin.model.liquidation_params import seconds_between
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod
from xmargin.risk.black76 import year_fraction
from xmargin.risk.options import market_time

__all__ = ["TERMS", "OptionColumns", "OptionFigures", "OptionTable", "with_options"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The terms per account: (cv, dv, ic, id, mc, md) of section 2, then option_value.
TERMS = ("cv", "dv", "ic", "id", "mc", "md", "option_value")


@dataclass(frozen=True)
class OptionTable:
    """The instruments, one row each in leg-table columns (``q`` 1), with the book column
    of each one's underlying and its expiry group number."""

    names: tuple[str, ...]
    rows: FloatArray
    underlying: IntArray

    @classmethod
    def from_market(cls, market: Market, assets: Sequence[str]) -> OptionTable:
        now = market_time(market) if market.options else None
        col = {a: i for i, a in enumerate(assets)}
        groups: dict[tuple[str, object], int] = {}
        rows = []
        under = []
        for o in market.options.values():
            assert now is not None
            spot = float(market.assets[o.underlying].price)
            seconds = seconds_between(now, o.expiry)
            g = float(groups.setdefault(o.expiry_key(), len(groups)))
            if seconds <= 0:
                row: list[Any] = [1, o.is_call, o.strike, 0, 0, 0, 1, o.rate, spot, 0, g, spot]
            else:
                tau = float(year_fraction(seconds))
                fwd = float(o.forward) if o.forward is not None else spot
                disc = float(np.exp(-float(o.rate) * tau))
                row = [1, o.is_call, o.strike, o.volatility, tau, seconds, disc, o.rate, fwd]
                row += [0, g, spot]
            rows.append([float(x) for x in row])
            under.append(col[o.underlying])
        table = np.array(rows, dtype=np.float64).reshape(-1, len(fo.LEG_COLUMNS))
        return cls(tuple(market.options), table, np.array(under, dtype=np.int64))


def _sums_numpy(legs: FloatArray, ptr: IntArray, rows: IntArray, pm: FloatArray, out: Any) -> None:
    for r in rows:
        out[r] = fo.standard_option_sums(legs, ptr[r], ptr[r + 1], pm)


def _reprice_numpy(legs: FloatArray, under: IntArray, factor: FloatArray) -> Any:
    """Move the legs on the underlyings whose ``factor`` is not 1 and re-price them;
    returns the mask of the legs moved."""
    moved = factor[under] != 1.0
    part = legs[moved]
    part[:, fo.SPOT] *= factor[under[moved]]
    part[:, fo.FORWARD] *= factor[under[moved]]
    fop.price_legs(part)
    legs[moved] = part
    return moved


@dataclass(frozen=True)
class _Kernels:
    sums: Any
    reprice: Any


def _numba_kernels() -> _Kernels:
    @jit()
    def sums(legs: Any, ptr: Any, rows: Any, pm: Any, out: Any) -> None:  # pragma: no cover
        for k in range(rows.shape[0]):
            r = rows[k]
            s = fo.standard_option_sums(legs, ptr[r], ptr[r + 1], pm)
            for j in range(7):
                out[r, j] = s[j]

    @jit()
    def reprice(legs: Any, under: Any, factor: Any) -> Any:  # pragma: no cover
        moved = np.zeros(legs.shape[0], dtype=np.bool_)
        for i in range(legs.shape[0]):
            f = factor[under[i]]
            if f == 1.0:
                continue
            moved[i] = True
            legs[i, fo.SPOT] *= f
            legs[i, fo.FORWARD] *= f
            legs[i, fo.VALUE] = fo.black76(
                legs[i, fo.CALL] > 0.5,
                legs[i, fo.FORWARD],
                legs[i, fo.STRIKE],
                legs[i, fo.SIGMA],
                legs[i, fo.TAU],
                legs[i, fo.DISCOUNT],
            )
        return moved

    return _Kernels(sums, reprice)


_kernels = per_backend(
    lambda b: _numba_kernels() if b == "numba" else _Kernels(_sums_numpy, _reprice_numpy)
)


class OptionColumns:
    """Every account's option positions, as leg rows CSR by account row (module
    docstring); :attr:`terms` holds each account's (cv, dv, ic, id, mc, md,
    option_value) terms at the current prices."""

    def __init__(
        self,
        table: OptionTable,
        account_of: IntArray,
        option_of: IntArray,
        q: FloatArray,
        n_accounts: int,
        pm: FloatArray,
        exact_rows: IntArray | None = None,
        backend: Backend = "auto",
    ) -> None:
        order = np.lexsort((table.rows[option_of, fo.GROUP], account_of))
        self.account_of = account_of[order]
        self.option_of = option_of[order]
        self.legs = table.rows[self.option_of].copy()
        self.legs[:, fo.Q] = q[order]
        self.under = table.underlying[self.option_of]
        self.pm = pm
        self.exact_rows = exact_rows if exact_rows is not None else np.zeros(0, np.int64)
        # Without legs, no row holds anything: the per-row columns hold no memory.
        self.ptr = constant(n_accounts + 1, 0, np.int64)
        self.terms = constant((n_accounts, len(TERMS)), 0.0, np.float64)
        if self.account_of.size:
            self.ptr = np.zeros(n_accounts + 1, dtype=np.int64)
            np.add.at(self.ptr, self.account_of + 1, 1)
            np.cumsum(self.ptr, out=self.ptr)
            self.terms = np.zeros((n_accounts, len(TERMS)))
        self._k = _kernels(backend)
        held = np.unique(self.account_of)
        self._summed = np.setdiff1d(held, self.exact_rows)
        fop.price_legs(self.legs)
        if self._summed.size:
            self._k.sums(self.legs, self.ptr, self._summed, self.pm, self.terms)

    @classmethod
    def from_market(
        cls, market: Market, account_ids: Sequence[str], assets: Sequence[str], **kw: Any
    ) -> OptionColumns:
        """The option positions of ``account_ids`` (the book's rows, in order)."""
        table = OptionTable.from_market(market, assets)
        index = {n: i for i, n in enumerate(table.names)}
        acc, opt, q, exact = [], [], [], []
        for row, acc_id in enumerate(account_ids):
            account = market.accounts[acc_id]
            if account.options and account.margin is MarginMethod.PORTFOLIO:
                exact.append(row)
            for name, size in account.options.items():
                acc.append(row)
                opt.append(index[name])
                q.append(float(size))
        return cls(
            table,
            np.array(acc, dtype=np.int64),
            np.array(opt, dtype=np.int64),
            np.array(q, dtype=np.float64),
            len(account_ids),
            fop.pack_option_margin(market.option_margin),
            np.array(exact, dtype=np.int64),
            **kw,
        )

    @property
    def n_legs(self) -> int:
        return len(self.legs)

    def apply_prices(self, ratios: Mapping[int, float]) -> IntArray:
        """A tick: the underlyings at book columns ``ratios`` moved by S′/S. Their legs are
        re-priced and the terms of the accounts holding them recomputed; returns those
        account rows."""
        if not ratios:
            return np.zeros(0, dtype=np.int64)
        factor = np.ones(int(self.under.max(initial=-1)) + 1)
        for col, ratio in ratios.items():
            if col < len(factor):
                factor[col] = ratio
        moved = self._k.reprice(self.legs, self.under, factor)
        rows = np.intersect1d(np.unique(self.account_of[moved]), self._summed)
        if rows.size:
            self._k.sums(self.legs, self.ptr, rows, self.pm, self.terms)
        return rows

    def add_to(self, sums: FloatArray) -> FloatArray:
        """``sums`` (n_accounts × 6: the book's cv, dv, ic, id, mc, md) plus the option
        terms: an account's figures with its options (standard margin)."""
        out: FloatArray = sums + self.terms[:, :6]
        return out


class OptionFigures(NamedTuple):
    """The book's section-2 figures with the option terms added (file order, float64):
    the six sums, ``option_value``, the health factor, the float decision
    ``liquidatable``, and ``doubt``: rows the floats cannot decide (within the book's
    band of the level, or under portfolio margin), for the exact engine."""

    sums: FloatArray
    option_value: FloatArray
    health_factor: FloatArray
    liquidatable: NDArray[np.bool_]
    doubt: IntArray


def with_options(figures: BookFigures, cols: OptionColumns) -> OptionFigures:
    """``figures`` (:meth:`xmargin.book.RiskBook.figures`) plus the terms of ``cols``,
    built over the book's accounts in file order (:meth:`RiskBook.account_ids`)."""
    base = np.vstack(
        [
            figures.collateral_value,
            figures.debt_value,
            figures.initial_collateral,
            figures.initial_debt,
            figures.maintenance_collateral,
            figures.maintenance_debt,
        ]
    ).T
    sums = cols.add_to(base)
    mc, md = sums[:, 4], sums[:, 5]
    safe = np.where(md > 0.0, md, 1.0)
    hf = np.where(md > 0.0, mc / safe, np.nan)
    liq = (md > 0.0) & (mc < md)
    band = np.abs(mc - md) <= 4 * (REL_TOL * np.maximum(mc, md) + ABS_TOL)
    doubt = np.union1d(np.flatnonzero(band & (md > 0.0)), cols.exact_rows)
    return OptionFigures(sums, cols.terms[:, 6].copy(), hf, liq, doubt)
