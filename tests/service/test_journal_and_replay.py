"""The event-sourced journal: every accepted command, numbered, replayable; ``replay``
finds any difference between the journal and the stored balances (issue item 2)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import update

from tests.service.conftest import Server
from xmargin.cli.app import main
from xmargin.errors import JournalMismatch
from xmargin.store import replay_database
from xmargin.store.engine import write_transaction
from xmargin.store.models import AssetRow, BalanceRow, JournalRow


def _activity(server: Server) -> None:
    with server.client() as c:
        alice = server.headers("account", "alice")
        c.post("/v1/accounts/alice/deposit", json={"asset": "WETH", "amount": "0.5"}, headers=alice)
        c.post(
            "/v1/accounts/alice/borrow", json={"asset": "USDC", "amount": "250.125"}, headers=alice
        )
        c.post(
            "/v1/accounts/newcomer/deposit",
            json={"asset": "USDC", "amount": "10"},
            headers=server.headers("account", "newcomer"),
        )
        c.post("/v1/prices", json={"WETH": "1900"}, headers=server.headers("oracle"))
        c.put(
            "/v1/assets/USDC",
            json={
                "collateral_factor": "0.75",
                "liquidation_threshold": "0.8",
                "liquidation_bonus": "0.04",
                "decimals": 6,
            },
            headers=server.headers("admin"),
        )
        c.post(
            "/v1/liquidations",
            json={
                "account": "carol",
                "debt_asset": "USDC",
                "collateral_asset": "WETH",
                "max": True,
            },
            headers=server.headers("liquidator"),
        )


def test_every_accepted_command_is_journalled_in_order(server: Server) -> None:
    _activity(server)
    with server.client() as c:
        page = c.get("/v1/journal?after=0&limit=100", headers=server.headers("admin")).json()
    kinds = [e["kind"] for e in page["entries"]]
    assert kinds == ["genesis", "deposit", "borrow", "deposit", "prices", "set_asset", "liquidate"]
    assert [e["seq"] for e in page["entries"]] == list(range(1, 8))
    assert page["last_seq"] == 7
    borrow = page["entries"][2]
    assert borrow["command"] == {"account": "alice", "asset": "USDC", "amount": "250.125"}
    assert borrow["actor"] is not None
    with server.client() as c:
        tail = c.get("/v1/journal?after=5", headers=server.headers("admin")).json()
    assert [e["seq"] for e in tail["entries"]] == [6, 7]


def test_replay_rebuilds_the_stored_state_exactly(server: Server) -> None:
    _activity(server)
    result = replay_database(server.engine)
    assert (result.entries, result.last_seq) == (7, 7)


def test_replay_finds_a_balance_changed_behind_the_journal(server: Server) -> None:
    _activity(server)
    with write_transaction(server.engine) as conn:
        conn.execute(
            update(BalanceRow)
            .where(BalanceRow.account_id == "alice", BalanceRow.asset == "USDC")
            .values(borrow=Decimal("1.000001"))
        )
        conn.execute(
            update(AssetRow).where(AssetRow.symbol == "WETH").values(total_supply=Decimal(0))
        )
    with pytest.raises(JournalMismatch) as info:
        replay_database(server.engine)
    problems = info.value.differences
    assert "accounts.alice.borrow.USDC: journal gives 5250.125, stored 1.000001" in problems
    assert any(p.startswith("assets.WETH.total_supply:") for p in problems)


def test_replay_finds_a_gap_in_the_journal(server: Server) -> None:
    _activity(server)
    with write_transaction(server.engine) as conn:
        conn.execute(update(JournalRow).where(JournalRow.seq == 3).values(seq=30))
    with pytest.raises(JournalMismatch) as info:
        replay_database(server.engine)
    assert any("gap" in p for p in info.value.differences)


def _replay_cli(
    db_url: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", "--db", db_url, *extra])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_the_replay_command_exits_0_when_it_agrees_and_2_listing_differences(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    _activity(server)
    code, out, err = _replay_cli(server.db_url, capsys, "--json")
    assert code == 0, err
    assert json.loads(out) == {"entries": 7, "last_seq": 7, "accounts": 5, "agrees": True}
    with write_transaction(server.engine) as conn:
        conn.execute(update(AssetRow).where(AssetRow.symbol == "USDC").values(deficit=Decimal(7)))
    code, out, err = _replay_cli(server.db_url, capsys)
    assert code == 2
    assert err.startswith("error: replay differs from the stored state")
    assert "assets.USDC.deficit" in err
    assert "Traceback" not in err


def test_replay_reports_a_stored_state_that_no_longer_loads(server: Server) -> None:
    with write_transaction(server.engine) as conn:
        conn.execute(
            update(BalanceRow)
            .where(BalanceRow.account_id == "alice", BalanceRow.asset == "USDC")
            .values(borrow=Decimal("1.0000001"))
        )
    with pytest.raises(JournalMismatch) as info:
        replay_database(server.engine)
    assert info.value.differences == [
        "stored state: does not load as a market: accounts.alice.borrow.USDC: has more than "
        "6 decimal places, was 1.0000001"
    ]
