"""Perpetual futures in the service (issue 10 item 5): trade, settle, funding, the perp
list and the perp form of a liquidation; each answers as the CLI does, is journalled,
replays, survives a restart and reaches the event stream.

The market (tests/service/perp_market.toml): WETH 2000, USDC 1 (lt 0.85); ETH-PERP on
WETH settled in USDC, margins 10 % / 5 %, fees 1 % + 0.5 %; the fund holds 100 USDC.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.service.conftest import PERP_MARKET, Server
from tests.service.figures import cli_json, same_figures
from tests.service.test_prices_and_events import _connected, _events
from xmargin.errors import JournalMismatch
from xmargin.store import replay_database
from xmargin.store.engine import write_transaction
from xmargin.store.models import AssetRow, PerpPositionRow, PerpRow


@pytest.fixture
def server(server_factory: Any) -> Any:
    with server_factory(market=PERP_MARKET) as srv:
        yield srv


def test_trade_funding_and_settle_answer_as_the_cli_does(
    server: Server, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The same three actions through the CLI, chained with --out.
    m1, m2 = tmp_path / "m1.toml", tmp_path / "m2.toml"
    cli_trade = cli_json(
        capsys, "trade", PERP_MARKET, "--account", "trader", "--perp", "ETH-PERP",
        "--size", "-2.5", "--out", m1,
    )  # fmt: skip
    cli_funding = cli_json(
        capsys, "funding", m1, "--perp", "ETH-PERP", "--index", "12.5", "--out", m2
    )
    cli_settle = cli_json(capsys, "settle", m2, "--account", "trader", "--perp", "ETH-PERP")
    trader = server.headers("account", "trader")
    with server.client() as c:
        t = c.post(
            "/v1/accounts/trader/trade", json={"perp": "ETH-PERP", "size": "-2.5"}, headers=trader
        )
        f = c.post(
            "/v1/perps/ETH-PERP/funding",
            json={"funding_index": "12.5"},
            headers=server.headers("oracle"),
        )
        s = c.post("/v1/accounts/trader/settle", json={"perp": "ETH-PERP"}, headers=trader)
        acc = c.get("/v1/accounts/trader", headers=trader).json()
    assert [t.status_code, f.status_code, s.status_code] == [200, 200, 200], (t.text, f.text)
    same_figures(t.json(), cli_trade)
    same_figures(f.json(), cli_funding)
    same_figures(s.json(), cli_settle)
    assert [t.json()["seq"], f.json()["seq"], s.json()["seq"]] == [2, 3, 4]
    # long 5 -> 2.5 at 2000 (entry 2000: nothing realised); funding 2.5 x 12.5 = 31.25 paid.
    assert (t.json()["size_after"], t.json()["realized_pnl"]) == ("2.5", "0")
    assert s.json()["funding_paid"] == "31.25"
    assert acc["supply"] == {"USDC": "9968.75"}
    assert acc["perps"]["ETH-PERP"] == {
        "size": "2.5",
        "entry_price": "2000",
        "funding_index": "12.5",
        "notional": "5000",
        "pnl": "0",
    }
    assert (acc["perp_notional"], acc["unrealized_pnl"]) == ("5000", "0")
    replay_database(server.engine)


def test_a_refused_trade_is_409_and_changes_nothing(server: Server) -> None:
    edge = server.headers("account", "edge")
    with server.client() as c:
        before = (server.journal_len(), c.get("/v1/accounts/edge", headers=edge).json())
        # edge is below initial margin already: more risk is refused ...
        r = c.post("/v1/accounts/edge/trade", json={"perp": "ETH-PERP", "size": "1"}, headers=edge)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "insufficient_margin"
        # ... and so is a position past the open-interest cap (1000 per side).
        trader = server.headers("account", "trader")
        r = c.post(
            "/v1/accounts/trader/trade", json={"perp": "ETH-PERP", "size": "996"}, headers=trader
        )
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] in ("insufficient_margin", "open_interest_cap_exceeded")
        assert (server.journal_len(), c.get("/v1/accounts/edge", headers=edge).json()) == before
        # Reducing risk is never refused for margin (contract 5.3 step 4).
        r = c.post("/v1/accounts/edge/trade", json={"perp": "ETH-PERP", "size": "-1"}, headers=edge)
        assert r.status_code == 200, r.text
        assert r.json()["size_after"] == "4"


@pytest.mark.parametrize(
    ("body", "status", "code", "where"),
    [
        ({"perp": "ETH-PERP", "size": "1e-19"}, 422, "invalid_amount", "18 decimal places"),
        ({"perp": "ETH-PERP", "size": "0"}, 422, "invalid_amount", "non-zero"),
        ({"perp": "ETH-PERP", "size": "NaN"}, 422, "invalid_amount", "size"),
        ({"perp": "ETH-PERP", "size": "1_000"}, 422, "invalid_amount", "size"),
        ({"perp": "ETH-PERP", "size": "1" * 70}, 422, "invalid_amount", "size"),
        ({"perp": "DOGE-PERP", "size": "1"}, 404, "unknown_perp", "DOGE-PERP"),
        ({"perp": "ETH-PERP"}, 422, "invalid_request", "body.size"),
        ({"perp": "ETH-PERP", "size": "1", "price": "1"}, 422, "invalid_request", "body.price"),
    ],
)
def test_a_bad_trade_is_refused_with_its_location(
    server: Server, body: dict[str, Any], status: int, code: str, where: str
) -> None:
    with server.client() as c:
        before = server.journal_len()
        r = c.post(
            "/v1/accounts/trader/trade", json=body, headers=server.headers("account", "trader")
        )
        assert r.status_code == status, r.text
        err = r.json()["error"]
        assert err["code"] == code
        assert where in err["message"] + " ".join(err["problems"])
        assert server.journal_len() == before


def test_a_trade_with_an_idempotency_key_is_applied_once(server: Server) -> None:
    h = {**server.headers("account", "shorty"), "Idempotency-Key": "short-more-1"}
    body = {"perp": "ETH-PERP", "size": "-1"}
    with server.client() as c:
        first = c.post("/v1/accounts/shorty/trade", json=body, headers=h)
        again = c.post("/v1/accounts/shorty/trade", json=body, headers=h)
        other = c.post(
            "/v1/accounts/shorty/trade", json={"perp": "ETH-PERP", "size": "-2"}, headers=h
        )
        acc = c.get("/v1/accounts/shorty", headers=h).json()
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert acc["perps"]["ETH-PERP"]["size"] == "-6"


def test_the_perp_list_shows_funding_open_interest_and_the_fund(server: Server) -> None:
    with server.client() as c:
        doc = c.get("/v1/perps", headers=server.headers("account", "alice")).json()
    assert doc["quote"] == "USD"
    assert doc["insurance_fund"] == {"USDC": "100"}
    (perp,) = doc["perps"]
    # long: trader 5, edge 5, sunk 2; short: shorty 5, hedged 1.
    assert perp == {
        "perp": "ETH-PERP",
        "underlying": "WETH",
        "settlement_asset": "USDC",
        "price": "2000",
        "funding_index": "0",
        "open_interest_long": "12",
        "open_interest_short": "6",
        "open_interest_cap": "1000",
        "initial_margin": "0.1",
        "maintenance_margin": "0.05",
        "size_factor": "0",
        "liquidation_fee": "0.01",
        "insurance_fee": "0.005",
        "pnl_initial_weight": "1",
        "positions": 5,
    }


def test_a_perp_liquidation_draws_the_fund_then_writes_off_bad_debt(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_json(
        capsys, "liquidate", PERP_MARKET, "--account", "sunk", "--perp", "ETH-PERP", "--max"
    )
    liq = server.headers("liquidator")
    with server.client() as c, server.client() as s:
        quote = c.get(
            "/v1/liquidations/quote", params={"account": "sunk", "perp": "ETH-PERP"}, headers=liq
        )
        assert quote.status_code == 200, quote.text
        assert server.journal_len() == 1  # a quote changes nothing
        with s.stream("GET", "/v1/events", headers=server.headers("admin")) as stream:
            lines = stream.iter_lines()
            _connected(lines)
            r = c.post(
                "/v1/liquidations",
                json={"account": "sunk", "perp": "ETH-PERP", "max": True},
                headers=liq,
            )
            got = _events(lines, 3)
        perps = c.get("/v1/perps", headers=liq).json()
        summary = c.get("/v1/risk/summary", headers=liq).json()
    assert r.status_code == 200, r.text
    body = r.json()
    same_figures(body, cli)
    assert {k: v for k, v in body.items() if k not in ("seq", "liquidator")} == quote.json()
    # -400 realised and fees 40 + 20 leave 160 USDC owed: the fund (100 + 20) covers 120.
    assert (body["closed"], body["realized_pnl"]) == ("2", "-400")
    assert (body["liquidator_fee"], body["insurance_fee"]) == ("40", "20")
    assert body["insurance_fund_used"] == {"USDC": "120"}
    assert body["bad_debt"] == {"USDC": "40"}
    assert [k for k, _ in got] == ["liquidation", "bad_debt", "risk_level"]
    assert got[0][1]["perp"] == "ETH-PERP" and got[0][1]["seq"] == body["seq"]
    assert got[1][1] == {**got[1][1], "account": "sunk", "assets": {"USDC": "40"}}
    assert (got[2][1]["account"], got[2][1]["from"], got[2][1]["to"]) == (
        "sunk",
        "liquidatable",
        "healthy",
    )
    assert perps["insurance_fund"] == {}
    assert perps["perps"][0]["open_interest_long"] == "10"
    assert summary["deficit"] == {"USDC": "40"}
    replay_database(server.engine)


def test_positions_funding_fund_and_open_interest_survive_a_restart(server_factory: Any) -> None:
    paths = ["/v1/accounts/trader", "/v1/accounts/sunk", "/v1/accounts/shorty", "/v1/perps"]
    with server_factory(market=PERP_MARKET) as srv, srv.client() as c:
        trader = srv.headers("account", "trader")
        assert c.post(
            "/v1/accounts/trader/trade", json={"perp": "ETH-PERP", "size": "1.25"}, headers=trader
        ).is_success
        assert c.post(
            "/v1/perps/ETH-PERP/funding",
            json={"funding_index": "-3.75"},
            headers=srv.headers("oracle"),
        ).is_success
        assert c.post(
            "/v1/liquidations",
            json={"account": "sunk", "perp": "ETH-PERP", "size": "1"},
            headers=srv.headers("liquidator"),
        ).is_success
        admin = srv.headers("admin")
        before = [c.get(p, headers=admin).json() for p in paths]
    with server_factory(market=None) as srv, srv.client() as c:
        admin = srv.headers("admin")
        after = [c.get(p, headers=admin).json() for p in paths]
        replay_database(srv.engine)
    assert after == before
    assert after[0]["perps"]["ETH-PERP"]["size"] == "6.25"
    assert after[3]["perps"][0]["funding_index"] == "-3.75"


@pytest.mark.parametrize(
    ("table", "where", "values", "named"),
    [
        (PerpPositionRow, PerpPositionRow.account_id == "trader", {"size": Decimal(6)},
         "accounts.trader.perps.ETH-PERP"),
        (PerpRow, PerpRow.name == "ETH-PERP", {"funding_index": Decimal("0.5")},
         "perps.ETH-PERP.funding_index"),
        (PerpRow, PerpRow.name == "ETH-PERP", {"open_interest_short": Decimal(7)},
         "perps.ETH-PERP.open_interest_short"),
        (AssetRow, AssetRow.symbol == "USDC", {"insurance_fund": Decimal(99)},
         "market.insurance_fund.USDC"),
    ],
)  # fmt: skip
def test_replay_names_a_stored_perp_state_the_journal_does_not_give(
    server: Server, table: Any, where: Any, values: dict[str, Decimal], named: str
) -> None:
    with server.client() as c:
        c.post(
            "/v1/accounts/shorty/trade",
            json={"perp": "ETH-PERP", "size": "0.5"},
            headers=server.headers("account", "shorty"),
        )
    replay_database(server.engine)
    with write_transaction(server.engine) as conn:
        conn.execute(update(table).where(where).values(**values))
    with pytest.raises(JournalMismatch) as info:
        replay_database(server.engine)
    assert any(named in d for d in info.value.differences), info.value.differences


def test_trades_reach_the_traders_own_stream_and_funding_every_stream(server: Server) -> None:
    trader = server.headers("account", "trader")
    with server.client() as c, server.client() as s:
        with s.stream("GET", "/v1/events", headers=server.headers("account", "alice")) as st:
            lines = st.iter_lines()
            _connected(lines)
            c.post(
                "/v1/accounts/trader/trade", json={"perp": "ETH-PERP", "size": "1"}, headers=trader
            )
            c.post(
                "/v1/perps/ETH-PERP/funding",
                json={"funding_index": "1"},
                headers=server.headers("oracle"),
            )
            # alice hears the funding change, not trader's trade.
            ((kind, data),) = _events(lines, 1)
        assert (kind, data["perp"], data["funding_index"]) == ("funding", "ETH-PERP", "1")
        with s.stream("GET", "/v1/events", headers={**trader, "Last-Event-ID": "0"}) as st:
            got = _events(st.iter_lines(), 2)
    assert [k for k, _ in got] == ["trade", "funding"]
    assert got[0][1]["account"] == "trader" and got[0][1]["size_after"] == "6"


def test_a_parameter_change_on_a_market_with_perps_keeps_every_position(server: Server) -> None:
    params = {
        "collateral_factor": "0.7",
        "liquidation_threshold": "0.75",
        "liquidation_bonus": "0.05",
    }
    admin = server.headers("admin")
    with server.client() as c:
        before = c.get("/v1/perps", headers=admin).json()
        r = c.put("/v1/assets/WETH", json=params, headers=admin)
        assert r.status_code == 200, r.text
        # hedged's 1 WETH now counts 0.75: mc 1500 + 500 against 1900: at risk.
        hedged = c.get("/v1/accounts/hedged", headers=admin).json()
        assert c.get("/v1/perps", headers=admin).json() == before
    assert hedged["perps"]["ETH-PERP"]["size"] == "-1"
    assert (hedged["health_factor"], hedged["risk_level"]) == ("1.052631578947368421", "at_risk")
    replay_database(server.engine)
