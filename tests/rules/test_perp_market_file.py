"""Contract 5 and 1.1: the perp parts of a market file — ``[perps.*]``,
``market.insurance_fund``, ``market.pnl_initial_cap``, positions inline and in a
``perps_file`` (5.8) — validated with every problem located, and written back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.builders import VECTORS, D, load_vector, market_doc
from xmargin.errors import MarketFileError
from xmargin.io import dump_market, load_market, market_to_dict, parse_market
from xmargin.ledger.perps import execute_trade, set_funding_index
from xmargin.model import PerpPosition

USDC = {"price": 1, "decimals": 6, "collateral_factor": 1, "liquidation_threshold": 1,
        "liquidation_bonus": 0}  # fmt: skip
ETH = {"price": 2000, "decimals": 8, "collateral_factor": "0.8", "liquidation_threshold": "0.85",
       "liquidation_bonus": "0.05"}  # fmt: skip
PERP = {"underlying": "ETH", "settlement_asset": "USDC", "initial_margin": "0.1",
        "maintenance_margin": "0.05"}  # fmt: skip


def _doc(perp: dict[str, Any] | None = None, **account: Any) -> dict[str, Any]:
    doc = market_doc({"USDC": USDC, "ETH": ETH}, {"t": {"supply": {"USDC": 100}, **account}})
    doc["perps"] = {"ETH-PERP": {**PERP, **(perp or {})}}
    return doc


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(MarketFileError) as err:
        parse_market(doc, "test")
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize(
    ("perp", "problem"),
    [
        ({"underlying": "FOO"}, "perps.ETH-PERP.underlying: unknown asset 'FOO'"),
        ({"settlement_asset": "BAR"}, "perps.ETH-PERP.settlement_asset: unknown asset 'BAR'"),
        (
            {"maintenance_margin": "0.2"},
            "perps.ETH-PERP.maintenance_margin: must be <= initial_margin (0.1), was 0.2",
        ),
        (
            {"liquidation_fee": "0.03", "insurance_fee": "0.02"},
            "perps.ETH-PERP.liquidation_fee: liquidation_fee + insurance_fee must be < "
            "maintenance_margin (0.05), was 0.05",
        ),
        ({"maintenance_margin": 0}, "perps.ETH-PERP.maintenance_margin: must be in (0, 1], was 0"),
        ({"initial_margin": "1.5"}, "perps.ETH-PERP.initial_margin: must be in (0, 1], was 1.5"),
        ({"insurance_fee": "-0.01"}, "perps.ETH-PERP.insurance_fee: must be >= 0, was -0.01"),
        ({"size_factor": "-1"}, "perps.ETH-PERP.size_factor: must be >= 0, was -1"),
        (
            {"pnl_initial_weight": "1.5"},
            "perps.ETH-PERP.pnl_initial_weight: must be between 0 and 1, was 1.5",
        ),
        ({"open_interest_cap": -1}, "perps.ETH-PERP.open_interest_cap: must be >= 0, was -1"),
        (
            {"funding_index": "nan"},
            "perps.ETH-PERP.funding_index: must be a finite number, was nan",
        ),
        (
            {"funding_index": "1e25"},
            "perps.ETH-PERP.funding_index: magnitude must be <= 1e24, was 1e25",
        ),
        ({"colour": "red"}, "perps.ETH-PERP.colour: unknown key"),
        ({"name": "x"}, "perps.ETH-PERP.name: unknown key"),
    ],
)
def test_a_bad_perp_table_is_refused_with_its_location(perp: dict[str, Any], problem: str) -> None:
    assert problem in _problems(_doc(perp))


@pytest.mark.parametrize("key", ["underlying", "settlement_asset", "initial_margin",
                                 "maintenance_margin"])  # fmt: skip
def test_the_required_perp_keys_are_required(key: str) -> None:
    doc = _doc()
    del doc["perps"]["ETH-PERP"][key]
    assert f"perps.ETH-PERP.{key}: required" in _problems(doc)


@pytest.mark.parametrize(
    ("position", "problem"),
    [
        (
            {"size": 1, "entry_price": 0},
            "accounts.t.perps.ETH-PERP.entry_price: must be > 0, was 0",
        ),
        (
            {"size": 1, "entry_price": -5},
            "accounts.t.perps.ETH-PERP.entry_price: must be > 0, was -5",
        ),
        ({"entry_price": 5}, "accounts.t.perps.ETH-PERP.size: required"),
        ({"size": 1}, "accounts.t.perps.ETH-PERP.entry_price: required"),
        (
            {"size": "0.000000001", "entry_price": 5},
            "accounts.t.perps.ETH-PERP.size: has more than 8 decimal places (the underlying's), "
            "was 1E-9",
        ),
        (
            {"size": "x", "entry_price": 5},
            "accounts.t.perps.ETH-PERP.size: must be a number in decimal notation such as "
            "12.5 or -1e-3 (ASCII digits, nothing around it: no spaces, separators or other "
            "characters), was 'x'",
        ),
        ({"size": 1, "entry_price": 5, "f": 0}, "accounts.t.perps.ETH-PERP.f: unknown key"),
        (
            7,
            "accounts.t.perps.ETH-PERP: must be a table { size, entry_price, funding_index }, "
            "was int",
        ),
    ],
)
def test_a_bad_position_is_refused_with_its_location(position: Any, problem: str) -> None:
    assert problem in _problems(_doc(perps={"ETH-PERP": position}))


def test_a_position_in_an_unknown_perp_is_refused() -> None:
    doc = _doc(perps={"SOL-PERP": {"size": 1, "entry_price": 5}})
    assert _problems(doc) == ["accounts.t.perps.SOL-PERP: unknown perp 'SOL-PERP'"]


def test_the_insurance_fund_and_pnl_cap_are_validated() -> None:
    doc = _doc()
    doc["market"].update(insurance_fund={"FOO": 1, "USDC": "-1", "ETH": "1e-9"}, pnl_initial_cap=-5)
    assert _problems(doc) == [
        "market.pnl_initial_cap: must be >= 0, was -5",
        "market.insurance_fund.FOO: unknown asset 'FOO'",
        "market.insurance_fund.USDC: must be >= 0, was -1",
        "market.insurance_fund.ETH: has more than 8 decimal places, was 0.000000001",
    ]


def test_every_problem_is_reported_at_once() -> None:
    doc = _doc({"underlying": "FOO", "maintenance_margin": "0.2"},
               perps={"ETH-PERP": {"size": 1, "entry_price": 0}, "X": {}})  # fmt: skip
    assert len(_problems(doc)) == 4


def test_a_position_defaults_its_funding_index_to_F_and_a_zero_size_is_dropped() -> None:
    m = parse_market(
        _doc({"funding_index": "3.5"}, perps={"ETH-PERP": {"size": -2, "entry_price": 5}})
    )
    assert m.accounts["t"].perps["ETH-PERP"] == PerpPosition(D("-2"), D("5"), D("3.5"))
    m = parse_market(_doc(perps={"ETH-PERP": {"size": 0, "entry_price": 5}}))
    assert m.accounts["t"].perps == {} and m.open_interest == {}


def test_a_market_without_perps_writes_no_perp_keys() -> None:
    doc = market_to_dict(load_vector("basic.toml"))
    assert "perps" not in doc and "insurance_fund" not in doc["market"]
    assert all("perps" not in a for a in doc["accounts"].values())


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_perps_funding_indexes_positions_and_the_fund_round_trip(
    tmp_path: Path, suffix: str
) -> None:
    m = load_vector("insurance_fund.toml")
    set_funding_index(m, "BTC-PERP", "-2.75")
    execute_trade(m, "bankrupt", "BTC-PERP", "-0.25")  # settles funding, realises a loss
    out = tmp_path / f"after{suffix}"
    dump_market(m, out)
    again = load_market(out)
    assert again.state_equals(m)
    assert again.perps["BTC-PERP"].funding_index == D("-2.75")
    assert again.accounts["bankrupt"].perps["BTC-PERP"] == m.accounts["bankrupt"].perps["BTC-PERP"]
    assert again.insurance_fund == {"USDC": D("500")}


def _perps_market(tmp_path: Path, rows: str, accounts: str = "", inline: str = "") -> Path:
    (tmp_path / "perps.csv").write_text(rows, encoding="utf-8")
    head = (VECTORS / "hyperliquid.toml").read_text(encoding="utf-8").split("[accounts.long]")[0]
    head = head.replace('quote = "USD"', 'quote = "USD"\nperps_file = "perps.csv"')
    if accounts:
        (tmp_path / "accounts.csv").write_text(accounts, encoding="utf-8")
        head = head.replace('quote = "USD"', 'quote = "USD"\naccounts_file = "accounts.csv"')
    path = tmp_path / "market.toml"
    path.write_text(head + inline, encoding="utf-8")
    return path


def test_a_perps_file_joins_positions_to_the_accounts_file(tmp_path: Path) -> None:
    path = _perps_market(
        tmp_path,
        "account,perp,size,entry_price,funding_index\n"
        "a,BTC-PERP,1,100,\n"
        "b,BTC-PERP,-0.5,101.5,2\n"
        "c,BTC-PERP,2,99,\n",
        accounts="account,asset,supply,borrow\na,USDC,10,0\nb,USDC,20,0\n",
    )
    m = load_market(path)
    assert list(m.accounts) == ["a", "b", "c"]
    assert m.accounts["a"].supply == {"USDC": D("10")}
    assert m.accounts["a"].perps["BTC-PERP"] == PerpPosition(D("1"), D("100"), D("0"))
    assert m.accounts["b"].perps["BTC-PERP"] == PerpPosition(D("-0.5"), D("101.5"), D("2"))
    assert m.accounts["c"].supply == {}  # an account with only a position
    assert m.open_interest == {"BTC-PERP": (D("3"), D("0.5"))}
    doc = market_to_dict(m)
    assert "perps_file" not in doc["market"] and "accounts_file" not in doc["market"]
    assert doc["accounts"]["b"]["perps"] == {
        "BTC-PERP": {"size": "-0.5", "entry_price": "101.5", "funding_index": "2"}
    }


def test_a_perps_file_in_parquet_is_read_the_same(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _perps_market(tmp_path, "account,perp,size,entry_price\n")
    table = pa.table({"account": ["a"], "perp": ["BTC-PERP"], "size": [0.1], "entry_price": [95.5]})
    pq.write_table(table, tmp_path / "perps.parquet")
    path.write_text(path.read_text().replace("perps.csv", "perps.parquet"))
    m = load_market(path)
    assert m.accounts["a"].perps["BTC-PERP"] == PerpPosition(D("0.1"), D("95.5"), D("0"))


def test_every_problem_of_a_perps_file_is_located_by_row_and_column(tmp_path: Path) -> None:
    path = _perps_market(
        tmp_path,
        "account,perp,size,entry_price\n"
        "a,BTC-PERP,1,0\n"
        "a,BTC-PERP,1,100\n"
        "a,BTC-PERP,2,100\n"
        ",BTC-PERP,1,100\n"
        "b,ETH-PERP,1,100\n"
        "c,BTC-PERP,abc,100\n"
        "inline,BTC-PERP,1,100\n",
        inline="[accounts.inline]\nsupply = { USDC = 1 }\n",
    )
    with pytest.raises(MarketFileError) as err:
        load_market(path)
    assert [str(p) for p in err.value.problems] == [
        "perps.csv:row 2.entry_price: must be > 0, was 0",
        "perps.csv:row 3: repeats account 'a' and perp 'BTC-PERP'",
        "perps.csv:row 4: repeats account 'a' and perp 'BTC-PERP'",
        "perps.csv:row 5.account: must not be empty",
        "perps.csv:row 6.perp: unknown perp 'ETH-PERP'",
        "perps.csv:row 7.size: must be a number in decimal notation such as 12.5 or -1e-3 "
        "(ASCII digits, nothing around it: no spaces, separators or other characters), "
        "was 'abc'",
        "perps.csv:row 8: account 'inline' is written inline",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("account,perp,size\na,BTC-PERP,1\n", "missing column(s): entry_price"),
        ("account,perp,size,entry_price,colour\na,BTC-PERP,1,5,red\n", "unknown column"),
    ],
)
def test_a_perps_file_with_bad_columns_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(MarketFileError) as err:
        load_market(_perps_market(tmp_path, text))
    assert any(problem in str(p) for p in err.value.problems)


def test_a_missing_perps_file_is_a_located_problem(tmp_path: Path) -> None:
    path = _perps_market(tmp_path, "")
    (tmp_path / "perps.csv").unlink()
    with pytest.raises(MarketFileError) as err:
        load_market(path)
    assert str(err.value.problems[0]).startswith("market.perps_file (perps.csv): ")


def test_a_perps_file_that_is_not_a_regular_file_is_refused_unread(tmp_path: Path) -> None:
    path = _perps_market(tmp_path, "")
    (tmp_path / "perps.csv").unlink()
    os.mkfifo(tmp_path / "perps.csv")  # opening it to read would block the load
    with pytest.raises(MarketFileError) as err:
        load_market(path)
    assert [str(p) for p in err.value.problems] == [
        "market.perps_file (perps.csv): is a FIFO, not a regular file"
    ]


def test_a_json_market_file_holds_perps_too(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(market_to_dict(load_vector("drift_composite.toml"))))
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_market(path).state_equals(load_vector("drift_composite.toml"))
