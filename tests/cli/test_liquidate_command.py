"""``xmargin liquidate``: contract section 3 through the command line, and ``--out``.

demo.toml (USD): WETH 2000 (lt 0.85, bonus 0.05, protocol fee 0.1), USDC 1 (6 decimals).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from xmargin.io import load_market
from xmargin.ledger.actions import execute_liquidate

FIELDS = [
    "account",
    "debt_asset",
    "collateral_asset",
    "repaid",
    "seized",
    "liquidator_receives",
    "protocol_fee",
    "health_factor_before",
    "health_factor_after",
    "bad_debt",
]


def _liquidate(xm, path: Path, account: str, *amount: str, out: Path | None = None):
    args: list[str | Path] = ["liquidate", path, "--account", account]
    args += ["--debt", "USDC", "--collateral", "WETH", *amount]
    if out is not None:
        args += ["--out", out]
    return xm(*args, "--json")


def test_max_liquidation_above_full_liquidation_health_repays_the_close_factor(
    xm, demo_toml: Path
) -> None:
    # bob: health 0.9714 > 0.95, so at most close_factor * D = 0.5 * 1750 = 875 USDC.
    # seized = 875 * 1 * 1.05 / 2000 = 0.459375 WETH (918.75 USD);
    # fee = (0.459375 - 0.459375/1.05) * 0.1 = 0.021875 * 0.1 = 0.0021875 WETH;
    # after: 0.540625 WETH (mc 919.0625) against 875 USDC: health 1.050357142857142857|14..
    run = _liquidate(xm, demo_toml, "bob", "--max")
    assert run.code == 0
    assert run.err == ""
    doc = run.json()
    assert list(doc)[: len(FIELDS)] == FIELDS
    assert doc == {
        "account": "bob",
        "debt_asset": "USDC",
        "collateral_asset": "WETH",
        "repaid": "875",
        "seized": "0.459375",
        "liquidator_receives": "0.4571875",
        "protocol_fee": "0.0021875",
        "health_factor_before": "0.971428571428571428",
        "health_factor_after": "1.050357142857142857",
        "bad_debt": {},
        "insurance_fund_used": {},  # contract 5.5: {} when none
        "bonus": "0.05",
    }


def test_an_amount_is_repaid_as_given_when_below_the_limit(xm, demo_toml: Path) -> None:
    # bob repays 100 USDC: seized = 100 * 1.05 / 2000 = 0.0525 WETH; fee = 0.0025 * 0.1;
    # after: 0.9475 WETH (mc 1610.75) against 1650 USDC: health 0.976212121212121212|12..
    doc = _liquidate(xm, demo_toml, "bob", "--amount", "100").json()
    assert doc["repaid"] == "100"
    assert doc["seized"] == "0.0525"
    assert doc["protocol_fee"] == "0.00025"
    assert doc["liquidator_receives"] == "0.05225"
    assert doc["health_factor_after"] == "0.976212121212121212"


def test_an_amount_above_the_close_factor_limit_is_capped(xm, demo_toml: Path) -> None:
    assert _liquidate(xm, demo_toml, "bob", "--amount", "5000").json()["repaid"] == "875"


def test_seizing_all_collateral_writes_off_the_rest_as_bad_debt(xm, demo_toml: Path) -> None:
    # carol: health 0.7727 <= 0.95, so all 1100 USDC may be repaid; that would seize
    # 1100 * 1.05 / 2000 = 0.5775 WETH > 0.5 held. So seized = 0.5 WETH (1000 USD) and
    # repaid = 0.5 * 2000 / 1.05 = 952.380952|38.. rounded up to 6 places = 952.380953.
    # fee = (0.5 - 0.5/1.05) * 0.1 = 0.002380952380952380|95.. rounded up.
    # No collateral is left: 1100 - 952.380953 = 147.619047 USDC is bad debt; health null.
    doc = _liquidate(xm, demo_toml, "carol", "--max").json()
    assert doc["repaid"] == "952.380953"
    assert doc["seized"] == "0.5"
    assert doc["protocol_fee"] == "0.002380952380952381"
    assert doc["liquidator_receives"] == "0.497619047619047619"
    assert doc["health_factor_before"] == "0.772727272727272727"
    assert doc["health_factor_after"] is None
    assert doc["bad_debt"] == {"USDC": "147.619047"}


def test_liquidating_a_healthy_account_is_refused_with_exit_1(xm, demo_toml: Path) -> None:
    run = _liquidate(xm, demo_toml, "alice", "--max")
    assert run.code == 1
    error = run.json()["error"]
    assert error["code"] == "not_liquidatable"
    assert list(error) == ["code", "message", "problems"]
    assert "'alice'" in run.error_line
    run.assert_clean()


def test_liquidating_an_asset_the_account_does_not_owe_is_refused_with_exit_1(
    xm, demo_toml: Path
) -> None:
    run = xm(
        "liquidate", demo_toml, "--account", "bob", "--debt", "WETH", "--collateral", "WETH",
        "--max", "--json",
    )  # fmt: skip
    assert run.code == 1
    assert run.json()["error"]["code"] == "nothing_to_liquidate"
    assert "owes no WETH" in run.error_line


def test_a_liquidation_that_would_leave_dust_is_refused_with_exit_1(xm, dust_toml: Path) -> None:
    # erin: health 1700/1790 <= 0.95, so all may be repaid; repaying 1750 of 1790 USDC
    # would leave 40 USD of debt, below min_leftover_value = 100 USD.
    run = _liquidate(xm, dust_toml, "erin", "--amount", "1750")
    assert run.code == 1
    assert run.json()["error"]["code"] == "would_leave_dust"
    assert "USDC" in run.error_line


def test_repaying_all_debt_is_never_dust(xm, dust_toml: Path) -> None:
    # 1790 * 1.05 / 2000 = 0.93975 WETH seized; the debt is cleared, so no dust rule.
    doc = _liquidate(xm, dust_toml, "erin", "--max").json()
    assert doc["repaid"] == "1790"
    assert doc["seized"] == "0.93975"


@pytest.mark.parametrize(
    ("name", "account"),
    [("demo.toml", "bob"), ("demo.toml", "carol"), ("demo.json", "bob"), ("demo.json", "carol")],
)
def test_out_writes_the_market_after_liquidation_in_the_input_format(
    xm, tmp_path: Path, name: str, account: str
) -> None:
    source = tmp_path / name
    shutil.copy(Path(__file__).parent / "files" / name, source)
    out = tmp_path / f"after{source.suffix}"
    run = _liquidate(xm, source, account, "--max", out=out)
    assert run.code == 0

    text = out.read_text()
    if source.suffix == ".json":
        json.loads(text)
    else:
        tomllib.loads(text)

    expected = load_market(source)
    execute_liquidate(expected, account, "USDC", "WETH", "max")
    written = load_market(out)
    assert written.state_equals(expected)
    assert written.deficit == expected.deficit
    # The input is left as it was.
    assert load_market(source).accounts[account].borrow != written.accounts[account].borrow


def test_out_keeps_the_bad_debt_deficit(xm, tmp_path: Path, demo_toml: Path) -> None:
    out = tmp_path / "after.toml"
    assert _liquidate(xm, demo_toml, "carol", "--max", out=out).code == 0
    written = load_market(out)
    assert str(written.deficit["USDC"]) == "147.619047"
    assert written.accounts["carol"].borrow == {}


def test_a_refused_liquidation_writes_no_out_file(xm, tmp_path: Path, demo_toml: Path) -> None:
    out = tmp_path / "after.toml"
    assert _liquidate(xm, demo_toml, "alice", "--max", out=out).code == 1
    assert not out.exists()


def test_a_refused_liquidation_because_of_dust_writes_no_out_file(
    xm, tmp_path: Path, dust_toml: Path
) -> None:
    out = tmp_path / "after.toml"
    assert _liquidate(xm, dust_toml, "erin", "--amount", "1750", out=out).code == 1
    assert not out.exists()


def test_an_out_file_in_an_unwritable_place_exits_2_naming_it(
    xm, tmp_path: Path, demo_toml: Path
) -> None:
    out = tmp_path / "no-such-dir" / "after.toml"
    run = _liquidate(xm, demo_toml, "bob", "--max", out=out)
    assert run.code == 2
    assert str(out) in run.error_line
    run.assert_clean()


def test_the_table_shows_units_of_each_asset(xm, demo_toml: Path) -> None:
    run = xm(
        "liquidate", demo_toml, "--account", "carol", "--debt", "USDC", "--collateral", "WETH",
        "--max",
    )  # fmt: skip
    assert run.code == 0
    assert "952.380953 USDC" in run.out
    assert "147.619047 USDC" in run.out
    assert "USD" in run.out
