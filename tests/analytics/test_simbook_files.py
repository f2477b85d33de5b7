"""``load_simbook`` on a market whose accounts live in files (contract 1.4, 5.8, 6.5):
the simulation book carries the positions of a ``perps_file`` and an ``options_file``,
as loaded from the same market written inline (the columnar reader, which holds
balances only, hands such a market to the exact loader)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.option_builders import option_doc
from xmargin.analytics.simbook import SimBook, load_simbook
from xmargin.io.market_file import load_market

PERP = {"underlying": "ETH", "settlement_asset": "USDC", "initial_margin": "0.1",
        "maintenance_margin": "0.05"}  # fmt: skip


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "positions.csv").write_text(
        "account,asset,supply,borrow\nf1,USDC,5000,0\nf2,USDC,900,0\nf2,ETH,0,0.3\nf3,ETH,2,0\n"
    )
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    market = {"accounts_file": "positions.csv"}
    market.update({k: v for k, v in (("perps_file", "perps.csv"), ("options_file",
                  "options.csv")) if v in files})  # fmt: skip
    doc = option_doc(
        {"C": ("call", 1600), "P": ("put", 1400)},
        {},
        volatility="0.6",
        perps={"ETH-PERP": PERP},
        market=market,
    )
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc, default=str))
    return path


def _assert_same(book: SimBook, want: SimBook) -> None:
    assert book.account_ids == want.account_ids
    np.testing.assert_array_equal(book.indptr, want.indptr)
    np.testing.assert_array_equal(book.s, want.s)
    np.testing.assert_array_equal(book.b, want.b)
    prices = book.price[None, :] * np.array([[1.0], [0.6], [1.4]])
    np.testing.assert_array_equal(book.health_factors(prices[1]), want.health_factors(prices[1]))


@pytest.mark.parametrize(
    "files",
    [
        {"options.csv": "account,option,size\nf2,C,-1.5\nn1,P,2\nf1,C,-4\nf3,C,-1\n"},
        {"perps.csv": "account,perp,size,entry_price\nf1,ETH-PERP,-2,1500\np1,ETH-PERP,1,1500\n"},
        {
            "options.csv": "account,option,size\nf2,C,-1.5\np1,P,-1\n",
            "perps.csv": "account,perp,size,entry_price\np1,ETH-PERP,1,1500\n",
        },
    ],
    ids=["options_file", "perps_file", "both"],
)
def test_positions_in_files_are_carried(tmp_path: Path, files: dict[str, str]) -> None:
    path = _write(tmp_path, files)
    book, market = load_simbook(path)
    want = SimBook.from_market(load_market(path))
    _assert_same(book, want)
    if "options.csv" in files:
        assert book.options is not None and want.options is not None
        np.testing.assert_array_equal(book.options.held, want.options.held)
        np.testing.assert_array_equal(book.options.legs, want.options.legs)
        assert any(acc.options for acc in market.accounts.values())
    if "perps.csv" in files:
        assert book.perps is not None and book.perp_accounts == want.perp_accounts > 0


def test_balances_alone_are_read_in_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, {})
    book, market = load_simbook(path)
    assert not market.accounts  # the columnar reader: the market holds the parameters
    assert book.options is None and book.perps is None
    _assert_same(book, SimBook.from_market(load_market(path)))
