"""Market files under hostile input (issue 9, items 14-19): numbers, duplicate keys, what
a file may be, the storage window, names, and parameters that break liquidation.

Each test is named after its item; each fails on the code before the issue and passes
after. The CLI runs in-process, as the installed script does.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Run, run_in_process
from xmargin.book import RiskBook
from xmargin.errors import MarketFileError
from xmargin.io import load_market

HEAD = """\
[market]
quote = "USD"

[assets.USDC]
price = 1
decimals = 6
collateral_factor = 0.77
liquidation_threshold = 0.80
liquidation_bonus = 0.045
"""

WETH = """
[assets.WETH]
price = {price}
collateral_factor = 0.8
liquidation_threshold = 0.83
liquidation_bonus = 0.05
"""


@pytest.fixture
def xm(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str | Path) -> Run:
        return run_in_process(capsys, *args)

    return run


def _write(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(MarketFileError) as err:
        load_market(path)
    assert err.value.source == str(path)
    return [str(p) for p in err.value.problems]


# -- item 14: the contract's decimal syntax ---------------------------------------------
@pytest.mark.parametrize(
    "written",
    [
        '"1_0"',  # Python's digit grouping
        '"١٢"',  # Arabic-Indic digits
        '"٣.٥"',
        '" 5"',  # surrounding whitespace
        '"5 "',
        '"5\\n"',
        '"0x10"',
        '"1,5"',
        '"+-1"',
    ],
)
def test_item14_a_number_not_in_the_contracts_syntax_is_refused_with_its_location(
    tmp_path: Path, written: str, xm: Callable[..., Run]
) -> None:
    path = _write(tmp_path, HEAD + WETH.format(price=written))
    (problem,) = _problems(path)
    assert problem.startswith("assets.WETH.price: must be a number in decimal notation")
    run = xm("check", path)
    assert run.code == 2 and str(path) in run.error_line and "assets.WETH.price" in run.err


@pytest.mark.parametrize(
    ("written", "value"),
    [("1900", "1900"), ('"1900.50"', "1900.5"), ("1_900.5", "1900.5"), ('"1e3"', "1000")],
)
def test_item14_numbers_in_the_syntax_and_toml_separators_still_load(
    tmp_path: Path, written: str, value: str
) -> None:
    # TOML's own number grammar allows _ between digits (in a number, never in a string).
    market = load_market(_write(tmp_path, HEAD + WETH.format(price=written)))
    assert str(market.assets["WETH"].price.normalize()) == str(
        __import__("decimal").Decimal(value).normalize()
    )


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ('"1.0000000000000000000000000000000000000000000000000000000000001"', "60 significant"),
        ('"123456789012345678901234567890123456789012345678901234567890.5"', "1e24"),
        ('"1e25"', "magnitude must be <= 1e24"),
        ('"1e-37"', "magnitude must be 0 or >= 1e-36"),
        ("1e-37", "magnitude must be 0 or >= 1e-36"),
        ('"' + "9" * 150 + '"', "too long"),
        ('"1e99999999999999999999999999"', "magnitude"),
    ],
)
def test_item14_digits_and_exponent_are_bounded_so_every_number_fits_both_databases(
    tmp_path: Path, written: str, words: str
) -> None:
    (problem,) = _problems(_write(tmp_path, HEAD + WETH.format(price=written)))
    assert problem.startswith("assets.WETH.price: ") and words in problem
    assert len(problem) < 200  # the value is shown by its head, never whole


def test_item14_a_utf16_market_file_is_refused_by_name(tmp_path: Path) -> None:
    doc = {"market": {"quote": "USD"}, "assets": {}}
    for encoding, words in (("utf-16", "UTF-16"), ("utf-16-le", "NUL")):
        path = tmp_path / f"m-{encoding}.json"
        path.write_bytes(json.dumps(doc).encode(encoding))
        (problem,) = _problems(path)
        assert words in problem


def test_item14_nan_and_infinity_tokens_are_refused_as_non_finite(tmp_path: Path) -> None:
    for written in ("nan", "inf", "-inf", '"NaN"', '"Infinity"'):
        (problem,) = _problems(_write(tmp_path, HEAD + WETH.format(price=written)))
        assert problem.startswith("assets.WETH.price: must be a finite number"), problem
    path = tmp_path / "m.json"
    path.write_text('{"market": {"quote": "USD"}, "assets": {"X": {"price": NaN, '
                    '"collateral_factor": 0, "liquidation_threshold": 0, '
                    '"liquidation_bonus": 0}}}', encoding="utf-8")  # fmt: skip
    (problem,) = _problems(path)
    assert problem == "assets.X.price: must be a finite number, was NaN"


# -- item 15: duplicate keys ----------------------------------------------------------
def test_item15_a_repeated_key_in_a_json_market_file_is_refused_with_its_location(
    tmp_path: Path, xm: Callable[..., Run]
) -> None:
    text = (
        '{"market": {"quote": "USD"},'
        ' "assets": {"USDC": {"price": 1, "collateral_factor": 0.77,'
        ' "liquidation_threshold": 0.8, "liquidation_bonus": 0.04, "price": 2}},'
        ' "accounts": {"alice": {"supply": {"USDC": 5000}},'
        ' "alice": {"supply": {"USDC": 1}}}}'
    )
    path = _write(tmp_path, text, "m.json")
    problems = _problems(path)
    assert problems == [
        "accounts.alice: duplicate key (each key may appear once)",
        "assets.USDC.price: duplicate key (each key may appear once)",
    ]
    run = xm("check", path, "--json")
    assert run.code == 2 and run.json()["error"]["problems"] == problems


def test_item15_a_repeated_key_in_a_toml_market_file_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    text = HEAD + "\n[accounts.alice]\nsupply = { USDC = 5 }\n[accounts.alice]\nborrow = {}\n"
    (problem,) = _problems(_write(tmp_path, text))
    assert "not valid TOML" in problem and "line" in problem


# -- item 16: what a market file may be -----------------------------------------------
def test_item16_deep_nesting_is_a_located_problem_naming_the_file(
    tmp_path: Path, xm: Callable[..., Run]
) -> None:
    toml = _write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    (problem,) = _problems(toml)
    assert "nested too deeply" in problem
    run = xm("check", toml)
    assert run.code == 2 and str(toml) in run.error_line and "internal error" not in run.err
    js = _write(tmp_path, '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "m.json")
    (problem,) = _problems(js)
    assert "nested too deeply" in problem


def test_item16_only_regular_files_are_read(tmp_path: Path, xm: Callable[..., Run]) -> None:
    zero = tmp_path / "zero.toml"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    for path, kind in ((zero, "a character device"), (fifo, "a FIFO"), (folder, "a directory")):
        (problem,) = _problems(path)  # a FIFO would block and /dev/zero never end
        assert problem == f"is {kind}, not a regular file"
        run = xm("check", path)
        assert run.code == 2 and str(path) in run.error_line


def test_item16_a_market_file_above_256_mib_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as f:  # sparse: no disk is used
        f.truncate(256 * 1024 * 1024 + 1)
    (problem,) = _problems(big)
    assert problem == "is larger than 256 MiB"


def test_item16_an_accounts_file_that_is_not_a_regular_file_is_a_located_problem(
    tmp_path: Path,
) -> None:
    os.mkfifo(tmp_path / "book.csv")
    text = HEAD.replace('quote = "USD"', 'quote = "USD"\naccounts_file = "book.csv"')
    (problem,) = _problems(_write(tmp_path, text))
    assert problem == "market.accounts_file (book.csv): is a FIFO, not a regular file"


# -- item 17: the storage window, and a figure that cannot blow up -----------------------
@pytest.mark.parametrize("written", ["1e-300", '"1e-300"', "1e-999990", '"1e-999990"'])
def test_item17_tiny_exponents_are_refused_at_load(
    tmp_path: Path, written: str, xm: Callable[..., Run]
) -> None:
    path = _write(tmp_path, HEAD + WETH.format(price=written) + ACCOUNT)
    (problem,) = _problems(path)
    assert problem.startswith("assets.WETH.price: magnitude must be 0 or >= 1e-36")
    run = xm("liquidation-price", path, "--account", "a", "--asset", "WETH", "--json")
    assert run.code == 2 and "internal error" not in run.err
    assert len(run.out) < 2000  # a 330-byte file never becomes a megabyte of JSON


ACCOUNT = """
[accounts.a]
supply = { WETH = "1000000000000000000000000" }
borrow = { USDC = "0.000001" }
"""


@pytest.mark.parametrize("price", ['"1e-36"', '"1e24"', '"0.000000000000000000000000000000000007"'])
def test_item17_the_extremes_of_the_window_compute_every_figure(
    tmp_path: Path, price: str, xm: Callable[..., Run]
) -> None:
    path = _write(tmp_path, HEAD + WETH.format(price=price) + ACCOUNT)
    for args in (
        ("health", "--json"),
        ("liquidation-price", "--account", "a", "--asset", "WETH", "--json"),
        ("stress", "--shock", "WETH=-50%", "--json"),
    ):
        run = xm(args[0], path, *args[1:])
        assert run.code == 0, run.err
        assert len(run.out) < 20_000


# -- item 18: one rule for names ------------------------------------------------------
@pytest.mark.parametrize(
    ("table", "words"),
    [
        ("accounts." + "a" * 10_000, "account id must be at most 64 characters, was 10000"),
        ('accounts.""', "account id must not be empty"),
        ('accounts."alice bob"', "account id may hold only letters, digits and _-.:@+#~"),
        ('accounts."a/b"', "account id may hold only"),
        ('accounts."a\\tb"', "account id may hold only"),
        ('accounts.".."', "account id must hold at least one letter or digit"),
        ('accounts."Cafe\u0301"', "NFC"),
    ],
)
def test_item18_an_account_id_outside_the_name_rule_is_refused_at_load(
    tmp_path: Path, table: str, words: str
) -> None:
    text = HEAD + f"\n[{table}]\nsupply = {{ USDC = 1 }}\n"
    problems = _problems(_write(tmp_path, text))
    assert len(problems) == 1 and words in problems[0], problems
    assert len(problems[0]) < 300


def test_item18_asset_symbols_and_categories_follow_the_same_rule(tmp_path: Path) -> None:
    text = HEAD.replace("[assets.USDC]", '[assets."US DC"]') + (
        '\n[categories."e mode"]\ncollateral_factor = 0.5\nliquidation_threshold = 0.6\n'
        'liquidation_bonus = 0\nassets = ["US DC"]\n'
    )
    problems = _problems(_write(tmp_path, text))
    assert any(p.startswith("assets.US DC: asset symbol may hold only") for p in problems)
    assert any(p.startswith("categories.e mode: category name may hold only") for p in problems)


def test_item18_names_are_case_sensitive_and_may_be_in_any_script(tmp_path: Path) -> None:
    text = HEAD + (
        "\n[accounts.alice]\nsupply = { USDC = 1 }\n[accounts.Alice]\nsupply = { USDC = 2 }\n"
        '[accounts."café-Ω@desk:7"]\nsupply = { USDC = 3 }\n'
    )
    market = load_market(_write(tmp_path, text))
    assert list(market.accounts) == ["alice", "Alice", "café-Ω@desk:7"]
    assert unicodedata.is_normalized("NFC", "café-Ω@desk:7")


def _book_market(tmp_path: Path, rows: list[str]) -> Path:
    (tmp_path / "book.csv").write_text(
        "account,asset,supply,borrow\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8"
    )
    text = HEAD.replace('quote = "USD"', 'quote = "USD"\naccounts_file = "book.csv"')
    return _write(tmp_path, text)


def test_item18_the_book_loader_and_the_exact_loader_apply_the_same_name_rule(
    tmp_path: Path,
) -> None:
    market = _book_market(tmp_path, ["ok-1,USDC,1,0", "bad id,USDC,1,0", f"{'x' * 65},USDC,1,0"])
    exact = _problems(market)
    assert exact == [
        "book.csv:row 3.account: account id may hold only letters, digits and _-.:@+#~, not ' '",
        "book.csv:row 4.account: account id must be at most 64 characters, was 65",
    ]
    with pytest.raises(MarketFileError) as book:
        RiskBook.load(market)
    assert [str(p) for p in book.value.problems] == exact
    good = _book_market(tmp_path, ["ok-1,USDC,1,0", "Ωmega,USDC,2,0"])
    assert RiskBook.load(good).exact_account("Ωmega").supply


# -- item 19: parameters that break liquidation ----------------------------------------
def test_item19_a_bonus_that_makes_liquidation_lower_health_is_refused(
    tmp_path: Path, xm: Callable[..., Run]
) -> None:
    text = HEAD.replace("liquidation_bonus = 0.045", "liquidation_bonus = 5") + (
        "\n[categories.stable]\ncollateral_factor = 0.9\nliquidation_threshold = 0.97\n"
        'liquidation_bonus = 0.05\nassets = ["USDC"]\n'
    )
    path = _write(tmp_path, text)
    assert _problems(path) == [
        "assets.USDC.liquidation_bonus: liquidating would lower health: "
        "liquidation_threshold × (1 + liquidation_bonus) = 4.8 > 1",
        "categories.stable.liquidation_bonus: liquidating would lower health: "
        "liquidation_threshold × (1 + liquidation_bonus) = 1.0185 > 1",
    ]
    run = xm("check", path)
    assert run.code == 2
    # The threshold policy's bonus keeps lt x (1 + beta) <= 1 by its formula: no refusal.
    ok = text.replace('quote = "USD"', 'quote = "USD"\nbonus_policy = "threshold"')
    load_market(_write(tmp_path, ok, "ok.toml"))


def test_item19_values_outside_published_practice_load_with_warnings(
    tmp_path: Path, xm: Callable[..., Run]
) -> None:
    text = HEAD.replace(
        "liquidation_bonus = 0.045", "liquidation_bonus = 0.2\nprotocol_fee = 0.9"
    ).replace("liquidation_threshold = 0.80", "liquidation_threshold = 0.77")
    path = _write(tmp_path, text)
    run = xm("check", path)
    assert run.code == 0, run.err
    assert run.err.splitlines() == [
        "warning: assets.USDC.liquidation_bonus: 0.2 is above 0.15, outside published "
        "practice (Aave v3, Morpho Blue)",
        "warning: assets.USDC.protocol_fee: 0.9 is above 0.5: the protocol keeps most of the "
        "bonus (Aave v3 keeps 0.1-0.2 of it)",
        "warning: assets.USDC.collateral_factor: equals liquidation_threshold: an account may "
        "borrow up to the point of liquidation (published practice keeps a buffer below it)",
    ]
    doc: dict[str, Any] = xm("check", path, "--json").json()
    assert [w.split(":")[0] for w in doc["warnings"]] == [
        "assets.USDC.liquidation_bonus",
        "assets.USDC.protocol_fee",
        "assets.USDC.collateral_factor",
    ]
    clean = xm("check", _write(tmp_path, HEAD, "clean.toml"), "--json")
    assert clean.code == 0 and clean.err == "" and clean.json()["warnings"] == []
