"""The shared hand-checked vectors (tests/vectors/) give the same figures through the CLI
as through the library: the commands add nothing and lose nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from xmargin.errors import RuleViolation
from xmargin.io import load_market
from xmargin.mathlib import fmt
from xmargin.model import Market
from xmargin.risk.auction import quote_auction_start
from xmargin.risk.health import account_health
from xmargin.risk.liquidation import quote_liquidation
from xmargin.risk.storefront import quote_absorb

VECTORS = sorted((Path(__file__).parents[1] / "vectors").glob("*.toml"))


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


@pytest.mark.skipif(not VECTORS, reason="tests/vectors/ holds no market files yet")
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_health_of_every_vector_equals_the_library(xm, path: Path) -> None:
    market = load_market(path)
    run = xm("health", path, "--json")
    assert run.code == 0, run.err
    rows = run.json()["accounts"]
    assert [r["account"] for r in rows] == list(market.accounts)
    for row in rows:
        h = account_health(market.account(row["account"]), market)
        assert row["liquidatable"] is h.liquidatable
        assert _dec(row["health_factor"]) == h.health_factor
        assert Decimal(row["maintenance_debt"]) == h.maintenance_debt
        assert Decimal(row["available_to_borrow"]) == h.available_to_borrow


@pytest.mark.skipif(not VECTORS, reason="tests/vectors/ holds no market files yet")
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_max_liquidations_of_every_vector_equal_the_library(xm, path: Path) -> None:
    market = load_market(path)
    if market.params.liquidation in ("auction", "storefront"):  # contract 8.5
        _design_liquidations_equal_the_library(xm, path, market)
        return
    for account_id, account in market.accounts.items():
        for debt in account.borrow:
            for coll in account.supply:
                args = ["--account", account_id, "--debt", debt, "--collateral", coll, "--max"]
                run = xm("liquidate", path, *args, "--json")
                try:
                    quote = quote_liquidation(market, account_id, debt, coll, "max")
                except RuleViolation as exc:
                    assert run.code == 1
                    assert run.json()["error"]["code"] == exc.code
                    continue
                assert run.code == 0, run.err
                doc = run.json()
                assert Decimal(doc["repaid"]) == quote.repaid
                assert Decimal(doc["seized"]) == quote.seized
                assert Decimal(doc["protocol_fee"]) == quote.protocol_fee
                assert _dec(doc["health_factor_after"]) == quote.health_factor_after
                assert {a: Decimal(u) for a, u in doc["bad_debt"].items()} == quote.bad_debt


def _design_liquidations_equal_the_library(xm, path: Path, market: Market) -> None:
    """``liquidate`` under ``auction`` starts an auction, under ``storefront`` absorbs."""
    for account_id, account in market.accounts.items():
        for debt in account.borrow:
            for coll in account.supply:
                args = ["--account", account_id, "--debt", debt, "--collateral", coll, "--max"]
                run = xm("liquidate", path, *args, "--json")
                try:
                    if market.params.liquidation == "auction":
                        start = quote_auction_start(market, account_id, debt, coll, "max")
                        expected = {"auction": start.auction.to_dict()}
                    else:
                        absorb = quote_absorb(market, account_id)
                        expected = {"excess": fmt(absorb.excess)}
                except RuleViolation as exc:
                    assert run.code == 1
                    assert run.json()["error"]["code"] == exc.code
                    continue
                assert run.code == 0, run.err
                doc = run.json()
                if "auction" in expected:
                    doc["auction"].pop("id")
                assert {k: doc[k] for k in expected} == expected
