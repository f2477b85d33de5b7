"""The three HTML reports, opened in headless Chromium at 1400 px: self-contained, with
their figures drawn, and no horizontal scrolling of the page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.analysis.conftest import DEMO_VOLS
from tests.analysis.test_network import MARKET as POOL_MARKET
from xmargin.book.generate import generate_book


def _reports(
    xm: Callable[..., Any], demo: Path, tmp: Path, write: Callable[..., Path]
) -> dict[str, Path]:
    out = {k: tmp / f"{k}.html" for k in ("calibrate", "optimize", "network", "network_big")}
    assert xm("calibrate", demo, *DEMO_VOLS, "--report", out["calibrate"]).code == 0
    mc = ("--model", "gbm", *DEMO_VOLS, "--paths", "300", "--horizon", "2d", "--steps", "2")
    run = xm("optimize", demo, "--var99-max", "1e9", *mc, "--candidates", "4",
             "--report", out["optimize"])  # fmt: skip
    assert run.code == 0, run.err
    ent = tmp / "entities.toml"
    ent.write_text(
        '[entities.issuer]\nkind = "issuer"\nexternal_assets = 60000\n'
        'external_liabilities = 100000\nissues = "USDC"\n'
        "[entities.fund]\nholdings = { WETH = 20 }\nliabilities = { issuer = 30000 }\n"
    )
    market = write(POOL_MARKET)
    assert xm("network", market, "--entities", ent, "--report", out["network"]).code == 0
    # A generated book with liquidity on every asset: hundreds of nodes to draw.
    big, _ = generate_book(3000, 6, seed=2, out_dir=tmp / "book")
    text = big.read_text()
    text = re.sub(
        r"(\[assets\.([A-Za-z0-9]+)\]\n)",
        lambda m: (
            m.group(1) + 'liquidity = { model = "depth", depth = [[0.01, 20000], [0.1, 200000]] }\n'
        ),
        text,
    )
    big.write_text(text)
    run = xm("network", big, "--shock", "WETH=-15%", "--report", out["network_big"])
    assert run.code == 0, run.err
    return out


def test_reports_are_self_contained_and_fit_1400_px(
    browser_page: Any, xm: Callable[..., Any], demo: Path, tmp_path: Path,
    write_market: Callable[..., Path],
) -> None:  # fmt: skip
    page = browser_page
    reports = _reports(xm, demo, tmp_path, write_market)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    for name, path in reports.items():
        html = path.read_text()
        assert not re.search(r"(src|href)=['\"]?(https?:)?//", html), name
        requests.clear()
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        # Nothing but the page itself is fetched: no script, font, image or style.
        assert set(requests) == {path.as_uri()}, (name, requests)
        width = page.evaluate("document.documentElement.scrollWidth")
        inner = page.evaluate("window.innerWidth")
        assert width <= inner, f"{name}: the page is {width} px wide at {inner} px"
        n_svg = page.evaluate("document.querySelectorAll('svg').length")
        assert n_svg >= 1, name
        # Every figure is drawn at a visible size.
        boxes = page.evaluate(
            "[...document.querySelectorAll('.fig > svg')].map(s => s.getBoundingClientRect().width)"
        )
        assert boxes and min(boxes) > 200, (name, boxes)
        assert page.title() in (
            "Haircut calibration", "Parameter optimisation", "Network and concentration",
        )  # fmt: skip
    big = reports["network_big"].read_text()
    assert "most connected drawn" in big or "accounts," in big


@pytest.mark.parametrize("which", ["calibrate"])
def test_a_report_path_that_cannot_be_written_is_bad_input(
    xm: Callable[..., Any], demo: Path, which: str
) -> None:
    run = xm(which, demo, *DEMO_VOLS, "--report", "/nonexistent/dir/r.html")
    assert run.code == 2 and "cannot write" in run.err
