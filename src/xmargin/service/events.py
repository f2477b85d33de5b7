"""The live event stream: an in-process broadcaster fed after each commit, served as SSE.

Kinds: ``risk_level`` (an account crossed between healthy, at_risk, liquidatable and
insolvent), ``liquidation`` (section 3's or a perp's), ``bad_debt``, ``price_rejected`` (an
oracle guard refused a price), ``prices`` (prices accepted), ``asset_params``; perps'
``trade``, ``settle`` and ``funding``; the liquidation designs' ``auction_started``,
``auction_taken``, ``auction_reset``, ``absorb``, ``collateral_bought``,
``loss_socialized`` and ``deleverage`` (:mod:`xmargin.service.ledger_commands`). Each
event has an increasing ``id``; the last ``history`` events are kept so that a client
reconnecting with ``Last-Event-ID`` misses nothing that is still held. A subscriber that
falls ``queue_size`` events behind is told (``event: lagged``) and disconnected rather than
slowing the writer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Broadcaster", "Event", "Subscription"]


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any]

    def to_sse(self) -> bytes:
        body = json.dumps(self.data, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.kind}\ndata: {body}\n\n".encode()


class Subscription:
    """One client's queue of events."""

    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(queue_size)
        self.lagged = False

    def offer(self, event: Event) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lagged = True
            # Make room for the end-of-stream marker.
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class Broadcaster:
    """Fan-out of events to every subscriber; publish is synchronous and never blocks."""

    def __init__(
        self,
        history: int = 1000,
        queue_size: int = 1000,
        on_publish: Callable[[str], None] | None = None,
    ) -> None:
        self._on_publish = on_publish
        self._next_id = 1
        self._history: deque[Event] = deque(maxlen=history)
        self._subs: set[Subscription] = set()
        self._queue_size = queue_size
        self._closed = False
        self.published = 0

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, kind: str, data: dict[str, Any]) -> Event:
        """Send one event to every subscriber (call on the event loop)."""
        data = {"at": datetime.now(UTC).isoformat(), **data}
        ev = Event(self._next_id, kind, data)
        self._next_id += 1
        self._history.append(ev)
        self.published += 1
        if self._on_publish is not None:
            self._on_publish(kind)
        for sub in list(self._subs):
            sub.offer(ev)
        return ev

    def recent(self, after: int = 0) -> list[Event]:
        return [e for e in self._history if e.id > after]

    def subscribe(self, last_event_id: int | None = None) -> Subscription:
        sub = Subscription(self._queue_size)
        if last_event_id is not None:
            for ev in self.recent(last_event_id):
                sub.offer(ev)
        if self._closed:
            sub.queue.put_nowait(None)
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def close(self) -> None:
        """End every stream (server shutdown)."""
        self._closed = True
        for sub in list(self._subs):
            try:
                sub.queue.put_nowait(None)
            except asyncio.QueueFull:
                sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    async def stream(
        self,
        sub: Subscription,
        kinds: frozenset[str] | None,
        max_events: int | None,
        heartbeat_s: float = 15.0,
        accept: Callable[[Event], bool] | None = None,
        alive: Callable[[], bool] | None = None,
        alive_every_s: float = 1.0,
    ) -> AsyncIterator[bytes]:
        """SSE bytes for ``sub``: events, ``: keep-alive`` comments, then the end.

        ``accept``: only the events it accepts are sent (an account key's own events).
        ``alive`` (checked at most every ``alive_every_s`` seconds, and at least at every
        heartbeat): when it turns false (the caller's key was revoked or expired), the
        stream sends ``event: unauthorized`` and ends.
        """
        sent = 0
        checked = time.monotonic()
        wait = min(heartbeat_s, alive_every_s) if alive is not None else heartbeat_s
        idle = 0.0
        try:
            yield b"retry: 2000\n: connected\n\n"
            while max_events is None or sent < max_events:
                if alive is not None and time.monotonic() - checked >= alive_every_s:
                    checked = time.monotonic()
                    if not alive():
                        yield b'event: unauthorized\ndata: {"reason":"key revoked or expired"}\n\n'
                        return
                try:
                    ev = await asyncio.wait_for(sub.queue.get(), wait)
                except TimeoutError:
                    idle += wait
                    if idle >= heartbeat_s:
                        idle = 0.0
                        yield b": keep-alive\n\n"
                    continue
                idle = 0.0
                if ev is None:
                    if sub.lagged:
                        yield b'event: lagged\ndata: {"reason":"client too slow"}\n\n'
                    return
                if kinds is not None and ev.kind not in kinds:
                    continue
                if accept is not None and not accept(ev):
                    continue
                yield ev.to_sse()
                sent += 1
        finally:
            self.unsubscribe(sub)
