"""Perp positions into the risk book: from inline accounts and from a ``perps_file``.

Positions are gathered by the account's index in file order (inline accounts, then the
``accounts_file``'s, then accounts the ``perps_file`` opens, as the exact loader orders
them) and placed in the book's rows by :class:`~xmargin.book.perp_columns.PerpColumns`.
A ``perps_file`` is read by the exact reader (:func:`xmargin.io.perp_tables.read_perps_file`):
every cell is parsed as a Decimal once, so the exact re-check reads the file's values.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import Int64Array1D
from xmargin.book.perp_columns import PerpColumns
from xmargin.errors import InputError, Problem
from xmargin.io.arrow_values import number_scalar, strings, to_numpy
from xmargin.io.market_file import load_market
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.perps import PerpPosition

__all__ = ["FilePerps", "perps_of_accounts", "read_file_perps"]


class FilePerps:
    """Positions by account index in file order (``index``), perp index and position."""

    __slots__ = ("index", "new_ids", "perp", "positions")

    def __init__(self) -> None:
        self.index: list[int] = []
        self.perp: list[int] = []
        self.positions: list[PerpPosition] = []
        #: accounts the ``perps_file`` opens (after every other account)
        self.new_ids: list[str] = []

    def add(self, i: int, perp: int, pos: PerpPosition) -> None:
        self.index.append(i)
        self.perp.append(perp)
        self.positions.append(pos)

    def columns(self, n_rows: int, row_of_file: Int64Array1D) -> PerpColumns:
        """The columns of these positions in the book's rows."""
        idx = np.array(self.index, dtype=np.int64)
        return PerpColumns.build(
            n_rows, row_of_file[idx], np.array(self.perp, dtype=np.int64), self.positions
        )


def perps_of_accounts(accounts: Iterable[Account], market: Market, out: FilePerps) -> None:
    """The positions of Python ``accounts`` (file index = their order)."""
    index = {name: j for j, name in enumerate(market.perps)}
    for i, acc in enumerate(accounts):
        for name, pos in acc.perps.items():
            out.add(i, index[name], pos)


def read_file_perps(
    path: Path,
    market_path: Path,
    base: Market,
    inline: list[str],
    file_ids: pa.Array,
    out: FilePerps,
) -> None:
    """Add the positions of a ``perps_file`` at ``path`` to ``out``.

    ``inline``: the ids of the inline accounts (file indexes 0..m-1); ``file_ids``: the
    ``accounts_file``'s (m..). Any problem: the exact loader reports every problem of the
    market file, located (:class:`~xmargin.errors.MarketFileError`).
    """
    from xmargin.io.perp_tables import read_perps_file

    problems: list[Problem] = []
    # Hundreds of thousands of small objects: the cyclic collector would walk them all
    # again and again while they are made, and none of them forms a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        rows = list(read_perps_file(path, base.perps, base.assets, problems))
    finally:
        if enabled:
            gc.enable()
    inline_set = set(inline)
    if problems or any(acc in inline_set for acc, _, _, _ in rows):
        load_market(market_path)  # raises with every problem located
        raise InputError(f"{path}: cannot be read into the risk book")  # pragma: no cover
    index = {name: j for j, name in enumerate(base.perps)}
    m, n_file = len(inline), len(file_ids)
    ids = strings([acc for acc, _, _, _ in rows])
    found = to_numpy(
        pc.fill_null(
            pc.index_in(ids, value_set=file_ids.cast(pa.string())), number_scalar(-1, np.int32)
        )
    )
    new: dict[str, int] = {}
    for k, (acc, perp, pos, _) in enumerate(rows):
        at = found[k]
        i = new.setdefault(acc, m + n_file + len(new)) if at < 0 else m + int(at)
        out.add(i, index[perp], pos)
    out.new_ids = list(new)
