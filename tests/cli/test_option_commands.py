"""Contract 6.4 and docs/contract.md 6.5 through the CLI: ``trade --option``, ``liquidate
--options``, ``greeks``, ``option_value`` in ``health`` and ``stress``, ``stress
--vol-shock``, ``liquidation-price`` with its method; exit codes 0/1/2, JSON errors, never
a traceback. Vectors are the market files of tests/vectors."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from tests.builders import VECTORS
from xmargin.io.market_file import load_market

BOOK = VECTORS / "option_book.toml"
SRM = VECTORS / "derive_srm.toml"
PMRM = VECTORS / "derive_pmrm.toml"

TRADE_FIELDS = [
    "account",
    "option",
    "size_before",
    "size_after",
    "entry_price",
    "realized_pnl",
    "funding_paid",
    "health_factor_before",
    "health_factor_after",
    "price",
    "premium",
]


def test_trade_option_prints_the_perp_trade_fields_with_option(xm, tmp_path: Path) -> None:
    out = tmp_path / "after.toml"
    run = xm(
        "trade", BOOK, "--account", "spread", "--option", "ETH-0628-2400-C",
        "--size", "1", "--price", "35.5", "--out", out, "--json",
    )  # fmt: skip
    run.assert_clean()
    assert run.code == 0, run.err
    doc = run.json()
    assert list(doc) == TRADE_FIELDS
    assert doc["option"] == "ETH-0628-2400-C"
    assert (doc["size_before"], doc["size_after"]) == ("-3", "-2")
    assert (doc["entry_price"], doc["realized_pnl"], doc["funding_paid"]) == (None, "0", "0")
    assert (doc["price"], doc["premium"]) == ("35.5", "35.5")
    after = load_market(out)
    assert after.accounts["spread"].options["ETH-0628-2400-C"] == Decimal(-2)
    assert after.accounts["spread"].supply["USDC"] == Decimal("2964.5")


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--option", "NOPE", "--size", "1"], 2, "unknown_option"),
        (["--option", "ETH-0628-2200-C", "--size", "0"], 2, "invalid_amount"),
        (["--option", "ETH-0628-2200-C", "--size", "1", "--price", "-1"], 2, "invalid_price"),
        (["--option", "ETH-0628-2200-C", "--perp", "ETH-PERP", "--size", "1"], 2, "invalid_input"),
        (["--size", "1"], 2, "invalid_input"),
        (["--option", "ETH-0628-2200-C", "--size", "-50"], 1, "insufficient_margin"),
    ],
)
def test_bad_or_refused_option_trades_exit_with_their_code(
    xm, args: list[str], code: int, error: str
) -> None:
    run = xm("trade", BOOK, "--account", "writer", *args, "--json")
    run.assert_clean()
    assert run.code == code
    assert run.json()["error"]["code"] == error
    assert run.error_line


def test_health_carries_option_value_and_the_option_table(xm) -> None:
    doc = xm("health", SRM, "--json").json()
    rows = {r["account"]: r for r in doc["accounts"]}
    assert rows["short-1400-call"]["option_value"] == "-100"
    assert rows["short-1400-call"]["maintenance_debt"] == "212.5"
    assert rows["call-spread"]["option_value"] == "0"
    table = xm("health", BOOK).out
    assert "Option positions (values in USD)" in table
    assert max(len(line) for line in table.splitlines()) <= 160


def test_the_derive_test_29_account_through_health(xm) -> None:
    (row,) = xm("health", PMRM, "--json").json()["accounts"]
    assert (row["maintenance_collateral"], row["maintenance_debt"]) == ("10", "491.4")
    assert (row["initial_collateral"], row["initial_debt"]) == ("10", "618")


def test_stress_accepts_volatility_shocks_beside_price_shocks(xm) -> None:
    plain = xm("stress", BOOK, "--shock", "WETH=-10%", "--json").json()
    vol = xm("stress", BOOK, "--shock", "WETH=-10%", "--vol-shock", "WETH=+50%", "--json").json()
    assert "vol_shocks" not in plain
    assert vol["vol_shocks"] == {"WETH": "0.5"}
    before = {r["account"]: Decimal(r["option_value"]) for r in plain["accounts"]}
    after = {r["account"]: Decimal(r["option_value"]) for r in vol["accounts"]}
    assert after["writer"] < before["writer"]  # short options lose value as volatility rises
    assert after["spread"] != before["spread"]
    table = xm("stress", BOOK, "--shock", "WETH=-10%", "--vol-shock", "WETH=+50%").out
    assert "Volatility shocks" in table and "+50.00%" in table


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--vol-shock", "WETH"], "invalid_input"),
        (["--vol-shock", "DOGE=+5%"], "unknown_asset"),
        (["--vol-shock", "WETH=+5%", "--vol-shock", "WETH=1%"], "invalid_input"),
    ],
)
def test_bad_volatility_shocks_exit_2(xm, args: list[str], error: str) -> None:
    run = xm("stress", BOOK, "--shock", "WETH=-1%", *args, "--json")
    run.assert_clean()
    assert run.code == 2
    assert run.json()["error"]["code"] == error


def test_liquidate_options_closes_shorts_at_mark(xm, tmp_path: Path) -> None:
    out = tmp_path / "after.toml"
    run = xm("liquidate", BOOK, "--account", "thin", "--options", "--out", out, "--json")
    run.assert_clean()
    assert run.code == 0, run.err
    doc = run.json()
    assert list(doc) == [
        "account", "options", "liquidator_fee", "insurance_fee", "health_factor_before",
        "health_factor_after", "bad_debt", "insurance_fund_used",
    ]  # fmt: skip
    (closed,) = doc["options"]
    assert closed["option"] == "ETH-0628-2200-C"
    assert Decimal(doc["health_factor_after"]) >= 1
    after = load_market(out)
    assert after.insurance_fund["USDC"] > Decimal(1000)  # the insurance fee went in


@pytest.mark.parametrize(
    ("account", "extra", "code", "error"),
    [
        ("writer", [], 1, "not_liquidatable"),
        ("thin", ["--debt", "USDC"], 2, "invalid_input"),
        ("thin", ["--max"], 2, "invalid_input"),
        ("nobody", [], 2, "unknown_account"),
    ],
)
def test_refused_option_liquidations_exit_with_their_code(
    xm, account: str, extra: list[str], code: int, error: str
) -> None:
    run = xm("liquidate", BOOK, "--account", account, "--options", *extra, "--json")
    run.assert_clean()
    assert run.code == code
    assert run.json()["error"]["code"] == error


def test_greeks_per_account_and_underlying(xm) -> None:
    doc = xm("greeks", BOOK, "--json").json()
    assert [a["account"] for a in doc["accounts"]] == [
        "writer", "spread", "strangle", "strangle-standard", "thin",
    ]  # fmt: skip
    (g,) = doc["accounts"][0]["greeks"]
    assert list(g) == ["underlying", "spot", "delta", "gamma", "vega", "theta"]
    assert g["underlying"] == "WETH"
    # the writer: 2 WETH, short calls and puts: delta below 2, short gamma and vega
    assert Decimal(g["delta"]) < 2 and Decimal(g["gamma"]) < 0 and Decimal(g["vega"]) < 0
    one = xm("greeks", BOOK, "--account", "spread", "--json").json()
    assert [a["account"] for a in one["accounts"]] == ["spread"]
    table = xm("greeks", BOOK).out
    assert "theta in USD/day" in table


def test_liquidation_price_of_an_option_account_says_how_it_was_solved(xm) -> None:
    doc = xm(
        "liquidation-price", SRM, "--account", "short-1400-call", "--asset", "ETH", "--json"
    ).json()
    assert doc["method"] == "root_finder"
    assert doc["tolerance"] == "0.000000000001"
    # 100,000 USDC against (S − 1400) + 0.075·S: S* = 101,400/1.075
    exact = Decimal(101_400) / Decimal("1.075")
    assert abs(Decimal(doc["price"]) - exact) <= exact * Decimal("1e-12")
    text = xm("liquidation-price", SRM, "--account", "short-1400-call", "--asset", "ETH").out
    assert "root finder" in text


def _large_option_market(tmp_path: Path) -> Path:
    """option_book.toml with an ``accounts_file`` and an ``options_file`` of 120 accounts
    (writers, spreads, some near their level, two opened by the options file), its
    portfolio-margined strangle inline."""
    rng = random.Random(14)
    names = ["ETH-0628-2200-C", "ETH-0628-1800-P", "ETH-0628-2400-C"]
    positions, options = ["account,asset,supply,borrow"], ["account,option,size"]
    for i in range(120):
        acc = f"w{i}"
        positions.append(f"{acc},USDC,{rng.randint(50, 9000)},0")
        if rng.random() < 0.5:
            positions.append(f"{acc},WETH,{rng.randint(0, 300) / 100},0")
        for name in rng.sample(names, rng.randint(1, 2)):
            options.append(f"{acc},{name},{rng.choice([-4, -2, -1.5, -1, 1, 2])}")
    options += ["new-1,ETH-0628-1800-P,1", "new-2,ETH-0628-2400-C,0.5"]
    (tmp_path / "positions.csv").write_text("\n".join(positions) + "\n")
    (tmp_path / "options.csv").write_text("\n".join(options) + "\n")
    text = BOOK.read_text().replace(
        "insurance_fund = { USDC = 1000 }",
        'insurance_fund = { USDC = 1000 }\naccounts_file = "positions.csv"\n'
        'options_file = "options.csv"',
    )
    path = tmp_path / "large.toml"
    path.write_text(text)
    return path


def test_the_risk_book_answers_a_market_with_options_as_the_exact_engine(
    xm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    market = _large_option_market(tmp_path)
    commands = (
        ["health", market],
        ["stress", market, "--shock", "WETH=-12%"],
        ["stress", market, "--shock", "WETH=+9%", "--vol-shock", "WETH=+50%"],
    )
    for command in commands:
        monkeypatch.setenv("XMARGIN_ENGINE", "exact")
        exact = xm(*command, "--json").json()
        monkeypatch.setenv("XMARGIN_ENGINE", "book")
        run = xm(*command, "--json")
        run.assert_clean()
        assert run.code == 0, run.err
        book = run.json()
        assert list(book) == list(exact)
        assert [r["account"] for r in book["accounts"]] == [r["account"] for r in exact["accounts"]]
        assert any(r["liquidatable"] for r in exact["accounts"])
        assert any(r["option_value"] != "0" for r in book["accounts"])
        for b, e in zip(book["accounts"], exact["accounts"], strict=True):
            assert list(b) == list(e)
            assert b["liquidatable"] == e["liquidatable"], b["account"]
            for key, y in e.items():
                x = b[key]
                if key in ("account", "liquidatable") or y is None:
                    assert x == y, (b["account"], key)
                    continue
                assert abs(float(x) - float(y)) <= 1e-9 * max(1.0, abs(float(y))), key
        if "summary" in exact:
            s, t = book["summary"], exact["summary"]
            assert s["liquidatable_accounts"] == t["liquidatable_accounts"]
            for key in ("liquidatable_debt", "insolvent_debt"):
                assert abs(float(s[key]) - float(t[key])) <= 1e-9 * max(1.0, float(t[key]))
            assert book["prices"] == exact["prices"]
            assert book.get("vol_shocks") == exact.get("vol_shocks")


def test_a_bad_option_market_file_exits_2_without_a_traceback(xm_script, tmp_path: Path) -> None:
    text = BOOK.read_text().replace("strike = 2200", "strike = -2200")
    path = tmp_path / "bad.toml"
    path.write_text(text)
    run = xm_script("health", path)
    run.assert_clean()
    assert run.code == 2
    assert "options.ETH-0628-2200-C.strike: must be > 0, was -2200" in run.err


def test_the_readme_shows_a_real_run_of_the_strangle(xm) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    command = (
        "$ xmargin health tests/vectors/option_book.toml --account strangle-standard "
        "--account strangle"
    )
    shown = readme.split(command + "\n", 1)[1].split("```", 1)[0].splitlines()
    run = xm("health", BOOK, "--account", "strangle-standard", "--account", "strangle")
    assert run.code == 0
    printed = [line.rstrip() for line in run.out.splitlines()][: len(shown)]
    assert printed == shown


def test_a_scenario_with_a_vol_shock_values_option_accounts_as_stress_does(
    xm, tmp_path: Path
) -> None:
    scenarios = tmp_path / "vol.toml"
    scenarios.write_text(
        '[scenarios.crash]\nshocks = { WETH = "-10%" }\n'
        '[scenarios.crash-vol]\nshocks = { WETH = "-10%" }\nvol_shock = { WETH = "+50%" }\n',
        encoding="utf-8",
    )
    run = xm("simulate", "scenario", BOOK, scenarios, "--json")
    run.assert_clean()
    plain, vol = run.json()["scenarios"]
    assert "vol_shocks" not in plain and vol["vol_shocks"] == {"WETH": "0.5"}
    for doc, args in (
        (plain, []),
        (vol, ["--vol-shock", "WETH=+50%"]),
    ):
        stressed = xm("stress", BOOK, "--shock", "WETH=-10%", *args, "--json").json()
        holders = {r["account"] for r in doc["options"]["accounts"]}
        assert {"writer", "spread", "strangle", "thin"} <= holders
        assert doc["options"]["accounts"] == [
            r for r in stressed["accounts"] if r["account"] in holders
        ]
    before = {r["account"]: Decimal(r["option_value"]) for r in plain["options"]["accounts"]}
    after = {r["account"]: Decimal(r["option_value"]) for r in vol["options"]["accounts"]}
    assert after["writer"] < before["writer"]  # the vol shock changed the option figures
    table = xm("simulate", "scenario", BOOK, scenarios).out
    assert "Option accounts, valued with their options" in table and "WETH +50.00%" in table


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ('vol_shock = { WETH = "lots" }', "invalid_scenario_file", "scenarios.v.vol_shock.WETH"),
        ('vol_shock = { DOGE = "+5%" }', "invalid_input", "scenarios.v: vol_shock: unknown"),
    ],
)
def test_a_bad_scenario_vol_shock_exits_2_located(
    xm, tmp_path: Path, body: str, code: str, where: str
) -> None:
    scenarios = tmp_path / "bad.toml"
    scenarios.write_text(f"[scenarios.v]\n{body}\n", encoding="utf-8")
    run = xm("simulate", "scenario", BOOK, scenarios, "--json")
    run.assert_clean()
    assert run.code == 2
    error = run.json()["error"]
    assert error["code"] == code and where in str(error)


def test_a_bad_options_file_is_located_on_the_book_path(
    xm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    market = _large_option_market(tmp_path)
    with (tmp_path / "options.csv").open("a") as f:
        f.write("w3,NOPE,1\n")
    monkeypatch.setenv("XMARGIN_ENGINE", "book")
    for command in ("check", "health"):
        run = xm(command, market)
        run.assert_clean()
        assert run.code == 2
        assert "options.csv:row" in run.err and "unknown option 'NOPE'" in run.err
    (tmp_path / "options.csv").write_text("account,option,size\nw3,ETH-0628-2200-C,-1\n")
    run = xm("check", market, "--json")
    assert run.code == 0, run.err
    assert run.json()["accounts"] == 125  # 5 inline, 120 in the accounts_file


def test_a_scenario_margins_portfolio_accounts_by_portfolio_margin(xm, tmp_path: Path) -> None:
    """WETH +50 % on tests/analytics/files/options_portfolio.toml: the simulation closes
    the positions ``quote_option_liquidation`` closes at those prices, account by account,
    under each account's own margin method: the covered call under standard margin is
    cut, the same covered call under portfolio margin is kept, the portfolio-margined
    naked writer is closed out. No warning: nothing is approximated."""
    from xmargin.risk.health import account_health
    from xmargin.risk.option_liquidation import quote_option_liquidation

    market_file = Path(__file__).parents[1] / "analytics" / "files" / "options_portfolio.toml"
    scenarios = tmp_path / "rally.toml"
    scenarios.write_text('[scenarios.rally]\nshocks = { WETH = "+50%" }\n', encoding="utf-8")
    run = xm("simulate", "scenario", market_file, scenarios, "--json")
    run.assert_clean()
    assert run.code == 0 and "warning" not in run.err
    view = load_market(market_file).with_prices({"WETH": Decimal(3000)})
    closes = {
        a: len(quote_option_liquidation(view, a).closed)
        for a, acc in view.accounts.items()
        if account_health(acc, view).liquidatable
    }
    assert closes == {"covered-std": 1, "naked-pm": 2}
    totals = run.json()["scenarios"][0]["totals"]
    assert totals["option_liquidations"] == sum(closes.values())
    assert totals["accounts_liquidated"] == len(closes)
