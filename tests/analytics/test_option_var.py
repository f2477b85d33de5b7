"""Option books in the Monte Carlo (issue 14 item 4): the horizon value of each option
account on a path, with its volatility path, equals the exact engine's at that path's
price, volatility and time; the option block of ``simulate montecarlo``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli.conftest import Run, run_in_process
from xmargin.analytics.option_var import OptionBook
from xmargin.analytics.simbook import SimBook
from xmargin.book.tolerances import REL_TOL
from xmargin.io import load_market
from xmargin.risk.options import option_mtm, with_vol_shocks

MARKET = Path(__file__).parents[1] / "service" / "option_market.toml"
SPIRAL = Path(__file__).parent / "files" / "spiral.toml"
GBM = ("--model", "gbm", "--vol", "WETH=0.8", "--static", "USDC", "--paths", "400")


@pytest.fixture(name="xm")
def xm_fixture(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str | Path) -> Run:
        return run_in_process(capsys, *args)

    return run


@settings(max_examples=25, deadline=None)
@given(
    move=st.integers(40, 250).map(lambda i: Decimal(i) / 100),
    hours=st.sampled_from([0, 1, 24, 24 * 7, 24 * 40]),
    eps=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1), Decimal(3)]),
)
def test_an_option_accounts_horizon_value_is_the_exact_engines(
    move: Decimal, hours: int, eps: Decimal
) -> None:
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    ob = OptionBook.from_market(market, book)
    spot = market.assets["WETH"].price
    prices = book.price.copy()
    prices[book.asset_index("WETH")] = float(spot * move)
    got = ob.values(prices, book.price, float(hours), float(eps))
    # The exact engine: spot moved (forward with it), σ·move^(−ε), the clock moved.
    view = market.with_prices({"WETH": spot * move})
    view = with_vol_shocks(view, {"WETH": float_power(move, -eps) - 1})
    time = market.params.time
    assert time is not None
    view.params = view.params.model_copy(update={"time": time + timedelta(hours=hours)})
    for k, acc_id in enumerate(ob.accounts):
        exact = option_mtm(view.accounts[acc_id], view)
        notional = float(sum(abs(q) for q in market.accounts[acc_id].options.values()))
        scale = notional * float(spot * move + 2200)
        assert abs(got[k] - float(exact)) <= 10 * REL_TOL * scale, (acc_id, got[k], exact)


@settings(max_examples=20, deadline=None)
@given(
    moves=st.lists(st.integers(30, 300).map(lambda i: i / 100), min_size=1, max_size=6),
    hours=st.sampled_from([0.0, 24.0, 24.0 * 40]),
    eps=st.sampled_from([0.0, 1.0, 2.5]),
)
def test_paths_priced_together_equal_each_path_priced_alone(
    moves: list[float], hours: float, eps: float
) -> None:
    market = load_market(MARKET)
    book = SimBook.from_market(market)
    ob = OptionBook.from_market(market, book)
    prices = np.repeat(book.price[np.newaxis, :], len(moves), axis=0)
    prices[:, book.asset_index("WETH")] *= np.array(moves)
    together = ob.values_on_paths(prices, book.price, hours, eps)
    assert together.shape == (len(moves), len(ob.accounts))
    for k in range(len(moves)):
        alone = ob.values(prices[k], book.price, hours, eps)
        np.testing.assert_array_equal(together[k], alone)
    # A path that moves nothing keeps today's values (τ aside).
    if hours == 0.0 and 1.0 in moves:
        k = moves.index(1.0)
        np.testing.assert_allclose(together[k], ob.values(book.price, book.price, 0.0, 0.0))


def float_power(x: Decimal, e: Decimal) -> Decimal:
    return Decimal(float(x) ** float(e))


def test_montecarlo_adds_the_option_block_with_its_volatility_path(
    xm: Callable[..., Run],
) -> None:
    still = xm("simulate", "montecarlo", MARKET, *GBM, "--vol-elasticity", "0", "--json")
    moving = xm("simulate", "montecarlo", MARKET, *GBM, "--json")
    again = xm("simulate", "montecarlo", MARKET, *GBM, "--json")
    assert still.code == moving.code == 0, still.err
    a, b = still.json()["options"], moving.json()["options"]
    assert a["accounts"] == 3 and b["vol_elasticity"] == "1"
    assert Decimal(a["option_value"]) < 0  # short options: the book owes their value
    # Short calls dominate: when spot rises (their loss) volatility falls with it, so the
    # loss quantiles shrink under a positive elasticity; same seed, same paths.
    assert Decimal(b["option_loss"]["var_99"]["value"]) < Decimal(
        a["option_loss"]["var_99"]["value"]
    )
    assert again.json() == moving.json()
    for fig in ("var_95", "es_95", "var_99", "es_99"):
        assert Decimal(b["shortfall"][fig]["value"]) >= 0


def test_a_market_without_options_has_no_option_block_and_bad_elasticity_is_refused(
    xm: Callable[..., Run],
) -> None:
    plain = xm(
        "simulate", "montecarlo", SPIRAL, "--model", "gbm", "--vol", "ETH=1.2", "--static",
        "USD", "--paths", "50", "--json",
    )  # fmt: skip
    assert plain.code == 0, plain.err
    assert "options" not in plain.json()
    bad = xm("simulate", "montecarlo", MARKET, *GBM, "--vol-elasticity", "-1")
    assert bad.code == 2
    assert "--vol-elasticity" in bad.err and "Traceback" not in bad.err
    table = xm("simulate", "montecarlo", MARKET, *GBM)
    assert table.code == 0 and "Option book: 3 accounts" in table.out


def test_the_readme_shows_a_real_run_of_the_option_book_var(
    xm: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    # The Monte Carlo example that shows the option book (the README has others).
    start = readme.rindex(
        "$ xmargin simulate montecarlo src/xmargin/data/demo.toml", 0, readme.index("Option book:")
    )
    block = readme[start : readme.index("```", start)].splitlines()
    command = " ".join(line.strip().rstrip("\\") for line in block[:3])
    shown = [line for line in block[3:] if not line.startswith("warning: ")]  # stderr
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").symlink_to(root / "src")
    run = xm(*shlex.split(command)[2:])
    assert run.code == 0, run.err
    printed = [line.rstrip() for line in run.out.splitlines()]
    at = printed.index(shown[0])
    assert printed[at : at + len(shown)] == shown
