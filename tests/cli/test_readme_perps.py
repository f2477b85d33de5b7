"""The README's perps section (a USDC-collateralised ETH long) runs and prints what it shows.

Each ``console`` block of the section is one command and the JSON it prints; the command
runs in-process on the packaged demo market, and its output must equal the block. The
figures the prose derives by hand (the closed-form liquidation price, the fees) are
checked against the same runs, so the text cannot drift from the engine either.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
START = "## Perpetual futures: a USDC-collateralised ETH long"


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(START) :]
    return section[: section.index("\n## ", 1)]


def _examples() -> list[tuple[list[str], str]]:
    out = []
    for block in re.findall(r"```console\n(.*?)```", _section(), flags=re.S):
        first, _, shown = block.partition("\n")
        assert first.startswith("$ xmargin "), first
        out.append((shlex.split(first[2:])[1:], shown.rstrip("\n")))
    return out


def test_the_section_shows_health_liquidation_price_and_a_perp_liquidation() -> None:
    assert [args[0] for args, _ in _examples()] == ["health", "liquidation-price", "liquidate"]


def test_every_command_prints_what_the_readme_shows(
    xm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    for args, shown in _examples():
        run = xm(*args)
        assert run.code == 0, (args, run.err)
        assert run.out.rstrip("\n") == shown, args


def test_the_hand_derived_figures_are_the_engines(
    xm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    demo = "src/xmargin/data/demo.toml"
    lp = json.loads(
        xm("liquidation-price", demo, "--account", "perp-eth-long", "--asset", "WETH", "--json").out
    )
    c = Decimal(10000) * Decimal("0.99997427") * Decimal("0.80")
    closed_form = (20 * Decimal(1750) - c) / (20 * (1 - Decimal("0.05")))
    assert abs(Decimal(lp["price"]) - closed_form) < Decimal("1e-12")
    assert "1,421.06" in _section() and f"{closed_form:,.2f}" == "1,421.06"
    liq = json.loads(
        xm(
            "liquidate", demo, "--account", "perp-eth-underwater",
            "--perp", "ETH-PERP", "--size", "10", "--json",
        ).out
    )  # fmt: skip
    p = Decimal("1816.85499606")
    assert Decimal(liq["realized_pnl"]) == 10 * (p - 1900)
    assert Decimal(liq["liquidator_fee"]) == 10 * p * Decimal("0.01")
    assert Decimal(liq["insurance_fee"]) == 10 * p * Decimal("0.005")
    assert Decimal(liq["health_factor_after"]) > 1 > Decimal(liq["health_factor_before"])


def test_the_commands_the_prose_names_run_on_the_demo(
    xm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    demo = "src/xmargin/data/demo.toml"
    trade = xm("trade", demo, "--account", "perp-eth-long", "--perp", "ETH-PERP", "--size", "5")
    assert trade.code == 0, trade.err
    stress = json.loads(xm("stress", demo, "--shock", "WETH=-20%", "--json").out)
    rows = {r["account"]: r for r in stress["accounts"]}
    assert (
        Decimal(rows["perp-eth-long"]["unrealized_pnl"])
        < 0
        < Decimal(rows["perp-eth-short"]["unrealized_pnl"])
    )
    whole = json.loads(
        xm(
            "liquidate", demo, "--account", "perp-eth-underwater",
            "--perp", "ETH-PERP", "--max", "--json",
        ).out
    )  # fmt: skip
    assert Decimal(whole["closed"]) == 25
