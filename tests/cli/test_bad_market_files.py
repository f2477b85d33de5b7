"""Malformed market files (contract 1.1): exit 2, every problem with its location, no traceback.

Each case is a small file that breaks one rule; the test names the location the error
must point at. The same bad file is refused by every command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BASE = """\
[market]
quote = "USD"

[assets.WETH]
price = 2000
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.05

[assets.USDC]
price = 1
decimals = 6
collateral_factor = 0.9
liquidation_threshold = 0.95
liquidation_bonus = 0.04
"""

GHO = """
[assets.GHO]
price = 1
collateral_factor = 0.5
liquidation_threshold = 0.6
liquidation_bonus = 0.05
debt_ceiling = 1000000
borrowable_in_isolation = true
"""

BASE_JSON = """\
{"market": {"quote": "USD"},
 "assets": {"WETH": {"price": %s, "collateral_factor": 0.8, "liquidation_threshold": 0.85,
                     "liquidation_bonus": 0.05}}}
"""


def _replace(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


# (id, file name, text, {extra file: text}, substrings the error must hold)
CASES: list[tuple[str, str, str, dict[str, str], list[str]]] = [
    ("invalid TOML", "m.toml", '[market\nquote = "USD"\n', {}, ["not valid TOML", "line 1"]),
    (
        "invalid JSON",
        "m.json",
        '{"market": {"quote": "USD",}}',
        {},
        ["not valid JSON", "line 1"],
    ),
    ("JSON NaN", "m.json", BASE_JSON % "NaN", {}, ["assets.WETH.price", "finite", "NaN"]),
    ("JSON Infinity", "m.json", BASE_JSON % "-Infinity", {}, ["assets.WETH.price", "finite"]),
    (
        "TOML inf",
        "m.toml",
        _replace("price = 2000", "price = inf"),
        {},
        ["assets.WETH.price", "finite"],
    ),
    (
        "TOML nan string",
        "m.toml",
        _replace("price = 2000", 'price = "NaN"'),
        {},
        ["assets.WETH.price"],
    ),
    (
        "negative balance",
        "m.toml",
        BASE + "\n[accounts.alice]\nsupply = { WETH = -1 }\n",
        {},
        ["accounts.alice.supply.WETH", "must be >= 0, was -1"],
    ),
    (
        "zero price",
        "m.toml",
        _replace("price = 1\n", "price = 0\n"),
        {},
        ["assets.USDC.price", "must be > 0, was 0"],
    ),
    (
        "cf above lt",
        "m.toml",
        _replace("collateral_factor = 0.8", "collateral_factor = 0.9"),
        {},
        ["assets.WETH.liquidation_threshold", "must be >= collateral_factor (0.9)"],
    ),
    (
        "unknown asset in an account",
        "m.toml",
        BASE + "\n[accounts.alice]\nsupply = { WETH = 1 }\nborrow = { DAI = 5 }\n",
        {},
        ["accounts.alice.borrow.DAI", "unknown asset 'DAI'"],
    ),
    (
        "unknown category",
        "m.toml",
        BASE + '\n[accounts.alice]\ncategory = "btc"\nsupply = { WETH = 1 }\n',
        {},
        ["accounts.alice.category", "unknown category 'btc'"],
    ),
    (
        "isolated asset beside collateral",
        "m.toml",
        BASE + GHO + "\n[accounts.alice]\nsupply = { GHO = 10, WETH = 1 }\n",
        {},
        ["accounts.alice.supply", "isolated GHO", "WETH"],
    ),
    (
        "borrowing what isolation forbids",
        "m.toml",
        BASE + GHO + "\n[accounts.alice]\nsupply = { GHO = 10 }\nborrow = { WETH = 0.001 }\n",
        {},
        ["accounts.alice.borrow.WETH", "not borrowable in isolation"],
    ),
    (
        "magnitude above 1e24",
        "m.toml",
        BASE + "\n[accounts.alice]\nsupply = { WETH = 2e24 }\n",
        {},
        ["accounts.alice.supply.WETH", "magnitude must be <= 1e24"],
    ),
    (
        "price above 1e24",
        "m.toml",
        _replace("price = 2000", 'price = "1000000000000000000000001"'),
        {},
        ["assets.WETH.price", "magnitude"],
    ),
    (
        "unknown key",
        "m.toml",
        _replace("liquidation_bonus = 0.05", "liquidation_bonus = 0.05\nliquidation_bonsu = 0.1"),
        {},
        ["assets.WETH.liquidation_bonsu", "unknown key"],
    ),
    (
        "wrong type",
        "m.toml",
        _replace("liquidation_bonus = 0.05", 'liquidation_bonus = 0.05\nborrowable = "yes"'),
        {},
        ["assets.WETH.borrowable", "boolean"],
    ),
    (
        "number where text belongs",
        "m.toml",
        _replace('quote = "USD"', "quote = 840"),
        {},
        ["market.quote"],
    ),
    ("missing [market]", "m.toml", BASE.split("\n", 2)[2], {}, ["market: required"]),
    (
        "unknown section",
        "m.toml",
        BASE + '\n[oracles]\nWETH = "chainlink"\n',
        {},
        ["oracles: unknown section"],
    ),
    (
        "close factor of zero",
        "m.toml",
        _replace('quote = "USD"', 'quote = "USD"\nclose_factor = 0'),
        {},
        ["market.close_factor", "(0, 1]"],
    ),
    (
        "borrow weight below the maintenance weight",
        "m.toml",
        _replace(
            "liquidation_bonus = 0.05",
            "liquidation_bonus = 0.05\nmaintenance_borrow_weight = 1.2",
        ),
        {},
        ["assets.WETH.borrow_weight", "maintenance_borrow_weight (1.2)"],
    ),
    (
        "too many decimals for the asset",
        "m.toml",
        BASE + '\n[accounts.alice]\nsupply = { WETH = 1 }\nborrow = { USDC = "1.0000001" }\n',
        {},
        ["accounts.alice.borrow.USDC", "more than 6 decimal places"],
    ),
    (
        "category member that does not exist",
        "m.toml",
        BASE
        + "\n[categories.eth]\ncollateral_factor = 0.9\nliquidation_threshold = 0.93\n"
        + 'liquidation_bonus = 0.01\nassets = ["WETH", "stETH"]\n',
        {},
        ["categories.eth.assets", "unknown asset 'stETH'"],
    ),
    (
        "accounts_file missing a column",
        "m.toml",
        _replace('quote = "USD"', 'quote = "USD"\naccounts_file = "positions.csv"'),
        {"positions.csv": "account,asset,supply\nalice,WETH,1\n"},
        ["market.accounts_file (positions.csv)", "missing column", "borrow"],
    ),
    (
        "accounts_file with a negative cell",
        "m.toml",
        _replace('quote = "USD"', 'quote = "USD"\naccounts_file = "positions.csv"'),
        {"positions.csv": "account,asset,supply,borrow\nalice,WETH,1,0\nbob,WETH,-2,0\n"},
        ["positions.csv:row 3.supply", "must be >= 0"],
    ),
    (
        "accounts_file with an unknown asset",
        "m.toml",
        _replace('quote = "USD"', 'quote = "USD"\naccounts_file = "positions.csv"'),
        {"positions.csv": "account,asset,supply,borrow\nalice,DAI,1,0\n"},
        ["positions.csv:row 2.asset", "unknown asset 'DAI'"],
    ),
    (
        "account both inline and in accounts_file",
        "m.toml",
        _replace('quote = "USD"', 'quote = "USD"\naccounts_file = "positions.csv"')
        + "\n[accounts.alice]\nsupply = { WETH = 1 }\n",
        {"positions.csv": "account,asset,supply,borrow\nalice,USDC,100,0\n"},
        ["positions.csv:row 2", "'alice'", "also written inline"],
    ),
    (
        "accounts_file that is not there",
        "m.toml",
        _replace('quote = "USD"', 'quote = "USD"\naccounts_file = "nope.csv"'),
        {},
        ["market.accounts_file (nope.csv)"],
    ),
    ("not a market file suffix", "m.yaml", BASE, {}, ["must end in .toml or .json", "m.yaml"]),
    ("JSON top level not an object", "m.json", "[1, 2]", {}, ["top level"]),
]


def _write(tmp_path: Path, name: str, text: str, extra: dict[str, str]) -> Path:
    for extra_name, extra_text in extra.items():
        (tmp_path / extra_name).write_text(extra_text)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "extra", "wants"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_malformed_market_file_exits_2_naming_the_location(
    xm, tmp_path: Path, name: str, text: str, extra: dict[str, str], wants: list[str]
) -> None:
    path = _write(tmp_path, name, text, extra)
    run = xm("check", path, "--json")
    run.assert_clean()
    assert run.code == 2
    line = run.error_line
    assert str(path) in line
    for want in wants:
        assert want in line
    error = run.json()["error"]
    assert error["code"] == "invalid_market_file"
    assert error["message"] == line.removeprefix("error: ")
    assert any(wants[0] in p for p in error["problems"])


def test_the_cases_cover_at_least_fifteen_distinct_files() -> None:
    assert len({c[0] for c in CASES}) >= 15


def test_every_problem_is_listed_with_json_even_beyond_the_first_three(xm, tmp_path: Path) -> None:
    # Four problems: a zero price, cf > lt, an unknown asset and a negative balance.
    text = (
        _replace("price = 1\n", "price = 0\n").replace(
            "collateral_factor = 0.8", "collateral_factor = 0.9"
        )
        + "\n[accounts.alice]\nsupply = { WETH = -1 }\nborrow = { DAI = 5 }\n"
    )
    path = _write(tmp_path, "m.toml", text, {})
    run = xm("check", path, "--json")
    assert run.code == 2
    problems = run.json()["error"]["problems"]
    assert sorted(problems) == sorted(
        [
            "assets.WETH.liquidation_threshold: must be >= collateral_factor (0.9)",
            "assets.USDC.price: must be > 0, was 0",
            "accounts.alice.supply.WETH: must be >= 0, was -1",
            "accounts.alice.borrow.DAI: unknown asset 'DAI'",
        ]
    )
    # The one stderr line shows the count and the first three, then how many more.
    assert "4 problems" in run.error_line
    assert "and 1 more" in run.error_line


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["health"],
        ["liquidate", "--account", "a", "--debt", "USDC", "--collateral", "WETH", "--max"],
        ["liquidation-price", "--account", "a", "--asset", "WETH"],
        ["stress", "--shock", "WETH=-30%"],
    ],
    ids=lambda a: a[0],
)
def test_every_command_refuses_a_malformed_file_without_json_too(
    xm, tmp_path: Path, args: list[str]
) -> None:
    path = _write(tmp_path, "m.toml", _replace("price = 2000", "price = 0"), {})
    run = xm(args[0], path, *args[1:])
    run.assert_clean()
    assert run.code == 2
    assert run.out == ""
    assert "assets.WETH.price: must be > 0, was 0" in run.error_line


def test_a_file_that_is_not_utf8_is_refused(xm, tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b'[market]\nquote = "\xff"\n')
    run = xm("check", path)
    assert run.code == 2
    assert "not UTF-8" in run.error_line
