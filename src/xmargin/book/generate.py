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

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import tomli_w
from numpy.typing import NDArray

from xmargin.book.generate_assets import CATEGORY_WEIGHTS, Asset, assets_for, category_table
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
MAX_POSITIONS = 6
SIG_DIGITS = 9

_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]
_BOOL = NDArray[np.bool_]


# -- drawing ------------------------------------------------------------------------------


def _top_k(
    rng: np.random.Generator, weights: _F64, k: _I64, exclude: _BOOL | None = None
) -> tuple[_I64, _BOOL]:
    """Per row, up to ``k`` distinct assets drawn without replacement by ``weights``.

    Gumbel top-k: the largest of log(w) + Gumbel noise are a weighted sample without
    replacement. Returns (asset index per slot, slot used), each of shape (rows, 6).
    """
    rows, n_assets = weights.shape
    with np.errstate(divide="ignore"):
        keys = np.log(weights) + rng.gumbel(size=(rows, n_assets))
    if exclude is not None:
        keys[exclude] = -np.inf
    slots = min(MAX_POSITIONS, n_assets)
    if n_assets > slots:
        part = np.argpartition(-keys, slots - 1, axis=1)[:, :slots]
    else:
        part = np.broadcast_to(np.arange(n_assets), (rows, n_assets)).copy()
    part_keys = np.take_along_axis(keys, part, axis=1)
    order = np.argsort(-part_keys, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    finite = np.isfinite(np.take_along_axis(part_keys, order, axis=1))
    used = (np.arange(slots)[None, :] < k[:, None]) & finite
    if slots < MAX_POSITIONS:
        pad = MAX_POSITIONS - slots
        idx = np.pad(idx, ((0, 0), (0, pad)))
        used = np.pad(used, ((0, 0), (0, pad)))
    return idx, used


def _split(rng: np.random.Generator, used: _BOOL) -> _F64:
    """Random shares over the used slots of each row (Dirichlet-like, no share near 0)."""
    g = (rng.gamma(0.8, size=used.shape) + 0.05) * used
    total = g.sum(axis=1, keepdims=True)
    out: _F64 = np.divide(g, total, out=np.zeros_like(g), where=total > 0)
    return out


def _health_targets(rng: np.random.Generator, n: int) -> _F64:
    """Target health factors: a tail under and near 1, most accounts comfortably above."""
    u = rng.random(n)
    deep = rng.uniform(0.35, 0.8, n)
    liq = rng.uniform(0.8, 1.0, n)
    at_risk = rng.uniform(1.0, 1.1, n)
    healthy = 1.1 + rng.gamma(1.3, 0.9, n)
    out: _F64 = np.where(
        u < 0.005, deep, np.where(u < 0.04, liq, np.where(u < 0.12, at_risk, healthy))
    )
    return out


@dataclass
class _Drawn:
    """Slots (accounts x 6): asset index, supply and borrow in units, used."""

    asset: _I64
    supply: _F64
    borrow: _F64
    used: _BOOL
    category: _BOOL  # per account


#: How many positions an account draws (1 to 6): mean 2.52.
_PER_ACCOUNT = np.array([0.28, 0.30, 0.19, 0.12, 0.07, 0.04])


def _per_account(mean: float | None) -> _F64:
    """:data:`_PER_ACCOUNT` tilted (p_k x θ^k, θ by bisection) to ``mean``, if given."""
    if mean is None:
        return _PER_ACCOUNT
    k = np.arange(1, 7)
    lo, hi = 1e-3, 1e3
    for _ in range(200):
        th = math.sqrt(lo * hi)
        p = _PER_ACCOUNT * th**k
        lo, hi = (th, hi) if (p * k).sum() / p.sum() < mean else (lo, th)
    return np.asarray(p / p.sum())


def _draw_accounts(
    n_accounts: int, assets: list[Asset], has_category: bool, rng: np.random.Generator,
    per_account: _F64 = _PER_ACCOUNT,
) -> _Drawn:  # fmt: skip
    n_assets = len(assets)
    price = np.array([float(a.price) for a in assets])
    lt = np.array([float(a.lt) for a in assets])
    iso = np.array([a.debt_ceiling is not None for a in assets])
    in_iso = np.array([a.in_isolation for a in assets])
    eth = np.array([a.eth for a in assets]) & has_category
    c_pop = np.array([a.collateral_pop for a in assets])
    d_pop = np.array([a.debt_pop for a in assets])
    cat_lt = float(CATEGORY_WEIGHTS[1])  # the category's lt (sizing the debt only)

    # Account kinds: isolated supplier, category member, or plain.
    can_iso = bool(iso.any() and in_iso.any())
    u = rng.random(n_accounts)
    kind_iso = (u < 0.02) & can_iso
    kind_cat = (~kind_iso) & (u < 0.14) & has_category
    n_members = int(eth.sum())

    # Positions per account and how many of them are debts.
    n_total = rng.choice(np.arange(1, 7), size=n_accounts, p=per_account).astype(np.int64)
    borrows = (n_total >= 2) & (rng.random(n_accounts) < 0.85)
    n_debt = np.where(borrows, 1 + rng.binomial(np.maximum(n_total - 2, 0), 0.35), 0)
    n_coll = n_total - n_debt
    # Isolated suppliers hold exactly one (isolated) collateral; category borrowers keep
    # at least one member free to borrow (wstETH against WETH, say).
    n_debt = np.where(kind_iso, np.maximum(n_total - 1, 1), n_debt)
    n_coll = np.where(kind_iso, 1, n_coll)
    cat_coll = np.where(n_debt > 0, np.minimum(n_coll, n_members - 1), n_coll)
    n_debt = np.where(kind_cat, np.minimum(n_debt, n_members - cat_coll), n_debt)
    n_coll = np.where(kind_cat, cat_coll, n_coll)

    # Pools by kind: collateral and debt weights per asset.
    w_coll = np.where(iso, 0.0, c_pop)
    w_debt = np.where([a.borrowable for a in assets], d_pop, 0.0)
    # In the category: staked ETH as collateral, WETH as debt, mostly.
    weth = np.array([a.symbol == "WETH" for a in assets])
    w_coll_cat = np.where(eth, np.where(weth, 1.0, 6.0), 0.0)
    w_debt_cat = np.where(eth, np.where(weth, 10.0, 0.3), 0.0)
    w_coll_iso = np.where(iso, c_pop, 0.0)
    w_debt_iso = np.where(in_iso, d_pop, 0.0)  # borrowable_in_isolation assets only

    kind = np.where(kind_iso, 2, np.where(kind_cat, 1, 0))
    wc = np.stack([w_coll, w_coll_cat, w_coll_iso])[kind]
    wd = np.stack([w_debt, w_debt_cat, w_debt_iso])[kind]

    asset = np.zeros((n_accounts, MAX_POSITIONS), np.int64)
    supply = np.zeros((n_accounts, MAX_POSITIONS))
    borrow = np.zeros((n_accounts, MAX_POSITIONS))
    used = np.zeros((n_accounts, MAX_POSITIONS), bool)
    chunk = max(1_024, 4_000_000 // max(n_assets, 1))
    for lo in range(0, n_accounts, chunk):
        hi = min(lo + chunk, n_accounts)
        sl = slice(lo, hi)
        rows = hi - lo
        c_idx, c_used = _top_k(rng, wc[sl], n_coll[sl])
        taken = np.zeros((rows, n_assets), bool)
        rr, cc = np.nonzero(c_used)
        taken[rr, c_idx[rr, cc]] = True
        d_idx, d_used = _top_k(rng, wd[sl], n_debt[sl], exclude=taken)
        # Collateral: a log-normal value in quote, split over the collateral slots.
        value = np.clip(rng.lognormal(math.log(4_000.0), 1.9, rows), 50.0, 2e8)
        s_units = _quantize(value[:, None] * _split(rng, c_used) / price[c_idx], assets, c_idx)
        lt_eff = np.where(kind_cat[sl, None] & eth[c_idx], cat_lt, lt[c_idx])
        mc = (s_units * price[c_idx] * lt_eff).sum(axis=1)
        # Debt: sized to a drawn health factor, split over the debt slots.
        debt_value = mc / _health_targets(rng, rows)
        b_units = _quantize(debt_value[:, None] * _split(rng, d_used) / price[d_idx], assets, d_idx)
        d_used &= b_units > 0
        # Pack: collateral slots first, then debt slots.
        nc = c_used.sum(axis=1)
        for j in range(MAX_POSITIONS):
            src = j - nc  # debt slot feeding output slot j
            take_c = c_used[:, j]
            take_d = ~take_c & (src >= 0)
            src_c = np.clip(src, 0, MAX_POSITIONS - 1)
            d_ok = take_d & np.take_along_axis(d_used, src_c[:, None], 1)[:, 0]
            asset[sl, j] = np.where(
                take_c, c_idx[:, j], np.take_along_axis(d_idx, src_c[:, None], 1)[:, 0]
            )
            supply[sl, j] = np.where(take_c, s_units[:, j], 0.0)
            borrow[sl, j] = np.where(
                d_ok, np.take_along_axis(b_units, src_c[:, None], 1)[:, 0], 0.0
            )
            used[sl, j] = take_c | d_ok
    return _Drawn(asset, supply, borrow, used, kind_cat)


def _quantize(x: _F64, assets: list[Asset], idx: _I64) -> _F64:
    """``x`` (units) held to 9 significant digits and to each asset's decimal places.

    The result is m / 10^k (or m * 10^-k) for an integer m of at most 9 digits: a float64
    whose shortest repr is exactly that decimal.
    """
    dec = np.array([a.decimals for a in assets], np.int64)[idx]
    k = _places(x, dec)
    pos = k >= 0
    scale = 10.0 ** np.abs(k)
    m = np.rint(np.where(pos, x * scale, x / scale))
    out: _F64 = np.where(pos, m / scale, m * scale)
    return np.where(x > 0, out, 0.0)


def _places(x: _F64, dec: _I64) -> _I64:
    """Decimal places that keep 9 significant digits of ``x``, at most ``dec``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        e10 = np.floor(np.log10(np.where(x > 0, x, 1.0))).astype(np.int64)
    out: _I64 = np.minimum(dec, SIG_DIGITS - 1 - e10)
    return out


# -- writing ------------------------------------------------------------------------------


def _decimal_strings(x: _F64, dec: _I64) -> pa.Array:
    """Exact decimal text of quantized values (``_quantize``'s output), vectorized."""
    k = np.maximum(_places(x, dec), 0)
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


def _positions_table(drawn: _Drawn, assets: list[Asset], fmt_: BookFormat) -> pa.Table:
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
    assets: list[Asset], drawn: _Drawn, has_category: bool, accounts_file: str
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
    drawn = _draw_accounts(n_accounts, assets, has_category, account_rng, _per_account(ppa))

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
