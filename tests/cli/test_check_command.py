"""``xmargin check MARKET``: validate a market file and count what it holds (contract 4)."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_check_prints_name_quote_and_counts_as_json(xm, demo_toml: Path) -> None:
    run = xm("check", demo_toml, "--json")
    assert run.code == 0
    assert run.err == ""
    doc = run.json()
    # the contract's counts, then the extension "warnings" (issue 9, item 19)
    assert list(doc) == ["market", "quote", "assets", "categories", "accounts", "warnings"]
    assert doc == {
        "market": "demo",
        "quote": "USD",
        "assets": 2,
        "categories": 0,
        "accounts": 4,
        "warnings": [],
    }


def test_check_of_an_unnamed_market_gives_a_null_name(xm, tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[market]\nquote = "EUR"\n\n[assets.X]\nprice = 1\ncollateral_factor = 0.5\n'
        "liquidation_threshold = 0.6\nliquidation_bonus = 0.05\n\n"
        "[categories.c]\ncollateral_factor = 0.7\nliquidation_threshold = 0.8\n"
        'liquidation_bonus = 0.01\nassets = ["X"]\n'
    )
    doc = xm("check", path, "--json").json()
    assert doc == {
        "market": None,
        "quote": "EUR",
        "assets": 1,
        "categories": 1,
        "accounts": 0,
        "warnings": [],
    }


@pytest.mark.parametrize("name", ["demo.toml", "demo.json"])
def test_check_without_json_prints_one_readable_line(xm, name: str) -> None:
    run = xm("check", Path(__file__).parent / "files" / name)
    assert run.code == 0
    assert run.out.strip() == "ok: demo (quote USD): 2 assets, 0 categories, 4 accounts"


def test_check_of_the_shipped_aave_market_passes(xm) -> None:
    path = Path(__file__).parents[3] / "shared" / "data" / "markets"
    files = sorted(path.glob("*.toml")) if path.is_dir() else []
    if not files:
        pytest.skip("../shared/data/markets is not here")
    for f in files:
        run = xm("check", f, "--json")
        assert run.code == 0, run.err
        assert run.json()["assets"] > 0
