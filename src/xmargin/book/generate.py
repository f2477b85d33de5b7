"""Synthetic books: a contract-v1 market file and a long-form positions file (contract 1.4).

``generate_book`` draws a whole book with NumPy (no per-account Python loop) and writes it
with pyarrow, so a million accounts take seconds. Same arguments, same bytes.

Shape of what it draws:

- Assets: the first K of a catalogue of twelve Aave v3 Ethereum listings (WETH, USDC,
  WBTC, wstETH, USDT, DAI, STG, LINK, AAVE, 1INCH, rETH, CRV); for K > 12, synthetic
  long-tail assets ``ASSET13``, ``ASSET14``, ... with lower weights and prices, every
  fourth of them isolated. Prices and parameters of WETH, USDC, WBTC, wstETH, STG and
  1INCH are Aave v3 Ethereum's of 2023-10-31; the others resemble their listings and
  their prices are illustrative.
- Accounts: 1 to 6 assets each (most hold 1 to 3); collateral worth a log-normal amount
  of quote (median 4,000, heavy right tail, clipped to [50, 2e8]); about 70% borrow,
  sized to a drawn health factor: 0.5% deep under water (0.35 to 0.8, mostly
  insolvent), 3.5% liquidatable (0.8 to 1), 8% at risk (1 to 1.1), the rest healthy
  with a long tail.
- About 12% of accounts use the ``eth-correlated`` category (collateral and debt among
  its members, such as wstETH against WETH) and 2% supply one isolated asset and borrow
  only stablecoins borrowable in isolation, so no account breaks contract 1.3.
- Caps and debt ceilings are the listed ones, raised to 1.25 times the book's totals
  where the book would exceed them, so the file starts inside every limit.

Amounts respect each asset's ``decimals``: each is held to at most 9 significant digits
and to the asset's decimal places. CSV cells are exact decimal strings; Parquet cells are
float64 whose shortest repr is that same decimal, which is how the exact loader
(:mod:`xmargin.io.positions`) reads them back.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import tomli_w
from numpy.typing import NDArray

from xmargin.book.generate_accounts import (
    MAX_POSITIONS,
    Drawn,
    draw_accounts,
    per_account_weights,
    places,
)
from xmargin.book.generate_assets import Asset, assets_for, category_table
from xmargin.book.generate_assets import num as _num
from xmargin.book.generate_perps import PERPS_FILE, check_perp_share, perps_doc, write_perps
from xmargin.errors import InputError

__all__ = ["MAX_ACCOUNTS", "MAX_ASSETS", "BookFormat", "generate_book"]

BookFormat = Literal["parquet", "csv"]

#: Largest book ``generate_book`` draws (memory stays under a few GiB).
MAX_ACCOUNTS = 20_000_000
#: Most assets a generated market lists.
MAX_ASSETS = 1_000

CATEGORY = "eth-correlated"

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]


# -- writing ------------------------------------------------------------------------------


def _decimal_strings(x: _F64, dec: _I64) -> pa.Array:
    """Exact decimal text of quantized values (the drawn amounts, already quantized), vectorized."""
    k = np.maximum(places(x, dec), 0)
    m = np.rint(x * 10.0**k).astype(np.int64)  # exact: at most 9 (or 15) digits
    p10 = (10**k).astype(np.int64)
    int_part = m // p10
    frac18 = (m % p10) * (10 ** (18 - k)).astype(np.int64)  # < 1e18, fits int64
    ip = pc.cast(pa.array(int_part), pa.string())
    fr = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(frac18), pa.string()), 18, "0"), "0")
    joined = pc.binary_join_element_wise(ip, fr, ".")
    return pc.if_else(pc.equal(fr, ""), ip, joined)


def _account_ids(n: int) -> pa.Array:
    width = max(7, len(str(n - 1)))
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar("acc"), digits, "")


def _positions_table(drawn: Drawn, assets: list[Asset], fmt_: BookFormat) -> pa.Table:
    flat = drawn.used.ravel()
    account_of = np.repeat(np.arange(drawn.used.shape[0], dtype=np.int64), MAX_POSITIONS)[flat]
    asset_of = drawn.asset.ravel()[flat]
    supply = drawn.supply.ravel()[flat]
    borrow = drawn.borrow.ravel()[flat]
    ids = _account_ids(drawn.used.shape[0])
    names = pa.array([a.symbol for a in assets], pa.string())
    cats = pa.array([None, CATEGORY], pa.string())
    columns: dict[str, Any] = {
        "account": pc.take(ids, pa.array(account_of)),
        "asset": pc.take(names, pa.array(asset_of)),
    }
    if fmt_ == "csv":
        dec = np.array([a.decimals for a in assets], np.int64)[asset_of]
        columns["supply"] = _decimal_strings(supply, dec)
        columns["borrow"] = _decimal_strings(borrow, dec)
    else:
        columns["supply"] = pa.array(supply, pa.float64())
        columns["borrow"] = pa.array(borrow, pa.float64())
    columns["category"] = pc.take(cats, pa.array(drawn.category[account_of].astype(np.int64)))
    return pa.table(columns)


def _market_doc(
    assets: list[Asset], drawn: Drawn, has_category: bool, accounts_file: str
) -> dict[str, Any]:
    n_assets = len(assets)
    flat = drawn.used.ravel()
    asset_of = drawn.asset.ravel()[flat]
    supply = drawn.supply.ravel()[flat]
    borrow = drawn.borrow.ravel()[flat]
    price = np.array([float(a.price) for a in assets])
    total_supply = np.bincount(asset_of, weights=supply, minlength=n_assets)
    total_borrow = np.bincount(asset_of, weights=borrow, minlength=n_assets)
    # Isolation debt per isolated asset: each isolated supplier's debt value, by asset.
    acc_rows = np.repeat(np.arange(drawn.used.shape[0]), MAX_POSITIONS)[flat]
    iso_flag = np.array([a.debt_ceiling is not None for a in assets])
    row_iso = iso_flag[asset_of] & (supply > 0)
    iso_asset_of_account = np.full(drawn.used.shape[0], -1, np.int64)
    iso_asset_of_account[acc_rows[row_iso]] = asset_of[row_iso]
    debt_rows = iso_asset_of_account[acc_rows] >= 0
    iso_debt = np.bincount(
        iso_asset_of_account[acc_rows][debt_rows],
        weights=(borrow * price[asset_of])[debt_rows],
        minlength=n_assets,
    )

    doc: dict[str, Any] = {
        "market": {
            "name": "generated",
            "quote": "USD",
            "close_factor": _num(Decimal("0.5")),
            "full_liquidation_health": _num(Decimal("0.95")),
            "small_position_value": 2000,
            "min_leftover_value": 1000,
            "bonus_policy": "fixed",
            "accounts_file": accounts_file,
        },
        "assets": {
            a.symbol: a.market_table(total_supply[i], total_borrow[i], iso_debt[i])
            for i, a in enumerate(assets)
        },
    }
    if has_category:
        doc["categories"] = {CATEGORY: category_table(assets)}
    return doc


_HEADER = """\
# Generated by xmargin.book.generate.generate_book({n}, {k}, seed={seed}): a synthetic
# book for tests and benchmarks (contract v1). Asset parameters resemble Aave v3
# Ethereum's listings; the {n} accounts are drawn at random and live in {file}.

"""


def _check_args(n_accounts: int, n_assets: int, fmt_: str) -> BookFormat:
    problems: list[str] = []
    if isinstance(n_accounts, bool) or not isinstance(n_accounts, int):
        problems.append(f"accounts: must be an integer, was {n_accounts!r}")
    elif not 1 <= n_accounts <= MAX_ACCOUNTS:
        problems.append(f"accounts: must be from 1 to {MAX_ACCOUNTS:,}, was {n_accounts}")
    if isinstance(n_assets, bool) or not isinstance(n_assets, int):
        problems.append(f"assets: must be an integer, was {n_assets!r}")
    elif not 1 <= n_assets <= MAX_ASSETS:
        problems.append(f"assets: must be from 1 to {MAX_ASSETS}, was {n_assets}")
    if fmt_ not in ("parquet", "csv"):
        problems.append(f"format: must be 'parquet' or 'csv', was {fmt_!r}")
    if problems:
        raise InputError("; ".join(problems))
    return "csv" if fmt_ == "csv" else "parquet"


def generate_book(
    n_accounts: int,
    n_assets: int,
    seed: int,
    out_dir: Path,
    fmt: str = "parquet",
    perp_share: float = 0.0,
    positions_per_account: float | None = None,
) -> tuple[Path, Path]:
    """Write ``market.toml`` and ``positions.parquet`` (or ``.csv``) into ``out_dir``.

    Parameters
    ----------
    n_accounts
        Accounts to draw, 1 to :data:`MAX_ACCOUNTS`.
    n_assets
        Assets the market lists, 1 to :data:`MAX_ASSETS` (see the module docstring).
    seed
        Seed of every draw: the same arguments write byte-identical files.
    out_dir
        Folder to write into; created if missing. Existing files of the same names are
        replaced.
    fmt
        ``"parquet"`` (float64 amount columns) or ``"csv"`` (exact decimal strings).
    perp_share
        Share of the accounts that hold one or two perp positions, written to
        ``perps.csv`` (:mod:`xmargin.book.generate_perps`); 0: a market without perps.
    positions_per_account
        Mean positions drawn per account, 1 to 5.5 (default: the catalogue's 2.52); a
        few drawn debts round to nothing, so books hold slightly fewer.

    Returns
    -------
    (market file, positions file)

    Raises
    ------
    InputError
        An argument out of range, or ``out_dir`` cannot be written.

    Examples
    --------
    >>> import tempfile, xmargin
    >>> with tempfile.TemporaryDirectory() as d:
    ...     market_file, _ = generate_book(50, 6, seed=1, out_dir=Path(d))
    ...     len(xmargin.load_market(market_file).accounts)
    50
    """
    fmt_ = _check_args(n_accounts, n_assets, fmt)
    share = check_perp_share(perp_share, n_assets)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed: must be a non-negative integer, was {seed!r}")
    market_rng = np.random.default_rng([seed, 1])
    account_rng = np.random.default_rng([seed, 2])
    assets = assets_for(n_assets, market_rng)
    has_category = sum(a.eth for a in assets) >= 2
    ppa = positions_per_account
    if ppa is not None and (isinstance(ppa, bool) or not 1.0 <= ppa <= 5.5):
        raise InputError(f"positions per account: must be from 1 to 5.5, was {ppa!r}")
    drawn = draw_accounts(n_accounts, assets, has_category, account_rng, per_account_weights(ppa))

    positions_name = f"positions.{fmt_}"
    table = _positions_table(drawn, assets, fmt_)
    doc = _market_doc(assets, drawn, has_category, positions_name)
    if share:
        doc["market"]["perps_file"] = PERPS_FILE
        doc["perps"] = perps_doc(assets)
    out = Path(out_dir)
    market_path = out / "market.toml"
    positions_path = out / positions_name
    try:
        out.mkdir(parents=True, exist_ok=True)
        if fmt_ == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, positions_path, pacsv.WriteOptions(quoting_style="none"))
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, positions_path, compression="zstd")
        if share:
            perp_rng = np.random.default_rng([seed, 3])
            write_perps(out / PERPS_FILE, _account_ids(n_accounts), assets, share, perp_rng)
        header = _HEADER.format(n=n_accounts, k=n_assets, seed=seed, file=positions_name)
        market_path.write_text(header + tomli_w.dumps(doc), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{out}: cannot write the book: {exc.strerror or exc}") from exc
    return market_path, positions_path
