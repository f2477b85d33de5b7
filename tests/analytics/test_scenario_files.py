"""SCEN: scenario files and what each kind of scenario does to prices.

A scenario file reports every problem with its location (as a market file does); shocks,
correlated downturns, de-pegs and steps follow the formulas in
:mod:`xmargin.analytics.scenarios`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from tests.builders import make_market
from xmargin.analytics.scenario_file import load_scenarios, parse_scenarios
from xmargin.analytics.scenario_paths import scenario_prices
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError, ScenarioFileError


def _book() -> SimBook:
    a = {"collateral_factor": "0.7", "liquidation_threshold": "0.8", "liquidation_bonus": "0.05"}
    market = make_market(
        assets={
            "WETH": {"price": 2000, **a},
            "wstETH": {"price": 2300, **a},
            "WBTC": {"price": 30000, **a},
            "USDC": {"price": 1, **a},
        },
        accounts={"x": {"supply": {"WETH": "1"}, "borrow": {"USDC": "1000"}}},
    )
    return SimBook.from_market(market)


def test_a_scenario_file_reports_every_problem_with_its_location(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(
        """
[defaults]
gass = 1

[scenarios.a]
shocks = { WETH = "-140%", WBTC = "lots" }

[scenarios.b]
correlated = { lead = "WETH", shock = "-30%", correlation = 2 }
steps = 0

[scenarios.c]
replay = { start = "yesterday", end = "2022-05-14" }

[scenarios.d]
description = "nothing to do"
""",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioFileError) as err:
        load_scenarios(f)
    where = {p.location for p in err.value.problems}
    assert {
        "defaults.gass",
        "scenarios.a.shocks.WETH",
        "scenarios.a.shocks.WBTC",
        "scenarios.b.correlated.correlation",
        "scenarios.b.steps",
        "scenarios.c.replay.start",
        "scenarios.c.prices",
        "scenarios.d",
    } <= where
    assert err.value.code == "invalid_scenario_file"


def test_a_file_that_is_not_toml_is_refused_with_its_name(tmp_path: Path) -> None:
    f = tmp_path / "broken.toml"
    f.write_text("[scenarios.x\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError, match="not valid TOML"):
        load_scenarios(f)


def test_a_scenario_file_is_read_as_market_files_are(tmp_path: Path) -> None:
    """The same boundary as market files (io.documents.read_document): numbers in the
    contract's syntax (a 1e-300 shock is refused where it stands, not read as 0), repeated
    JSON keys refused with their location, only regular files."""
    tiny = tmp_path / "tiny.toml"
    tiny.write_text("[scenarios.a]\nshocks = { WETH = -1e-300 }\ngas = 1e400\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError) as err:
        load_scenarios(tiny)
    problems = {p.location: p.message for p in err.value.problems}
    assert problems["scenarios.a.shocks.WETH"].startswith("magnitude must be 0 or >= 1e-36")
    assert problems["scenarios.a.gas"].startswith("magnitude must be <= 1e24")
    twice = tmp_path / "twice.json"
    twice.write_text('{"scenarios": {"a": {"shocks": {"WETH": "-10%", "WETH": "-20%"}}}}')
    with pytest.raises(ScenarioFileError) as err:
        load_scenarios(twice)
    assert [p.location for p in err.value.problems] == ["scenarios.a.shocks.WETH"]
    assert "duplicate key" in err.value.problems[0].message
    with pytest.raises(ScenarioFileError, match="directory"):
        load_scenarios(tmp_path)
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioFileError, match="FIFO"):
        load_scenarios(fifo)  # refused at once: a FIFO would block the read


def test_a_json_scenario_file_reads_like_its_toml_twin(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('[scenarios.a]\nshocks = { WETH = "-40%", WBTC = -0.25 }\nsteps = 4\n')
    js = tmp_path / "s.json"
    js.write_text('{"scenarios": {"a": {"shocks": {"WETH": "-40%", "WBTC": -0.25}, "steps": 4}}}')
    (a,), (b,) = load_scenarios(toml), load_scenarios(js)
    assert a.shocks == b.shocks == {"WETH": -0.4, "WBTC": -0.25}
    assert a.steps == b.steps == 4


def test_shocks_multiply_prices_and_steps_reach_them_geometrically() -> None:
    book = _book()
    (sc,) = parse_scenarios({"scenarios": {"s": {"shocks": {"WETH": "-40%"}, "steps": 4}}})
    path, times = scenario_prices(book, sc)
    weth = book.asset_index("WETH")
    assert times is None
    assert path.shape == (4, book.n_assets)
    assert path[-1, weth] == pytest.approx(1200.0)
    # Equal steps in log price: each step multiplies by 0.6 ** (1/4).
    ratios = path[:, weth] / np.r_[2000.0, path[:-1, weth]]
    np.testing.assert_allclose(ratios, 0.6**0.25)
    assert path[-1, book.asset_index("USDC")] == 1.0


def test_a_correlated_downturn_moves_followers_by_correlation_times_vol_ratio() -> None:
    book = _book()
    (sc,) = parse_scenarios(
        {
            "scenarios": {
                "d": {
                    "correlated": {
                        "lead": "WETH",
                        "shock": "-30%",
                        "correlation": 0.8,
                        "assets": ["WBTC"],
                        "vols": {"WETH": 0.8, "WBTC": 0.6},
                    }
                }
            }
        }
    )
    path, _ = scenario_prices(book, sc)
    beta = 0.8 * 0.6 / 0.8
    assert path[-1, book.asset_index("WETH")] == pytest.approx(1400.0)
    assert path[-1, book.asset_index("WBTC")] == pytest.approx(
        30000 * math.exp(beta * math.log(0.7))
    )
    assert path[-1, book.asset_index("wstETH")] == 2300.0  # not listed: unmoved


def test_a_depeg_leaves_the_reference_by_its_deviation() -> None:
    book = _book()
    (sc,) = parse_scenarios(
        {
            "scenarios": {
                "p": {
                    "shocks": {"WETH": "-20%"},
                    "depeg": [
                        {"asset": "wstETH", "reference": "WETH", "deviation": "-7%"},
                        {"asset": "USDC", "deviation": "-13%"},
                    ],
                }
            }
        }
    )
    path, _ = scenario_prices(book, sc)
    # wstETH keeps today's ratio to WETH (2300/2000), then falls 7% below it.
    assert path[-1, book.asset_index("wstETH")] == pytest.approx(1600 * 2300 / 2000 * 0.93)
    assert path[-1, book.asset_index("USDC")] == pytest.approx(0.87)


def test_a_scenario_naming_an_unknown_asset_is_refused_with_the_asset() -> None:
    (sc,) = parse_scenarios({"scenarios": {"s": {"shocks": {"DOGE": "-50%"}}}})
    with pytest.raises(InputError, match="DOGE"):
        scenario_prices(_book(), sc)


def test_vol_shock_is_read_by_the_one_vol_shock_parser_and_located_when_bad(
    tmp_path: Path,
) -> None:
    from decimal import Decimal

    from xmargin.risk.shocks import parse_vol_shock

    good = parse_scenarios(
        {"scenarios": {"v": {"vol_shock": {"WETH": "+50%", "WBTC": "-0.25"}}}}, "s.toml"
    )
    assert good[0].vol_shocks == {"WETH": Decimal("0.5"), "WBTC": Decimal("-0.25")}
    assert good[0].vol_shocks["WETH"] == parse_vol_shock("WETH=+50%")[1]
    with pytest.raises(ScenarioFileError) as err:
        parse_scenarios(
            {"scenarios": {"v": {"shocks": {"WETH": "-1%"}, "vol_shock": {"WETH": "lots"}}}},
            "s.toml",
        )
    assert [p.location for p in err.value.problems] == ["scenarios.v.vol_shock.WETH"]


def test_a_vol_shock_is_refused_by_a_run_without_the_market_to_apply_it() -> None:
    from xmargin.analytics.scenarios import run_scenario

    (sc,) = parse_scenarios({"scenarios": {"v": {"vol_shock": {"WETH": "+5%"}}}})
    with pytest.raises(InputError, match="vol_shock needs the market"):
        run_scenario(_book(), sc)


def test_a_vol_shock_may_join_a_replay_but_a_price_move_may_not() -> None:
    replay = {"start": "2022-05-07", "end": "2022-05-08"}
    (sc,) = parse_scenarios(
        {"scenarios": {"r": {"replay": replay, "prices": ["p"], "vol_shock": {"WETH": 1}}}}
    )
    assert sc.kind == "replay" and sc.vol_shocks == {"WETH": 1}
    with pytest.raises(ScenarioFileError) as err:
        parse_scenarios(
            {"scenarios": {"r": {"replay": replay, "prices": ["p"], "shocks": {"WETH": "-1%"}}}}
        )
    assert [p.location for p in err.value.problems] == ["scenarios.r.replay"]
