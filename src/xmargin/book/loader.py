"""Reading a positions file (contract 1.4) straight into columns, with pyarrow.

No row-by-row Python: ids are grouped with Arrow compute, assets and categories mapped
with ``index_in``, amounts cast to float64 in C. Every rule the exact loader
(:func:`xmargin.io.positions.read_positions_exact`) applies is screened here in bulk;
cells the screen cannot clear by itself (an exponent, more decimal places than the asset
allows at first sight) are parsed exactly, one by one. When the screen finds anything
wrong, :class:`NeedsExactLoad` sends the caller to the exact loader, which reports every
problem with its location just as ``xmargin check`` does (and which stays the authority:
if it accepts the file after all, the book is built from its exact balances).

Exact values: a CSV cell of at most 15 characters holds at most 15 significant digits, so
the float64 Arrow parses from it converts back (shortest repr) to the same decimal. Longer
cells keep their exact text beside the columns, for the book's exact re-checks. Parquet
float cells *are* their shortest repr for the exact loader, so they need nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import AnyArray, BoolArray, Float64Array1D, Int64Array1D, UInt16Array1D
from xmargin.io.arrow_values import from_numpy, number_scalar, string_scalar, strings, to_numpy
from xmargin.io.positions import names_valid, read_positions_table
from xmargin.mathlib import ZERO, quantize_down
from xmargin.model.numbers import MAX_MAGNITUDE, parse_number
from xmargin.model.params import AssetParams

__all__ = ["NeedsExactLoad", "PositionColumns", "read_position_columns"]

#: A decimal string of at most this many characters has at most 15 significant digits,
#: which a float64 holds exactly (DBL_DIG): its shortest repr is that decimal again.
SHORT_CELL = 15
_MAX = float(MAX_MAGNITUDE)
_TWO53 = float(2**53)
_EMPTY = string_scalar("")
_ZERO_F = number_scalar(0.0, np.float64)


class NeedsExactLoad(Exception):
    """The bulk screen found a problem (or a cell it cannot read); load exactly instead."""


@dataclass
class PositionColumns:
    """A positions file as columns, grouped by account in first-appearance order.

    ``pos_row`` is non-decreasing (the account of each position); ``exact_pos`` lists the
    positions whose cells do not round-trip through float64, with their exact text.
    """

    ids: pa.Array
    cat: UInt16Array1D
    pos_row: Int64Array1D
    pos_asset: Int64Array1D
    supply: Float64Array1D
    borrow: Float64Array1D
    exact_pos: Int64Array1D
    exact_supply: pa.Array
    exact_borrow: pa.Array


def _np(arr: pa.Array | pa.ChunkedArray) -> AnyArray:
    """NumPy values of a fixed-width Arrow array without nulls (a view where possible,
    :func:`xmargin.io.arrow_values.to_numpy`)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError("_np: the array has nulls")  # pragma: no cover - callers fill
    return to_numpy(arr)


def _exactly_ok(text: str, decimals: int) -> bool:
    """One cell through the exact loader's rules: a number, >= 0, within the decimals."""
    if text == "":
        return True
    try:
        d = parse_number(text)
    except ValueError:
        return False
    return d >= ZERO and quantize_down(d, decimals) == d


def _amounts(
    col: pa.ChunkedArray, pos_dec: Int64Array1D
) -> tuple[Float64Array1D, BoolArray, pa.Array | None]:
    """(float64 units, long-cell mask, exact text or ``None``) of one amount column.

    ``None``: the column is float64, and the exact value of a cell is its shortest repr.
    Raises :class:`NeedsExactLoad` for any cell the exact loader would refuse (or that
    this screen cannot read).
    """
    arr = col.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    t = arr.type
    if pa.types.is_floating(t):
        f = _np(pc.fill_null(pc.cast(arr, pa.float64()), _ZERO_F)).astype(np.float64)
        if not np.isfinite(f).all() or (f < 0).any() or (f > _MAX).any():
            raise NeedsExactLoad("amount out of range")
        # repr(x) has at most 17 significant digits, so at most 16 - floor(log10 x)
        # decimal places; where that may exceed the asset's, read the repr exactly.
        with np.errstate(divide="ignore"):
            e10 = np.floor(np.log10(np.where(f > 0, f, 1.0)))
        doubt = (f > 0) & (16 - e10 > pos_dec)
        if doubt.any():
            idx = np.flatnonzero(doubt)
            x, dec = f[idx], pos_dec[idx]
            # If N / 10^d (N an integer below 2^53, d <= 22: both exact floats, the
            # division correctly rounded) is x, the decimal N x 10^-d round-trips to x,
            # so x's shortest repr has at most d places.
            scale = 10.0 ** np.minimum(dec, 22)
            n_int = np.rint(x * scale)
            fits = (dec <= 22) & (n_int < _TWO53) & (n_int / scale == x)
            idx, dec = idx[~fits], dec[~fits]
            if idx.size:
                text = pc.cast(from_numpy(f[idx]), pa.string())  # the shortest repr
                _, places, has_e = _shape(text)
                again = has_e | (places > dec)
                if again.any():
                    sub = np.flatnonzero(again)
                    _check_decimal_text(text.take(from_numpy(sub)), dec[sub])
        return f, np.zeros(f.size, dtype=bool), None
    if pa.types.is_integer(t):
        f = _np(pc.fill_null(pc.cast(arr, pa.float64()), _ZERO_F)).astype(np.float64)
        if (f < 0).any() or (f > _MAX).any():
            raise NeedsExactLoad("amount out of range")
        return (
            f,
            f >= _TWO53,
            pc.cast(pc.fill_null(arr, number_scalar(0, np.int64).cast(t)), pa.string()),
        )
    if pa.types.is_decimal(t) or pa.types.is_large_string(t):
        arr = pc.cast(arr, pa.string())
    elif not pa.types.is_string(t):
        raise NeedsExactLoad(f"amount column of type {t}")
    text = arr
    if arr.null_count or bool(_np(pc.equal(arr, _EMPTY)).any()):
        blank = pc.or_kleene(pc.is_null(arr), pc.equal(arr, _EMPTY))
        text = pc.if_else(blank, string_scalar("0"), arr)  # an empty cell is 0, as exactly
    try:
        f = _np(pc.cast(text, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise NeedsExactLoad(str(exc)) from None
    blen, places, has_e = _shape(text)
    long = blen > SHORT_CELL
    doubt = (
        has_e
        | (places > pos_dec)
        | ~np.isfinite(f)
        | (f < 0)
        | (f > _MAX)
        | (long & (f >= _MAX / 10))
    )
    if doubt.any():
        idx = np.flatnonzero(doubt)
        _check_decimal_text(text.take(from_numpy(idx)), pos_dec[idx])
    return f, long, text


def _shape(text: pa.Array) -> tuple[AnyArray, AnyArray, BoolArray]:
    """(length, digits after the point, has an exponent) of each decimal string."""
    blen = _np(pc.binary_length(text))
    dot = _np(pc.find_substring(text, "."))
    # Two plain searches: a case-insensitive one goes through a regex, ten times slower.
    has_e = (_np(pc.find_substring(text, "e")) >= 0) | (_np(pc.find_substring(text, "E")) >= 0)
    places = np.where(dot >= 0, blen - dot - 1, 0)
    return blen, places, has_e


def _check_decimal_text(text: pa.Array, dec: Int64Array1D) -> None:
    """The exact rules on a few cells; :class:`NeedsExactLoad` at the first that breaks one."""
    for cell, d in zip(text.to_pylist(), dec.tolist(), strict=True):
        if not _exactly_ok(str(cell), int(d)):
            raise NeedsExactLoad("an amount breaks a rule of contract 1.1")


def _string_column(table: pa.Table, name: str, ids: bool = False) -> pa.Array:
    arr = table.column(name).combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_large_string(arr.type) or (ids and pa.types.is_integer(arr.type)):
        arr = pc.cast(arr, pa.string())
    if not pa.types.is_string(arr.type):
        raise NeedsExactLoad(f"column {name} is not text")
    return arr


def _group_accounts(
    acc: pa.Array,
) -> tuple[pa.Array, Int64Array1D, Int64Array1D | None]:
    """(account ids in first-appearance order, row of each position, or the order that
    groups the positions by account when the file does not list them together)."""
    n = len(acc)
    if n == 0:
        return acc, np.zeros(0, dtype=np.int64), None
    if n > 1:
        new = np.concatenate([[True], _np(pc.not_equal(acc.slice(1), acc.slice(0, n - 1)))])
    else:
        new = np.ones(1, dtype=bool)
    heads = np.flatnonzero(new)
    ids = acc.take(from_numpy(heads))
    m = len(ids)
    if m <= 1 or bool(_np(pc.less(ids.slice(0, m - 1), ids.slice(1))).all()):
        # Each account's rows are together and the accounts ascend: ids are distinct.
        return ids, np.cumsum(new) - 1, None
    enc = pc.dictionary_encode(acc)
    idx = _np(enc.indices).astype(np.int64)
    if len(enc.dictionary) == m:
        return ids, np.cumsum(new) - 1, None  # together, in another order
    order = np.argsort(idx, kind="stable")
    return enc.dictionary, idx[order], order


def _index_in(arr: pa.Array, names: Sequence[str]) -> tuple[Int64Array1D, BoolArray]:
    """(index of each cell in ``names``, -1 where absent; mask of null or empty cells)."""
    idx = pc.index_in(arr, value_set=strings(names))
    out = _np(pc.fill_null(idx, number_scalar(-1, np.int32))).astype(np.int64)
    empty = _np(
        pc.fill_null(
            pc.or_kleene(pc.is_null(arr), pc.equal(arr, _EMPTY)), number_scalar(True, np.bool_)
        )
    )
    return out, empty


def read_position_columns(
    path: Path,
    assets: Mapping[str, AssetParams],
    categories: Sequence[str],
    inline_ids: Sequence[str],
) -> PositionColumns:
    """Read ``path`` (CSV or Parquet, contract 1.4) into grouped columns.

    Raises :class:`NeedsExactLoad` for anything the exact loader would refuse or report.
    """
    try:
        table = read_positions_table(path, strings=True)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise NeedsExactLoad(str(exc)) from None
    acc = _string_column(table, "account", ids=True)
    if acc.null_count or bool(_np(pc.equal(acc, _EMPTY)).any()):
        raise NeedsExactLoad("empty account id")
    ids, pos_row, order = _group_accounts(acc)
    if not names_valid(ids):
        raise NeedsExactLoad("an account id breaks the name rule")
    if inline_ids and bool(_np(pc.is_in(ids, value_set=strings(inline_ids))).any()):
        raise NeedsExactLoad("an account is written inline too")
    names = list(assets)
    pos_asset, _asset_empty = _index_in(_string_column(table, "asset"), names)
    if (pos_asset < 0).any():
        raise NeedsExactLoad("unknown asset")
    n_cat = len(categories)
    if "category" in table.column_names:
        cat_idx, cat_empty = _index_in(_string_column(table, "category"), categories)
        if ((cat_idx < 0) & ~cat_empty).any():
            raise NeedsExactLoad("unknown category")
        pos_cat = np.where(cat_idx < 0, n_cat, cat_idx)
    else:
        pos_cat = np.full(len(acc), n_cat, dtype=np.int64)
    dec = np.array([assets[s].decimals for s in names], dtype=np.int64)
    pos_dec = dec[pos_asset]
    # The two columns in two threads: Arrow's kernels and NumPy's release the GIL.
    with ThreadPoolExecutor(2) as pool:
        s_job = pool.submit(_amounts, table.column("supply"), pos_dec)
        b_job = pool.submit(_amounts, table.column("borrow"), pos_dec)
        supply, s_long, s_text = s_job.result()
        borrow, b_long, b_text = b_job.result()
    long = s_long | b_long
    if order is not None:
        pos_asset, pos_cat = pos_asset[order], pos_cat[order]
        supply, borrow, long = supply[order], borrow[order], long[order]
        perm = from_numpy(order)
        s_text = s_text.take(perm) if s_text is not None else None
        b_text = b_text.take(perm) if b_text is not None else None
    n = len(ids)
    counts = np.bincount(pos_row, minlength=n)
    starts = np.cumsum(counts) - counts
    _check_rows(pos_row, pos_asset, pos_cat, starts, counts, len(names))
    _check_isolation(pos_row, pos_asset, supply, borrow, starts, counts, assets, names)
    cat = np.full(n, n_cat, dtype=np.uint16)
    if n:
        cat[:] = pos_cat[starts]
    exact_pos = np.flatnonzero(long)
    take = from_numpy(exact_pos)
    # A float column's exact value is its repr: null text means "use the float".
    exact_supply = s_text.take(take) if s_text is not None else pa.nulls(len(take), pa.string())
    exact_borrow = b_text.take(take) if b_text is not None else pa.nulls(len(take), pa.string())
    return PositionColumns(
        ids=ids,
        cat=cat,
        pos_row=pos_row,
        pos_asset=pos_asset,
        supply=supply,
        borrow=borrow,
        exact_pos=exact_pos,
        exact_supply=exact_supply,
        exact_borrow=exact_borrow,
    )


def _popcount(x: AnyArray) -> Int64Array1D:
    count = getattr(np, "bitwise_count", None)
    if count is not None:
        out: Int64Array1D = count(x).astype(np.int64)
        return out
    n = np.zeros(x.size, dtype=np.int64)
    for b in range(64):
        n += ((x >> np.uint64(b)) & np.uint64(1)).astype(np.int64)
    return n


def _check_rows(
    pos_row: Int64Array1D,
    pos_asset: Int64Array1D,
    pos_cat: Int64Array1D,
    starts: Int64Array1D,
    counts: Int64Array1D,
    n_assets: int,
) -> None:
    """No (account, asset) twice; one category per account (contract 1.4, the exact
    loader's rules)."""
    if pos_row.size == 0:
        return
    nonempty = counts > 0
    first = starts[nonempty]
    if n_assets <= 63:
        bits = np.left_shift(np.uint64(1), pos_asset.astype(np.uint64))
        held = np.bitwise_or.reduceat(bits, first)
        if (_popcount(held) != counts[nonempty]).any():
            raise NeedsExactLoad("an account lists an asset twice")
    else:
        key = pos_row * n_assets + pos_asset
        key.sort()
        if (np.diff(key) == 0).any():
            raise NeedsExactLoad("an account lists an asset twice")
    lo = np.minimum.reduceat(pos_cat, first)
    hi = np.maximum.reduceat(pos_cat, first)
    if (lo != hi).any():
        raise NeedsExactLoad("an account has two categories")


def _check_isolation(
    pos_row: Int64Array1D,
    pos_asset: Int64Array1D,
    supply: Float64Array1D,
    borrow: Float64Array1D,
    starts: Int64Array1D,
    counts: Int64Array1D,
    assets: Mapping[str, AssetParams],
    names: Sequence[str],
) -> None:
    """Contract 1.3 at load, as the exact loader checks it (first isolated supply wins)."""
    iso = np.array([assets[s].is_isolated for s in names], dtype=bool)
    if not iso.any():
        return
    iso_supply = (supply > 0) & iso[pos_asset]
    if not iso_supply.any():
        return
    n = counts.size
    lt_pos = np.array([assets[s].liquidation_threshold > 0 for s in names], dtype=bool)
    in_iso = np.array([assets[s].borrowable_in_isolation for s in names], dtype=bool)
    # The first isolated asset each account supplies, in file order.
    big = np.iinfo(np.int64).max
    pos_idx = np.arange(pos_row.size, dtype=np.int64)
    first_iso_pos = np.full(n, big, dtype=np.int64)
    np.minimum.at(first_iso_pos, pos_row[iso_supply], pos_idx[iso_supply])
    has_iso = first_iso_pos < big
    first_asset = np.full(n, -1, dtype=np.int64)
    first_asset[has_iso] = pos_asset[first_iso_pos[has_iso]]
    mine = has_iso[pos_row]
    other = mine & (supply > 0) & lt_pos[pos_asset] & (pos_asset != first_asset[pos_row])
    bad_borrow = mine & (borrow > 0) & ~in_iso[pos_asset]
    if other.any() or bad_borrow.any():
        raise NeedsExactLoad("an isolated supplier breaks contract 1.3")
