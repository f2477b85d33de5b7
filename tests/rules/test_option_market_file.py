"""Contract 6 and docs/contract.md 6.5 in market files: every new key validated with its
location (exit 2 through the CLI), positions inline and in an ``options_file``, settlement
at load, and writing the market back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import D
from tests.option_builders import option_doc, option_market
from xmargin.errors import MarketFileError
from xmargin.io import parse_market
from xmargin.io.market_file import dump_market, load_market, market_to_dict
from xmargin.model.options import MarginMethod

OPTIONS = {"C": ("call", 1600), "P": ("put", 1400)}


def problems_of(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(MarketFileError) as info:
        parse_market(doc)
    return {p.location: p.message for p in info.value.problems}


def base(**kw: Any) -> dict[str, Any]:
    return option_doc(OPTIONS, {"a": {"C": "-1"}}, volatility="0.5", **kw)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("kind", "straddle", "Input should be 'call' or 'put'"),
        ("strike", 0, "must be > 0"),
        ("strike", "NaN", "must be a finite number"),
        ("volatility", "-0.1", "must be >= 0"),
        ("forward", 0, "must be > 0"),
        ("rate", "11", "must be from -1 to 10"),
        ("expiry", "tomorrow", "must be an ISO 8601 date-time"),
        ("expiry", "2024-06-28T08:00:00", "must carry a time zone"),
        ("underlying", "DOGE", "unknown asset 'DOGE'"),
        ("settlement_asset", "DAI", "unknown asset 'DAI'"),
        ("liquidation_fee", "-1", "must be >= 0"),
        ("colour", "red", "unknown key"),
    ],
)
def test_bad_option_fields_are_located(key: str, value: object, message: str) -> None:
    doc = base()
    doc["options"]["C"][key] = value
    found = problems_of(doc)
    assert message in found[f"options.C.{key}"]


def test_a_required_option_key_is_located() -> None:
    doc = base()
    del doc["options"]["C"]["strike"]
    assert problems_of(doc)["options.C.strike"] == "required"


def test_a_market_with_options_needs_a_time() -> None:
    doc = base()
    del doc["market"]["time"]
    assert "required when the market has options" in problems_of(doc)["market.time"]


def test_an_expiry_beyond_100_years_is_refused() -> None:
    doc = base()
    doc["options"]["C"]["expiry"] = "2200-01-01T00:00:00Z"
    assert "at most 100 years" in problems_of(doc)["options.C.expiry"]


def test_options_of_one_expiry_share_one_forward_and_one_rate() -> None:
    doc = base()
    doc["options"]["C"]["forward"] = 1510
    doc["options"]["P"]["rate"] = "0.05"
    found = problems_of(doc)
    # P comes second: its forward (absent, so S = 1,500) and its rate differ from C's
    assert "one forward per underlying and expiry" in found["options.P.forward"]
    assert "one rate per underlying and expiry" in found["options.P.rate"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"min_spot_requirement": "0.2"}, "must be <= max_spot_requirement"),
        ({"unpaired_initial_scale": "-1"}, "must be >= 0"),
        ({"typo": 1}, "unknown key"),
    ],
)
def test_bad_option_margin_keys_are_located(table: dict[str, Any], message: str) -> None:
    found = problems_of(base(option_margin=table))
    key = next(iter(table))
    assert message in found[f"option_margin.{key}"]


@pytest.mark.parametrize(
    ("positions", "where", "message"),
    [
        ({"Z": 1}, "accounts.a.options.Z", "unknown option 'Z'"),
        ({"C": "1.123456789"}, "accounts.a.options.C", "more than 8 decimal places"),
        ({"C": "abc"}, "accounts.a.options.C", "must be a number"),
    ],
)
def test_bad_positions_are_located(positions: dict[str, Any], where: str, message: str) -> None:
    doc = base()
    doc["accounts"]["a"]["options"] = positions
    assert message in problems_of(doc)[where]


def test_a_bad_margin_method_is_located() -> None:
    doc = base()
    doc["accounts"]["a"]["margin"] = "cross"
    assert "must be 'standard' or 'portfolio'" in problems_of(doc)["accounts.a.margin"]


def test_a_zero_position_is_dropped_and_margin_defaults_to_standard() -> None:
    m = option_market(OPTIONS, {"a": {"C": "0", "P": "2"}})
    assert m.accounts["a"].options == {"P": D(2)}
    assert m.accounts["a"].margin is MarginMethod.STANDARD


def test_an_expired_position_is_settled_at_load_through_the_settlement_asset() -> None:
    # Expired at market.time: q·max(0, S − K) = -2 x (1500 - 1400) = -200 USDC for the
    # short call; the put (K 1,400 < S) pays nothing. Both positions are removed.
    m = option_market(
        {"C": ("call", 1400, "2024-06-01T08:00:00Z"), "P": ("put", 1400, "2024-05-01T00:00:00Z")},
        {"a": {"C": "-2", "P": "3"}},
        usdc=1000,
    )
    acc = m.accounts["a"]
    assert acc.options == {}
    assert acc.supply == {"USDC": D(800)}
    assert m.total_supply["USDC"] == D(800)


def test_settlement_borrows_what_the_supply_does_not_cover() -> None:
    m = option_market({"C": ("call", 1400, "2024-05-31T00:00:00Z")}, {"a": {"C": "-2"}}, usdc=50)
    assert m.accounts["a"].supply == {}
    assert m.accounts["a"].borrow == {"USDC": D(150)}


def test_options_file_positions_join_the_book(tmp_path: Path) -> None:
    (tmp_path / "options.csv").write_text("account,option,size\nb,C,-1.5\nc,P,2\n")
    doc = base(market={"options_file": "options.csv"})
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    m = load_market(path)
    assert m.accounts["b"].options == {"C": D("-1.5")}
    assert m.accounts["c"].options == {"P": D(2)}
    out = tmp_path / "out.json"
    dump_market(m, out)
    again = json.loads(out.read_text())
    assert "options_file" not in again["market"]
    assert again["accounts"]["b"]["options"] == {"C": "-1.5"}


def test_bad_options_file_rows_are_located(tmp_path: Path) -> None:
    (tmp_path / "options.csv").write_text(
        "account,option,size\nb,C,-1\nb,C,2\nc,ZZ,1\nd,P,x\na,P,1\n"
    )
    doc = base(market={"options_file": "options.csv"})
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(MarketFileError) as info:
        load_market(path)
    found = {p.location: p.message for p in info.value.problems}
    assert "repeats account 'b' and option 'C'" in found["options.csv:row 3"]
    assert "unknown option 'ZZ'" in found["options.csv:row 4.option"]
    assert "must be a number" in found["options.csv:row 5.size"]
    assert "written inline" in found["options.csv:row 6"]


def test_a_market_with_options_round_trips_through_its_file(tmp_path: Path) -> None:
    m = option_market(
        {
            "C": {
                "kind": "call",
                "strike": 1600,
                "forward": "1502.5",
                "rate": "0.03",
                "liquidation_fee": "0.001",
            }
        },
        {"a": {"C": "-1"}},
        volatility="0.55",
        accounts={"a": {"margin": "portfolio"}},
        option_margin={"unpaired_initial_scale": "1.4"},
        portfolio_margin={
            "maintenance_factor": "0.7",
            "maintenance_haircut": {"ETH": "0.02"},
            "scenarios": [
                {"spot": "0.8", "vol": "up"},
                {"spot": 1, "vol": "skew_abs", "damping": 2},
            ],
        },
    )
    for suffix in (".toml", ".json"):
        path = tmp_path / f"m{suffix}"
        dump_market(m, path)
        again = load_market(path)
        assert again.state_equals(m)
        assert again.accounts["a"].margin is MarginMethod.PORTFOLIO
    assert market_to_dict(m)["options"]["C"]["expiry"] == "2024-06-28T08:00:00Z"


def test_a_perp_mark_price_must_be_positive() -> None:
    perp = {"underlying": "ETH", "settlement_asset": "USDC", "initial_margin": "0.1",
            "maintenance_margin": "0.05", "mark_price": 0}  # fmt: skip
    found = problems_of(base(perps={"ETH-PERP": perp}))
    assert "must be > 0" in found["perps.ETH-PERP.mark_price"]
