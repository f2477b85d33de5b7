"""Rule 7.2: the optimiser's constraints, a closed-form optimum, exact reproduction, caps."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from tests.analysis.conftest import DEMO_VOLS
from xmargin.analytics.analysis_inputs import load_inputs
from xmargin.analytics.kernel_layout import W_CF, W_LT
from xmargin.analytics.optimize import Evaluator, OptimizeConfig, optimize
from xmargin.analytics.proposal import candidate_moves, max_threshold, move_params
from xmargin.simulate import MonteCarloOptions

# -- a market whose optimum is known in closed form ---------------------------------------
# One volatile asset (ETH at 1000, GBM σ = 0.8, one step of 7 days, no drift), debt in a
# static USD, close factor 1 (a liquidation may repay everything), bonus 5%, no fee.
# Twenty accounts each supply 1 ETH and borrow D_i = 702.5, 707.5, ..., 797.5 USD.
# The Monte Carlo first settles the book at today's prices: accounts with D_i > 1000·lt
# are liquidated whole today (seizing D_i·1.05/1000 < 1 ETH) and carry no risk. Any other
# account, at the horizon price P, ends with bad debt max(0, D_i − P/1.05) (all of its
# ETH seized, the rest written off). So VaR99 = Σ_{D_i ≤ 1000·lt} max(0, D_i − P_q/1.05)
# with P_q the 1% quantile of P, and the capacity 20 × 1000 × cf grows with lt: the
# optimum is the largest candidate lt with VaR99 ≤ K.
SIGMA, DAYS, BONUS = 0.8, 7.0, 0.05
DEBTS = [702.5 + 5 * i for i in range(20)]


def closed_form_market() -> str:
    lines = [
        "[market]", 'quote = "USD"', "close_factor = 1",
        "[assets.ETH]", "price = 1000", "collateral_factor = 0.70",
        "liquidation_threshold = 0.75", f"liquidation_bonus = {BONUS}",
        "[assets.USD]", "price = 1", "collateral_factor = 0", "liquidation_threshold = 0",
        "liquidation_bonus = 0",
    ]  # fmt: skip
    for i, d in enumerate(DEBTS):
        lines += [f"[accounts.a{i:02d}]", "supply = { ETH = 1 }", f"borrow = {{ USD = {d} }}"]
    return "\n".join(lines) + "\n"


def closed_form_var(lt: float) -> float:
    t = DAYS / 365.0
    p_q = 1000.0 * math.exp(-0.5 * SIGMA**2 * t + SIGMA * math.sqrt(t) * NormalDist().inv_cdf(0.01))
    return sum(max(0.0, d - p_q / (1 + BONUS)) for d in DEBTS if d <= 1000.0 * lt)


MC = ("--model", "gbm", "--vol", f"ETH={SIGMA}", "--static", "USD", "--horizon", "7d")


def test_the_optimiser_finds_the_closed_form_optimum_within_its_monte_carlo_error(
    xm: Callable[..., object], write_market: Callable[..., Path]
) -> None:
    market = write_market(closed_form_market())
    k = 115.0
    grid = [0.72 + 0.01 * i for i in range(7)]  # lt 0.75 ± 0.03 in steps of 0.01
    optimum = max(lt for lt in grid if closed_form_var(lt) <= k)
    assert optimum == pytest.approx(0.76)  # VaR 81.6 at 0.76, 148.8 at 0.77
    run = xm("optimize", market, "--var99-max", str(k), *MC, "--paths", "10000",
             "--candidates", "6", "--asset", "ETH", "--json")  # fmt: skip
    assert run.code == 0, run.err
    doc = run.json()
    lt = float(next(c["to"] for c in doc["changes"] if c["parameter"] == "liquidation_threshold"))
    se = float(doc["after"]["var99_std_error"])
    assert closed_form_var(lt) <= k + 3 * se
    assert closed_form_var(lt + 0.01) > k - 3 * se or lt == grid[-1]
    assert lt == pytest.approx(optimum)
    # The simulated VaR99 is the closed form's within its reported error.
    assert float(doc["after"]["var99"]) == pytest.approx(closed_form_var(lt), abs=3 * se + 1e-9)
    # cf moved with lt (the gap of 0.05 is kept).
    assert doc["changes"][0] == {
        "asset": "ETH", "parameter": "collateral_factor", "from": "0.7", "to": "0.71",
    }  # fmt: skip


def test_the_written_market_reproduces_after_var99_exactly(
    xm: Callable[..., object], demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "proposed.toml"
    mc = ("--model", "gbm", *DEMO_VOLS, "--paths", "600", "--horizon", "3d", "--steps", "3")
    run = xm("optimize", demo, "--var99-max", "1000000", *mc, "--out", out, "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["feasible"] is True and doc["changes"]
    again = xm("simulate", "montecarlo", out, *mc, "--json")
    assert again.code == 0, again.err
    assert again.json()["figures"]["var_99"]["value"] == doc["after"]["var99"]
    # Only the changed keys were rewritten: the demo's comments are still there.
    text = out.read_text()
    assert text.startswith("# xmargin demo market") and "collateral_factor = 0.835" in text


def test_an_accounts_file_market_written_elsewhere_still_finds_its_positions(
    xm: Callable[..., object], tmp_path: Path
) -> None:
    from xmargin.book.generate import generate_book

    market, _ = generate_book(300, 6, seed=4, out_dir=tmp_path / "book")
    out = tmp_path / "elsewhere" / "proposed.toml"
    out.parent.mkdir()
    inputs = load_inputs(market)
    vols = [f"--vol={a}=0.7" for a in inputs.book.assets]
    mc = ("--model", "gbm", *vols, "--paths", "300", "--horizon", "2d", "--steps", "2")
    run = xm("optimize", market, "--var99-max", "1e12", *mc, "--out", out, "--json")
    assert run.code == 0, run.err
    again = xm("simulate", "montecarlo", out, *mc, "--json")
    assert again.json()["figures"]["var_99"]["value"] == run.json()["after"]["var99"]


def test_category_members_keep_the_categorys_weights(demo: Path) -> None:
    """A moved asset's weights reach every position in it but those of accounts whose
    category lists it (contract 1.2: the category's weights replace the asset's)."""
    inputs = load_inputs(demo)
    book = inputs.book
    cat = inputs.market.categories["eth-correlated"]
    assert "WETH" in cat.assets
    members = np.array(
        [inputs.market.accounts[a].category == "eth-correlated" for a in book.account_ids]
    )
    weth = book.col == book.asset_index("WETH")
    opts = MonteCarloOptions(model="gbm", vols={"WETH": 0.8, "WBTC": 0.6, "USDC": 0.02,
                             "USDT": 0.03, "wstETH": 0.85, "STG": 1.2})  # fmt: skip
    ev = Evaluator(inputs, opts.return_model(book), opts.config(), None)
    mv = move_params(Decimal("0.805"), Decimal("0.83"), Decimal("0.05"), Decimal("0.03"),
                     "WETH", Decimal("0.03"))  # fmt: skip
    assert mv is not None
    moved = ev.book_for({"WETH": mv})
    changed = moved.wts[:, W_LT] != book.wts[:, W_LT]
    own = weth & ~members[book.row]
    assert own.any() and (weth & members[book.row]).any()
    assert (changed == own).all()
    assert (moved.wts[own, W_LT] == float(mv.lt)).all()
    assert (moved.wts[own, W_CF] == float(mv.cf)).all()
    # The category's members keep its weights, and nothing else moved.
    keep = ~own
    assert (moved.wts[keep] == book.wts[keep]).all()
    assert (moved.wts[weth & members[book.row], W_LT] == float(cat.liquidation_threshold)).all()


def test_moves_respect_the_step_cf_below_lt_and_the_bonus_rule() -> None:
    assert [str(x) for x in candidate_moves(Decimal("0.03"), 6)] == [
        "-0.0300", "-0.0200", "-0.0100", "0.0100", "0.0200", "0.0300",
    ]  # fmt: skip
    assert max_threshold(Decimal("0.10")) == Decimal("0.9090")  # 0.9091 * 1.1 = 1.00001
    step = Decimal("0.03")
    up = move_params(Decimal("0.93"), Decimal("0.94"), Decimal("0.05"), step, "A", step)
    assert up is not None and up.lt == Decimal("0.9523") and up.cf == Decimal("0.9523")
    down = move_params(Decimal("0.01"), Decimal("0.30"), Decimal("0.05"), -step, "A", step)
    assert down is not None and down.cf == 0 and down.lt == Decimal("0.27")
    # lt 0.99 with a 5% bonus breaks the rule by more than one step: no move exists.
    assert move_params(Decimal("0.9"), Decimal("0.99"), Decimal("0.05"), step, "A", step) is None


def test_no_feasible_proposal_exits_1_with_the_best_one_found(
    xm: Callable[..., object], write_market: Callable[..., Path]
) -> None:
    market = write_market(closed_form_market())
    run = xm("optimize", market, "--var99-max", "0", *MC, "--paths", "2000", "--candidates", "6",
             "--json")  # fmt: skip
    assert run.code == 1
    doc = run.json()
    assert doc["feasible"] is False
    assert float(doc["after"]["var99"]) <= float(doc["before"]["var99"])
    assert run.err.startswith("error: no proposal meets VaR99 <= 0")


def test_both_methods_meet_the_budget_and_joint_measures_interactions(
    write_market: Callable[..., Path],
) -> None:
    inputs = load_inputs(write_market(closed_form_market()))
    opts = MonteCarloOptions(model="gbm", vols={"ETH": 0.8}, static=("USD",), horizon="7d",
                             paths=4000)  # fmt: skip
    out = {}
    for method in ("chaos", "joint"):
        ev = Evaluator(inputs, opts.return_model(inputs.book), opts.config(), None)
        r = optimize(inputs, ev, ["ETH"], OptimizeConfig(115.0, candidates=6, method=method))  # type: ignore[arg-type]
        assert r.feasible and r.after.var99 <= 115.0
        out[method] = r.after.capacity
    assert out["chaos"] == out["joint"]  # one asset: both find the same grid point


def test_cap_search_finds_the_largest_scale_within_the_budget(
    write_market: Callable[..., Path],
) -> None:
    inputs = load_inputs(write_market(closed_form_market()))
    opts = MonteCarloOptions(model="gbm", vols={"ETH": 0.8}, static=("USD",), horizon="7d",
                             paths=4000)  # fmt: skip
    ev = Evaluator(inputs, opts.return_model(inputs.book), opts.config(), None)
    cfg = OptimizeConfig(150.0, candidates=2, caps=("supply", "borrow"), cap_iterations=14)
    r = optimize(inputs, ev, ["ETH"], cfg)
    assert not r.changes[:1] or r.changes[0].parameter == "supply_cap"  # lt stays at 0.75
    eth = next(c for c in r.caps if c["kind"] == "supply")
    # Every account supplies ETH: scaling them all by x scales the loss by x exactly
    # (same paths, homogeneous rules): x* = K / VaR99 at x = 1.
    scale = float(eth["scale"])
    at_one = r.after.var99
    assert 1 < scale == pytest.approx(150.0 / at_one, rel=2e-3)
    assert float(eth["recommended_cap"]) <= scale * 20
    assert any(c.parameter == "supply_cap" for c in r.changes)
    assert not any(c["asset"] == "USD" for c in r.caps)


def test_dask_workers_give_the_same_proposal(
    xm: Callable[..., object], write_market: Callable[..., Path]
) -> None:
    market = write_market(closed_form_market())
    args = ("optimize", market, "--var99-max", "115", *MC, "--paths", "3000",
            "--candidates", "2", "--json")  # fmt: skip
    one = xm(*args)
    two = xm(*args, "--workers", "2")
    assert one.code == two.code == 0, two.err
    assert one.json()["after"] == two.json()["after"]
    assert one.json()["changes"] == two.json()["changes"]
