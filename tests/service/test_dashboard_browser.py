"""The dashboard in a real browser: Playwright driving Debian's Chromium against the real
server (uvicorn on loopback, SQLite and PostgreSQL), as a risk team would use it.

Chromium is required in CI (``.ci/run`` installs it); locally, without it, these tests
skip with the reason (the ``browser`` fixture, :mod:`tests.browser`). The market
(tests/service/market.toml): WETH 2000, USDC 1, lt 0.85;
alice 10 WETH / 5000 USDC (health 3.4), bob 1 WETH / 1800 USDC (liquidatable), carol
1 WETH / 2100 USDC (insolvent), dave 100000 USDC (no debt).
"""

from __future__ import annotations

import csv
import os
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the browser fixture says why the tests cannot run
    expect = None  # type: ignore[assignment]

from tests.service.conftest import MARKET, Server
from xmargin.data import data_path
from xmargin.service import Settings, create_app
from xmargin.store import make_engine

DEMO = Path(__file__).resolve().parents[2] / "src" / "xmargin" / "data" / "demo.toml"
#: Where the screenshot test also writes its picture (the README's is docs/dashboard.png).
SCREENSHOT_ENV = "XMARGIN_DASHBOARD_SCREENSHOT"


class Page:
    """A browser tab on the dashboard, recording console errors and failed pages."""

    def __init__(self, browser: Any, base: str, width: int = 1400, height: int = 1000) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def login(self, path: str, key: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_selector("#key-dialog[open]")
        self.page.fill("#key-input", key)
        self.page.click("#key-form button[type=submit]")

    def wait_live(self, timeout: float = 10_000) -> None:
        self.page.wait_for_selector("#live.on", timeout=timeout)

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Page]:
    t = Page(browser, server.url)
    yield t
    t.close()


def _count(tab: Page, status: str) -> str:
    return tab.text(f'[data-f="by_status.{status}"]')


def _open_book(tab: Page, server: Server, role: str = "admin") -> None:
    tab.login("/", server.key(role))
    tab.wait_live()
    tab.page.wait_for_selector("body[data-seq]")


def test_the_page_loads_with_no_console_error_and_shows_the_book(tab: Page, server: Server) -> None:
    _open_book(tab, server, "oracle")
    assert [_count(tab, s) for s in ("healthy", "at_risk", "liquidatable", "insolvent")] == [
        "2",
        "0",
        "1",
        "1",
    ]
    assert tab.text('[data-f="totals.debt_value"]') == "8,900"
    assert "carol" in tab.text("#queue") and "bob" in tab.text("#queue")
    assert "WETH" in tab.text("#exposure")
    tab.page.wait_for_selector("#price-chart .main-svg")
    tab.page.wait_for_selector("#health-chart .main-svg")
    assert tab.page.is_hidden("#fund-card"), "no insurance fund until the market has one"
    # The key lives in this tab's sessionStorage only: not in the URL, a cookie or storage.
    key = server.key("oracle")
    assert key not in tab.page.url
    assert tab.page.evaluate("sessionStorage.getItem('xmargin.key')") == key
    assert tab.page.evaluate("localStorage.length") == 0
    assert tab.context.cookies() == []
    # Nothing overflows a 1400 px window.
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= 1400
    assert tab.errors == []


def test_posting_a_price_updates_the_overview_within_a_second(tab: Page, server: Server) -> None:
    _open_book(tab, server)
    assert _count(tab, "insolvent") == "1"
    with server.client() as c:
        started = time.monotonic()
        # WETH 2000 -> 1000: bob's 1 WETH (1000) is now worth less than his 1800 debt.
        r = c.post("/v1/prices", json={"WETH": "1000"}, headers=server.headers("oracle"))
        assert r.status_code == 200, r.text
    expect(tab.page.locator('[data-f="by_status.insolvent"]')).to_have_text("2", timeout=1000)
    elapsed = time.monotonic() - started
    print(f"the overview showed the price {elapsed * 1000:.0f} ms after the POST was sent")
    assert elapsed < 1.0, elapsed
    assert _count(tab, "liquidatable") == "0"
    assert "1,000" in tab.text("#prices")
    assert "WETH 1,000" in tab.text("#events")
    assert tab.errors == []


def test_a_liquidation_appears_in_the_stream(tab: Page, server: Server) -> None:
    _open_book(tab, server, "liquidator")
    body = {"account": "bob", "debt_asset": "USDC", "collateral_asset": "WETH", "max": True}
    with server.client() as c:
        r = c.post("/v1/liquidations", json=body, headers=server.headers("liquidator"))
        assert r.status_code == 200, r.text
        repaid = r.json()["repaid"]
    item = tab.page.wait_for_selector("#events li.ev-liquidation", timeout=2000)
    assert "bob liquidated: repaid" in item.inner_text()
    assert f"{Decimal(repaid):,.0f}".split(",")[0] in item.inner_text()
    # bob's health rose above 1: the overview follows (no longer liquidatable).
    expect(tab.page.locator('[data-f="by_status.liquidatable"]')).to_have_text("0", timeout=2000)
    assert tab.errors == []


def test_the_what_if_slider_changes_the_figures_and_nothing_else(tab: Page, server: Server) -> None:
    alice = server.key("account", "alice")
    with server.client() as c:
        before = c.get("/v1/accounts/alice", headers=server.headers("admin")).json()
    tab.login("/accounts/alice", alice)
    tab.wait_live()
    expect(tab.page.locator("#wi-hf")).to_have_text("3.4000 → 3.4000")
    assert tab.text('[data-f="health.health_factor"]') == "3.4000"
    assert "588.23529" in tab.text("#positions")  # WETH liquidation price 5000 / 8.5
    tab.page.select_option("#wi-asset", "WETH")
    slider = tab.page.locator("#wi-shock")
    slider.focus()
    for _ in range(75):  # -75%, one key press at a time, as a person would
        tab.page.keyboard.press("ArrowLeft")
    # 10 WETH at 500 x 0.85 = 4250 against 5000: health 0.85, liquidatable.
    expect(tab.page.locator("#wi-hf")).to_have_text("3.4000 → 0.8500", timeout=3000)
    assert tab.text("#wi-shock-out") == "-75%"
    assert tab.text("#wi-status") == "liquidatable"
    assert tab.text("#wi-liquidation").startswith("liquidates: repay")
    assert tab.text("#wi-price").startswith("500")
    with server.client() as c:
        after = c.get("/v1/accounts/alice", headers=server.headers("admin")).json()
    assert after == before
    assert tab.errors == []


def test_an_account_key_cannot_see_another_account(tab: Page, server: Server) -> None:
    alice = server.key("account", "alice")
    tab.login("/accounts/bob", alice)
    banner = tab.page.wait_for_selector("#error:not([hidden])", timeout=5000)
    assert "acts for account 'alice' only, not 'bob'" in banner.inner_text()
    assert tab.text("#positions tbody") == ""
    assert tab.text('[data-f="health.debt_value"]') == "–"
    # The book is not theirs either: / sends an account key to its own account.
    tab.page.goto(server.url + "/")
    tab.page.wait_for_url("**/accounts/alice")
    expect(tab.page.locator("#wi-hf")).to_contain_text("→")
    assert "WETH" in tab.text("#positions")
    assert "bob" not in tab.text("#events")


class _PortServer:
    """uvicorn on a given loopback port (to restart a server where the page expects it)."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        config = uvicorn.Config(
            create_app(settings), log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> _PortServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "no start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
        assert not self.thread.is_alive(), "the server did not stop"


def test_the_stream_reconnects_when_the_server_comes_back(browser: Any, db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(database_url=db_url, market_file=MARKET)
    engine = make_engine(db_url)
    try:
        with _PortServer(settings, port):
            srv = Server(f"http://127.0.0.1:{port}", db_url, engine)
            tab = Page(browser, srv.url)
            _open_book(tab, srv, "admin")
        # The server is gone: the page says so and keeps trying.
        expect(tab.page.locator("#live")).to_have_text("reconnecting", timeout=5000)
        with _PortServer(settings, port):
            tab.wait_live(timeout=15_000)
            with httpx.Client(base_url=srv.url, timeout=10) as c:
                r = c.post("/v1/prices", json={"WETH": "1000"}, headers=srv.headers("oracle"))
                assert r.status_code == 200, r.text
            insolvent = tab.page.locator('[data-f="by_status.insolvent"]')
            expect(insolvent).to_have_text("2", timeout=2000)
            tab.close()
    finally:
        engine.dispose()
    # Failed fetches while the server was down are the only console errors allowed.
    assert all("ERR_CONNECTION_REFUSED" in e or "Failed to load" in e for e in tab.errors)


def _crash_path(start: Decimal, points: int) -> list[Decimal]:
    """The packaged ETH crash of 2021-01-11 as moves from ``start`` (``points`` ticks)."""
    with data_path("eth_crash_2021-01-11.csv").open(newline="", encoding="utf-8") as f:
        raw = [Decimal(r["price"]) for r in csv.DictReader(f)]
    step = max(1, len(raw) // points)
    picked = raw[::step][:points]
    return [(start * p / picked[0]).quantize(Decimal("0.01")) for p in picked]


def test_a_screenshot_of_a_real_run(browser: Any, server_factory: Any, tmp_path: Path) -> None:
    """The demo market through the real crash path, a liquidation, and the page at
    1400 px; the picture is the README's (docs/dashboard.png, written when
    XMARGIN_DASHBOARD_SCREENSHOT names a path)."""
    with server_factory(market=DEMO) as srv, srv.client() as c:
        oracle, liq = srv.headers("oracle"), srv.headers("liquidator")
        weth = Decimal(c.get("/v1/assets", headers=oracle).json()["assets"][0]["price"])
        tab = Page(browser, srv.url, height=1100)
        _open_book(tab, srv)
        path = _crash_path(weth, 48)
        for i, price in enumerate(path):
            r = c.post("/v1/prices", json={"WETH": str(price)}, headers=oracle)
            assert r.status_code == 200, r.text
            if i == len(path) // 2:
                body = {"account": "eth-underwater", "debt_asset": "USDC"}
                body |= {"collateral_asset": "WETH", "max": True}
                assert c.post("/v1/liquidations", json=body, headers=liq).status_code == 200
        last = f"{path[-1]:,.2f}".rstrip("0").rstrip(".")
        expect(tab.page.locator("#prices")).to_contain_text(last, timeout=3000)
        tab.page.wait_for_selector("#events li.ev-liquidation")
        time.sleep(0.5)  # let Plotly finish its last redraw
        shot = tmp_path / "dashboard.png"
        tab.page.screenshot(path=str(shot), full_page=True)
        assert tab.errors == []
        tab.close()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    assert int.from_bytes(data[16:20], "big") == 1400  # the PNG's width
    target = os.environ.get(SCREENSHOT_ENV)
    if target:
        Path(target).write_bytes(data)
