"""Operating the service (issue 9, items 12, 20, 21, 22, 23), against real servers and real
databases (SQLite always, PostgreSQL when ``XMARGIN_TEST_POSTGRES_URL`` is set).

Each test is named after its item; each fails on the code before the issue.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import stat
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from tests.cli.conftest import Run, run_in_process
from tests.service.conftest import MARKET, Server
from xmargin.errors import StoreError
from xmargin.service import Settings
from xmargin.service.events import Broadcaster
from xmargin.service.risk_view import RiskView
from xmargin.service.startup import open_store
from xmargin.service.writer import Outcome, PriceRequest, Writer
from xmargin.store import replay_database
from xmargin.store.journal import AccountAction
from xmargin.store.models import JournalRow
from xmargin.store.state import LiveState


@pytest.fixture
def xm(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*args: str | Path) -> Run:
        return run_in_process(capsys, *args)

    return run


# -- item 12: nothing published for a rolled-back command ----------------------------------
def _poison(engine: Engine) -> None:
    """A real database refusal: opening the account ``poison`` fails at commit."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON accounts WHEN NEW.id = 'poison' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON accounts FOR EACH ROW "
                    "EXECUTE FUNCTION poison()"
                )
            )


def test_item12_a_failed_commit_publishes_nothing_and_fails_only_its_command(
    db_url: str,
) -> None:
    store = open_store(Settings(database_url=db_url, market_file=MARKET))
    try:
        _poison(store.engine)
        live = LiveState.from_stored(store.stored)
        risk = RiskView()
        risk.rebuild(live.market)
        events = Broadcaster()
        sub = events.subscribe()
        writer = Writer(store.engine, live, risk, events)
        requests: list[Any] = [
            PriceRequest({"WETH": Decimal("2001")}),
            AccountAction("deposit", "alice", "USDC", Decimal(1)),
            AccountAction("deposit", "poison", "USDC", Decimal(1)),
            AccountAction("deposit", "dave", "USDC", Decimal(2)),
            PriceRequest({"WETH": Decimal("2002")}),
        ]

        async def run() -> list[Any]:
            writer.start()
            # Queued in one go: the writer takes them as one batch.
            got = await asyncio.gather(
                *(writer.submit(r, "test") for r in requests), return_exceptions=True
            )
            await writer.stop()
            return got

        results = asyncio.run(run())
        assert isinstance(results[2], StoreError) and "poisoned row" in str(results[2])
        ok = [r for i, r in enumerate(results) if i != 2]
        assert all(isinstance(r, Outcome) and r.status == 200 for r in ok), results
        seqs = [r.seq for r in ok]
        assert seqs == [2, 3, 4, 5]  # in order; no number handed out to the failed one
        published = []
        while not sub.queue.empty():
            ev = sub.queue.get_nowait()
            assert ev is not None
            published.append(ev)
        assert [e.data["seq"] for e in published if e.kind == "prices"] == [2, 5]
        assert all("poison" not in json.dumps(e.data) for e in published)
        with store.engine.connect() as conn:
            stored = conn.execute(select(func.max(JournalRow.seq))).scalar_one()
        assert stored == live.last_seq == 5
        assert "poison" not in live.market.accounts
        assert live.market.assets["WETH"].price == Decimal("2002")
        replay_database(store.engine)  # the journal and the stored state agree
    finally:
        store.close()


# -- item 20: keys list | revoke, expiry, rate limit -----------------------------------------
def test_item20_a_revoked_key_stops_working_at_once_on_a_running_server(
    server: Server, xm: Callable[..., Run]
) -> None:
    made = xm("keys", "create", "--role", "admin", "--db", server.db_url, "--json")
    assert made.code == 0, made.err
    key, key_id = made.json()["key"], made.json()["id"]
    with server.client() as c:
        h = {"Authorization": f"Bearer {key}"}
        assert c.get("/v1/risk/summary", headers=h).status_code == 200
        revoked = xm("keys", "revoke", key_id, "--db", server.db_url)
        assert revoked.code == 0 and f"revoked admin key {key_id}" in revoked.out
        r = c.get("/v1/risk/summary", headers=h)  # the very next request: no cache window
        assert r.status_code == 401, r.text
        assert r.json()["error"]["message"] == f"API key {key_id} was revoked"
    listed = xm("keys", "list", "--db", server.db_url, "--json").json()["keys"]
    (row,) = [k for k in listed if k["id"] == key_id]
    assert row["status"] == "revoked" and row["revoked_at"] and row["role"] == "admin"
    assert "key" not in row and all("xm_" not in json.dumps(k) for k in listed)
    again = xm("keys", "revoke", key_id, "--db", server.db_url)
    assert again.code == 0 and "already revoked" in again.out
    unknown = xm("keys", "revoke", "nosuchkey", "--db", server.db_url)
    assert unknown.code == 2 and "no API key with id 'nosuchkey'" in unknown.error_line


def test_item20_an_expiring_key_stops_at_its_expiry(server: Server, xm: Callable[..., Run]) -> None:
    made = xm(
        "keys", "create", "--role", "oracle", "--expires-in", "2s", "--db", server.db_url, "--json"
    )
    assert made.code == 0, made.err
    doc = made.json()
    assert doc["expires_at"]
    with server.client() as c:
        h = {"Authorization": f"Bearer {doc['key']}"}
        assert c.get("/v1/assets", headers=h).status_code == 200
        time.sleep(2.2)
        r = c.get("/v1/assets", headers=h)
    assert r.status_code == 401 and "expired at" in r.json()["error"]["message"]
    table = xm("keys", "list", "--db", server.db_url)
    assert re.search(rf"{doc['id']}\s+oracle\s+-\s+expired", table.out), table.out
    bad = xm("keys", "create", "--role", "oracle", "--expires-in", "soon", "--db", server.db_url)
    assert bad.code == 2 and "--expires-in: must be a duration" in bad.error_line


def test_item20_failed_authentications_are_rate_limited(server_factory: Any) -> None:
    with server_factory(auth_failure_limit=3, auth_failure_window_seconds=60) as server:
        good = server.headers("admin")
        with server.client() as c:
            for _ in range(5):  # no key at all guesses nothing: never counted
                assert c.get("/v1/assets").status_code == 401
            assert c.get("/v1/assets", headers=good).status_code == 200
            for i in range(3):
                r = c.get("/v1/assets", headers={"Authorization": f"Bearer xm_guess{i}"})
                assert r.status_code == 401
            r = c.get("/v1/assets", headers=good)  # blocked, even with a good key
            assert r.status_code == 429, r.text
            assert r.json()["error"]["code"] == "too_many_failed_authentications"
            assert 1 <= int(r.headers["retry-after"]) <= 60


def test_item20_an_open_event_stream_ends_when_its_key_is_revoked(
    server: Server, xm: Callable[..., Run]
) -> None:
    made = xm("keys", "create", "--role", "liquidator", "--db", server.db_url, "--json").json()
    lines: list[str] = []
    with (
        httpx.Client(base_url=server.url, timeout=15) as c,
        c.stream("GET", "/v1/events", headers={"Authorization": f"Bearer {made['key']}"}) as r,
    ):
        assert r.status_code == 200
        started = time.monotonic()
        for line in r.iter_lines():
            lines.append(line)
            if line == ": connected":
                assert xm("keys", "revoke", made["id"], "--db", server.db_url).code == 0
        elapsed = time.monotonic() - started
    assert "event: unauthorized" in lines
    assert elapsed < 10


# -- item 21: serve takes the port and the lock first; failures leave nothing ---------------
def test_item21_serve_on_a_busy_port_fails_in_one_line_and_creates_nothing(
    tmp_path: Path, xm: Callable[..., Run]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        db = tmp_path / "new" / "x.db"
        run = xm("serve", "--market", MARKET, "--db", f"sqlite:///{db}", "--port", str(port))
    assert run.code == 2
    assert run.error_line.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "serving on" not in run.err and "Traceback" not in run.err
    assert list(tmp_path.iterdir()) == []


def test_item21_serve_on_a_held_database_fails_in_one_line_and_changes_nothing(
    server: Server, xm: Callable[..., Run], tmp_path: Path
) -> None:
    folder = Path(server.db_url.removeprefix("sqlite:///")).parent
    before = sorted(p.name for p in folder.iterdir()) if server.db_url.startswith("sqlite") else []
    started = time.monotonic()
    run = xm("serve", "--db", server.db_url, "--port", "0")
    assert run.code == 2, run.err
    assert "is in use by another xmargin server" in run.error_line
    assert "Traceback" not in run.err and "serving on" not in run.err
    assert time.monotonic() - started < 20
    if server.db_url.startswith("sqlite"):
        assert sorted(p.name for p in folder.iterdir()) == before
    with server.client() as c:  # the running server is untouched
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        ["keys", "create", "--role", "admin"],
        ["keys", "list"],
        ["keys", "revoke", "abc"],
        ["replay"],
    ],
)
def test_item21_commands_given_a_missing_database_create_nothing(
    tmp_path: Path, xm: Callable[..., Run], command: list[str]
) -> None:
    db = tmp_path / "no" / "such" / "x.db"
    run = xm(*command, "--db", f"sqlite:///{db}")
    assert run.code == 2
    assert run.error_line == (
        f"error: no xmargin database at {db}: start `xmargin serve --market FILE --db "
        f"sqlite:///{db}` once to create it"
    )
    assert list(tmp_path.iterdir()) == []


def test_item21_a_failed_first_start_removes_what_it_created(
    tmp_path: Path, xm: Callable[..., Run]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[market]\nquote = "USD"\n[assets.X]\nprice = "1e-300"\n', encoding="utf-8")
    db = tmp_path / "a" / "b" / "x.db"
    run = xm("serve", "--market", bad, "--db", f"sqlite:///{db}", "--port", "0")
    assert run.code == 2 and "assets.X.price" in run.error_line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


# -- item 22: /docs and /redoc offline ---------------------------------------------------------
def test_item22_docs_and_redoc_load_everything_from_the_server(shared_server: Server) -> None:
    with shared_server.client() as c:
        for page in ("/docs", "/redoc"):
            r = c.get(page)
            assert r.status_code == 200 and "text/html" in r.headers["content-type"]
            urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""", r.text)
            found = [u for pair in urls for u in pair if u]
            assert found, r.text
            assert not [u for u in found if "//" in u], found  # nothing from another host
            assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text
            for url in found:
                asset = c.get(url)
                assert asset.status_code == 200, url
                assert len(asset.content) > 1000 or url.endswith(".json"), url
        assert c.get("/openapi.json").json()["openapi"].startswith("3.")


# -- item 23: 0600 files, header and keep-alive timeouts --------------------------------------
def test_item23_sqlite_database_and_lock_files_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'x.db'}"
    store = open_store(Settings(database_url=url, market_file=MARKET))
    try:
        files = sorted((tmp_path / "data").iterdir())
        assert [p.name for p in files] == ["x.db", "x.db-shm", "x.db-wal", "x.db.lock"]
        for p in files:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    finally:
        store.close()


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed ``sock`` (reads return b""), or None."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return time.monotonic() - started
    except TimeoutError:
        return None


def test_item23_slow_and_idle_connections_are_closed(server_factory: Any) -> None:
    with server_factory(header_timeout_seconds=0.5, keep_alive_seconds=1) as server:
        host, port = server.url.removeprefix("http://").split(":")
        addr = (host, int(port))
        with socket.create_connection(addr) as idle:  # never sends a byte
            waited = _closed_within(idle, 5)
            assert waited is not None and waited < 2
        with socket.create_connection(addr) as slow:  # headers a byte at a time
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            waited = _closed_within(slow, 5)
            assert waited is not None and waited < 2
        with socket.create_connection(addr) as keep:  # a full request, then idle
            keep.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            keep.settimeout(5)
            assert keep.recv(65536).startswith(b"HTTP/1.1 200")
            waited = _closed_within(keep, 5)
            assert waited is not None and waited < 3
        with httpx.Client(base_url=server.url) as c:  # a well-behaved client is served
            assert c.get("/healthz").status_code == 200
