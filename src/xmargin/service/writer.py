"""The one writer path: commands in, batches committed, the mirror updated after commit.

Every command that changes state is queued here. A single writer task takes the queue in
batches; for each batch, on one database thread, it

1. looks up the batch's ``Idempotency-Key``s (a key seen before answers with its first
   result and applies nothing);
2. applies each command, in arrival order, to copies of what it touches
   (:class:`~xmargin.store.state.BatchState`) through the ledger, so each one sees the
   effect of those before it: two borrows on one account are checked one after the
   other against the same margin, never both against the old balance (steps 1 and 2:
   :mod:`xmargin.service.batch_prepare`);
3. writes the journal rows, balances, totals and idempotency results in ONE transaction
   (account rows locked, versions checked: :func:`~xmargin.store.repositories.commit_batch`);

and then, back on the event loop, publishes the batch to the in-memory market, answers
the requests, refreshes the risk view and sends events. Nothing is answered before its
transaction has committed, and nothing of a batch whose commit fails is published (no
event, no sequence number): the batch is written again in halves, so that only the
command the database refuses fails and the other clients' commands are committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import Engine

from xmargin.errors import StoreError, UnknownAccount, XmarginError
from xmargin.service.batch_prepare import Outcome, PriceRequest, QueuedItem, Request, prepare_batch
from xmargin.service.cluster import notify_commit
from xmargin.service.events import Broadcaster
from xmargin.service.risk_view import RiskView
from xmargin.store.engine import write_transaction
from xmargin.store.repositories import utcnow, write_batch
from xmargin.store.state import BatchState, LiveState, Published

__all__ = ["Clock", "Outcome", "PriceRequest", "Writer"]

#: Where the service reads the time: the wall clock (UTC), or a test's clock.
Clock = Callable[[], datetime]

log = logging.getLogger("xmargin.service")


class Writer:
    """The single writer of the market (one per server process)."""

    def __init__(
        self,
        engine: Engine,
        live: LiveState,
        risk: RiskView,
        events: Broadcaster,
        *,
        max_batch: int = 256,
        max_queue: int = 20_000,
        on_batch: Callable[[int, float, list[tuple[str, str]]], None] | None = None,
        clock: Clock = utcnow,
        notify: bool = False,
    ) -> None:
        self.engine = engine
        #: NOTIFY the cluster's followers at each commit (:mod:`xmargin.service.cluster`)
        self.notify = notify
        self.clock = clock
        self.live = live
        self.risk = risk
        self.events = events
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.on_batch = on_batch
        self._queue: deque[QueuedItem] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xmargin-writer")
        self._stopping = False

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="xmargin-writer")

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._thread.shutdown(wait=True)

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- the request side ---------------------------------------------------------------
    async def submit(
        self,
        request: Request,
        actor: str | None = None,
        idem_key: str | None = None,
        fingerprint: str | None = None,
    ) -> Outcome:
        """Queue one command and wait until its batch has committed (or failed)."""
        if self._stopping:
            raise StoreError("the server is shutting down; retry against the next one")
        if len(self._queue) >= self.max_queue:
            raise StoreError("the writer queue is full; retry shortly")
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(QueuedItem(request, actor, idem_key, fingerprint, fut))
        self._wake.set()
        # A client that goes away does not cancel a command already queued.
        return await asyncio.shield(fut)

    # -- the writer task ----------------------------------------------------------------
    async def _run(self) -> None:
        """Take the queue in batches. A batch's finish (risk view, events, metrics) runs on
        the event loop while the NEXT batch is prepared and committed on the database
        thread, so the loop's work and the commit's wait overlap; it still runs before any
        request handler resumes, so no answer is ever read against a stale risk view."""
        loop = asyncio.get_running_loop()
        pending: tuple[Published, list[QueuedItem], float] | None = None
        while True:
            if not self._queue:
                if pending is not None:
                    self._settle(*pending)
                    pending = None
                    continue
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            items = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            started = time.perf_counter()
            job = loop.run_in_executor(self._thread, self._prepare_and_commit, items)
            if pending is not None:
                self._settle(*pending)
                pending = None
            try:
                batch = await job
            except Exception as exc:
                await self._retry(items, exc)
                continue
            pending = (self._answer(batch, items), items, time.perf_counter() - started)

    async def _retry(self, items: list[QueuedItem], exc: Exception) -> None:
        """A batch whose commit failed: answered with the error if it was one command,
        else written again in halves (see :meth:`_write`)."""
        if len(items) == 1:
            self._failed(items, exc)
            return
        log.warning(
            "write batch of %d failed (%s); retrying it in halves without the command "
            "the database refuses",
            len(items),
            exc,
        )
        for item in items:
            item.reset()
        half = len(items) // 2
        await self._write(items[:half])
        await self._write(items[half:])

    async def _write(self, items: list[QueuedItem]) -> None:
        """Prepare and commit ``items`` as one batch; publish it only once committed.

        A batch whose commit fails is split in halves and each half written again, down
        to the single command the database refuses: that command alone fails (503), the
        others of its batch are committed and answered as if nothing had happened.
        """
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            batch = await loop.run_in_executor(self._thread, self._prepare_and_commit, items)
        except Exception as exc:
            await self._retry(items, exc)
            return
        self._settle(self._answer(batch, items), items, time.perf_counter() - started)

    def _failed(self, items: list[QueuedItem], exc: BaseException) -> None:
        """A command whose transaction failed: it is answered with the error, and nothing
        of it is published (no event, no sequence number). The mirror needs no reload: it
        changes only when a committed batch is published."""
        err = exc if isinstance(exc, XmarginError) else StoreError(f"write failed: {exc}")
        log.error("write of %d command(s) failed: %s", len(items), err)
        for item in items:
            item.events.clear()
            if not item.future.done():
                item.future.set_exception(err)
        if self.on_batch is not None:
            self.on_batch(len(items), 0.0, [(i.request.kind, "error") for i in items])

    def _answer(self, batch: BatchState, items: list[QueuedItem]) -> Published:
        """Publish a committed batch to the mirror and answer its requests."""
        pub = batch.publish()
        for item in items:
            if item.future.done():
                continue
            if item.error is not None:
                item.future.set_exception(item.error)
            else:
                assert item.outcome is not None
                item.future.set_result(item.outcome)
        return pub

    def _settle(self, pub: Published, items: list[QueuedItem], seconds: float) -> None:
        """A published batch's risk view, events and metrics."""
        crossings = self.risk.update(
            self.live.market, pub.accounts, pub.prices, pub.params_changed, pub.funding
        )
        self._publish_events(items)
        for c in crossings:
            self.events.publish("risk_level", {**c.to_json(), "seq": self.live.last_seq})
        if self.on_batch is not None:
            kinds = [(i.request.kind, self._outcome_label(i)) for i in items]
            self.on_batch(len(items), seconds, kinds)

    @staticmethod
    def _outcome_label(item: QueuedItem) -> str:
        if item.error is not None:
            return "error"
        assert item.outcome is not None
        if item.outcome.replayed:
            return "replayed"
        return "accepted" if item.outcome.status == 200 else "refused"

    def _publish_events(self, items: list[QueuedItem]) -> None:
        for item in items:
            for kind, data in item.events:
                self.events.publish(kind, data)
            item.events.clear()

    # -- on the database thread ---------------------------------------------------------
    def _prepare_and_commit(self, items: list[QueuedItem]) -> BatchState:
        """Steps 1-3 of the module docstring, inside one write transaction."""
        with write_transaction(self.engine) as conn:
            batch = prepare_batch(conn, items, self.live, self.risk, self.clock())
            changes = batch.changes()
            if changes:
                write_batch(conn, changes)
            if self.notify and batch.journal:
                notify_commit(conn, batch.journal[-1].seq)
        return batch


def unknown_account_guard(live: LiveState, account: str) -> None:
    """Raise :class:`UnknownAccount` for an account the market does not hold."""
    if account not in live.market.accounts:
        raise UnknownAccount(account)
