"""``make demo`` (``xmargin demo``): the service demo runs by itself, in bounded time, and
shows what it promises: risk events, a refused bad tick, liquidations (a perp position's
among them, and a bankrupt perp trader absorbed by the insurance fund), a replay that
agrees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.service.conftest import free_port
from xmargin.service.demo import run_demo


@pytest.mark.slow
def test_the_demo_replays_the_crash_liquidates_and_agrees_with_its_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(tmp_path, free_port(), keep_running=False) == 0
    out = capsys.readouterr().out
    assert "PUT /v1/assets/WETH as oracle -> 403 permission_denied" in out
    assert "event price_rejected WETH" in out
    assert re.search(r"event risk_level +\S+ +at_risk -> liquidatable", out)
    n = int(re.search(r"liquidations: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert n > 0
    assert out.count("    liquidated ") == n
    # A perp liquidation during the crash, and the insurance fund absorbing the bankrupt
    # perp trader's shortfall (contract 5.4, 5.5): none of its USDC reaches the deficit.
    perp = re.search(r"liquidated perp-eth-near +closed (\S+) ETH-PERP", out)
    assert perp is not None and float(perp.group(1)) > 0
    bankrupt = re.search(
        r"liquidated perp-eth-bankrupt +closed 10 ETH-PERP .*"
        r"insurance fund absorbed ([0-9.]+) USDC(.*)",
        out,
    )
    assert bankrupt is not None and float(bankrupt.group(1)) > 0
    assert "bad debt" not in bankrupt.group(2)
    assert "journal entries: the balances agree" in out
    for where in ("/docs", "/v1/risk/summary", "/v1/events"):
        assert where in out
