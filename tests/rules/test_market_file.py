"""Contract section 1 at the library level: loading market files.

Every number is read as an exact decimal (never a float); a file that breaks any rule is
refused as a whole with every problem listed and located; TOML and JSON of the same
structure load to the same market; accounts_file books (CSV or Parquet) join the inline
accounts.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tests.builders import VECTORS, D, market_doc
from xmargin.errors import InputError, MarketFileError
from xmargin.io import dump_market, load_market, parse_market
from xmargin.model import BonusPolicy, Market

WETH = {
    "price": "1900",
    "collateral_factor": "0.805",
    "liquidation_threshold": "0.83",
    "liquidation_bonus": "0.05",
}
USDC = {
    "price": "1",
    "decimals": 6,
    "collateral_factor": "0.77",
    "liquidation_threshold": "0.80",
    "liquidation_bonus": "0.045",
}

SMALL_TOML = """\
[market]
quote = "USD"
bonus_policy = "threshold"
max_bonus = 0.15

[assets.WETH]
price = 1900.1
collateral_factor = 0.805
liquidation_threshold = 0.83
liquidation_bonus = 0.05
protocol_fee = "0.10"

[assets.USDC]
price = 0.99997427
decimals = 6
collateral_factor = 0.77
liquidation_threshold = 0.80
liquidation_bonus = 0.045
borrow_cap = 1580000000

[categories.eth]
collateral_factor = 0.90
liquidation_threshold = 0.93
liquidation_bonus = 0.01
assets = ["WETH"]

[accounts.alice]
category = "eth"
supply = { WETH = 7.3 }
borrow = { USDC = "9876.543210" }

[accounts.bob]
supply = { USDC = 0.1 }
"""

SMALL_JSON = """\
{
  "market": {"quote": "USD", "bonus_policy": "threshold", "max_bonus": 0.15},
  "assets": {
    "WETH": {"price": 1900.1, "collateral_factor": 0.805, "liquidation_threshold": 0.83,
             "liquidation_bonus": 0.05, "protocol_fee": 0.10},
    "USDC": {"price": "0.99997427", "decimals": 6, "collateral_factor": 0.77,
             "liquidation_threshold": 0.80, "liquidation_bonus": 0.045,
             "borrow_cap": 1580000000}
  },
  "categories": {"eth": {"collateral_factor": 0.90, "liquidation_threshold": 0.93,
                         "liquidation_bonus": 0.01, "assets": ["WETH"]}},
  "accounts": {
    "alice": {"category": "eth", "supply": {"WETH": 7.3}, "borrow": {"USDC": 9876.543210}},
    "bob": {"supply": {"USDC": 0.1}}
  }
}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(raw: dict[str, Any], **kw: Any) -> list[str]:
    with pytest.raises(MarketFileError) as err:
        parse_market(raw, **kw)
    return [str(p) for p in err.value.problems]


def numbers_in(market: Market) -> list[object]:
    """Every number the market holds: parameters, prices, balances, state."""
    out: list[object] = []
    for model in (market.params, *market.assets.values(), *market.categories.values()):
        out.extend(v for v in model.model_dump().values() if not isinstance(v, str | bool))
    for acc in market.accounts.values():
        out.extend(acc.supply.values())
        out.extend(acc.borrow.values())
    out.extend(market.deficit.values())
    out.extend(market.isolation_debt.values())
    return out


# -- exact numbers ------------------------------------------------------------------------


def test_toml_numbers_are_read_as_exact_decimals(tmp_path: Path) -> None:
    m = load_market(write(tmp_path, "m.toml", SMALL_TOML))
    assert m.assets["WETH"].price == Decimal("1900.1")  # a float would be 1900.0999999...
    assert m.assets["USDC"].price == Decimal("0.99997427")
    assert m.accounts["bob"].supply["USDC"] == Decimal("0.1")
    assert m.accounts["alice"].borrow["USDC"] == Decimal("9876.543210")
    assert m.params.bonus_policy is BonusPolicy.THRESHOLD


def test_nothing_loaded_is_a_float(tmp_path: Path) -> None:
    for path in (write(tmp_path, "m.toml", SMALL_TOML), write(tmp_path, "m.json", SMALL_JSON)):
        m = load_market(path)
        numbers = [x for x in numbers_in(m) if x is not None and not isinstance(x, tuple)]
        assert numbers
        assert not [x for x in numbers if isinstance(x, float)]
        assert all(isinstance(x, Decimal | int) for x in numbers)


def test_toml_and_json_of_the_same_structure_load_to_the_same_market(tmp_path: Path) -> None:
    a = load_market(write(tmp_path, "m.toml", SMALL_TOML))
    b = load_market(write(tmp_path, "m.json", SMALL_JSON))
    assert a.state_equals(b)
    assert (a.source_format, b.source_format) == ("toml", "json")


@pytest.mark.parametrize("vector", sorted(p.name for p in VECTORS.glob("*.toml")))
def test_every_vector_round_trips_through_json_and_toml(tmp_path: Path, vector: str) -> None:
    m = load_market(VECTORS / vector)
    dump_market(m, tmp_path / "out.json")
    dump_market(m, tmp_path / "out.toml")
    assert load_market(tmp_path / "out.json").state_equals(m)
    assert load_market(tmp_path / "out.toml").state_equals(m)


def test_numbers_may_be_strings_or_integers() -> None:
    m = parse_market(
        market_doc(
            assets={"USDC": {**USDC, "price": 1, "supply_cap": "1000000"}},
            accounts={"a": {"supply": {"USDC": 5}}},
        )
    )
    assert m.assets["USDC"].price == 1
    assert m.assets["USDC"].supply_cap == D("1000000")
    assert m.accounts["a"].supplied("USDC") == 5


# -- every problem at once, with its location ----------------------------------------------


def test_every_problem_is_listed_at_once_with_its_location() -> None:
    raw = market_doc(
        market={"close_factor": "1.5", "bonus_policy": "random"},
        assets={
            "WETH": {**WETH, "collateral_factor": "0.9"},  # above lt 0.83
            "USDC": {**USDC, "price": "0"},
            "DAI": {**USDC, "borrow_weight": "1", "maintenance_borrow_weight": "1.1"},
            "WBTC": {**WETH, "decimals": 8},
        },
        categories={
            "eth": {
                "collateral_factor": "0.9",
                "liquidation_threshold": "0.93",
                "liquidation_bonus": "0.01",
                "assets": ["WETH", "stETH"],
            }
        },
        accounts={
            "alice": {"supply": {"XYZ": "1"}, "borrow": {"USDC": "-5"}},
            "bob": {"category": "nope", "supply": {"WBTC": "1.000000001"}},
        },
    )
    raw["extra"] = {}
    found = problems_of(raw)
    expected = [
        "extra: unknown section",
        "market.close_factor: must be in (0, 1], was 1.5",
        "assets.WETH.liquidation_threshold: must be >= collateral_factor (0.9)",
        "assets.USDC.price: must be > 0, was 0",
        "assets.DAI.borrow_weight: must be >= maintenance_borrow_weight (1.1)",
        "categories.eth.assets: unknown asset 'stETH'",
        "accounts.alice.supply.XYZ: unknown asset 'XYZ'",
        "accounts.alice.borrow.USDC: must be >= 0, was -5",
        "accounts.bob.category: unknown category 'nope'",
        "accounts.bob.supply.WBTC: has more than 8 decimal places, was 1.000000001",
    ]
    for line in expected:
        assert line in found, line
    assert any(p.startswith("market.bonus_policy: ") for p in found)
    assert len(found) == len(expected) + 1


def test_the_contract_example_message_for_threshold_below_collateral_factor() -> None:
    raw = market_doc(assets={"WETH": {**WETH, "liquidation_threshold": "0.80"}})
    assert problems_of(raw) == [
        "assets.WETH.liquidation_threshold: must be >= collateral_factor (0.805)"
    ]


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("price", "1e25", "assets.WETH.price: magnitude must be <= 1e24, was 1e25"),
        ("price", "-1", "assets.WETH.price: must be > 0, was -1"),
        ("price", "NaN", "assets.WETH.price: must be a finite number, was NaN"),
        ("price", "Infinity", "assets.WETH.price: must be a finite number, was Infinity"),
        ("price", True, "assets.WETH.price: must be a number, was true"),
        (
            "price",
            "abc",
            "assets.WETH.price: must be a number in decimal notation such as 12.5 or -1e-3 "
            "(ASCII digits, nothing around it: no spaces, separators or other characters), "
            "was 'abc'",
        ),
        ("liquidation_threshold", "1.01", "assets.WETH.liquidation_threshold: must be between"),
        ("liquidation_bonus", "-0.01", "assets.WETH.liquidation_bonus: must be >= 0, was -0.01"),
        ("maintenance_borrow_weight", "0.9", "assets.WETH.maintenance_borrow_weight: must be >= 1"),
        ("decimals", 40, "assets.WETH.decimals: must be an integer from 0 to 36, was 40"),
        ("colour", "red", "assets.WETH.colour: unknown key"),
    ],
)
def test_bad_asset_fields_are_located(where: str, value: object, message: str) -> None:
    raw = market_doc(assets={"WETH": {**WETH, where: value}})
    found = problems_of(raw)
    assert any(p.startswith(message) for p in found), found


def test_a_missing_market_table_and_no_assets_are_both_reported() -> None:
    found = problems_of({"accounts": {}})
    assert "market: required" in found
    assert "assets: at least one asset is required" in found


def test_a_missing_required_field_is_located() -> None:
    raw = market_doc(assets={"WETH": {"price": "1"}})
    found = problems_of(raw)
    assert "assets.WETH.collateral_factor: required" in found
    assert "assets.WETH.liquidation_threshold: required" in found
    assert "assets.WETH.liquidation_bonus: required" in found


def test_an_under_margined_account_is_a_state_not_an_error() -> None:
    m = parse_market(
        market_doc(
            assets={"WETH": WETH, "USDC": {**USDC, "borrow_cap": "1"}},
            accounts={"a": {"supply": {"WETH": "1"}, "borrow": {"USDC": "100000"}}},
        )
    )
    assert m.total_borrow["USDC"] == D("100000")  # above the cap: reported, not refused


def test_the_error_is_an_input_error_naming_the_source(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", '[market]\nquote = "USD"\n')
    with pytest.raises(MarketFileError) as err:
        load_market(path)
    assert isinstance(err.value, InputError)
    assert err.value.exit_code == 2
    assert err.value.code == "invalid_market_file"
    assert str(path) in str(err.value)
    assert err.value.to_dict()["problems"] == ["assets: at least one asset is required"]


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("m.toml", "[market\nquote = 1", "not valid TOML"),
        ("m.json", "{", "not valid JSON"),
        ("m.json", '{"market": {"quote": "USD"}, "assets": {"X": {"price": NaN}}}', "finite"),
        ("m.json", '{"market": {"quote": "USD"}, "assets": {"X": {"price": -Infinity}}}', "finite"),
        ("m.toml", "[market]\nquote = 'USD'\n[assets.X]\nprice = nan\n", "finite"),
        ("m.toml", "[market]\nquote = 'USD'\n[assets.X]\nprice = inf\n", "finite"),
        ("m.json", "[1, 2]", "top level"),
        ("m.yaml", "market: {}", "must end in .toml or .json"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    tmp_path: Path, name: str, text: str, fragment: str
) -> None:
    with pytest.raises(MarketFileError) as err:
        load_market(write(tmp_path, name, text))
    assert fragment in str(err.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MarketFileError) as err:
        load_market(tmp_path / "absent.toml")
    assert "cannot read" in str(err.value)


# -- accounts_file: CSV and Parquet --------------------------------------------------------

BOOK_ROWS = {
    "account": ["carol", "carol", "dan"],
    "asset": ["WETH", "USDC", "USDC"],
    "supply": ["2.5", "0", "100.000001"],
    "borrow": ["0", "1234.5", "0"],
    "category": ["", "", ""],
}


def book_market_text(accounts_file: str) -> str:
    return SMALL_TOML.replace(
        'quote = "USD"\n', f'quote = "USD"\naccounts_file = "{accounts_file}"\n', 1
    )


def inline_equivalent(accounts_file: str) -> Market:
    """SMALL_JSON with the book's accounts written inline (the book named in params)."""
    raw = json.loads(SMALL_JSON, parse_float=Decimal)
    raw["accounts"]["carol"] = {"supply": {"WETH": "2.5"}, "borrow": {"USDC": "1234.5"}}
    raw["accounts"]["dan"] = {"supply": {"USDC": "100.000001"}}
    m = parse_market(raw)
    m.params = m.params.model_copy(update={"accounts_file": accounts_file})
    return m


def test_a_csv_book_joins_the_inline_accounts(tmp_path: Path) -> None:
    pacsv.write_csv(pa.table(BOOK_ROWS), tmp_path / "book.csv")
    m = load_market(write(tmp_path, "m.toml", book_market_text("book.csv")))
    assert list(m.accounts) == ["alice", "bob", "carol", "dan"]
    assert m.accounts["carol"].supply == {"WETH": Decimal("2.5")}
    assert m.accounts["dan"].supplied("USDC") == Decimal("100.000001")
    assert m.state_equals(inline_equivalent("book.csv"))


@pytest.mark.parametrize("kind", ["string", "decimal"])
def test_a_parquet_book_loads_the_same_as_the_csv(tmp_path: Path, kind: str) -> None:
    cols = dict(BOOK_ROWS)
    if kind == "decimal":
        table = pa.table(
            {
                "account": cols["account"],
                "asset": cols["asset"],
                "supply": pa.array([Decimal(x) for x in cols["supply"]], pa.decimal128(38, 18)),
                "borrow": pa.array([Decimal(x) for x in cols["borrow"]], pa.decimal128(38, 18)),
            }
        )
    else:
        table = pa.table(cols)
    pq.write_table(table, tmp_path / "book.parquet")
    m = load_market(write(tmp_path, "m.toml", book_market_text("book.parquet")))
    assert m.state_equals(inline_equivalent("book.parquet"))
    assert all(isinstance(x, Decimal) for x in m.accounts["carol"].supply.values())


def test_an_account_both_inline_and_in_the_book_is_refused(tmp_path: Path) -> None:
    rows = {k: [*v, v[0]] for k, v in BOOK_ROWS.items()}
    rows["account"][-1] = "alice"
    pacsv.write_csv(pa.table(rows), tmp_path / "book.csv")
    with pytest.raises(MarketFileError) as err:
        load_market(write(tmp_path, "m.toml", book_market_text("book.csv")))
    assert "book.csv:row 5: account 'alice' is also written inline" in [
        str(p) for p in err.value.problems
    ]


def test_book_problems_are_all_listed_with_file_row_and_column(tmp_path: Path) -> None:
    (tmp_path / "book.csv").write_text(
        "account,asset,supply,borrow\n"
        "carol,WETH,-1,0\n"  # row 2: negative
        "carol,XYZ,1,0\n"  # row 3: unknown asset
        "dan,USDC,abc,0\n"  # row 4: not a number
        "dan,USDC,1,0\n"  # row 5: fine (row 4 was dropped)
        "dan,USDC,1,0\n",  # row 6: repeated account and asset
        encoding="utf-8",
    )
    with pytest.raises(MarketFileError) as err:
        load_market(write(tmp_path, "m.toml", book_market_text("book.csv")))
    found = [str(p) for p in err.value.problems]
    assert "book.csv:row 2.supply: must be >= 0, was -1" in found
    assert "book.csv:row 3.asset: unknown asset 'XYZ'" in found
    assert any(p.startswith("book.csv:row 4.supply: must be a number") for p in found)
    assert "book.csv:row 6: repeats account 'dan' and asset 'USDC'" in found


def test_a_missing_book_or_column_is_a_located_problem(tmp_path: Path) -> None:
    with pytest.raises(MarketFileError) as err:
        load_market(write(tmp_path, "m.toml", book_market_text("absent.csv")))
    assert err.value.problems[0].location == "market.accounts_file (absent.csv)"
    (tmp_path / "cols.csv").write_text("account,asset,supply\nx,WETH,1\n", encoding="utf-8")
    with pytest.raises(MarketFileError) as err:
        load_market(write(tmp_path, "m2.toml", book_market_text("cols.csv")))
    assert "missing column(s): borrow" in str(err.value)


# -- the real market -----------------------------------------------------------------------


def test_the_published_aave_v3_ethereum_market_loads(shared_data: Path) -> None:
    path = shared_data / "markets" / "aave-v3-ethereum-2023-10-31.toml"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    m = load_market(path)
    assert m.assets["WETH"].liquidation_threshold == Decimal("0.83")
    assert m.assets["WETH"].price == Decimal("1816.85499606")
    assert m.assets["STG"].is_isolated
    assert m.params.small_position_value == Decimal("2000")
    assert m.params.min_leftover_value == Decimal("1000")
    assert m.categories["eth-correlated"].assets == ("WETH", "wstETH")
    assert m.accounts == {}
