"""Rule: ``health`` and ``stress`` on a large book run on the risk book and print the
contract's JSON shape, with the exact engine's decisions and figures within 1e-9;
``stress --summary`` prints the summary (and prices) only, on either engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.book.cli import xm
from xmargin.book.generate import generate_book
from xmargin.book.routing import BOOK_MIN_ROWS, prefers_book


@pytest.fixture(name="book_file", scope="module")
def book_file_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    market, _ = generate_book(400, 12, 8, tmp_path_factory.mktemp("route"), fmt="csv")
    return market


def run_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    *args: str | Path,
) -> Any:
    monkeypatch.setenv("XMARGIN_ENGINE", engine)
    run = xm(capsys, *args, "--json")
    assert run.code == 0, run.err
    return json.loads(run.out)


def assert_same_rows(book: list[dict[str, Any]], exact: list[dict[str, Any]]) -> None:
    assert [r["account"] for r in book] == [r["account"] for r in exact]
    for b, e in zip(book, exact, strict=True):
        assert list(b) == list(e)
        assert b["liquidatable"] == e["liquidatable"], b["account"]
        for key, value in e.items():
            if key in ("account", "liquidatable"):
                continue
            if value is None:
                assert b[key] is None, (b["account"], key)
            else:
                assert float(b[key]) == pytest.approx(float(value), rel=1e-9, abs=1e-12)


def test_health_on_the_book_prints_the_exact_engines_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, book_file: Path
) -> None:
    book = run_json(capsys, monkeypatch, "book", "health", book_file)
    exact = run_json(capsys, monkeypatch, "exact", "health", book_file)
    assert list(book) == list(exact) == ["accounts"]
    assert_same_rows(book["accounts"], exact["accounts"])


def test_health_of_listed_accounts_on_the_book_is_exact(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, book_file: Path
) -> None:
    args = ("health", book_file, "--account", "acc0000007", "--account", "acc0000003")
    assert run_json(capsys, monkeypatch, "book", *args) == run_json(
        capsys, monkeypatch, "exact", *args
    )


def test_stress_on_the_book_agrees_with_the_exact_engine(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, book_file: Path
) -> None:
    args = ("stress", book_file, "--shock", "WETH=-30%", "--shock", "WBTC=-0.2")
    book = run_json(capsys, monkeypatch, "book", *args)
    exact = run_json(capsys, monkeypatch, "exact", *args)
    assert list(book) == list(exact) == ["accounts", "summary", "prices"]
    assert book["prices"] == exact["prices"]
    assert_same_rows(book["accounts"], exact["accounts"])
    for key in ("accounts", "liquidatable_accounts"):
        assert book["summary"][key] == exact["summary"][key]
    for key in ("liquidatable_debt", "insolvent_debt"):
        assert float(book["summary"][key]) == pytest.approx(float(exact["summary"][key]))


@pytest.mark.parametrize("engine", ["book", "exact"])
def test_stress_summary_prints_only_the_summary_and_prices(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    book_file: Path,
    engine: str,
) -> None:
    args = ("stress", book_file, "--shock", "WETH=-30%", "--summary")
    doc = run_json(capsys, monkeypatch, engine, *args)
    full = run_json(capsys, monkeypatch, "exact", "stress", book_file, "--shock", "WETH=-30%")
    assert list(doc) == ["summary", "prices"]
    assert doc["prices"] == full["prices"]
    assert doc["summary"]["liquidatable_accounts"] == full["summary"]["liquidatable_accounts"]
    assert float(doc["summary"]["insolvent_debt"]) == pytest.approx(
        float(full["summary"]["insolvent_debt"])
    )


@pytest.mark.parametrize("command", [("health",), ("stress", "--shock", "WETH=-30%")])
def test_the_book_prints_a_readable_summary_without_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    book_file: Path,
    command: tuple[str, ...],
) -> None:
    monkeypatch.setenv("XMARGIN_ENGINE", "book")
    run = xm(capsys, command[0], book_file, *command[1:])
    assert run.code == 0, run.err
    assert "liquidatable accounts" in run.out
    assert "accounts on the risk book" in run.out


def test_the_book_reports_an_unknown_shocked_asset(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, book_file: Path
) -> None:
    monkeypatch.setenv("XMARGIN_ENGINE", "book")
    run = xm(capsys, "stress", book_file, "--shock", "DOGE=-10%", "--json")
    assert run.code == 2
    assert json.loads(run.out)["error"]["code"] == "unknown_asset"


def test_large_accounts_files_go_to_the_book(book_file: Path, vectors_dir: Path) -> None:
    assert BOOK_MIN_ROWS == 50_000
    assert not prefers_book(book_file)  # 400 accounts: the exact engine
    assert prefers_book(book_file, min_rows=100)
    assert not prefers_book(vectors_dir / "basic.toml", min_rows=0)  # no accounts_file
    assert not prefers_book(book_file.parent / "missing.toml", min_rows=0)
