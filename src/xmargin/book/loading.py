"""From a market (or a market file and its ``accounts_file``) to the book's columns.

Inline accounts (Python objects) and positions files (read in bulk by
:mod:`xmargin.book.loader`) end in the same place: position columns, clustered into the
book's CSR layout (:mod:`xmargin.book.build`), with the ids in row order and every
balance whose float64 is not exact kept aside for the exact bridge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

from xmargin._typing import Int64Array1D
from xmargin.book.build import build_layout
from xmargin.book.exact_bridge import ExactCells, Overrides
from xmargin.book.kernels import BookArrays
from xmargin.book.loader import NeedsExactLoad, PositionColumns, read_position_columns
from xmargin.book.option_loading import (
    FileOptions,
    has_expired_options,
    options_of_accounts,
    read_file_options,
)
from xmargin.book.perp_columns import PerpColumns
from xmargin.book.perp_loading import FilePerps, perps_of_accounts, read_file_perps
from xmargin.book.tables import Layout
from xmargin.errors import MarketFileError
from xmargin.io.arrow_values import from_numpy, strings
from xmargin.io.market_file import load_market, parse_market, read_market_document
from xmargin.model.account import Account
from xmargin.model.market import Market

__all__ = [
    "BookParts",
    "MarketColumns",
    "check_columns",
    "open_market_columns",
    "parts_of_file",
    "parts_of_market",
]


def _round_trips(d: Decimal) -> bool:
    """Whether ``d`` survives float64 (its float's shortest repr is ``d`` again)."""
    return Decimal(repr(float(d))) == d


class _InlineColumns:
    """Accounts held as Python objects, turned into the book's position columns.

    ``exact`` keeps (row, asset) -> (supply, borrow) where a Decimal does not survive
    float64, so the exact re-check reads the file's value.
    """

    __slots__ = ("borrow", "cat", "exact", "ids", "pos_asset", "pos_row", "supply")

    def __init__(self, accounts: list[Account], layout: Layout) -> None:
        rows: list[int] = []
        assets: list[int] = []
        supply: list[float] = []
        borrow: list[float] = []
        self.exact: Overrides = {}
        self.cat = np.full(len(accounts), layout.no_category, dtype=np.uint16)
        for r, acc in enumerate(accounts):
            if acc.category is not None:
                self.cat[r] = layout.category_index[acc.category]
            for sym in dict.fromkeys([*acc.supply, *acc.borrow]):
                a = layout.asset_index[sym]
                s, b = acc.supplied(sym), acc.borrowed(sym)
                rows.append(r)
                assets.append(a)
                supply.append(float(s))
                borrow.append(float(b))
                if not (_round_trips(s) and _round_trips(b)):
                    self.exact[(r, a)] = (s, b)
        self.pos_row = np.array(rows, dtype=np.int64)
        self.pos_asset = np.array(assets, dtype=np.int64)
        self.supply = np.array(supply, dtype=np.float64)
        self.borrow = np.array(borrow, dtype=np.float64)
        self.ids = strings([a.id for a in accounts])


@dataclass
class BookParts:
    """Everything a :class:`~xmargin.book.riskbook.RiskBook` is assembled from."""

    market: Market
    layout: Layout
    arrays: BookArrays
    ids: pa.Array
    file_index: Int64Array1D
    n_positions: int
    cells: ExactCells
    overrides: Overrides
    source: str | None = None
    #: perp positions by row (:mod:`xmargin.book.perp_columns`); ``None``: none
    perps: PerpColumns | None = None
    #: option positions and portfolio-margined accounts by row
    #: (:mod:`xmargin.book.option_loading`); ``None``: the book holds no options
    options: FileOptions | None = None


def parts_of_market(market: Market, cluster: bool, options: bool = True) -> BookParts:
    """The columns of every account of an (exactly loaded) market.

    ``options=False`` leaves option positions and margin methods out (the service's risk
    view, which decides accounts with options on the exact engine itself)."""
    layout = Layout.of(market.assets, market.categories)
    accounts = list(market.accounts.values())
    cols = _InlineColumns(accounts, layout)
    built = build_layout(
        len(accounts),
        cols.cat,
        cols.pos_row,
        cols.pos_asset,
        cols.supply,
        cols.borrow,
        len(layout.assets),
        layout.code_dtype,
        cluster,
        layout.cat_dtype,
    )
    ids = cols.ids.take(from_numpy(built.file_index))
    overrides = {(int(built.row_of_file[r]), a): v for (r, a), v in cols.exact.items()}
    file_perps = FilePerps()
    perps_of_accounts(accounts, market, file_perps)
    file_options = None
    if options:
        file_options = FileOptions()
        options_of_accounts(accounts, market, file_options)
        file_options = file_options.to_rows(built.row_of_file)
    return BookParts(
        market, layout, built.arrays, ids, built.file_index, built.n_positions,
        ExactCells.none(), overrides, None, file_perps.columns(len(accounts), built.row_of_file),
        file_options,
    )  # fmt: skip


@dataclass
class MarketColumns:
    """A market file read in columns: its parameters and inline accounts (``market``,
    exactly loaded, without ``accounts_file``) and the positions of its accounts file."""

    market: Market
    accounts_file: str
    columns: PositionColumns
    #: the market's ``perps_file``, read by :func:`parts_of_file` (``None``: none)
    perps_file: str | None = None
    #: the market's ``options_file``, read by :func:`parts_of_file` (``None``: none)
    options_file: str | None = None


def open_market_columns(
    path: str | Path, on_read: Callable[[], None] | None = None
) -> MarketColumns | None:
    """Read ``path`` in columns, or ``None`` when the exact loader must read it.

    ``None``: the market has no ``accounts_file``, or a cell of it needs the exact loader.
    The parameters must pass the contract's validation first; if they do not, the exact
    loader reports every problem of the file and its positions, located
    (:class:`~xmargin.errors.MarketFileError`), as ``xmargin check`` does.
    """
    p = Path(path)
    raw, _ = read_market_document(p)
    table = raw.get("market")
    accounts_file = table.get("accounts_file") if isinstance(table, dict) else None
    if not isinstance(table, dict) or not isinstance(accounts_file, str):
        return None
    held = ("accounts_file", "perps_file", "options_file")
    stripped = {**raw, "market": {k: v for k, v in table.items() if k not in held}}
    try:
        base = parse_market(stripped, str(p), base_dir=p.parent)
    except MarketFileError:
        load_market(p)  # every problem of the file and its positions, located
        raise
    if on_read is not None:
        on_read()  # the parameters are read; the positions come next
    try:
        cols = read_position_columns(
            p.parent / accounts_file, base.assets, tuple(base.categories), list(base.accounts)
        )
    except NeedsExactLoad:
        # The exact loader is the authority: it raises with every problem located, or
        # (a cell the bulk reader could not parse) accepts the file.
        return None
    perps_file = table.get("perps_file")
    named = perps_file if isinstance(perps_file, str) else None
    options_file = table.get("options_file")
    held_options = options_file if isinstance(options_file, str) else None
    return MarketColumns(base, accounts_file, cols, named, held_options)


def check_columns(
    path: str | Path, on_step: Callable[[], None] | None = None
) -> tuple[Market, int]:
    """``xmargin check`` of a market with a large ``accounts_file``: the parameters and
    inline accounts exactly, the positions through the columnar reader (every rule it
    checks; a file it cannot decide goes to the exact loader, which locates every
    problem). Returns the market (parameters and inline accounts) and the number of
    accounts. ``on_step`` is called after each of the two reads (a progress bar)."""
    tick = on_step or (lambda: None)
    p = Path(path)
    opened = open_market_columns(p, on_read=tick)
    if opened is None:
        market = load_market(p)
        tick()
        return market, len(market.accounts)
    tick()
    n_new = 0
    if opened.options_file is not None:  # its rows checked (and located) as the book reads them
        held = FileOptions()
        inline = list(opened.market.accounts)
        ids = opened.columns.ids
        read_file_options(p.parent / opened.options_file, p, opened.market, inline, ids, held)
        n_new = len(held.new_ids)
    return opened.market, len(opened.market.accounts) + len(opened.columns.ids) + n_new


def parts_of_file(path: str | Path, cluster: bool) -> BookParts:
    """The columns of a market file and its ``accounts_file`` (contract 1.4)."""
    p = Path(path)
    opened = open_market_columns(p)
    if opened is None or (opened.options_file is not None and has_expired_options(opened.market)):
        # Expired positions of an options_file settle at load through the balances (6.1).
        return parts_of_market(load_market(p), cluster)
    base, cols = opened.market, opened.columns
    layout = Layout.of(base.assets, base.categories)
    update = {
        "accounts_file": opened.accounts_file,
        "perps_file": opened.perps_file,
        "options_file": opened.options_file,
    }
    params = base.params.model_copy(update=update)
    market = Market(
        params, base.assets, base.categories, perps=base.perps, options=base.options,
        option_margin=base.option_margin, portfolio_margin=base.portfolio_margin,
    )  # fmt: skip
    accounts = list(base.accounts.values())
    file_perps = FilePerps()
    perps_of_accounts(accounts, base, file_perps)
    if opened.perps_file is not None:
        read_file_perps(
            p.parent / opened.perps_file, p, base, [a.id for a in accounts], cols.ids, file_perps
        )
    file_options = FileOptions()
    options_of_accounts(accounts, base, file_options)
    if opened.options_file is not None:
        earlier = pa.concat_arrays([cols.ids.cast(pa.string()), strings(file_perps.new_ids)])
        inline_ids = [a.id for a in accounts]
        path = p.parent / opened.options_file
        read_file_options(path, p, base, inline_ids, earlier, file_options)
    inline = _InlineColumns(accounts, layout)
    m = len(inline.ids)
    n_new = len(file_perps.new_ids) + len(file_options.new_ids)
    n_rows = m + len(cols.ids) + n_new
    pos_row = np.concatenate([inline.pos_row, cols.pos_row + m])
    pos_asset = np.concatenate([inline.pos_asset, cols.pos_asset])
    built = build_layout(
        n_rows,
        np.concatenate([inline.cat, cols.cat, np.full(n_new, layout.no_category, np.uint16)]),
        pos_row,
        pos_asset,
        np.concatenate([inline.supply, cols.supply]),
        np.concatenate([inline.borrow, cols.borrow]),
        len(layout.assets),
        layout.code_dtype,
        cluster,
        layout.cat_dtype,
    )
    new_ids = strings(file_perps.new_ids + file_options.new_ids)
    ids = pa.concat_arrays([inline.ids, cols.ids.cast(pa.string()), new_ids]).take(
        from_numpy(built.file_index)
    )
    # Positions with exact text, after the inline ones.
    at = len(inline.pos_row) + cols.exact_pos
    keys = built.row_of_file[pos_row[at]] * len(layout.assets) + pos_asset[at]
    order = np.argsort(keys, kind="stable")
    take = from_numpy(np.asarray(order, dtype=np.int64))
    cells = ExactCells(keys[order], cols.exact_supply.take(take), cols.exact_borrow.take(take))
    overrides = {(int(built.row_of_file[r]), a): v for (r, a), v in inline.exact.items()}
    return BookParts(
        market, layout, built.arrays, ids, built.file_index, built.n_positions, cells,
        overrides, str(p), file_perps.columns(n_rows, built.row_of_file),
        file_options.to_rows(built.row_of_file),
    )  # fmt: skip
