"""Liquidations through the service: the queue, the quote, and the contract's JSON."""

from __future__ import annotations

from decimal import Decimal

from tests.service.conftest import MARKET, Server
from xmargin.io.market_file import load_market
from xmargin.ledger.actions import execute_liquidate
from xmargin.store.journal import liquidation_json

FIELDS = {
    "bonus",  # the CLI's extension (issue 9, item 7)
    "account",
    "debt_asset",
    "collateral_asset",
    "repaid",
    "seized",
    "liquidator_receives",
    "protocol_fee",
    "health_factor_before",
    "health_factor_after",
    "bad_debt",
    "insurance_fund_used",  # contract 5.5
}


def test_the_queue_lists_liquidatable_accounts_largest_shortfall_first(server: Server) -> None:
    with server.client() as c:
        q = c.get("/v1/liquidations/queue", headers=server.headers("liquidator")).json()
        assert [a["account"] for a in q["accounts"]] == ["carol", "bob"]
        # carol: $1700 of maintenance collateral against $2100 (short $400), bob: $100.
        assert [a["risk_level"] for a in q["accounts"]] == ["liquidatable"] * 2
        assert [a["insolvent"] for a in q["accounts"]] == [True, False]
        assert (q["accounts"][1]["debt_asset"], q["accounts"][1]["collateral_asset"]) == (
            "USDC",
            "WETH",
        )
        hfs = [Decimal(a["health_factor"]) for a in q["accounts"]]
        assert hfs == sorted(hfs)
        assert q["liquidatable_accounts"] == 2
        one = c.get("/v1/liquidations/queue?limit=1", headers=server.headers("liquidator")).json()
        assert [a["account"] for a in one["accounts"]] == ["carol"]


def test_a_liquidation_returns_the_contract_json_and_the_quote_foretold_it(server: Server) -> None:
    liq = server.headers("liquidator")
    with server.client() as c:
        q = c.get(
            "/v1/liquidations/quote?account=bob&debt_asset=USDC&collateral_asset=WETH&amount=500",
            headers=liq,
        )
        assert q.status_code == 200
        n = server.journal_len()
        r = c.post(
            "/v1/liquidations",
            json={
                "account": "bob",
                "debt_asset": "USDC",
                "collateral_asset": "WETH",
                "amount": "500",
            },
            headers=liq,
        )
        assert r.status_code == 200
        body = r.json()
        assert set(body) >= FIELDS
        assert {k: body[k] for k in FIELDS} == q.json()
        assert body["seq"] == n + 1
        # The same liquidation on the exact engine gives the same figures.
        market = load_market(MARKET)
        assert liquidation_json(execute_liquidate(market, "bob", "USDC", "WETH", "500")) == q.json()
        acc = c.get("/v1/accounts/bob", headers=liq).json()
        assert acc["borrow"]["USDC"] == str(Decimal(1800) - Decimal(body["repaid"]))


def test_a_liquidation_that_leaves_bad_debt_writes_it_to_the_deficit(server: Server) -> None:
    with server.client() as c:
        r = c.post(
            "/v1/liquidations",
            json={
                "account": "carol",
                "debt_asset": "USDC",
                "collateral_asset": "WETH",
                "amount": "max",
            },
            headers=server.headers("liquidator"),
        )
        assert r.status_code == 200
        body = r.json()
        assert body["seized"] == "1"
        assert Decimal(body["bad_debt"]["USDC"]) > 0
        summary = c.get("/v1/risk/summary", headers=server.headers("admin")).json()
        assert summary["deficit"] == body["bad_debt"]
        usdc = {
            a["asset"]: a
            for a in c.get("/v1/assets", headers=server.headers("admin")).json()["assets"]
        }["USDC"]
        assert usdc["deficit"] == body["bad_debt"]["USDC"]
        acc = c.get("/v1/accounts/carol", headers=server.headers("admin")).json()
        assert acc["borrow"] == {} and acc["supply"] == {}
