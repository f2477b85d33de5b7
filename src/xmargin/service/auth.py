"""Roles and API keys: who may do what.

A request carries ``Authorization: Bearer KEY``; keys are created with
``xmargin keys create`` (optionally expiring), listed with ``xmargin keys list`` and
revoked with ``xmargin keys revoke ID``; only their SHA-256 is stored. Every request reads
its key from the database, so a revocation works from the next request on. Each endpoint needs one
permission; :data:`PERMISSIONS` says which roles hold it. An ``account`` key acts on its
own account only.

=================  =====================================================================
permission         roles
=================  =====================================================================
read_assets        admin, oracle, liquidator, account
set_asset_params   admin
push_prices        oracle
read_account       admin, liquidator, account (own account only)
move_balances      account (own account only)
trade              account (own account only): perp trades and settlement
set_funding        oracle: a perp's funding index
read_liquidations  admin, liquidator (the queue, quotes, auctions, the storefront)
liquidate          liquidator: liquidations, and the keepers' actions of the designs
                   (auction start, take, reset; absorb; buy collateral)
cover_losses       admin: the loss waterfall's actions on other accounts (socialise a
                   deficit, deleverage a bankrupt position)
read_risk          admin, liquidator
read_journal       admin
read_book          admin, oracle, liquidator (the dashboard's book-wide views)
read_events        admin, oracle, liquidator; account (its own account's events, prices)
run_analysis       admin (calibrate, optimize, network: read-only)
=================  =====================================================================
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from xmargin.errors import NotAuthenticated, PermissionDenied, TooManyFailedAuthentications
from xmargin.store.api_keys import KeyLookup
from xmargin.store.records import ApiKey, Role, utcnow

__all__ = [
    "PERMISSIONS",
    "Authenticator",
    "FailureLimiter",
    "KeyBatcher",
    "Permission",
    "authorize",
    "bearer_key",
]

Permission = Literal[
    "read_assets",
    "set_asset_params",
    "push_prices",
    "read_account",
    "move_balances",
    "trade",
    "set_funding",
    "read_liquidations",
    "liquidate",
    "cover_losses",
    "read_risk",
    "read_journal",
    "read_book",
    "read_events",
    "run_analysis",
]

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    "read_assets": frozenset({"admin", "oracle", "liquidator", "account"}),
    "set_asset_params": frozenset({"admin"}),
    "push_prices": frozenset({"oracle"}),
    "read_account": frozenset({"admin", "liquidator", "account"}),
    "move_balances": frozenset({"account"}),
    "trade": frozenset({"account"}),
    "set_funding": frozenset({"oracle"}),
    "read_liquidations": frozenset({"admin", "liquidator"}),
    "liquidate": frozenset({"liquidator"}),
    "cover_losses": frozenset({"admin"}),
    "read_risk": frozenset({"admin", "liquidator"}),
    "read_journal": frozenset({"admin"}),
    "read_book": frozenset({"admin", "oracle", "liquidator"}),
    "read_events": frozenset({"admin", "oracle", "liquidator", "account"}),
    "run_analysis": frozenset({"admin"}),
}

_OWN_ACCOUNT_ONLY: frozenset[Permission] = frozenset({"read_account", "move_balances", "trade"})


def authorize(key: ApiKey, permission: Permission, account: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``key`` may use ``permission`` (on ``account``)."""
    roles = PERMISSIONS[permission]
    if key.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PermissionDenied(
            f"a key of role {key.role!r} may not {permission.replace('_', ' ')} "
            f"(needs role {allowed})"
        )
    if (
        key.role == "account"
        and permission in _OWN_ACCOUNT_ONLY
        and account is not None
        and account != key.account
    ):
        raise PermissionDenied(f"this key acts for account {key.account!r} only, not {account!r}")


def bearer_key(header: str | None) -> str:
    """The key of an ``Authorization: Bearer KEY`` header; else :class:`NotAuthenticated`."""
    if not header:
        raise NotAuthenticated("missing Authorization header: send 'Authorization: Bearer KEY'")
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise NotAuthenticated("the Authorization header must be 'Bearer KEY'")
    return key


class FailureLimiter:
    """Failed authentications per client: after ``limit`` within ``window`` seconds, the
    client's requests are refused (429) until the oldest of them is ``window`` old.

    Only a key that was tried and failed counts (unknown, revoked or expired): a request
    without a key guesses nothing. In memory, per server process; at most ``max_clients``
    clients are tracked (the oldest are dropped first).
    """

    def __init__(self, limit: int, window: float, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def check(self, client: str) -> None:
        """Raise :class:`TooManyFailedAuthentications` while ``client`` is blocked."""
        if self.limit <= 0:
            return
        now = time.monotonic()
        times = self._recent(client, now)
        if times is not None and len(times) >= self.limit:
            raise TooManyFailedAuthentications(max(1, math.ceil(times[0] + self.window - now)))

    def failed(self, client: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        times = self._recent(client, now)
        if times is None:
            times = self._failures[client] = deque()
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
        times.append(now)


class Authenticator:
    """Who is calling: the key of ``Authorization: Bearer KEY``, read from the database on
    every request (:class:`~xmargin.store.api_keys.KeyLookup`), so that a revocation or an
    expiry takes effect at once; failed keys are rate-limited per client."""

    def __init__(self, lookup: KeyLookup, limiter: FailureLimiter) -> None:
        self.lookup = lookup
        self.limiter = limiter
        self.batcher = KeyBatcher(lookup)

    def resolve(self, header: str | None, client: str) -> ApiKey:
        """The caller's active key; else 401 (or 429 while the client is blocked)."""
        self.limiter.check(client)
        key = bearer_key(header)
        return self._judge(self.lookup.find(key), client)

    async def resolve_async(self, header: str | None, client: str) -> ApiKey:
        """:meth:`resolve` off the event loop, the keys of requests that arrive together
        read in one query on the lookup's thread (:class:`KeyBatcher`)."""
        self.limiter.check(client)
        key = bearer_key(header)
        return self._judge(await self.batcher.find(key), client)

    def _judge(self, found: ApiKey | None, client: str) -> ApiKey:
        why: str | None = None
        if found is None:
            why = "unknown API key"
        else:
            status = found.status(utcnow())
            if status == "revoked":
                why = f"API key {found.id} was revoked"
            elif status == "expired":
                assert found.expires_at is not None
                why = f"API key {found.id} expired at {found.expires_at.isoformat()}"
        if why is not None:
            self.limiter.failed(client)
            raise NotAuthenticated(why)
        assert found is not None
        return found

    def is_active(self, key: ApiKey) -> bool:
        """Whether ``key`` may still be used (for long-lived responses: event streams)."""
        return self.lookup.find_id(key.id) == "active"

    def close(self) -> None:
        self.batcher.close()
        self.lookup.close()


class KeyBatcher:
    """Key lookups of concurrent requests, read together: while one query runs on the
    lookup's thread, the requests that arrive queue up and are read by the next one (at
    most :data:`MAX_KEYS` a query). No cache: every request's key is read after the
    request arrived."""

    MAX_KEYS = 256

    def __init__(self, lookup: KeyLookup) -> None:
        self.lookup = lookup
        self._pending: list[tuple[str, asyncio.Future[ApiKey | None]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xmargin-keys")

    async def find(self, key: str) -> ApiKey | None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[ApiKey | None] = loop.create_future()
        self._pending.append((key, fut))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch = self._pending[: self.MAX_KEYS]
                del self._pending[: self.MAX_KEYS]
                try:
                    found = await loop.run_in_executor(
                        self._thread, self.lookup.find_many, [k for k, _ in batch]
                    )
                except Exception as exc:
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), record in zip(batch, found, strict=True):
                    if not fut.done():
                        fut.set_result(record)
        finally:
            self._draining = False

    def close(self) -> None:
        self._thread.shutdown(wait=True)
