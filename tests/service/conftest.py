"""Fixtures of the service tests: a database per test (SQLite always, PostgreSQL when
``XMARGIN_TEST_POSTGRES_URL`` is set), a real server on loopback, API keys.

PostgreSQL: each test gets a fresh, uniquely named schema (so parallel workers never
collide), dropped afterwards; the schema is chosen through the URL's ``search_path``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text

from xmargin.service import Settings, create_app
from xmargin.service.server import uvicorn_config
from xmargin.store import make_engine
from xmargin.store.repositories import create_api_key, journal_count

MARKET = Path(__file__).parent / "market.toml"
#: A lending market where a few accounts hold perp positions (contract 5).
PERP_MARKET = Path(__file__).parent / "perp_market.toml"
VECTORS = Path(__file__).parent.parent / "vectors"
PG_ENV = "XMARGIN_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _skip_unless_available(name: str) -> None:
    if name == "postgresql" and _pg_admin_url() is None:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    _skip_unless_available(name)
    return name


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    _skip_unless_available(name)
    return name


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@contextlib.contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """A database URL of ``backend`` with nothing in it (a fresh PostgreSQL schema)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'xmargin.db'}"
        return
    base = _pg_admin_url()
    assert base is not None
    schema = f"xmt_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin: Engine = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database URL of ``backend`` with nothing in it."""
    with empty_database(backend, tmp_path) as url:
        yield url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running service on loopback, with the engine of its database beside it."""

    url: str
    db_url: str
    engine: Engine
    keys: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def key(self, role: str, account: str | None = None) -> str:
        """An API key of ``role`` (made once per role and account)."""
        k = (role, account)
        if k not in self.keys:
            self.keys[k] = create_api_key(self.engine, role, account)[0]  # type: ignore[arg-type]
        return self.keys[k]

    def key_id(self, role: str, account: str | None = None) -> str:
        """The id of the key of ``role`` (``xm_<id>_<secret>``): what results name."""
        return self.key(role, account).split("_")[1]

    def headers(self, role: str, account: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(role, account)}", **extra}

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **kw)

    def journal_len(self) -> int:
        with self.engine.connect() as conn:
            return journal_count(conn)


class ThreadedServer:
    """uvicorn running ``create_app(settings)`` in a thread, on a socket bound here
    (with ``clock``, the service reads the time from it)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        app = create_app(settings) if clock is None else create_app(settings, clock=clock)
        # The service's own uvicorn configuration (its connection timeouts included).
        config = uvicorn_config(app, settings, log_level="warning")
        config.timeout_graceful_shutdown = 2
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
        assert not self.thread.is_alive(), "the test server did not stop"


@pytest.fixture
def server_factory(db_url: str) -> Iterator[Any]:
    """``with server_factory(**settings) as srv:`` a fresh server on this test's database."""
    engines: list[Engine] = []

    class _Factory:
        def __call__(
            self,
            market: Path | None = MARKET,
            clock: Callable[[], datetime] | None = None,
            **kw: Any,
        ) -> Any:
            settings = Settings(database_url=db_url, market_file=market, **kw)
            return _Running(settings, clock)

    class _Running:
        def __init__(self, settings: Settings, clock: Callable[[], datetime] | None) -> None:
            self.ts = ThreadedServer(settings, clock)

        def __enter__(self) -> Server:
            self.ts.__enter__()
            engine = make_engine(db_url)
            engines.append(engine)
            return Server(f"http://127.0.0.1:{self.ts.port}", db_url, engine)

        def __exit__(self, *exc: object) -> None:
            self.ts.__exit__(*exc)

    yield _Factory()
    for e in engines:
        e.dispose()


@pytest.fixture
def server(server_factory: Any) -> Iterator[Server]:
    """A server on the service-test market (``tests/service/market.toml``)."""
    with server_factory() as srv:
        yield srv


@contextlib.contextmanager
def module_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory, market: Path, **settings: Any
) -> Iterator[Server]:
    """A server on ``market`` in a fresh database of ``backend``, for a whole module."""
    folder = tmp_path_factory.mktemp("shared")
    with empty_database(backend, folder) as url:
        ts = ThreadedServer(Settings(database_url=url, market_file=market, **settings))
        with ts:
            engine = make_engine(url)
            try:
                yield Server(f"http://127.0.0.1:{ts.port}", url, engine)
            finally:
                engine.dispose()


@pytest.fixture(scope="module")
def shared_server(
    module_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for a whole module, for tests that change nothing (or only add)."""
    with module_server(module_backend, tmp_path_factory, MARKET) as srv:
        yield srv


class FakeClock:
    """A clock the test moves: the service reads the time from it (auction ages)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(seconds=seconds)
