"""Issue 9, item 5: the simulation reports (``simulate montecarlo|scenario|cascade|replay
--report``) are rendered from the Jinja2 template, every figure formatted by its kind, the
market's quote unit on the axes, and they fit a 1400 px window in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xmargin.analytics.report import _plot_losses

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "xmargin" / "data"
DEMO = DATA / "demo.toml"
SCENARIOS = DATA / "demo-scenarios.toml"
CRASH = DATA / "eth_crash_2021-01-11.csv"
GBM = ("--model", "gbm", "--vol", "WETH=0.8", "--vol", "WBTC=0.6", "--vol", "wstETH=0.85",
       "--vol", "STG=1.2", "--static", "USDC", "--static", "USDT")  # fmt: skip


def _write(xm: Callable[..., Any], tmp: Path) -> dict[str, Path]:
    out = {k: tmp / f"{k}.html" for k in ("montecarlo", "scenario", "cascade", "replay")}
    runs = [
        ("simulate", "montecarlo", DEMO, *GBM, "--paths", "500", "--report", out["montecarlo"]),
        ("simulate", "scenario", DEMO, SCENARIOS, "--report", out["scenario"]),
        (
            "simulate",
            "cascade",
            DEMO,
            "--shock",
            "WETH=-30%",
            "--steps",
            "3",
            "--report",
            out["cascade"],
        ),
        (
            "simulate",
            "replay",
            DEMO,
            "--prices",
            CRASH,
            "--start",
            "2021-01-11T02:00:00Z",
            "--end",
            "2021-01-11T06:00:00Z",
            "--step",
            "5m",
            "--map",
            "wstETH=WETH",
            "--static",
            "USDC",
            "--static",
            "USDT",
            "--static",
            "WBTC",
            "--static",
            "STG",
            "--report",
            out["replay"],
        ),
    ]
    for args in runs:
        run = xm(*args)
        assert run.code == 0, (args, run.err)
    return out


def test_item5_reports_format_each_figure_by_its_kind(
    xm: Callable[..., Any], tmp_path: Path
) -> None:
    pages = {k: p.read_text(encoding="utf-8") for k, p in _write(xm, tmp_path).items()}
    mc, scen = pages["montecarlo"], pages["scenario"]
    for name, page in pages.items():
        assert page.startswith("<!DOCTYPE html>"), name
        assert "True" not in page and "False" not in page, name  # no Python reprs
        assert "['" not in page and "{'" not in page, name
        assert "var 95" not in page and "(quote)" not in page, name
        # The axes carry the quote unit (matplotlib keeps each text as an SVG comment).
        assert "bad debt (USD)" in page or "liquidated (USD)" in page, name
    assert "VaR 95% of bad debt" in mc and "probability of bad debt" in mc
    assert re.search(r"<td>probability of bad debt</td><td>\d+\.\d\d%</td>", mc)
    assert '<td>book settled at today&#39;s prices first</td><td class="text">yes</td>' in mc
    # Counts print as counts, money with its unit.
    assert re.search(r"<td>liquidations</td><td>\d+</td>", scen), scen
    assert re.search(r"<td>bad debt</td><td>[\d,]+\.\d\d USD</td>", scen)
    assert not re.search(r"<td>liquidations</td><td>\d+\.\d\d", scen)


def test_item5_one_path_with_bad_debt_among_10000_is_shown() -> None:
    losses = np.zeros(10_000)
    losses[1234] = 5_000.0
    page = _plot_losses(losses, {"VaR 99%": 0.0}, "USD")
    assert "1 of 10,000 paths have bad debt" in page
    # matplotlib writes the bar's label ("1") as a glyph group; the bar itself is a patch.
    assert page.count('<g id="patch_') >= 3


def test_item5_simulation_reports_fit_1400_px_in_chromium(
    browser_page: Any, xm: Callable[..., Any], tmp_path: Path
) -> None:
    page = browser_page
    for name, path in _write(xm, tmp_path).items():
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        assert inner == 1400 and width <= inner, f"{name}: {width} px wide at {inner} px"
        # No table cuts a figure: every table fits its box or scrolls inside it.
        over = page.evaluate(
            "[...document.querySelectorAll('table')].filter(t => "
            "t.getBoundingClientRect().right > window.innerWidth).length"
        )
        assert over == 0 or page.evaluate("document.querySelectorAll('.scroll').length"), name
        boxes = page.evaluate(
            "[...document.querySelectorAll('.fig > svg')].map(s => s.getBoundingClientRect().width)"
        )
        assert boxes and min(boxes) > 200, (name, boxes)
