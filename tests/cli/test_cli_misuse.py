"""Misuse of the command line: exit 2, one ``error:`` line naming what was wrong, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

FILES = Path(__file__).parent / "files"
DEMO = str(FILES / "demo.toml")
LIQ = ["liquidate", DEMO, "--account", "bob", "--debt", "USDC", "--collateral", "WETH"]

# (id, argv, substrings the error line must hold)
CASES: list[tuple[str, list[str], list[str]]] = [
    ("both --amount and --max", [*LIQ, "--amount", "5", "--max"], ["--amount", "--max"]),
    ("neither --amount nor --max", LIQ, ["--amount", "--max"]),
    ("negative --amount", [*LIQ, "--amount", "-5"], ["amount", "must be > 0", "-5"]),
    ("zero --amount", [*LIQ, "--amount", "0"], ["amount", "must be > 0"]),
    ("NaN --amount", [*LIQ, "--amount", "NaN"], ["amount", "finite"]),
    ("infinite --amount", [*LIQ, "--amount", "Infinity"], ["amount", "finite"]),
    ("non-numeric --amount", [*LIQ, "--amount", "lots"], ["amount", "must be a number", "lots"]),
    ("--amount finer than the asset", [*LIQ, "--amount", "1.0000001"], ["6 decimal places"]),
    ("--amount above 1e24", [*LIQ, "--amount", "2e24"], ["amount", "1e24"]),
    ("unknown account in health", ["health", DEMO, "--account", "zed"], ["'zed'"]),
    (
        "unknown account in liquidate",
        ["liquidate", DEMO, "--account", "zed", "--debt", "USDC", "--collateral", "WETH", "--max"],
        ["'zed'"],
    ),
    (
        "unknown debt asset in liquidate",
        ["liquidate", DEMO, "--account", "bob", "--debt", "DAI", "--collateral", "WETH", "--max"],
        ["'DAI'"],
    ),
    (
        "unknown account in liquidation-price",
        ["liquidation-price", DEMO, "--account", "zed", "--asset", "WETH"],
        ["'zed'"],
    ),
    ("unknown asset in --shock", ["stress", DEMO, "--shock", "DAI=-30%"], ["--shock", "'DAI'"]),
    ("--shock without =", ["stress", DEMO, "--shock", "WETH"], ["--shock", "WETH", "ASSET=-30%"]),
    ("--shock not a number", ["stress", DEMO, "--shock", "WETH=lots%"], ["--shock", "lots"]),
    ("--shock of -100%", ["stress", DEMO, "--shock", "WETH=-100%"], ["--shock", "-100%"]),
    ("--shock below -100%", ["stress", DEMO, "--shock", "WETH=-1.5"], ["--shock", "-100%"]),
    (
        "the same asset shocked twice",
        ["stress", DEMO, "--shock", "WETH=-1%", "--shock", "WETH=-2%"],
        ["--shock", "WETH is shocked more than once"],
    ),
    ("stress without --shock", ["stress", DEMO], ["--shock"]),
    (
        "missing market file",
        ["health", "no-such-market.toml"],
        ["no-such-market.toml", "cannot read"],
    ),
    ("market file is a folder", ["health", str(FILES)], [str(FILES)]),
    ("missing market file argument", ["health"], ["MARKET_FILE"]),
    ("unknown command", ["margin-call", DEMO], ["margin-call"]),
    ("unknown option", ["health", DEMO, "--acount", "bob"], ["--acount"]),
    ("option without its value", ["health", DEMO, "--account"], ["--account"]),
    ("missing required option", [*LIQ[:4], "--collateral", "WETH", "--max"], ["--debt"]),
    ("extra argument", ["check", DEMO, DEMO], [DEMO]),
]


@pytest.mark.parametrize(("argv", "wants"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_misuse_exits_2_with_one_error_line(xm, argv: list[str], wants: list[str]) -> None:
    run = xm(*argv)
    run.assert_clean()
    assert run.code == 2
    assert run.out == ""
    line = run.error_line
    for want in wants:
        assert want in line


@pytest.mark.parametrize(("argv", "wants"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_misuse_with_json_prints_only_the_error_object(
    xm, argv: list[str], wants: list[str]
) -> None:
    run = xm(*argv, "--json")
    run.assert_clean()
    assert run.code == 2
    doc = run.json()
    assert list(doc) == ["error"]
    assert list(doc["error"]) == ["code", "message", "problems"]
    assert isinstance(doc["error"]["code"], str)
    assert doc["error"]["message"] == run.error_line.removeprefix("error: ")
    assert isinstance(doc["error"]["problems"], list)


def test_out_with_the_other_format_suffix_is_refused_before_liquidating(xm, tmp_path: Path) -> None:
    out = tmp_path / "after.json"
    run = xm(*LIQ, "--max", "--out", out)
    assert run.code == 2
    assert "--out" in run.error_line
    assert not out.exists()
