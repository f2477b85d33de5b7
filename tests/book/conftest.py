"""Fixtures of the risk-book tests: generated books (written once per session) and a
writer of small positions files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from xmargin.book.generate import generate_book

MARKET_HEAD = """\
[market]
quote = "USD"
accounts_file = "{file}"

[assets.WETH]
price = "1816.85499606"
collateral_factor = 0.805
liquidation_threshold = 0.83
liquidation_bonus = 0.05

[assets.USDC]
price = "0.99997427"
decimals = 6
collateral_factor = 0.77
liquidation_threshold = 0.80
liquidation_bonus = 0.045

[assets.STG]
price = "0.46219404"
collateral_factor = 0.35
liquidation_threshold = 0.40
liquidation_bonus = 0.10
debt_ceiling = 3000000

[categories.eth]
collateral_factor = 0.90
liquidation_threshold = 0.93
liquidation_bonus = 0.01
assets = ["WETH"]
"""

Rows = Sequence[Sequence[str]]
WriteBook = Callable[..., Path]


@pytest.fixture(name="write_book")
def write_book_fixture(tmp_path: Path) -> WriteBook:
    """``write_book(rows, fmt="csv", extra="", columns=...)``: a market file whose
    accounts_file holds ``rows`` (cells as text); returns the market file's path."""

    def write(
        rows: Rows,
        fmt: str = "csv",
        extra: str = "",
        columns: Sequence[str] = ("account", "asset", "supply", "borrow", "category"),
    ) -> Path:
        name = f"positions.{fmt}"
        market = tmp_path / "market.toml"
        market.write_text(MARKET_HEAD.format(file=name) + extra, encoding="utf-8")
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        table = pa.table(
            {c: pa.array(list(v), pa.string()) for c, v in zip(columns, cols, strict=True)}
        )
        if fmt == "csv":
            pacsv.write_csv(table, tmp_path / name)
        else:
            pq.write_table(table, tmp_path / name)
        return market

    return write


@pytest.fixture(name="generated_book", scope="session")
def generated_book_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 3,000-account generated book (12 assets) as Parquet and as CSV."""
    out: dict[str, Path] = {}
    for fmt in ("parquet", "csv"):
        market, _ = generate_book(3_000, 12, 5, tmp_path_factory.mktemp(f"gen-{fmt}"), fmt=fmt)
        out[fmt] = market
    return out
