"""Rule: ``xmargin watch`` replays a price file through the risk book and prints each risk
event (and each rejected price) as one JSON line; ``xmargin generate-book`` writes a
book; bad input exits 2 with one ``error:`` line and no traceback."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import xmargin
from tests.book.cli import xm
from xmargin.book import RiskBook, Status
from xmargin.book.generate import generate_book
from xmargin.io.market_file import load_market
from xmargin.risk.health import account_health

CRASH = Path(xmargin.__file__).parent / "data" / "eth_crash_2021-01-11.csv"


@pytest.fixture(name="book_file", scope="module")
def book_file_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    market, _ = generate_book(2_000, 12, 21, tmp_path_factory.mktemp("watch"))
    return market


def status_of(market: xmargin.Market, account: str) -> str:
    h = account_health(market.accounts[account], market)
    if h.liquidatable:
        return "liquidatable"
    if h.health_factor is not None and h.health_factor < Decimal("1.1"):
        return "at_risk"
    return "healthy"


def test_watch_replays_the_crash_and_ends_where_the_exact_engine_does(
    capsys: pytest.CaptureFixture[str], book_file: Path
) -> None:
    run = xm(capsys, "watch", book_file, "--prices", CRASH, "--rebase", "--no-progress")
    assert run.code == 0, run.err
    lines = run.lines()
    assert lines, "a 15% fall of WETH moves some of 2,000 accounts across a level"
    assert {line["type"] for line in lines} == {"event"}
    assert lines[0]["timestamp"].startswith("2021-01-11T")
    assert set(lines[0]) == {"type", "timestamp", "account", "from", "to", "health_factor",
                             "exact"}  # fmt: skip
    # each account's last event names its status at the last price, as the exact engine sees it
    last_price = CRASH.read_text().strip().splitlines()[-1].split(",")[2]
    final = load_market(book_file).with_prices({"WETH": Decimal(last_price)})
    last: dict[str, str] = {}
    for line in lines:
        last[line["account"]] = line["to"]
    for account, to in last.items():
        assert to == status_of(final, account), account
    assert "replayed 240 updates" in run.err


def test_watch_reports_a_rejected_price_and_goes_on(
    capsys: pytest.CaptureFixture[str], book_file: Path, tmp_path: Path
) -> None:
    prices = tmp_path / "p.csv"
    prices.write_text(
        "timestamp,asset,price\n"
        "2021-01-11T02:00:00Z,WETH,1800\n"
        "2021-01-11T02:01:00Z,WETH,-5\n"
        "2021-01-11T02:02:00Z,DOGE,1\n"
        "1610330580,WETH,1000\n"
    )
    run = xm(capsys, "watch", book_file, "--prices", prices, "--no-progress")
    assert run.code == 0, run.err
    rejected = [line for line in run.lines() if line["type"] == "rejected"]
    assert [(r["asset"], r["code"]) for r in rejected] == [
        ("WETH", "invalid_price"),
        ("DOGE", "unknown_asset"),
    ]
    assert any(line["type"] == "event" for line in run.lines())  # the fall to 1,000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,asset,price\n1,WETH,1\n", "missing column(s): timestamp"),
        ("timestamp,asset,price\nyesterday,WETH,1\n", "p.csv:row 2.timestamp: not a time"),
        ("timestamp,asset,price\n1,WETH,1\n1,WETH,2\n", "WETH priced twice"),
    ],
)
def test_watch_refuses_a_bad_price_file(
    capsys: pytest.CaptureFixture[str], book_file: Path, tmp_path: Path, text: str, message: str
) -> None:
    prices = tmp_path / "p.csv"
    prices.write_text(text)
    run = xm(capsys, "watch", book_file, "--prices", prices, "--no-progress")
    assert run.code == 2
    assert run.out == ""
    assert message in run.err
    assert len(run.err.splitlines()) == 1


def test_watch_refuses_a_missing_price_file(
    capsys: pytest.CaptureFixture[str], book_file: Path, tmp_path: Path
) -> None:
    run = xm(capsys, "watch", book_file, "--prices", tmp_path / "none.csv", "--no-progress")
    assert run.code == 2 and "no such file" in run.err


def test_watch_refuses_a_warning_level_below_one(
    capsys: pytest.CaptureFixture[str], book_file: Path
) -> None:
    run = xm(capsys, "watch", book_file, "--prices", CRASH, "--warning-level", "0.5")
    assert run.code == 2 and "--warning-level" in run.err


def test_generate_book_writes_a_loadable_book(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "gen"
    run = xm(capsys, "generate-book", "--accounts", "300", "--assets", "6", "--seed", "4",
             "--out", out, "--format", "csv", "--json")  # fmt: skip
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["market"] == str(out / "market.toml")
    assert doc["positions"] == str(out / "positions.csv")
    book = RiskBook.load(out / "market.toml")
    assert book.n_accounts == 300
    assert sum(book.counts().values()) == 300 and Status.HEALTHY in book.counts()


def test_generate_book_refuses_bad_arguments(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = xm(capsys, "generate-book", "--accounts", "0", "--out", tmp_path)
    assert run.code == 2 and run.err.startswith("error: accounts")


def test_generate_book_with_perps_writes_a_perps_file_the_book_and_the_exact_loader_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from xmargin.io.market_file import load_market
    from xmargin.risk.health import account_health
    from xmargin.risk.status import status_of

    out = tmp_path / "gen"
    run = xm(capsys, "generate-book", "--accounts", "400", "--assets", "6", "--seed", "4",
             "--out", out, "--perp-share", "0.3", "--json")  # fmt: skip
    assert run.code == 0, run.err
    doc = json.loads(run.out)
    assert doc["perps"] == str(out / "perps.csv") and doc["perp_share"] == 0.3
    market = load_market(out / "market.toml")
    holders = [a for a, acc in market.accounts.items() if acc.perps]
    assert len(holders) == 120
    book = RiskBook.load(out / "market.toml")
    assert book.n_perp_accounts == 120
    assert book.n_perp_positions == sum(len(market.accounts[a].perps) for a in holders)
    for a in holders:
        assert book.status(a) == status_of(account_health(market.accounts[a], market)), a
    run = xm(capsys, "generate-book", "--accounts", "10", "--out", tmp_path, "--perp-share", "2")
    assert run.code == 2 and run.err.startswith("error: perp_share")
