"""Rule 7.3: concentration, seized share, contagion edges and cascade, clearing, de-peg."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from xmargin.analytics.analysis_inputs import load_inputs
from xmargin.analytics.clearing import clear, clearing_vector, parse_entities
from xmargin.analytics.network import network

# Three WETH holders who borrow USDC, WETH sold into a pool of X = 100 units at 1000.
# Liquidation prices of WETH (lt 0.8; margin = 0.8·s·P − debt):
#   a: 10 WETH, 7000 USDC -> 875;  b: 10 WETH, 7600 -> 950;  c: 10 WETH, 7800 -> 975;
#   whale: 50 WETH, 20000 -> 500 (selling min(50, 20000·1.05/1000 = 21) units).
# A sale of q units moves the mid to 1000·X²/(X+q)²: whale 21 -> 683.0: it reaches a, b, c.
# c sells min(10, 7800·1.05/1000 = 8.19) -> 854.9: reaches b and a. b: 7.98 -> 857.4:
# reaches c and a. a: 7.35 -> 869.2: reaches b and c (875 >= 869.2).
MARKET = """
[market]
quote = "USD"
close_factor = 1
[assets.WETH]
price = 1000
collateral_factor = 0.75
liquidation_threshold = 0.8
liquidation_bonus = 0.05
liquidity = { model = "cpmm", reserve_units = 100, reserve_quote = 100000 }
[assets.USDC]
price = 1
collateral_factor = 0.8
liquidation_threshold = 0.85
liquidation_bonus = 0.04
[accounts.a]
supply = { WETH = 10 }
borrow = { USDC = 7000 }
[accounts.b]
supply = { WETH = 10 }
borrow = { USDC = 7600 }
[accounts.c]
supply = { WETH = 10 }
borrow = { USDC = 7800 }
[accounts.whale]
supply = { WETH = 50 }
borrow = { USDC = 20000 }
[accounts.saver]
supply = { USDC = 30000 }
"""


def test_hhi_and_top10_shares_by_hand(write_market: Callable[..., Path]) -> None:
    inputs = load_inputs(write_market(MARKET))
    res = network(inputs.book, inputs.liquidity, {})
    weth = next(r for r in res.assets if r["asset"] == "WETH")
    # Supply shares 10/80, 10/80, 10/80, 50/80: HHI = 3/64 + 25/64 = 0.4375.
    assert float(weth["supply_hhi"]) == pytest.approx(0.4375)
    assert float(weth["top10_supply_share"]) == pytest.approx(1.0)
    usdc = next(r for r in res.assets if r["asset"] == "USDC")
    # Debt shares 7000, 7600, 7800, 20000 of 42400.
    shares = np.array([7000, 7600, 7800, 20000]) / 42400
    assert float(usdc["debt_hhi"]) == pytest.approx(float((shares**2).sum()))
    assert usdc["supply_hhi"] == "1"  # one supplier holds all of it
    assert weth["debt_hhi"] is None  # nobody borrows WETH


def test_seized_share_under_a_shock(write_market: Callable[..., Path]) -> None:
    inputs = load_inputs(write_market(MARKET))
    # At 900 (-10%) only b (950) and c (975) are liquidatable; close factor 1 lets each
    # repay its whole debt: seized (7600 + 7800)·1.05/900 = 17.9667 of 80 WETH.
    res = network(inputs.book, inputs.liquidity, {"WETH": Decimal("-0.10")})
    weth = next(r for r in res.assets if r["asset"] == "WETH")
    assert float(weth["seized_share"]) == pytest.approx((7600 + 7800) * 1.05 / 900 / 80)


def test_contagion_edges_and_the_largest_cascade(write_market: Callable[..., Path]) -> None:
    inputs = load_inputs(write_market(MARKET))
    doc = network(inputs.book, inputs.liquidity, {}).to_doc()
    edges = {(e["from"], e["to"]) for e in doc["contagion"]["edges"]}
    assert edges == {
        ("whale", "a"), ("whale", "b"), ("whale", "c"),
        ("a", "b"), ("a", "c"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "b"),
    }  # fmt: skip
    assert all(e["asset"] == "WETH" for e in doc["contagion"]["edges"])
    ct = doc["contagion"]
    assert ct["edge_count"] == 9 and not ct["edges_truncated"]
    assert sorted(ct["largest_cascade"]) == ["a", "b", "c", "whale"]
    assert ct["largest_cascade_source"] == "whale" and ct["exact"] is True


def test_no_liquidity_model_means_no_edge(demo: Path) -> None:
    inputs = load_inputs(demo)
    doc = network(inputs.book, inputs.liquidity, {"WETH": Decimal("-0.3")}).to_doc()
    assert doc["contagion"]["edges"] == [] and doc["contagion"]["largest_cascade"] == []


def test_eisenberg_noe_contract_vector() -> None:
    liab = np.array([[0, 10, 10], [5, 0, 5], [0, 0, 0]], float)
    p, _ = clearing_vector(liab, np.array([5.0, 8.0, 3.0]))
    assert p.tolist() == [10.0, 10.0, 0.0]


def test_the_greatest_clearing_vector_in_a_closed_ring() -> None:
    # A owes B 10, B owes A 10, nothing outside: paying in full clears (p* = p̄), even
    # though paying nothing would too; the greatest vector is the full one.
    liab = np.array([[0, 10], [10, 0]], float)
    p, _ = clearing_vector(liab, np.zeros(2))
    assert p.tolist() == [10.0, 10.0]


def test_an_issuers_shortfall_depegs_its_token_in_the_book(
    write_market: Callable[..., Path],
) -> None:
    inputs = load_inputs(write_market(MARKET))
    doc = {
        "entities": {
            # The issuer backs 100,000 USDC with 60,000 of assets and a 30,000 claim on
            # a fund that holds 20 WETH: at 1000, the fund pays 20,000; recovery 0.8.
            "issuer": {
                "kind": "issuer",
                "external_assets": 60000,
                "external_liabilities": 100000,
                "issues": "USDC",
            },
            "fund": {"holdings": {"WETH": 20}, "liabilities": {"issuer": 30000}},
        }
    }
    ents = parse_entities(doc, "entities.toml", inputs.book.assets)
    cl = clear(ents, inputs.book.assets, inputs.book.price)
    d = cl.to_doc()
    assert d["payments"] == {"issuer": "80000", "fund": "20000"}
    assert d["defaulted"] == ["issuer", "fund"]
    assert d["depegs"]["USDC"]["price_after"] == "0.8"
    res = network(inputs.book, inputs.liquidity, {}, entities=ents)
    usdc = next(r for r in res.assets if r["asset"] == "USDC")
    assert usdc["price"] == "0.8"  # the book is valued at the endogenous de-peg


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"entities": {"A": {"liabilities": {"Z": 1}}}}, "no entity 'Z'"),
        ({"entities": {"A": {"external_assets": -1}}}, "external_assets"),
        ({"entities": {"A": {"holdings": {"DOGE": 1}}}}, "no asset 'DOGE'"),
        ({"entities": {"A": {"colour": "red"}}}, "unknown key"),
        ({"entities": {"A": {"external_assets": "nan"}}}, "finite"),
        ({"nodes": {}}, "expected [entities.NAME]"),
    ],
)
def test_bad_entities_are_refused_with_their_location(doc: dict[str, object], message: str) -> None:
    from xmargin.errors import InputError

    with pytest.raises(InputError, match=message.replace("[", r"\[")):
        parse_entities(doc, "e.toml", ("WETH", "USDC"))


def test_cli_json_has_the_contract_sections(
    xm: Callable[..., object], write_market: Callable[..., Path], tmp_path: Path
) -> None:
    market = write_market(MARKET)
    ent = tmp_path / "entities.toml"
    ent.write_text(
        "[entities.A]\nexternal_assets = 5\nliabilities = { B = 10, C = 10 }\n"
        "[entities.B]\nexternal_assets = 8\nliabilities = { A = 5, C = 5 }\n"
        "[entities.C]\nexternal_assets = 3\n"
    )
    run = xm("network", market, "--entities", ent, "--shock", "WETH=-5%", "--json")
    assert run.code == 0, run.err
    doc = run.json()
    assert set(doc) >= {"assets", "contagion", "entities"}
    assert doc["entities"]["payments"] == {"A": "10", "B": "10", "C": "0"}
    assert doc["entities"]["defaulted"] == ["A"]
    assert doc["entities"]["shortfall"] == {"A": "10", "B": "0", "C": "0"}
    for key in ("asset", "supply_hhi", "debt_hhi", "top10_supply_share", "top10_debt_share"):
        assert key in doc["assets"][0]
    bad = xm("network", market, "--shock", "WETH=-120%")
    assert bad.code == 2 and "above -100%" in bad.err
