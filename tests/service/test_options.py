"""Options in the service (issue 14, item 6): the option form of a trade, the liquidation
of option positions, an account's greeks and the option list; each answers as the CLI
does, is journalled, replays, survives a restart and reaches the event stream.

The market (tests/service/option_market.toml): WETH 2000, USDC 1; a 2200 call and an
1800 put 27 days out at σ 0.6; ``writer`` a covered call, ``strangle`` a short strangle
under portfolio margin, ``edge`` five naked short calls below maintenance.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.service.conftest import Server
from tests.service.figures import cli_json, same_figures
from tests.service.test_prices_and_events import _connected, _events
from xmargin.errors import JournalMismatch
from xmargin.model.options import MarginMethod
from xmargin.store import replay_database
from xmargin.store.engine import write_transaction
from xmargin.store.market_store import load_state
from xmargin.store.models import OptionPositionRow

OPTION_MARKET = Path(__file__).parent / "option_market.toml"
CALL = "ETH-20240628-2200-C"
PUT = "ETH-20240628-1800-P"


@pytest.fixture
def server(server_factory: Any) -> Any:
    with server_factory(market=OPTION_MARKET) as srv:
        yield srv


def _stored(server: Server) -> Any:
    with server.engine.connect() as conn:
        return load_state(conn).market


def test_an_option_trade_answers_as_the_cli_does_and_is_kept(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_json(
        capsys, "trade", OPTION_MARKET, "--account", "buyer", "--option", CALL, "--size", "2"
    )
    buyer = server.headers("account", "buyer")
    with server.client() as c:
        r = c.post("/v1/accounts/buyer/trade", json={"option": CALL, "size": "2"}, headers=buyer)
        listed = c.get("/v1/options", headers=buyer).json()
    assert r.status_code == 200, r.text
    same_figures(r.json(), cli)
    assert (r.json()["size_after"], r.json()["seq"]) == ("2", 2)
    assert Decimal(r.json()["premium"]) > 0
    held = _stored(server).accounts["buyer"]
    assert held.options == {CALL: Decimal(2)}
    assert [o["positions"] for o in listed["options"]] == [4, 1]  # buyer, writer, strangle, edge
    assert listed["time"] == "2024-06-01T08:00:00Z"
    replay_database(server.engine)


def test_a_bad_or_refused_option_trade_changes_nothing(server: Server) -> None:
    edge = server.headers("account", "edge")
    with server.client() as c:
        more = c.post("/v1/accounts/edge/trade", json={"option": CALL, "size": "-1"}, headers=edge)
        unknown = c.post(
            "/v1/accounts/edge/trade", json={"option": "NOPE", "size": "1"}, headers=edge
        )
        both = c.post(
            "/v1/accounts/edge/trade",
            json={"option": CALL, "perp": "X", "size": "1"},
            headers=edge,
        )
        bad = c.post("/v1/accounts/edge/trade", json={"option": CALL, "size": "1e99"}, headers=edge)
    assert more.status_code == 409, more.text
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_option"
    assert both.status_code == 422 and "perp" in both.text
    assert bad.status_code == 422 and "size" in bad.text
    assert server.journal_len() == 1


def test_an_option_trade_with_an_idempotency_key_is_applied_once(server: Server) -> None:
    h = {**server.headers("account", "writer"), "Idempotency-Key": "buy-back-1"}
    body = {"option": CALL, "size": "0.5"}
    with server.client() as c:
        first = c.post("/v1/accounts/writer/trade", json=body, headers=h)
        again = c.post("/v1/accounts/writer/trade", json=body, headers=h)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _stored(server).accounts["writer"].options == {CALL: Decimal("-0.5")}


def test_greeks_of_an_account_are_the_clis(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_json(capsys, "greeks", OPTION_MARKET, "--account", "strangle")
    with server.client() as c:
        own = c.get("/v1/accounts/strangle/greeks", headers=server.headers("account", "strangle"))
        other = c.get("/v1/accounts/strangle/greeks", headers=server.headers("account", "edge"))
        admin = c.get("/v1/accounts/strangle/greeks", headers=server.headers("admin"))
    assert own.status_code == 200, own.text
    same_figures(own.json(), cli["accounts"][0])
    assert admin.json() == own.json()
    assert other.status_code == 403


def test_an_option_liquidation_answers_as_the_cli_and_reaches_the_stream(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_json(capsys, "liquidate", OPTION_MARKET, "--account", "edge", "--options")
    liq = server.headers("liquidator")
    with server.client() as c, server.client() as s:
        with s.stream("GET", "/v1/events", headers=server.headers("account", "edge")) as st:
            lines = st.iter_lines()
            _connected(lines)
            r = c.post("/v1/liquidations/options", json={"account": "edge"}, headers=liq)
            got = _events(lines, 1)
        healthy = c.post("/v1/liquidations/options", json={"account": "buyer"}, headers=liq)
        level = c.get("/v1/accounts/edge", headers=server.headers("admin")).json()
    assert r.status_code == 200, r.text
    body = r.json()
    same_figures(body, cli)
    assert body["liquidator"] is not None and body["options"][0]["option"] == CALL
    assert got[0][0] == "liquidation" and got[0][1]["seq"] == body["seq"]
    assert healthy.status_code == 409
    assert healthy.json()["error"]["code"] == "not_liquidatable"
    assert level.get("risk_level", "healthy") != "liquidatable"
    replay_database(server.engine)


def test_options_positions_and_margin_methods_survive_a_restart(server_factory: Any) -> None:
    paths = ["/v1/accounts/writer", "/v1/accounts/strangle/greeks", "/v1/options"]
    with server_factory(market=OPTION_MARKET) as srv, srv.client() as c:
        assert c.post(
            "/v1/accounts/writer/trade",
            json={"option": PUT, "size": "-1"},
            headers=srv.headers("account", "writer"),
        ).is_success
        admin = srv.headers("admin")
        before = [c.get(p, headers=admin).json() for p in paths]
    with server_factory(market=None) as srv, srv.client() as c:
        admin = srv.headers("admin")
        after = [c.get(p, headers=admin).json() for p in paths]
        market = _stored(srv)
        replay_database(srv.engine)
    assert after == before
    assert market.accounts["writer"].options == {CALL: Decimal(-1), PUT: Decimal(-1)}
    assert market.accounts["strangle"].margin is MarginMethod.PORTFOLIO


def test_replay_names_a_stored_option_position_the_journal_does_not_give(
    server: Server,
) -> None:
    with server.client() as c:
        c.post(
            "/v1/accounts/buyer/trade",
            json={"option": PUT, "size": "1"},
            headers=server.headers("account", "buyer"),
        )
    replay_database(server.engine)
    with write_transaction(server.engine) as conn:
        conn.execute(
            update(OptionPositionRow)
            .where(OptionPositionRow.account_id == "buyer")
            .values(size=Decimal(3))
        )
    with pytest.raises(JournalMismatch) as info:
        replay_database(server.engine)
    assert any("accounts.buyer.options" in d for d in info.value.differences)


def test_an_account_shows_its_options_value_and_margin_method(server: Server) -> None:
    admin = server.headers("admin")
    with server.client() as c:
        strangle = c.get("/v1/accounts/strangle", headers=admin).json()
        buyer = c.get("/v1/accounts/buyer", headers=admin).json()
    assert strangle["options"] == {CALL: "-1", PUT: "-1"}
    assert strangle["margin"] == "portfolio"
    assert Decimal(strangle["option_value"]) < 0
    assert "options" not in buyer and "margin" not in buyer  # balances only: as before
