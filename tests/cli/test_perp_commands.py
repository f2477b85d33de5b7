"""Contract 5.7 through the CLI: ``trade``, ``liquidate --perp``, the new ``health`` and
``stress`` fields, the extensions ``settle`` and ``funding``; exit codes 0/1/2, JSON
errors, never a traceback. Vectors are the market files of tests/vectors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.builders import VECTORS

DERIVE = VECTORS / "derive_perp.toml"
DRIFT = VECTORS / "drift_base_to_cover.toml"
HYPER = VECTORS / "hyperliquid.toml"
TRADING = VECTORS / "perp_trading.toml"

TRADE_FIELDS = [
    "account",
    "perp",
    "size_before",
    "size_after",
    "entry_price",
    "realized_pnl",
    "funding_paid",
    "health_factor_before",
    "health_factor_after",
]
LIQUIDATION_FIELDS = [
    "account",
    "perp",
    "closed",
    "price",
    "realized_pnl",
    "liquidator_fee",
    "insurance_fee",
    "health_factor_before",
    "health_factor_after",
    "bad_debt",
    "insurance_fund_used",
]


def test_derive_perp_trade_through_the_cli(xm) -> None:
    run = xm("trade", DERIVE, "--account", "exact", "--perp", "ETH-PERP", "--size", "10", "--json")
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert list(doc)[: len(TRADE_FIELDS)] == TRADE_FIELDS
    assert doc == {
        "account": "exact",
        "perp": "ETH-PERP",
        "size_before": "0",
        "size_after": "10",
        "entry_price": "1500",
        "realized_pnl": "0",
        "funding_paid": "0",
        "health_factor_before": None,
        "health_factor_after": "2",
        "price": "1500",
    }


def test_derive_perp_1499_is_refused_with_exit_1_and_a_json_error(xm) -> None:
    run = xm("trade", DERIVE, "--account", "short", "--perp", "ETH-PERP", "--size", "10", "--json")
    run.assert_clean()
    assert run.code == 1
    error = run.json()["error"]
    assert error["code"] == "insufficient_margin"
    assert "1499" in error["message"] and "1500" in error["message"]
    assert run.error_line.startswith("error: account 'short': trade refused")


def test_a_trade_written_out_reads_back_with_the_new_position(xm, tmp_path: Path) -> None:
    out = tmp_path / "after.toml"
    run = xm("trade", TRADING, "--account", "trader", "--perp", "ETH-PERP", "--size", "-8",
             "--out", out, "--json")  # fmt: skip
    doc = run.json()
    assert (doc["size_after"], doc["entry_price"], doc["realized_pnl"]) == ("-3", "2000", "1000")
    health = xm("health", out, "--account", "trader", "--json").json()["accounts"][0]
    assert health["perp_notional"] == "6000"  # 3 x 2,000
    assert health["unrealized_pnl"] == "0"
    assert health["collateral_value"] == "11000"  # 10,000 + 1,000 realised


def test_closing_a_position_prints_a_null_entry_price(xm) -> None:
    doc = xm("trade", TRADING, "--account", "trader", "--perp", "ETH-PERP", "--size", "-5",
             "--json").json()  # fmt: skip
    assert (doc["size_after"], doc["entry_price"]) == ("0", None)


def test_a_trade_prints_a_table_for_people(xm) -> None:
    run = xm("trade", TRADING, "--account", "trader", "--perp", "ETH-PERP", "--size", "1",
             "--price", "1950")  # fmt: skip
    assert (run.code, run.err) == (0, "")
    for text in ("Trade by trader", "execution price (USD)", "1950", "1825"):
        assert text in run.out  # (5 x 1,800 + 1,950) / 6 = 1,825


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--perp", "BTC-PERP", "--size", "1"], 2, "unknown_perp"),
        (["--perp", "ETH-PERP", "--size", "0"], 2, "invalid_amount"),
        (["--perp", "ETH-PERP", "--size", "1e-9"], 2, "invalid_amount"),
        (["--perp", "ETH-PERP", "--size", "1", "--price", "-1"], 2, "invalid_price"),
        (["--perp", "ETH-PERP", "--size", "1", "--out", "x.json"], 2, "invalid_input"),
        (["--perp", "ETH-PERP"], 2, "usage_error"),
        (["--perp", "ETH-PERP", "--size", "1000"], 1, "insufficient_margin"),
    ],
)
def test_bad_or_refused_trades_exit_with_their_code(
    xm, args: list[str], code: int, error: str
) -> None:
    run = xm("trade", TRADING, "--account", "trader", *args, "--json")
    run.assert_clean()
    assert run.code == code
    assert run.json()["error"]["code"] == error
    assert run.error_line


def test_an_open_interest_cap_refusal_exits_1(xm) -> None:
    run = xm(
        "trade", TRADING, "--account", "whale", "--perp", "ETH-PERP", "--size", "-11", "--json"
    )
    assert run.code == 1
    assert run.json()["error"]["code"] == "open_interest_cap_exceeded"


@pytest.mark.parametrize(
    ("account", "perp", "size", "health"),
    [
        ("no_fee", "SOL-PERP", "1", Decimal(1)),
        ("fee", "SOL-PERP-FEE", "1.111111", Decimal("0.99999998875000014")),
        ("fees", "SOL-PERP-FEES", "1.25", Decimal(1)),
    ],
)
def test_drift_base_to_cover_through_liquidate_perp_and_the_resulting_health(
    xm, tmp_path: Path, account: str, perp: str, size: str, health: Decimal
) -> None:
    out = tmp_path / "after.toml"
    run = xm("liquidate", DRIFT, "--account", account, "--perp", perp, "--size", size,
             "--out", out, "--json")  # fmt: skip
    assert (run.code, run.err) == (0, "")
    doc = run.json()
    assert list(doc)[: len(LIQUIDATION_FIELDS)] == LIQUIDATION_FIELDS
    assert (doc["closed"], doc["price"], doc["health_factor_before"]) == (size, "100", "0.9")
    after = xm("health", out, "--account", account, "--json").json()["accounts"][0]
    assert Decimal(after["health_factor"]) == Decimal(doc["health_factor_after"]) == health
    assert abs(Decimal(after["health_factor"]) - 1) < Decimal("1e-7")


def test_liquidate_perp_max_json_with_insurance_fund(xm) -> None:
    run = xm("liquidate", VECTORS / "insurance_fund.toml", "--account", "bankrupt",
             "--perp", "BTC-PERP", "--max", "--json")  # fmt: skip
    doc = run.json()
    assert doc["insurance_fund_used"] == {"USDC": "11.2"}
    assert (doc["bad_debt"], doc["liquidator_fee"], doc["insurance_fee"]) == ({}, "0.8", "0.4")
    assert doc["health_factor_after"] is None


def test_a_spot_liquidation_json_reports_the_insurance_fund_used(xm) -> None:
    doc = xm("liquidate", VECTORS / "insurance_fund.toml", "--account", "sinking", "--debt",
             "USDC", "--collateral", "WETH", "--max", "--json").json()  # fmt: skip
    assert doc["insurance_fund_used"] == {"USDC": "500"}
    assert doc["bad_debt"] == {"USDC": "47.619047", "DAI": "1000"}


def test_liquidate_perp_prints_a_table_for_people(xm) -> None:
    run = xm("liquidate", DRIFT, "--account", "fees", "--perp", "SOL-PERP-FEES", "--max")
    assert (run.code, run.err) == (0, "")
    assert "Perp liquidation of fees" in run.out
    assert "insurance fee" in run.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--perp", "SOL-PERP"], "give exactly one of --size X or --max"),
        (["--perp", "SOL-PERP", "--size", "1", "--max"], "give exactly one of --size X or --max"),
        (["--perp", "SOL-PERP", "--max", "--debt", "USDC"], "cannot be combined with --debt"),
        (["--size", "1"], "--size goes with --perp NAME"),
        (["--max"], "give --debt ASSET and --collateral ASSET, or --perp NAME"),
    ],
)
def test_liquidate_misuse_is_bad_input(xm, args: list[str], message: str) -> None:
    run = xm("liquidate", DRIFT, "--account", "no_fee", *args, "--json")
    run.assert_clean()
    assert run.code == 2
    assert message in run.json()["error"]["message"]


@pytest.mark.parametrize(
    ("account", "perp", "code", "error"),
    [
        ("no_fee", "SOL-PERP-FEE", 1, "nothing_to_liquidate"),
        ("no_fee", "ETH-PERP", 2, "unknown_perp"),
        ("nobody", "SOL-PERP", 2, "unknown_account"),
    ],
)
def test_refused_perp_liquidations_exit_with_their_code(
    xm, account: str, perp: str, code: int, error: str
) -> None:
    run = xm("liquidate", DRIFT, "--account", account, "--perp", perp, "--max", "--json")
    assert run.code == code
    assert run.json()["error"]["code"] == error


def test_a_healthy_perp_account_is_not_liquidatable(xm) -> None:
    run = xm("liquidate", HYPER, "--account", "long", "--perp", "BTC-PERP", "--max", "--json")
    assert run.code == 1
    assert run.json()["error"]["code"] == "not_liquidatable"


def test_health_prints_perp_notional_and_unrealized_pnl(xm) -> None:
    rows = xm("health", VECTORS / "mango_perps.toml", "--json").json()["accounts"]
    got = {r["account"]: (r["perp_notional"], r["unrealized_pnl"]) for r in rows}
    assert got == {
        "m1_short_winner": ("3600", "400"),
        "m2_long_loser": ("3600", "-400"),
        "funded_long": ("3600", "-25"),
    }
    run = xm("health", VECTORS / "mango_perps.toml")
    assert "Perp positions (values in USD)" in run.out and "-400.00" in run.out


def test_a_market_without_perps_prints_zero_and_no_perp_table(xm) -> None:
    rows = xm("health", VECTORS / "basic.toml", "--json").json()["accounts"]
    assert {(r["perp_notional"], r["unrealized_pnl"]) for r in rows} == {("0", "0")}
    assert "Perp positions" not in xm("health", VECTORS / "basic.toml").out


def test_stress_moves_perps_with_their_underlying(xm) -> None:
    doc = xm("stress", HYPER, "--shock", "BTC=-8%", "--json").json()
    rows = {r["account"]: r for r in doc["accounts"]}
    assert (rows["long"]["perp_notional"], rows["long"]["unrealized_pnl"]) == ("92", "-8")
    assert rows["long"]["liquidatable"] is True and rows["short"]["liquidatable"] is False
    assert doc["summary"]["liquidatable_accounts"] == 1
    assert "Perp positions after shocks" in xm("stress", HYPER, "--shock", "BTC=-8%").out


def test_liquidation_price_moves_the_perp_with_its_underlying(xm) -> None:
    doc = xm("liquidation-price", HYPER, "--account", "long", "--asset", "BTC", "--json").json()
    assert doc["price"] == "92.307692307692307693"  # Hyperliquid: 92.3077


def test_settle_and_funding_commands(xm, tmp_path: Path) -> None:
    funded = tmp_path / "funded.toml"
    doc = xm("funding", TRADING, "--perp", "ETH-PERP", "--index", "10", "--out", funded,
             "--json").json()  # fmt: skip
    assert doc == {"perp": "ETH-PERP", "funding_index": "10", "previous": "0"}
    settled = tmp_path / "settled.toml"
    doc = xm("settle", funded, "--account", "trader", "--perp", "ETH-PERP", "--out", settled,
             "--json").json()  # fmt: skip
    assert (doc["funding_paid"], doc["realized_pnl"], doc["size"]) == ("50", "1000", "5")
    row = xm("health", settled, "--account", "trader", "--json").json()["accounts"][0]
    assert (row["collateral_value"], row["unrealized_pnl"]) == ("10950", "0")
    assert (
        "Settlement of trader"
        in xm("settle", funded, "--account", "trader", "--perp", "ETH-PERP").out
    )
    assert "Funding index" in xm("funding", TRADING, "--perp", "ETH-PERP",
                                             "--index", "-1").out  # fmt: skip


def test_settle_without_a_position_exits_1(xm) -> None:
    run = xm("settle", DERIVE, "--account", "exact", "--perp", "ETH-PERP", "--json")
    assert run.code == 1
    assert run.json()["error"]["code"] == "no_position"


def test_funding_refuses_a_non_finite_index(xm) -> None:
    run = xm("funding", TRADING, "--perp", "ETH-PERP", "--index", "nan", "--json")
    assert run.code == 2
    assert run.json()["error"]["code"] == "invalid_amount"
    assert run.error_line == "error: perps.ETH-PERP.funding_index: must be a finite number, was nan"


def test_the_risk_book_answers_a_market_with_perps_as_the_exact_engine(
    xm, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in (["health", HYPER], ["stress", HYPER, "--shock", "BTC=-8%"]):
        monkeypatch.setenv("XMARGIN_ENGINE", "exact")
        exact = xm(*command, "--json").json()
        monkeypatch.setenv("XMARGIN_ENGINE", "book")
        run = xm(*command, "--json")
        run.assert_clean()
        assert run.code == 0
        book = run.json()
        assert [r["account"] for r in book["accounts"]] == [r["account"] for r in exact["accounts"]]
        for b, e in zip(book["accounts"], exact["accounts"], strict=True):
            assert b["liquidatable"] == e["liquidatable"], b["account"]
            for key in ("maintenance_collateral", "maintenance_debt", "perp_notional",
                        "unrealized_pnl", "health_factor"):  # fmt: skip
                x, y = b[key], e[key]
                assert (x is None) == (y is None), (b["account"], key)
                if x is not None:
                    assert abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(y))), key


def test_a_bad_perp_market_file_exits_2_without_a_traceback(xm_script, tmp_path: Path) -> None:
    text = HYPER.read_text().replace("maintenance_margin = 0.025", "maintenance_margin = 0.5")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    run = xm_script("trade", path, "--account", "long", "--perp", "BTC-PERP", "--size", "1")
    run.assert_clean()
    assert run.code == 2
    assert "perps.BTC-PERP.maintenance_margin: must be <= initial_margin (0.05), was 0.5" in (
        run.error_line
    )
