"""``create_app(settings)``: the FastAPI application of the xmargin service.

Nothing connects at import time or in ``create_app``: the database is opened by
:func:`~xmargin.service.startup.open_store` (``xmargin serve`` calls it before it starts
the server; otherwise the app's lifespan does), which takes the database's single-server
lock, brings the schema up to date, loads the market file into an empty database (its
genesis), or resumes from the database; the lifespan then starts the writer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from xmargin import __version__
from xmargin.service.action_lane import LaneApp
from xmargin.service.auth import Authenticator, FailureLimiter
from xmargin.service.cluster import Follower, Node
from xmargin.service.dashboard import pages
from xmargin.service.deps import Services
from xmargin.service.errors import install_error_handlers
from xmargin.service.events import Broadcaster
from xmargin.service.metrics import Metrics
from xmargin.service.openapi import install_docs, install_openapi
from xmargin.service.risk_view import RiskView
from xmargin.service.routes import (
    accounts,
    analysis,
    assets,
    designs,
    liquidations,
    options,
    perps,
    risk,
    system,
    views_accounts,
    views_dashboard,
)
from xmargin.service.schemas import (
    ActionRequest,
    AssetParamsBody,
    LiquidationRequest,
    PriceMap,
    PricesRequest,
)
from xmargin.service.schemas_designs import (
    AbsorbRequest,
    AuctionStartRequest,
    AuctionTakeRequest,
    BuyCollateralRequest,
    DeleverageRequest,
    SocializeRequest,
)
from xmargin.service.schemas_options import OptionLiquidationRequest, OptionTradeRequest
from xmargin.service.schemas_perps import (
    FundingRequest,
    PerpLiquidationRequest,
    SettleRequest,
    TradeRequest,
)
from xmargin.service.settings import Settings
from xmargin.service.startup import OpenedStore, open_store
from xmargin.service.writer import Clock, Writer
from xmargin.store.api_keys import KeyLookup
from xmargin.store.engine import InstanceLock
from xmargin.store.records import StoredState, utcnow
from xmargin.store.repositories import load_state
from xmargin.store.state import LiveState

__all__ = ["create_app", "prepare_database"]

log = logging.getLogger("xmargin.service")


def prepare_database(settings: Settings) -> str:
    """Migrate the database and load the market file into it if it holds none.

    Returns a one-line description of what was done. Safe to call on a database that is
    already prepared (it then only checks the schema). Raises the store's and the
    market file's errors (:class:`~xmargin.errors.StoreError`,
    :class:`~xmargin.errors.MarketFileError`); a failure leaves nothing behind.
    """
    store = open_store(settings)
    store.close()
    return store.note


def _services(
    settings: Settings, store: OpenedStore, clock: Clock, notify: bool = False
) -> Services:
    engine = store.engine
    live = LiveState.from_stored(store.stored)
    risk_view = RiskView(settings.at_risk_below, settings.book_backend)
    risk_view.rebuild(live.market)
    metrics = Metrics()
    events = Broadcaster(
        history=settings.event_history,
        on_publish=lambda kind: metrics.events.labels(kind).inc(),
    )
    writer = Writer(
        engine,
        live,
        risk_view,
        events,
        max_batch=settings.max_batch,
        on_batch=metrics.observe_batch,
        clock=clock,
        notify=notify,
    )
    keys = Authenticator(
        KeyLookup(engine),
        FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_seconds),
    )
    return Services(
        settings=settings,
        engine=engine,
        lock=store.lock,
        live=live,
        risk=risk_view,
        events=events,
        writer=writer,
        keys=keys,
        metrics=metrics,
        started_at=utcnow(),
        clock=clock,
    )


class _MetricsRef:
    """The running app's metrics, once its lifespan has opened them."""

    current: Metrics | None = None


class _MetricsMiddleware:
    """Counts and times every request by route template (pure ASGI, no buffering)."""

    def __init__(self, app: ASGIApp, ref: _MetricsRef) -> None:
        self.app = app
        self.ref = ref

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def _send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            m = self.ref.current
            if m is not None:
                m.requests.labels(scope["method"], path, str(status)).inc()
                m.latency.labels(path).observe(time.perf_counter() - started)


def create_app(
    settings: Settings,
    store: OpenedStore | None = None,
    clock: Clock = utcnow,
    node: Node | None = None,
) -> FastAPI:
    """The service's FastAPI app for ``settings`` (see :mod:`xmargin.service`).

    ``store``: a database already opened (and locked) by :func:`open_store`, as
    ``xmargin serve`` does before it starts the server; else the app's start opens it.
    ``clock``: where the service reads the time (UTC), the wall clock unless a test
    injects one: every command is journalled at its reading, and auction actions happen
    at it (never before ``market.time``). ``node``: this process's place in a cluster
    (``xmargin serve --cluster``, :mod:`xmargin.service.cluster`); ``store`` is then the
    writer's (locked) or a follower's (unlocked) store.
    """
    ref = _MetricsRef()

    async def promote(lock: InstanceLock) -> None:
        """A follower that took the lock: the market reloaded, a writer started."""
        assert node is not None
        old: Services = app.state.services
        loop = asyncio.get_running_loop()

        def _load() -> StoredState:
            with old.engine.connect() as conn:
                return load_state(conn)

        stored = await loop.run_in_executor(None, _load)
        note = f"now the writer: resumed at journal entry {stored.last_seq}"
        new = _services(settings, OpenedStore(old.engine, lock, stored, note), clock, True)
        node.role = new.role = "writer"
        ref.current = new.metrics  # counters restart with the new writer
        app.state.services = new
        app.follower = None
        new.writer.start()
        old.events.close()
        old.keys.close()
        log.info(note)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = store if store is not None else open_store(settings)
        log.info(opened.note)
        following = node is not None and node.role == "follower"
        try:
            services = _services(settings, opened, clock, notify=node is not None)
        except BaseException:
            opened.close()
            raise
        services.role = None if node is None else node.role
        app.state.services = services
        loop = asyncio.get_running_loop()
        # Called by `xmargin serve` on SIGINT/SIGTERM, before uvicorn waits for open
        # requests: event streams end at once instead of holding the shutdown.
        app.state.close_streams = lambda: loop.call_soon_threadsafe(app.state.services.events.close)
        ref.current = services.metrics
        follower: Follower | None = None
        if following:
            assert node is not None and isinstance(app, LaneApp)
            follower = Follower(opened.engine, services, promote, node.advertise)
            app.follower = follower
            follower.start()
        else:
            services.writer.start()
        try:
            yield
        finally:
            current: Services = app.state.services
            current.events.close()
            if isinstance(app, LaneApp) and app.follower is not None:
                await app.follower.stop()
            await current.writer.stop()
            current.keys.close()
            current.lock.release()
            current.engine.dispose()

    app = LaneApp(
        title="xmargin",
        version=__version__,
        summary="Risk engine for inter-asset collateralization, as a service.",
        description=(
            "Every accepted command is journalled in the transaction of its effect. "
            "Send `Authorization: Bearer KEY` (`xmargin keys create`). Decimals travel as "
            'strings. Errors: `{"error": {"code", "message", "problems"}}`.'
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_openapi(
        app,
        [
            ActionRequest,
            LiquidationRequest,
            PricesRequest,
            PriceMap,
            AssetParamsBody,
            TradeRequest,
            SettleRequest,
            FundingRequest,
            PerpLiquidationRequest,
            AuctionStartRequest,
            AuctionTakeRequest,
            AbsorbRequest,
            BuyCollateralRequest,
            SocializeRequest,
            DeleverageRequest,
            OptionTradeRequest,
            OptionLiquidationRequest,
        ],
    )
    install_docs(app)
    install_error_handlers(app)
    for module in (
        assets,
        accounts,
        perps,
        options,
        liquidations,
        designs,
        risk,
        system,
        analysis,
    ):
        app.include_router(module.router)
    for view in (views_dashboard, views_accounts, pages):  # the dashboard (issue 12)
        app.include_router(view.router)
    app.add_middleware(_MetricsMiddleware, ref=ref)
    return app
