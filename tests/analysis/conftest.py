"""Fixtures of the analysis tests: small market files, the CLI in-process, a browser page
(a tab of the shared ``browser`` fixture, :mod:`tests.browser`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from xmargin.cli.app import main
from xmargin.data import data_path


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(name="xm")
def xm_fixture(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``xm("calibrate", path, "--json")``: the CLI run in-process, as the script runs."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
        else:  # pragma: no cover
            raise AssertionError("main() returned without sys.exit")
        cap = capsys.readouterr()
        assert isinstance(code, int)
        assert "Traceback" not in cap.out + cap.err
        return Run(code, cap.out, cap.err)

    return run


@pytest.fixture(name="demo")
def demo_fixture() -> Path:
    return data_path("demo.toml")


DEMO_VOLS = (
    "--vol", "WETH=0.8", "--vol", "WBTC=0.6", "--vol", "USDC=0.02", "--vol", "USDT=0.03",
    "--vol", "wstETH=0.85", "--vol", "STG=1.2",
)  # fmt: skip


@pytest.fixture(name="write_market")
def write_market_fixture(tmp_path: Path) -> Callable[..., Path]:
    """``write_market(text, name="m.toml")``: a market file in a temporary folder."""

    def write(text: str, name: str = "m.toml") -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return write


@pytest.fixture(name="browser_page", scope="module")
def browser_page_fixture(browser: Any) -> Iterator[Any]:
    """A headless Chromium page 1400 px wide."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        yield page
    finally:
        page.close()
