"""Rule: the book loads a market file and its ``accounts_file`` (contract 1.4) in bulk,
to exactly the balances the exact loader reads, and refuses what the exact loader
refuses, with the same located problems."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.book.conftest import WriteBook
from xmargin.book import RiskBook
from xmargin.errors import MarketFileError
from xmargin.io.market_file import load_market


def same_accounts(book: RiskBook, market_file: Path) -> None:
    market = load_market(market_file)
    assert book.account_ids() == list(market.accounts)
    exact = book.market()
    for acc_id, acc in market.accounts.items():
        assert exact.accounts[acc_id] == acc, acc_id


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_generated_book_loads_to_the_exact_loaders_balances(
    generated_book: dict[str, Path], fmt: str
) -> None:
    book = RiskBook.load(generated_book[fmt])
    assert book.n_accounts == 3_000
    same_accounts(book, generated_book[fmt])


def test_a_market_without_an_accounts_file_loads_through_the_exact_loader(
    vectors_dir: Path,
) -> None:
    book = RiskBook.load(vectors_dir / "emode.toml")
    same_accounts(book, vectors_dir / "emode.toml")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_cells_with_more_digits_than_a_float_holds_keep_their_exact_value(
    write_book: WriteBook, fmt: str
) -> None:
    # 1.000000000000000000001 WETH is 1.0 as a float64: the exact value must survive.
    rows = [
        ["long", "WETH", "1.000000000000000001", "0", ""],
        ["long", "USDC", "0", "1234567890.123456", ""],
        ["short", "WETH", "7.3", "0", "eth"],
    ]
    market = write_book(rows, fmt)
    book = RiskBook.load(market)
    acc = book.exact_account("long")
    assert acc.supply == {"WETH": Decimal("1.000000000000000001")}
    assert acc.borrow == {"USDC": Decimal("1234567890.123456")}
    assert book.exact_account("short").category == "eth"
    same_accounts(book, market)


def test_rows_of_one_account_need_not_be_together(write_book: WriteBook) -> None:
    rows = [
        ["b", "WETH", "1", "0", ""],
        ["a", "USDC", "100", "0", ""],
        ["b", "USDC", "0", "900", ""],
        ["a", "WETH", "0", "0.01", ""],
    ]
    market = write_book(rows)
    book = RiskBook.load(market)
    assert book.account_ids() == ["b", "a"]
    same_accounts(book, market)


def test_inline_accounts_come_first_and_join_the_file_accounts(write_book: WriteBook) -> None:
    extra = '\n[accounts.inline]\nsupply = { WETH = "2" }\nborrow = { USDC = "1000" }\n'
    market = write_book([["x", "WETH", "1", "0", ""]], extra=extra)
    book = RiskBook.load(market)
    assert book.account_ids() == ["inline", "x"]
    same_accounts(book, market)


def test_an_empty_positions_file_gives_an_empty_book(write_book: WriteBook) -> None:
    book = RiskBook.load(write_book([]))
    assert book.n_accounts == 0
    assert book.liquidation_queue() == []
    assert book.summary().accounts == 0


def test_a_parquet_file_of_float_columns_reads_each_cell_as_its_shortest_repr(
    tmp_path: Path, write_book: WriteBook
) -> None:
    market = write_book([["a", "WETH", "1", "0", ""]], fmt="parquet")
    table = pa.table(
        {
            "account": ["a", "a"],
            "asset": ["WETH", "USDC"],
            "supply": pa.array([0.1, 0.0], pa.float64()),
            "borrow": pa.array([0.0, 55.25], pa.float64()),
        }
    )
    pq.write_table(table, tmp_path / "positions.parquet")
    book = RiskBook.load(market)
    assert book.exact_account("a").supply == {"WETH": Decimal("0.1")}
    same_accounts(book, market)


BAD_ROWS = {
    "an unknown asset": [["a", "DOGE", "1", "0", ""]],
    "an unknown category": [["a", "WETH", "1", "0", "btc"]],
    "a negative amount": [["a", "WETH", "-1", "0", ""]],
    "a word for a number": [["a", "WETH", "lots", "0", ""]],
    "a non-finite number": [["a", "WETH", "inf", "0", ""]],
    "too many decimal places": [["a", "USDC", "1.0000001", "0", ""]],
    "too many places hidden beyond float precision": [
        ["a", "WETH", "1.0000000000000000001", "0", ""]
    ],
    "a number in exponent form with too many places": [["a", "USDC", "1e-7", "0", ""]],
    "a magnitude above 1e24": [["a", "WETH", "1000000000000000000000000.5", "0", ""]],
    "an empty account id": [["", "WETH", "1", "0", ""]],
    "one asset twice": [["a", "WETH", "1", "0", ""], ["a", "WETH", "2", "0", ""]],
    "two categories for one account": [["a", "WETH", "1", "0", "eth"], ["a", "USDC", "1", "0", ""]],
    "an isolated supplier with other collateral": [
        ["a", "STG", "10", "0", ""],
        ["a", "WETH", "1", "0", ""],
    ],
    "an isolated supplier borrowing what isolation forbids": [
        ["a", "STG", "10", "0", ""],
        ["a", "USDC", "0", "1", ""],
    ],
}


@pytest.mark.parametrize("why", sorted(BAD_ROWS))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_bad_positions_file_is_refused_with_the_exact_loaders_problems(
    write_book: WriteBook, why: str, fmt: str
) -> None:
    market = write_book(BAD_ROWS[why], fmt)
    with pytest.raises(MarketFileError) as exact:
        load_market(market)
    with pytest.raises(MarketFileError) as book:
        RiskBook.load(market)
    assert book.value.problems == exact.value.problems


def test_an_account_both_inline_and_in_the_file_is_refused(write_book: WriteBook) -> None:
    extra = '\n[accounts.a]\nsupply = { WETH = "2" }\n'
    market = write_book([["a", "WETH", "1", "0", ""]], extra=extra)
    with pytest.raises(MarketFileError, match="also written inline"):
        RiskBook.load(market)


def test_a_missing_positions_file_is_refused_with_its_location(tmp_path: Path) -> None:
    from tests.book.conftest import MARKET_HEAD

    market = tmp_path / "market.toml"
    market.write_text(MARKET_HEAD.format(file="nowhere.csv"), encoding="utf-8")
    with pytest.raises(MarketFileError) as err:
        RiskBook.load(market)
    assert str(err.value.problems[0]).startswith("market.accounts_file (nowhere.csv)")


def test_a_bad_market_table_is_refused_with_every_problem(write_book: WriteBook) -> None:
    market = write_book([["a", "DOGE", "1", "0", ""]])
    text = market.read_text().replace("liquidation_threshold = 0.83", "liquidation_threshold = 2")
    market.write_text(text)
    with pytest.raises(MarketFileError) as book:
        RiskBook.load(market)
    with pytest.raises(MarketFileError) as exact:
        load_market(market)
    assert book.value.problems == exact.value.problems
    assert len(book.value.problems) == 2  # the asset table and the positions file


def test_item14_digit_grouping_is_refused_by_the_book_and_the_exact_loader_alike(
    write_book: WriteBook,
) -> None:
    # Decimal reads "1_000" (Python's digit grouping) and the exact loader used to accept
    # it; the contract's decimal syntax has no separators (issue 9, item 14). Arrow cannot
    # read it either, so the book falls back to the exact loader, which names the cell.
    market = write_book([["a", "USDC", "1_000", "0", ""]])
    with pytest.raises(MarketFileError) as book:
        RiskBook.load(market)
    with pytest.raises(MarketFileError) as exact:
        load_market(market)
    assert book.value.problems == exact.value.problems
    (problem,) = exact.value.problems
    assert problem.location.endswith(":row 2.supply")
    assert "decimal notation" in problem.message and "'1_000'" in problem.message
