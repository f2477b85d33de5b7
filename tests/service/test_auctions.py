"""Dutch auctions in the service (issue 15, contract 8.2): start, take, reset and status
at the service's clock (injected here), journalled, replayed, kept across a restart, and
answered as the CLI answers the same actions at the same instants.

The market is the Maker Clipper vector (tests/vectors/maker_clipper.toml): its clock
starts at 2024-06-01T08:00:00Z; step-exponential decay (90 s, 0.99), buf 1.2, tail
8400 s, cusp 0.45, tip 10, chip 0.1 %; the fund holds 100 USDC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.service.conftest import VECTORS, FakeClock, Server
from tests.service.figures import cli_json, same_figures
from tests.service.test_prices_and_events import _connected, _events
from xmargin.errors import JournalMismatch
from xmargin.store import replay_database
from xmargin.store.engine import write_transaction
from xmargin.store.models import AuctionRow, MarketRow

CLIPPER = VECTORS / "maker_clipper.toml"
START = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
SHORT = {"account": "short", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def server(server_factory: Any, clock: FakeClock) -> Any:
    with server_factory(market=CLIPPER, clock=clock) as srv:
        yield srv


def test_start_take_reset_and_status_answer_as_the_cli_at_the_same_instants(
    server: Server, clock: FakeClock, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    m1, m2 = tmp_path / "m1.toml", tmp_path / "m2.toml"
    cli_start = cli_json(
        capsys, "auction", "start", CLIPPER, "--account", "short", "--debt", "USDC",
        "--collateral", "WETH", "--max", "--out", m1,
    )  # fmt: skip
    cli_take = cli_json(
        capsys, "auction", "take", m1, "--id", "1", "--amount", "2", "--at", "+1800", "--out", m2
    )
    cli_status = cli_json(capsys, "auction", "status", m2, "--at", "2024-06-01T10:00:00Z")
    cli_reset = cli_json(
        capsys, "auction", "reset", m2, "--id", "1", "--at", "2024-06-01T10:00:00Z"
    )
    liq = server.headers("liquidator")
    with server.client() as c:
        start = c.post("/v1/auctions", json=SHORT, headers=liq)
        assert start.status_code == 200, start.text
        clock.advance(1800)
        status = c.get("/v1/auctions", headers=liq).json()
        take = c.post("/v1/auctions/1/take", json={"amount": "2"}, headers=liq)
        assert take.status_code == 200, take.text
        clock.now = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
        late = c.get("/v1/auctions", headers=liq).json()
        # 80 steps: 0.99^80 < cusp 0.45: a take is refused until the auction is reset.
        refused = c.post("/v1/auctions/1/take", json={"max": True}, headers=liq)
        reset = c.post("/v1/auctions/1/reset", headers=liq)
        assert reset.status_code == 200, reset.text
        after = c.get("/v1/auctions", headers=liq).json()
    same_figures(start.json(), cli_start)
    assert start.json()["time"] == "2024-06-01T08:00:00Z"
    assert (start.json()["seq"], start.json()["liquidator"]) == (2, server.key_id("liquidator"))
    (row,) = status["auctions"]
    assert (status["time"], row["age_seconds"], row["needs_reset"]) == (
        "2024-06-01T08:30:00Z",
        "1800",
        False,
    )
    assert row["price"] == take.json()["price"] == "1962.976650233354090135"
    same_figures(take.json(), cli_take)
    same_figures(late, cli_status)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "auction_needs_reset"
    same_figures(reset.json(), cli_reset)
    assert after["auctions"][0]["tic"] == "2024-06-01T10:00:00Z"
    assert after["auctions"][0]["price"] == "2400"  # restarted at oracle x buf
    replay_database(server.engine)


def test_a_liquidation_on_an_auction_market_starts_an_auction(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = cli_json(
        capsys, "liquidate", CLIPPER, "--account", "ample", "--debt", "USDC", "--collateral",
        "WETH", "--max",
    )  # fmt: skip
    body = {"account": "ample", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}
    liq = server.headers("liquidator")
    with server.client() as c, server.client() as s:
        params = {k: v for k, v in body.items() if k != "max"}
        quote = c.get("/v1/liquidations/quote", params=params, headers=liq)
        assert quote.status_code == 200, quote.text
        assert server.journal_len() == 1
        with s.stream("GET", "/v1/events", headers=server.headers("admin")) as st:
            lines = st.iter_lines()
            _connected(lines)
            r = c.post("/v1/liquidations", json=body, headers=liq)
            ((kind, event),) = _events(lines, 1)
        # The whole lot at once: 7 x 2400 > the tab 13560; 1.35 WETH return to ample.
        take = c.post("/v1/auctions/1/take", json={"max": True}, headers=liq)
        ample = c.get("/v1/accounts/ample", headers=server.headers("admin")).json()
    assert r.status_code == 200, r.text
    same_figures(r.json(), cli)
    assert {k: v for k, v in r.json().items() if k not in ("seq", "liquidator")} == quote.json()
    assert (kind, event["account"], event["seq"]) == ("auction_started", "ample", 2)
    assert take.status_code == 200, take.text
    assert (take.json()["paid"], take.json()["bought"]) == ("13560", "5.65")
    assert take.json()["returned"] == "1.35" and take.json()["auction"] is None
    assert ample["supply"] == {"WETH": "1.35"} and ample["borrow"] == {}
    replay_database(server.engine)


def test_auctions_and_the_clock_survive_a_restart_and_never_run_backwards(
    server_factory: Any, clock: FakeClock
) -> None:
    with server_factory(market=CLIPPER, clock=clock) as srv, srv.client() as c:
        liq = srv.headers("liquidator")
        assert c.post("/v1/auctions", json=SHORT, headers=liq).status_code == 200
        clock.advance(900)
        assert c.post("/v1/auctions/1/take", json={"amount": "1"}, headers=liq).status_code == 200
        before = c.get("/v1/auctions", headers=liq).json()
        summary = c.get("/v1/risk/summary", headers=liq).json()
    # A server whose clock reads earlier than the market's: the market's time holds.
    with server_factory(market=None, clock=FakeClock(START)) as srv, srv.client() as c:
        liq = srv.headers("liquidator")
        assert c.get("/v1/auctions", headers=liq).json() == before
        assert (
            c.get("/v1/risk/summary", headers=liq).json()["insurance_fund"]
            == summary["insurance_fund"]
        )
        take = c.post("/v1/auctions/1/take", json={"amount": "1"}, headers=liq)
        assert take.json()["time"] == "2024-06-01T08:15:00Z"
        replay_database(srv.engine)
    assert before["time"] == "2024-06-01T08:15:00Z"
    assert before["auctions"][0]["lot"] == "5"
    # the keeper's 21.3 USDC came out of the fund
    assert summary["insurance_fund"] == {"USDC": "78.7"}


@pytest.mark.parametrize(
    ("table", "values", "named"),
    [
        (AuctionRow, {"lot": Decimal(5)}, "state.auctions.1"),
        (MarketRow, {"auction_count": 3}, "state.auction_count"),
        (MarketRow, {"time": datetime(2024, 6, 2, tzinfo=UTC)}, "market: parameters differ (time)"),
    ],
)
def test_replay_names_a_stored_auction_state_the_journal_does_not_give(
    server: Server, table: Any, values: dict[str, Any], named: str
) -> None:
    with server.client() as c:
        assert c.post("/v1/auctions", json=SHORT, headers=server.headers("liquidator")).is_success
    replay_database(server.engine)
    with write_transaction(server.engine) as conn:
        conn.execute(update(table).values(**values))
    with pytest.raises(JournalMismatch) as info:
        replay_database(server.engine)
    assert any(named in d for d in info.value.differences), info.value.differences


def test_auction_requests_the_rules_refuse_change_nothing(server: Server) -> None:
    liq = server.headers("liquidator")
    with server.client() as c:
        before = server.journal_len()
        for path, body, status, code in [
            ("/v1/auctions", {**SHORT, "account": "healthy"}, 409, "not_liquidatable"),
            ("/v1/auctions", {**SHORT, "max": False}, 422, "invalid_request"),
            ("/v1/auctions", {**SHORT, "max": False, "amount": "1.0000001"}, 422, "invalid_amount"),
            ("/v1/auctions/7/take", {"max": True}, 404, "unknown_auction"),
            ("/v1/auctions/7/reset", None, 404, "unknown_auction"),
        ]:
            r = c.post(path, json=body, headers=liq)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, r.text)
        assert c.post("/v1/auctions", json=SHORT, headers=liq).status_code == 200
        for path, body, status, code in [
            ("/v1/auctions/1/reset", None, 409, "auction_cannot_reset"),
            ("/v1/auctions/1/take", {"max": True, "max_price": "2000"}, 409, "price_above_max"),
            ("/v1/auctions/1/take", {"max": True, "max_price": "-1"}, 422, "invalid_price"),
        ]:
            r = c.post(path, json=body, headers=liq)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, r.text)
        assert server.journal_len() == before + 1


def test_a_designs_endpoint_on_a_market_of_another_design_is_refused(
    shared_server: Server,
) -> None:
    liq = shared_server.headers("liquidator")
    with shared_server.client() as c:
        before = shared_server.journal_len()
        for path, body in [
            ("/v1/auctions", {**SHORT, "account": "bob"}),
            ("/v1/absorb", {"account": "bob"}),
            ("/v1/buy-collateral", {"asset": "WETH", "max": True}),
        ]:
            r = c.post(path, json=body, headers=liq)
            assert r.status_code == 422, (path, r.text)
            assert r.json()["error"]["code"] == "liquidation_design_mismatch"
        r = c.get("/v1/storefront", headers=liq)
        assert r.json()["error"]["code"] == "liquidation_design_mismatch"
        assert shared_server.journal_len() == before


def test_a_retried_take_that_ended_its_auction_answers_its_first_result(
    server: Server,
) -> None:
    """The first take buys the whole lot and ends auction 1; its retry (same key, same
    body) must answer that first result, not 404, and change nothing. A take of an
    auction that never existed, under a new key, is refused 404 and journals nothing."""
    liq = server.headers("liquidator")
    with server.client() as c:
        assert c.post("/v1/auctions", json=SHORT, headers=liq).status_code == 200
        keyed = {**liq, "Idempotency-Key": "take-all-1"}
        first = c.post("/v1/auctions/1/take", json={"max": True}, headers=keyed)
        assert first.status_code == 200, first.text
        assert first.json()["auction"] is None  # the take ended the auction
        journal = server.journal_len()
        again = c.post("/v1/auctions/1/take", json={"max": True}, headers=keyed)
        reset = c.post("/v1/auctions/1/reset", headers={**liq, "Idempotency-Key": "reset-gone-1"})
        unknown = c.post(
            "/v1/auctions/7/take", json={"max": True}, headers={**liq, "Idempotency-Key": "new"}
        )
    assert again.status_code == 200, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()
    assert (reset.status_code, reset.json()["error"]["code"]) == (404, "unknown_auction")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_auction")
    assert server.journal_len() == journal
    replay_database(server.engine)
