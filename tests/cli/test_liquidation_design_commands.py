"""Contract 8.5 through the CLI: ``liquidate`` under every design, ``auction
start|take|reset|status``, ``absorb``, ``buy-collateral``, ``socialize``, ``deleverage``;
JSON with decimals as strings, exit codes 0/1/2, JSON errors, never a traceback.
Vectors are the market files of tests/vectors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.builders import VECTORS

AAVE = VECTORS / "aave_v4_target.toml"
CLIP = VECTORS / "maker_clipper.toml"
COMET = VECTORS / "comet_storefront.toml"
DRIFT = VECTORS / "drift_socialized_loss.toml"
DYDX = VECTORS / "dydx_adl.toml"

LIQUIDATE = ["--debt", "USDC", "--collateral", "WETH", "--max", "--json"]


def test_liquidate_under_target_is_aave_v4(xm) -> None:
    run = xm("liquidate", AAVE, "--account", "ninety-six", *LIQUIDATE)
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert doc["repaid"] == "4169.240272"
    assert doc["seized"] == "2.173563928469333331"
    assert doc["bonus"] == "0.042666666666666666"
    assert doc["health_factor_before"] == "0.96"
    assert doc["health_factor_after"].startswith("1.0500000000")


def test_liquidate_under_auction_starts_an_auction(xm, tmp_path: Path) -> None:
    out = tmp_path / "after.toml"
    run = xm("liquidate", CLIP, "--account", "short", *LIQUIDATE, "--out", out)
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert doc["auction"] == {
        "id": 1,
        "account": "short",
        "debt_asset": "USDC",
        "collateral_asset": "WETH",
        "debt": "10000",
        "tab": "11300",
        "lot": "6",
        "top": "2400",
        "tic": "2024-06-01T08:00:00Z",
    }
    assert (doc["keeper_incentive"], doc["insurance_fund_used"]) == ("21.3", {"USDC": "21.3"})
    assert "[state.auctions.1]" in out.read_text()


def test_liquidate_under_storefront_absorbs_the_account(xm) -> None:
    run = xm("liquidate", COMET, "--account", "under", *LIQUIDATE)
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert (doc["excess"], doc["protocol_value"], doc["reserves"]) == (
        "480",
        "620",
        {"USDC": "-6480"},
    )
    refused = xm("liquidate", COMET, "--account", "under", "--debt", "USDC", "--collateral",
                 "WETH", "--amount", "10", "--json")  # fmt: skip
    assert refused.code == 2
    assert "absorb takes every balance" in refused.error_line
    wrong = xm("liquidate", COMET, "--account", "under", "--debt", "USDC", "--collateral",
               "USDC", "--max", "--json")  # fmt: skip
    assert wrong.code == 1 and wrong.json()["error"]["code"] == "nothing_to_liquidate"


def test_an_auction_from_start_to_end(xm, tmp_path: Path) -> None:
    start = [
        "auction", "start", CLIP, "--account", "short", "--debt", "USDC",
        "--collateral", "WETH", "--max", "--out", tmp_path / "m.toml", "--json",
    ]  # fmt: skip
    assert xm(*start).code == 0
    market = tmp_path / "m.toml"
    iso = xm("auction", "status", market, "--at", "2024-06-01T08:05:00Z", "--json")
    assert iso.json()["auctions"][0]["age_seconds"] == "300"
    status = xm("auction", "status", market, "--at", "+30m", "--json")
    assert status.code == 0
    row = status.json()["auctions"][0]
    assert (row["price"], row["age_seconds"], row["needs_reset"]) == (
        "1962.976650233354090135",
        "1800",
        False,
    )
    take = xm("auction", "take", market, "--id", "1", "--amount", "2", "--at", "+30m",
              "--out", tmp_path / "m2.toml", "--json")  # fmt: skip
    assert take.code == 0
    doc = take.json()
    assert (doc["bought"], doc["paid"], doc["auction"]["lot"]) == ("2", "3925.953301", "4")
    assert doc["time"] == "2024-06-01T08:30:00Z"
    late = xm("auction", "take", tmp_path / "m2.toml", "--id", "1", "--max", "--at", "+2h",
              "--json")  # fmt: skip
    assert late.code == 1
    assert late.json()["error"]["code"] == "auction_needs_reset"
    reset = xm("auction", "reset", tmp_path / "m2.toml", "--id", "1", "--at", "+2h", "--json")
    assert reset.code == 0
    assert reset.json()["auction"]["tic"] == "2024-06-01T10:30:00Z"


def test_auction_errors_are_bad_input_or_refusals(xm, tmp_path: Path) -> None:
    unknown = xm("auction", "take", CLIP, "--id", "9", "--max", "--json")
    assert unknown.code == 2 and unknown.json()["error"]["code"] == "unknown_auction"
    bad_at = xm("auction", "status", CLIP, "--at", "tomorrow", "--json")
    assert bad_at.code == 2 and bad_at.json()["error"]["code"] == "invalid_time"
    past = xm("auction", "status", CLIP, "--at", "2024-01-01T00:00:00Z", "--json")
    assert past.code == 2 and "before the market's time" in past.error_line
    healthy = xm("auction", "start", CLIP, "--account", "healthy", "--debt", "USDC",
                 "--collateral", "WETH", "--max", "--json")  # fmt: skip
    assert healthy.code == 1 and healthy.json()["error"]["code"] == "not_liquidatable"
    both = xm("auction", "take", CLIP, "--id", "1", "--max", "--amount", "1", "--json")
    assert both.code == 2
    wrong_design = xm("auction", "start", AAVE, "--account", "deep", "--debt", "USDC",
                      "--collateral", "WETH", "--max", "--json")  # fmt: skip
    assert wrong_design.code == 2
    assert wrong_design.json()["error"]["code"] == "liquidation_design_mismatch"
    suffix = xm("auction", "start", CLIP, "--account", "short", "--debt", "USDC",
                "--collateral", "WETH", "--max", "--out", tmp_path / "x.json")  # fmt: skip
    assert suffix.code == 2


def test_absorb_and_buy_collateral(xm, tmp_path: Path) -> None:
    market = tmp_path / "m.toml"
    shutil.copy(COMET, market)
    assert xm("absorb", market, "--account", "under", "--out", market, "--json").code == 0
    buy = xm("buy-collateral", market, "--asset", "WETH", "--amount", "1447.5", "--json")
    assert buy.code == 0
    assert buy.json() == {
        "asset": "WETH",
        "base": "USDC",
        "paid": "1447.5",
        "bought": "0.5",
        "price": "2895",
        "buyer_value": "52.5",
        "reserves_before": "-6480",
        "reserves_after": "-5032.5",
    }
    too_much = xm("buy-collateral", market, "--asset", "WETH", "--amount", "5000", "--json")
    assert too_much.code == 1
    assert too_much.json()["error"]["code"] == "insufficient_reserves"
    safe = xm("absorb", market, "--account", "safe", "--json")
    assert safe.code == 1 and safe.json()["error"]["code"] == "not_liquidatable"
    every = xm("buy-collateral", market, "--asset", "WBTC", "--max", "--json")
    assert every.code == 0
    assert (every.json()["bought"], every.json()["paid"]) == ("0.1", "3895")


def test_socialize_over_a_perp_and_over_depositors(xm, tmp_path: Path) -> None:
    market = tmp_path / "m.json"
    doc = json.loads(json.dumps(_toml(DRIFT), default=str))
    market.write_text(json.dumps(doc))
    perp = xm("socialize", market, "--perp", "ETH-PERP", "--out", market, "--json")
    assert perp.code == 0
    assert (perp.json()["funding_delta"], perp.json()["charged_value"]) == (
        "9.0909091",
        "100.0000001",
    )
    spot = xm("socialize", market, "--asset", "DAI", "--json")
    assert spot.code == 0
    assert (spot.json()["index_after"], spot.json()["taken"]) == (
        "0.908333333333333333",
        "11.000001",
    )
    again = xm("socialize", market, "--perp", "ETH-PERP", "--json")  # the deficit is gone
    assert again.code == 1 and again.json()["error"]["code"] == "nothing_to_socialize"
    neither = xm("socialize", market, "--json")
    assert neither.code == 2


def test_deleverage(xm) -> None:
    run = xm("deleverage", DYDX, "--account", "bankrupt", "--perp", "ETH-PERP", "--json")
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert (doc["bankruptcy_price"], doc["closed"], doc["net_value"]) == ("2050", "2", "-100")
    assert [(c["account"], c["closed"], c["borne_value"]) for c in doc["counterparties"]] == [
        ("deep", "1.5", "75"),
        ("wide", "0.5", "25"),
    ]
    solvent = xm("deleverage", DYDX, "--account", "wide", "--perp", "ETH-PERP", "--json")
    assert solvent.code == 1 and solvent.json()["error"]["code"] == "not_bankrupt"


@pytest.mark.parametrize(
    "args",
    [
        ["liquidate", AAVE, "--account", "ninety-six", "--debt", "USDC", "--collateral", "WETH",
         "--max"],
        ["auction", "start", CLIP, "--account", "short", "--debt", "USDC", "--collateral",
         "WETH", "--max"],
        ["auction", "status", CLIP, "--at", "+5m"],
        ["absorb", COMET, "--account", "under"],
        ["socialize", DRIFT, "--asset", "DAI"],
        ["deleverage", DYDX, "--account", "bankrupt", "--perp", "ETH-PERP"],
    ],
)  # fmt: skip
def test_every_command_prints_a_table_without_json(xm, args: list[object]) -> None:
    run = xm(*args)
    assert (run.code, run.err) == (0, "")
    assert "values in USD" in run.out or "token units" in run.out
    run.assert_clean()


def test_no_traceback_from_the_installed_script(xm_script) -> None:
    run = xm_script("auction", "take", CLIP, "--id", "nope", "--max")
    assert run.code == 2
    run.assert_clean()
    assert run.error_line.startswith("error: unknown auction")


def _toml(path: Path) -> dict[str, object]:
    import tomllib

    return tomllib.loads(path.read_text())
