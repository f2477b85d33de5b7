"""``create_app(settings)``: the FastAPI application of the xmargin service.

Nothing connects at import time or in ``create_app``: the database is opened by the
app's lifespan (at server start), which takes the database's single-server lock, brings
the schema up to date, loads the market file into an empty database (its genesis), or
resumes from the database, and starts the writer.
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
from xmargin.errors import StoreError
from xmargin.io.market_file import load_market
from xmargin.service.auth import KeyCache
from xmargin.service.dashboard import pages
from xmargin.service.deps import Services
from xmargin.service.errors import install_error_handlers
from xmargin.service.events import Broadcaster
from xmargin.service.metrics import Metrics
from xmargin.service.risk_view import RiskView
from xmargin.service.routes import (
    accounts,
    analysis,
    assets,
    liquidations,
    risk,
    system,
    views_accounts,
    views_dashboard,
)
from xmargin.service.settings import Settings
from xmargin.service.writer import Writer
from xmargin.store.engine import acquire_instance_lock, describe_url, make_engine
from xmargin.store.migrations import upgrade
from xmargin.store.repositories import initialize_market, is_initialized, load_state, utcnow
from xmargin.store.state import LiveState

__all__ = ["create_app", "prepare_database"]

log = logging.getLogger("xmargin.service")


def prepare_database(settings: Settings) -> str:
    """Migrate the database and load the market file into it if it holds none.

    Returns a one-line description of what was done. Safe to call on a database that is
    already prepared (it then only checks the schema). Raises the store's and the
    market file's errors (:class:`~xmargin.errors.StoreError`,
    :class:`~xmargin.errors.MarketFileError`).
    """
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        upgrade(engine)
        where = describe_url(settings.database_url)
        if is_initialized(engine):
            with engine.connect() as conn:
                state = load_state(conn)
            note = " (--market ignored: the database already holds a market)"
            return (
                f"resuming from {where}: {len(state.market.accounts)} accounts, journal at "
                f"{state.last_seq}{note if settings.market_file else ''}"
            )
        if settings.market_file is None:
            raise StoreError(
                f"database {where} holds no market yet: give --market FILE for the first start"
            )
        market = load_market(settings.market_file)
        initialize_market(engine, market, str(settings.market_file))
        return (
            f"loaded {settings.market_file} into {where}: {len(market.assets)} assets, "
            f"{len(market.accounts)} accounts (journal entry 1, the genesis)"
        )
    finally:
        engine.dispose()


def _open(settings: Settings) -> Services:
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    lock = acquire_instance_lock(engine)
    try:
        log.info(prepare_database(settings))
        with engine.connect() as conn:
            stored = load_state(conn)
    except BaseException:
        lock.release()
        engine.dispose()
        raise
    live = LiveState.from_stored(stored)
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
    )
    return Services(
        settings=settings,
        engine=engine,
        lock=lock,
        live=live,
        risk=risk_view,
        events=events,
        writer=writer,
        keys=KeyCache(engine, settings.key_cache_seconds),
        metrics=metrics,
        started_at=utcnow(),
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


def create_app(settings: Settings) -> FastAPI:
    """The service's FastAPI app for ``settings`` (see :mod:`xmargin.service`)."""
    ref = _MetricsRef()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = _open(settings)
        app.state.services = services
        loop = asyncio.get_running_loop()
        # Called by `xmargin serve` on SIGINT/SIGTERM, before uvicorn waits for open
        # requests: event streams end at once instead of holding the shutdown.
        app.state.close_streams = lambda: loop.call_soon_threadsafe(services.events.close)
        ref.current = services.metrics
        services.writer.start()
        try:
            yield
        finally:
            services.events.close()
            await services.writer.stop()
            services.lock.release()
            services.engine.dispose()

    app = FastAPI(
        title="xmargin",
        version=__version__,
        summary="Risk engine for inter-asset collateralization, as a service.",
        description=(
            "Every accepted command is journalled in the transaction of its effect. "
            "Send `Authorization: Bearer KEY` (`xmargin keys create`). Decimals travel as "
            'strings. Errors: `{"error": {"code", "message", "problems"}}`.'
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (assets, accounts, liquidations, risk, system, analysis):
        app.include_router(module.router)
    for view in (views_dashboard, views_accounts, pages):  # the dashboard (issue 12)
        app.include_router(view.router)
    app.add_middleware(_MetricsMiddleware, ref=ref)
    return app
