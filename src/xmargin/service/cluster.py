"""Several ``xmargin serve --cluster`` processes on one PostgreSQL database.

One address, several processes: each binds the public port with ``SO_REUSEPORT`` (the
kernel spreads connections over them) and a private loopback port of its own.

- **The writer** is the process holding the database's single-writer lock (a PostgreSQL
  session advisory lock, :func:`~xmargin.store.engine.try_instance_lock`). Its lock
  session is named ``xmargin-writer <private URL>`` (``application_name``), so the others
  find it in ``pg_stat_activity``; it is the ordinary single server, and each batch it
  commits also sends ``NOTIFY xmargin_journal`` (delivered at commit, never before).
- **A follower** serves reads from a mirror of the market kept current through the
  journal: it ``LISTEN``s, and on each notification (or every second, should one be
  missed) reads the entries after its last one and applies them with the ledger's own
  :func:`~xmargin.store.journal.apply_command`, as ``xmargin replay`` does, then updates its
  risk view. Every other request (every write) is forwarded to the writer's private
  address with the caller's headers and body; a forwarded answer that carries a journal
  ``seq`` is returned once the follower's mirror holds that entry, so a client reads its
  own write from any process.
- **Fail-over**: a follower tries the lock every ``ELECTION_SECONDS``. The lock belongs to
  the writer's database session, so it goes when the writer's process dies; the first
  follower to take it reloads the market from the database (the durable truth), starts
  a writer and serves writes itself. Requests forwarded to the dead writer meanwhile fail
  with 503 and are safe to retry with their Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
from sqlalchemy import Engine, select, text
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from xmargin.errors import DatabaseInUse, StoreError, XmarginError
from xmargin.service.bodies import read_body
from xmargin.service.errors import error_response
from xmargin.service.settings import Settings
from xmargin.service.startup import OpenedStore, open_store
from xmargin.store.engine import InstanceLock, describe_url, make_engine, try_instance_lock
from xmargin.store.journal import (
    AccountAction,
    AssetParamsChange,
    Liquidation,
    PriceUpdate,
    apply_command,
    decode_command,
)
from xmargin.store.journal_reads import journal_after
from xmargin.store.models import AssetRow
from xmargin.store.records import JournalEntry
from xmargin.store.repositories import is_initialized, load_state

__all__ = [
    "CHANNEL",
    "ELECTION_SECONDS",
    "Follower",
    "Node",
    "join",
    "notify_commit",
    "writer_name",
    "writer_url",
]

log = logging.getLogger("xmargin.service")

#: The channel the writer notifies at each commit.
CHANNEL = "xmargin_journal"
#: How often a follower tries to become the writer.
ELECTION_SECONDS = 0.5
_PREFIX = "xmargin-writer "
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: headers not passed on (the connection's own; the server's own, added by each server)
_HOP = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "date", "server"}
)


def _tag(engine: Engine) -> str:
    """What tells this database and schema apart in ``pg_stat_activity``."""
    with engine.connect() as conn:
        where = conn.execute(text("SELECT current_database() || ':' || current_schema()"))
        return hashlib.sha256(str(where.scalar()).encode()).hexdigest()[:8]


def writer_name(engine: Engine, url: str) -> str:
    """The writer's lock-session name: its database's tag and its private URL."""
    return f"{_PREFIX}{_tag(engine)} {url}"


def writer_url(engine: Engine) -> str | None:
    """The private URL of the process holding this database's lock, if any."""
    prefix = f"{_PREFIX}{_tag(engine)} "
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT a.application_name FROM pg_stat_activity a "
                "WHERE a.application_name LIKE :p AND EXISTS (SELECT 1 FROM pg_locks l "
                "WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)"
            ),
            {"p": prefix + "%"},
        ).scalar()
    return None if found is None else str(found)[len(prefix) :]


@dataclass
class Node:
    """This process's place in the cluster: its private URL, its role now, and the name
    its lock session takes when it writes."""

    private_url: str
    role: Literal["writer", "follower"]
    advertise: str


def notify_commit(conn: Any, seq: int) -> None:
    """Inside the writer's commit transaction: tell the followers (delivered at commit)."""
    conn.execute(text("SELECT pg_notify(:c, :s)"), {"c": CHANNEL, "s": str(seq)})


@dataclass
class _Fetched:
    entries: list[JournalEntry]
    price_at: dict[str, datetime | None] = field(default_factory=dict)


class Follower:
    """A follower's mirror, its forwarding of writes, and its election (module docstring).

    ``promote``: called on the event loop with the lock once this process holds it; it
    makes this process the writer.
    """

    def __init__(
        self,
        engine: Engine,
        services: Any,
        promote: Callable[[InstanceLock], Any],
        advertise: str,
    ) -> None:
        self.engine = engine
        self.services = services
        self.promote = promote
        self.advertise = advertise
        self._wake = asyncio.Event()
        self._seq_moved = asyncio.Condition()
        self._stop = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._target: str | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._listen, args=(loop,), daemon=True).start()
        self._tasks = [loop.create_task(self._follow()), loop.create_task(self._elect())]

    async def stop(self) -> None:
        self._stop.set()
        for t in self._tasks:
            if t is not asyncio.current_task():
                t.cancel()
        if self._client is not None:
            await self._client.aclose()

    # -- the mirror -----------------------------------------------------------------------
    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """LISTEN on a connection of its own; each notification wakes the mirror."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            loop.call_soon_threadsafe(self._wake.set)
            except psycopg.Error as exc:
                log.warning("journal listener: %s; reconnecting", exc)
                self._stop.wait(1.0)

    def _fetch(self, after: int) -> _Fetched:
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                entries = journal_after(conn, after, 5000)
                price_at: dict[str, datetime | None] = {}
                if any(e.kind == "prices" for e in entries):
                    rows = conn.execute(select(AssetRow.symbol, AssetRow.price_at)).all()
                    price_at = {r[0]: r[1] for r in rows}
        return _Fetched(entries, price_at)

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while True:
                    got = await loop.run_in_executor(None, self._fetch, self.services.live.last_seq)
                    if not got.entries:
                        break
                    self._apply(got)
            except XmarginError as exc:
                log.warning("mirror: %s", exc)
            except Exception as exc:  # the database went away: retried next second
                log.warning("mirror: cannot read the journal (%s)", exc)

    def _apply(self, got: _Fetched) -> None:
        """The entries applied to the mirror by the ledger; the risk view and events."""
        s = self.services
        live, market = s.live, s.live.market
        accounts: set[str] = set()
        prices: dict[str, Any] = {}
        rebuild = False
        for e in got.entries:
            if e.seq != live.last_seq + 1:
                raise StoreError(f"mirror: journal entry {e.seq} follows {live.last_seq}")
            cmd = decode_command(e.kind, e.command)
            apply_command(market, cmd)
            live.last_seq = e.seq
            if isinstance(cmd, AccountAction):
                accounts.add(cmd.account)
            elif isinstance(cmd, PriceUpdate):
                prices.update(cmd.prices)
                s.events.publish("prices", {"seq": e.seq, "prices": e.result.get("prices")})
            else:
                rebuild = True
                if isinstance(cmd, Liquidation):
                    body = {**e.result, "seq": e.seq, "liquidator": e.actor}
                    s.events.publish("liquidation", body)
                elif isinstance(cmd, AssetParamsChange):
                    s.events.publish("asset_params", {"seq": e.seq, "asset": cmd.asset})
        for sym, at in got.price_at.items():
            live.price_at[sym] = at
        live.generation += 1
        if rebuild:
            crossings = s.risk.rebuild(market)
        else:
            crossings = s.risk.update(market, sorted(accounts), prices, False)
        for c in crossings:
            s.events.publish("risk_level", {**c.to_json(), "seq": live.last_seq})
        asyncio.get_running_loop().create_task(self._notify_waiters())

    async def _notify_waiters(self) -> None:
        async with self._seq_moved:
            self._seq_moved.notify_all()

    async def wait_for(self, seq: int, timeout: float = 2.0) -> None:
        """Until the mirror holds entry ``seq`` (at most ``timeout`` seconds)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._seq_moved:
                await self._seq_moved.wait_for(lambda: self.services.live.last_seq >= seq)

    # -- the election ---------------------------------------------------------------------
    async def _elect(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            await asyncio.sleep(ELECTION_SECONDS)
            try:
                lock = await loop.run_in_executor(
                    None, try_instance_lock, self.engine, self.advertise
                )
            except DatabaseInUse:
                continue
            except StoreError as exc:
                log.warning("election: %s", exc)
                continue
            log.info("this server now holds the database's lock: it becomes the writer")
            await self.stop()
            await self.promote(lock)
            return

    # -- forwarding writes ----------------------------------------------------------------
    async def forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send this request to the writer and its answer back (module docstring)."""
        request = Request(scope, receive)
        try:
            response = await self._forward(request)
        except XmarginError as exc:
            response = error_response(exc)
        await response(scope, receive, send)

    async def _forward(self, request: Request) -> Response:
        settings = self.services.settings
        body = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
        loop = asyncio.get_running_loop()
        target = self._target or await loop.run_in_executor(None, writer_url, self.engine)
        if target is None:
            raise StoreError("no writer holds the database now (an election is under way); retry")
        if self._client is None or target != self._target:
            if self._client is not None:
                await self._client.aclose()
            self._client = httpx.AsyncClient(base_url=target, timeout=30.0)
            self._target = target
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        client = request.client.host if request.client is not None else None
        if client is not None:
            headers["x-forwarded-for"] = client
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.url.query:
            path = f"{path}?{request.url.query}"
        try:
            r = await self._client.request(request.method, path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self._target = None
            raise StoreError(
                f"the writer cannot be reached ({type(exc).__name__}); retry with the same "
                "Idempotency-Key"
            ) from None
        if r.status_code == 200 and "json" in r.headers.get("content-type", ""):
            seq = _seq_of(r.content)
            if seq is not None:
                await self.wait_for(seq)
        out = {k: v for k, v in r.headers.items() if k.lower() not in _HOP}
        return Response(r.content, status_code=r.status_code, headers=out)

    @staticmethod
    def is_write(scope: Scope) -> bool:
        return scope["type"] == "http" and scope["method"] not in _READS


def _seq_of(content: bytes) -> int | None:
    import json

    try:
        doc = json.loads(content)
    except ValueError:
        return None
    seq = doc.get("seq") if isinstance(doc, dict) else None
    return seq if isinstance(seq, int) else None


def _initialized(engine: Engine) -> bool:
    try:
        return is_initialized(engine)
    except StoreError:  # no schema yet: the writer is creating it
        return False


def join(
    settings: Settings, private_url: str, wait_seconds: float = 60.0
) -> tuple[OpenedStore, Node]:
    """Start as the writer if the database's lock is free, else as a follower (the
    market read once the writer has created it). Raises what :func:`open_store` raises."""
    probe = make_engine(settings.database_url)
    try:
        name = writer_name(probe, private_url)
    finally:
        probe.dispose()
    try:
        store = open_store(settings, lock_wait=0.0, advertise=name)
        return store, Node(private_url, "writer", name)
    except DatabaseInUse:
        pass
    engine = make_engine(settings.database_url)
    deadline = time.monotonic() + wait_seconds
    while not _initialized(engine):
        if time.monotonic() > deadline:
            engine.dispose()
            raise StoreError("the cluster's writer has not created the market yet")
        time.sleep(0.2)
    with engine.connect() as conn:
        stored = load_state(conn)
    note = (
        f"following the writer of {describe_url(settings.database_url)}: "
        f"{len(stored.market.accounts)} accounts, journal at {stored.last_seq}"
    )
    return OpenedStore(engine, InstanceLock(lambda: None), stored, note), Node(
        private_url, "follower", name
    )
