"""Option positions into the risk book: from inline accounts and from an ``options_file``
(docs/contract.md 6.5), beside the perps (:mod:`xmargin.book.perp_loading`).

Positions are gathered by the account's index in file order, as the exact loader orders
accounts (inline, ``accounts_file``, those the ``perps_file`` opens, then those the
``options_file`` opens), and placed in the book's rows by
:class:`~xmargin.book.option_book.BookOptions`. An ``options_file`` is read by the exact
reader (:func:`xmargin.io.option_tables.read_options_file`): every size is a Decimal,
so the exact re-check reads the file's values.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import Float64Array1D, Int64Array1D
from xmargin.book.exact_bridge import ExactBridge
from xmargin.book.option_book import BookOptions
from xmargin.errors import InputError, Problem
from xmargin.fast.backend import Backend
from xmargin.io.arrow_values import number_scalar, strings, to_numpy
from xmargin.io.market_file import load_market
from xmargin.model.account import Account
from xmargin.model.liquidation_params import seconds_between
from xmargin.model.market import Market
from xmargin.model.options import MarginMethod
from xmargin.risk.options import market_time

if TYPE_CHECKING:  # loading imports this module
    from xmargin.book.loading import BookParts

__all__ = [
    "FileOptions",
    "attach_options",
    "has_expired_options",
    "options_of_accounts",
    "read_file_options",
]


class FileOptions:
    """Positions by account index in file order (``index``), option index and size; the
    file indexes of the portfolio-margined accounts."""

    __slots__ = ("index", "new_ids", "option", "portfolio", "sizes")

    def __init__(self) -> None:
        self.index: list[int] = []
        self.option: list[int] = []
        self.sizes: list[Decimal] = []
        self.portfolio: list[int] = []
        #: accounts the ``options_file`` opens (after every other account)
        self.new_ids: list[str] = []

    def to_rows(self, row_of_file: Int64Array1D) -> FileOptions:
        """These positions with the book's rows in place of file indexes."""
        out = FileOptions()
        out.index = row_of_file[np.array(self.index, dtype=np.int64)].tolist()
        out.option, out.sizes, out.new_ids = self.option, self.sizes, self.new_ids
        out.portfolio = row_of_file[np.array(self.portfolio, dtype=np.int64)].tolist()
        return out

    def book(
        self, market: Market, assets: tuple[str, ...], n_rows: int, backend: Backend = "auto"
    ) -> BookOptions:
        """The option book of these positions (indexes as book rows, :meth:`to_rows`);
        ``market`` at the prices the book is loaded at."""
        return BookOptions(
            market,
            assets,
            n_rows,
            np.array(self.index, dtype=np.int64),
            np.array(self.option, dtype=np.int64),
            self.sizes,
            np.array(self.portfolio, dtype=np.int64),
            backend,
        )


def options_of_accounts(accounts: Iterable[Account], market: Market, out: FileOptions) -> None:
    """The positions and margin methods of Python ``accounts`` (file index = their order)."""
    index = {name: j for j, name in enumerate(market.options)}
    for i, acc in enumerate(accounts):
        if acc.margin is MarginMethod.PORTFOLIO:
            out.portfolio.append(i)
        for name, size in acc.options.items():
            out.index.append(i)
            out.option.append(index[name])
            out.sizes.append(size)


def has_expired_options(market: Market) -> bool:
    """Whether an option of ``market`` expired at or before ``market.time``: positions
    in it are settled when the market is loaded (6.1), through the balances, which only
    the exact loader does."""
    if not market.options:
        return False
    now = market_time(market)
    return any(seconds_between(now, o.expiry) <= 0 for o in market.options.values())


def read_file_options(
    path: Path,
    market_path: Path,
    base: Market,
    inline: list[str],
    earlier_ids: pa.Array,
    out: FileOptions,
) -> None:
    """Add the positions of an ``options_file`` at ``path`` to ``out``.

    ``inline``: the ids of the inline accounts (file indexes 0..m-1); ``earlier_ids``:
    those of the ``accounts_file`` and of the accounts the ``perps_file`` opens (m..).
    Any problem: the exact loader reports every problem of the market file, located
    (:class:`~xmargin.errors.MarketFileError`).
    """
    from xmargin.io.option_tables import read_options_file

    problems: list[Problem] = []
    enabled = gc.isenabled()
    gc.disable()  # many small objects, no cycles (as the perps' reader)
    try:
        rows = list(read_options_file(path, base.options, base.assets, problems))
    finally:
        if enabled:
            gc.enable()
    inline_set = set(inline)
    if problems or any(acc in inline_set for acc, _, _, _ in rows):
        load_market(market_path)  # raises with every problem located
        raise InputError(f"{path}: cannot be read into the risk book")  # pragma: no cover
    index = {name: j for j, name in enumerate(base.options)}
    m, n_earlier = len(inline), len(earlier_ids)
    ids = strings([acc for acc, _, _, _ in rows])
    found = pc.index_in(ids, value_set=earlier_ids.cast(pa.string()))
    at = to_numpy(pc.fill_null(found, number_scalar(-1, np.int32)))
    new: dict[str, int] = {}
    for k, (acc, option, size, _) in enumerate(rows):
        i = new.setdefault(acc, m + n_earlier + len(new)) if at[k] < 0 else m + int(at[k])
        out.index.append(i)
        out.option.append(index[option])
        out.sizes.append(size)
    out.new_ids = list(new)


#: Option legs from which a book priced on NumPy still prices its options compiled.
_COMPILED_LEGS = 20_000


def attach_options(
    parts: BookParts, bridge: ExactBridge, backend: Backend, asset_price: Float64Array1D
) -> BookOptions:
    """The option book of ``parts`` (empty where they hold no options) priced at
    ``asset_price`` (the book's float prices), its positions and margin methods handed to
    the exact ``bridge``. From :data:`_COMPILED_LEGS` legs the option columns take the
    package's backend (Numba where it runs) even beside NumPy spot kernels (a book priced
    once: ``health``, ``stress``): per tick about 100x the NumPy path's speed
    (benchmarks/option_book.py)."""
    market, assets = parts.market, parts.layout.assets
    n_rows = int(parts.arrays.indptr.size - 1)
    if parts.options is None:
        return BookOptions.empty(market, assets, n_rows)
    if backend == "numpy" and len(parts.options.index) >= _COMPILED_LEGS:
        backend = "auto"  # the NumPy path calls the rules per account from Python
    book = parts.options.book(market, assets, n_rows, backend)
    book.set_prices(asset_price)
    bridge.set_options(market, book.positions_of, book.margin_of)
    return book
