"""The one writer path: commands in, batches committed, the mirror updated after commit.

Every command that changes state is queued here. A single writer task takes the queue in
batches; for each batch, on one database thread, it

1. looks up the batch's ``Idempotency-Key``s (a key seen before answers with its first
   result and applies nothing);
2. applies each command, in arrival order, to copies of what it touches
   (:class:`~xmargin.store.state.BatchState`) through the ledger, so each one sees the
   effect of those before it: two borrows on one account are checked one after the
   other against the same margin, never both against the old balance;
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
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine

from xmargin.errors import (
    IdempotencyConflict,
    RuleViolation,
    StoreError,
    UnknownAccount,
    XmarginError,
)
from xmargin.mathlib import fmt
from xmargin.risk.health import account_health
from xmargin.service.cluster import notify_commit
from xmargin.service.errors import error_body, status_for
from xmargin.service.events import Broadcaster
from xmargin.service.ledger_commands import (
    action_time,
    check_params_change,
    ledger_outcome,
    result_account,
    touched_accounts,
)
from xmargin.service.risk_view import RiskView, risk_level
from xmargin.service.views import account_json, asset_json
from xmargin.store.commands_designs import AuctionReset, AuctionStart, AuctionTake
from xmargin.store.engine import write_transaction
from xmargin.store.journal import (
    AccountAction,
    AssetParamsChange,
    Command,
    Liquidation,
    PriceUpdate,
    apply_command,
)
from xmargin.store.repositories import (
    IdempotentResult,
    JournalEntry,
    find_idempotent,
    utcnow,
    write_batch,
)
from xmargin.store.state import BatchState, LiveState, Published

__all__ = ["Clock", "Outcome", "PriceRequest", "Writer"]

#: Where the service reads the time: the wall clock (UTC), or a test's clock.
Clock = Callable[[], datetime]

log = logging.getLogger("xmargin.service")


@dataclass(frozen=True)
class Outcome:
    """The answer to one command: HTTP status and JSON body (stored for idempotency)."""

    status: int
    body: dict[str, Any]
    seq: int | None = None
    replayed: bool = False


@dataclass(frozen=True)
class PriceRequest:
    """An oracle's batch of prices, before the guards."""

    prices: dict[str, Decimal]
    observed_at: datetime | None = None
    kind: str = "prices"
    account: None = None


Request = Command | PriceRequest


@dataclass
class _Item:
    request: Request
    actor: str | None
    idem_key: str | None
    fingerprint: str | None
    future: asyncio.Future[Outcome]
    outcome: Outcome | None = None
    error: BaseException | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def reset(self) -> None:
        """Forget a preparation whose batch did not commit (it is prepared again)."""
        self.outcome = None
        self.error = None
        self.events.clear()


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
        self._queue: deque[_Item] = deque()
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
        self._queue.append(_Item(request, actor, idem_key, fingerprint, fut))
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
        pending: tuple[Published, list[_Item], float] | None = None
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

    async def _retry(self, items: list[_Item], exc: Exception) -> None:
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

    async def _write(self, items: list[_Item]) -> None:
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

    def _failed(self, items: list[_Item], exc: BaseException) -> None:
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

    def _answer(self, batch: BatchState, items: list[_Item]) -> Published:
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

    def _settle(self, pub: Published, items: list[_Item], seconds: float) -> None:
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
    def _outcome_label(item: _Item) -> str:
        if item.error is not None:
            return "error"
        assert item.outcome is not None
        if item.outcome.replayed:
            return "replayed"
        return "accepted" if item.outcome.status == 200 else "refused"

    def _publish_events(self, items: list[_Item]) -> None:
        for item in items:
            for kind, data in item.events:
                self.events.publish(kind, data)
            item.events.clear()

    # -- on the database thread ---------------------------------------------------------
    def _prepare_and_commit(self, items: list[_Item]) -> BatchState:
        """Steps 1-3 of the module docstring, inside one write transaction."""
        with write_transaction(self.engine) as conn:
            batch = self._prepare(conn, items)
            changes = batch.changes()
            if changes:
                write_batch(conn, changes)
            if self.notify and batch.journal:
                notify_commit(conn, batch.journal[-1].seq)
        return batch

    def _prepare(self, conn: Connection, items: list[_Item]) -> BatchState:
        now = self.clock()
        keys = [(i.actor or "", i.idem_key) for i in items if i.idem_key is not None]
        stored: dict[tuple[str, str], IdempotentResult] = find_idempotent(conn, keys)
        batch = BatchState(self.live)
        pending: dict[tuple[str, str], tuple[str | None, Outcome]] = {}
        for item in items:
            key = (item.actor or "", item.idem_key) if item.idem_key is not None else None
            if key is not None:
                first = pending.get(key)
                if first is None and key in stored:
                    s = stored[key]
                    first = (s.fingerprint, Outcome(s.status, s.body, s.seq))
                if first is not None:
                    if first[0] != item.fingerprint:
                        item.error = IdempotencyConflict(key[1])
                    else:
                        o = first[1]
                        item.outcome = Outcome(o.status, o.body, o.seq, replayed=True)
                    continue
            try:
                outcome = self._apply(batch, item, now)
            except RuleViolation as exc:
                outcome = Outcome(status_for(exc), error_body(exc))
            except Exception as exc:
                item.error = exc
                continue
            item.outcome = outcome
            if key is not None:
                pending[key] = (item.fingerprint, outcome)
                batch.idempotency.append(
                    (
                        key[0],
                        key[1],
                        item.fingerprint or "",
                        outcome.status,
                        outcome.body,
                        outcome.seq,
                    )
                )
        return batch

    def _apply(self, batch: BatchState, item: _Item, now: datetime) -> Outcome:
        req = item.request
        cmd: Command
        if isinstance(req, PriceRequest):
            at = req.observed_at or now
            accepted, rejections = self.risk.guard_prices(
                batch.market, req.prices, at, now, batch.price_at
            )
            item.events.extend(("price_rejected", r.to_json()) for r in rejections)
            if rejections:
                raise rejections[0].error
            cmd = PriceUpdate(accepted)
        else:
            cmd = req
        if isinstance(cmd, AssetParamsChange):
            check_params_change(batch, cmd.params)
        if isinstance(cmd, AuctionStart | AuctionTake | AuctionReset) and cmd.at is None:
            cmd = replace(cmd, at=action_time(batch.market, now))
        touched = touched_accounts(cmd, batch)
        for acc_id in touched:
            batch.touch(acc_id)
        if cmd.account is not None and (
            not isinstance(cmd, AccountAction) or cmd.kind != "deposit"
        ):
            batch.market.account(cmd.account)
        mark = batch.mark(touched)
        try:
            result = apply_command(batch.market, cmd)
        except BaseException:
            batch.rollback(mark)
            raise
        seq = batch.next_seq()
        batch.journal.append(
            JournalEntry(
                seq,
                now,
                cmd.kind,
                cmd.account if cmd.account is not None else result_account(result),
                item.actor,
                item.idem_key,
                cmd.to_json(),
                result,
            )
        )
        if isinstance(cmd, PriceUpdate):
            at = req.observed_at if isinstance(req, PriceRequest) and req.observed_at else now
            for a in cmd.prices:
                batch.price_at[a] = at
            item.events.append(("prices", {"seq": seq, "prices": result["prices"]}))
            return Outcome(200, {"seq": seq, "accepted": result["prices"]}, seq)
        if isinstance(cmd, Liquidation):
            body = {**result, "seq": seq, "liquidator": item.actor}
            item.events.append(("liquidation", body))
            if result["bad_debt"]:
                item.events.append(
                    ("bad_debt", {"seq": seq, "account": cmd.account, "assets": result["bad_debt"]})
                )
            return Outcome(200, body, seq)
        if isinstance(cmd, AssetParamsChange):
            asset = asset_json(batch.market, cmd.asset, batch.price_at.get(cmd.asset))
            item.events.append(("asset_params", {"seq": seq, "asset": cmd.asset}))
            return Outcome(200, {"seq": seq, "asset": asset}, seq)
        if not isinstance(cmd, AccountAction):
            body, events = ledger_outcome(cmd, result, seq, item.actor)
            item.events.extend(events)
            return Outcome(200, body, seq)
        acc = batch.market.accounts[cmd.account]
        h = account_health(acc, batch.market)
        level = risk_level(h, self.risk.at_risk_below)
        return Outcome(
            200,
            {
                "seq": seq,
                "action": cmd.kind,
                "asset": cmd.asset,
                "amount": fmt(cmd.amount),
                "account": account_json(acc, batch.market, level, h),
            },
            seq,
        )


def unknown_account_guard(live: LiveState, account: str) -> None:
    """Raise :class:`UnknownAccount` for an account the market does not hold."""
    if account not in live.market.accounts:
        raise UnknownAccount(account)
