"""Perps for a synthetic book (``generate-book --perp-share``): markets and positions.

The generated market gains ``ETH-PERP`` on WETH and, with WBTC listed, ``BTC-PERP``, both
settled in USDC (Drift-like margins: 10 % initial, 5 % maintenance, a 1 % liquidation fee
and a 0.5 % insurance fee). A share of the accounts, drawn at random, holds one or two
positions: long or short with even odds, a notional of a log-normal amount of quote
(median 2,000), an entry price within a few percent of the oracle's and a funding index
a little apart from today's F. Positions are written in long form (contract 5.8) to
``perps.csv`` as exact decimal strings, whatever the positions file's format.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xmargin._typing import Float64Array1D
from xmargin.book.generate_assets import Asset
from xmargin.book.generate_assets import num as _num
from xmargin.errors import InputError

__all__ = ["PERPS_FILE", "check_perp_share", "perps_doc", "write_perps"]

PERPS_FILE = "perps.csv"
#: perp -> underlying, in the order the perps are listed
_PERPS = {"ETH-PERP": "WETH", "BTC-PERP": "WBTC"}
_SIG_DIGITS = 6


def check_perp_share(share: float, assets: int) -> float:
    """``share`` in [0, 1]; perps need WETH and USDC, the first two assets listed."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise InputError(f"perp_share: must be a number in [0, 1], was {share!r}")
    if share and assets < 2:
        raise InputError(f"perp_share: perps need WETH and USDC (assets >= 2), was {assets}")
    return float(share)


def _listed(assets: list[Asset]) -> dict[str, Asset]:
    by_symbol = {a.symbol: a for a in assets}
    return {p: by_symbol[u] for p, u in _PERPS.items() if u in by_symbol}


def perps_doc(assets: list[Asset]) -> dict[str, Any]:
    """The ``[perps.*]`` tables of the generated market."""
    table = {
        "settlement_asset": "USDC",
        "initial_margin": _num(Decimal("0.1")),
        "maintenance_margin": _num(Decimal("0.05")),
        "liquidation_fee": _num(Decimal("0.01")),
        "insurance_fee": _num(Decimal("0.005")),
        "funding_index": _num(Decimal("12.5")),
    }
    return {p: {"underlying": a.symbol, **table} for p, a in _listed(assets).items()}


def _strings(x: Float64Array1D, places: int) -> pa.Array:
    """Exact decimal strings of ``x`` rounded to ``_SIG_DIGITS`` and at most ``places``."""
    mag = np.floor(np.log10(np.maximum(np.abs(x), 1e-300))).astype(np.int64)
    keep = np.clip(_SIG_DIGITS - 1 - mag, 0, places)
    rounded = np.round(x * 10.0**keep) / 10.0**keep
    out = [f"{v:.{k}f}" for v, k in zip(rounded.tolist(), keep.tolist(), strict=True)]
    return pa.array(out, pa.string())


def write_perps(
    path: Path, ids: pa.Array, assets: list[Asset], share: float, rng: np.random.Generator
) -> int:
    """Draw positions for ``share`` of the accounts ``ids``; write them to ``path`` (CSV).
    Returns the number of positions."""
    import pyarrow.csv as pacsv

    listed = list(_listed(assets).items())
    n = len(ids)
    holders = np.sort(rng.choice(n, size=round(share * n), replace=False))
    two = rng.random(holders.size) < 0.5 if len(listed) > 1 else np.zeros(holders.size, bool)
    first = rng.integers(0, len(listed), holders.size)
    account = np.concatenate([holders, holders[two]])
    perp = np.concatenate([first, 1 - first[two]])
    order = np.lexsort((perp, account))
    account, perp = account[order], perp[order]
    price = np.array([float(a.price) for _, a in listed])[perp]
    places = np.array([a.decimals for _, a in listed])[perp]
    notional = np.clip(rng.lognormal(np.log(2000.0), 1.0, account.size), 50.0, 5e6)
    side = np.where(rng.random(account.size) < 0.5, 1.0, -1.0)
    size = side * notional / price
    entry = price * (1.0 + rng.normal(0.0, 0.03, account.size))
    f = 12.5 - rng.normal(0.0, 0.001, account.size) * price
    sizes = [_strings(size[places == p], int(p)) for p in np.unique(places)]
    size_text = pa.chunked_array(sizes).combine_chunks() if len(sizes) > 1 else sizes[0]
    if len(sizes) > 1:  # put back in row order
        idx = np.concatenate([np.flatnonzero(places == p) for p in np.unique(places)])
        size_text = size_text.take(pa.array(np.argsort(idx)))
    table = pa.table({
        "account": pc.take(ids, pa.array(account)),
        "perp": pc.take(pa.array([p for p, _ in listed]), pa.array(perp)),
        "size": size_text,
        "entry_price": _strings(entry, 8),
        "funding_index": _strings(f, 8),
    })  # fmt: skip
    try:
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the perps file: {exc.strerror or exc}") from exc
    return int(account.size)
