"""Preparing a write batch: each command applied, in arrival order, to the batch's copies.

Steps 1 and 2 of :mod:`xmargin.service.writer`, run on the writer's database thread inside
its write transaction: idempotency keys looked up (a key seen before answers with its first
result), then each command applied through the ledger to
:class:`~xmargin.store.state.BatchState`, so each sees the effect of those before it. Also
the writer's request types: what is queued and what is answered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from xmargin.errors import IdempotencyConflict, RuleViolation
from xmargin.mathlib import fmt
from xmargin.risk.health import account_health
from xmargin.service.errors import error_body, status_for
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
from xmargin.store.journal import (
    AccountAction,
    AssetParamsChange,
    Command,
    Liquidation,
    PriceUpdate,
    apply_command,
)
from xmargin.store.repositories import IdempotentResult, JournalEntry, find_idempotent
from xmargin.store.state import BatchState, LiveState

__all__ = ["Outcome", "PriceRequest", "QueuedItem", "Request", "apply_item", "prepare_batch"]


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
class QueuedItem:
    """A queued command with its caller's future, and what its preparation gave."""

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


def prepare_batch(
    conn: Connection, items: list[QueuedItem], live: LiveState, risk: RiskView, now: datetime
) -> BatchState:
    """Steps 1-2 of :mod:`xmargin.service.writer`: each item's outcome (or error), the
    batch's changes and idempotency results; nothing written yet."""
    keys = [(i.actor or "", i.idem_key) for i in items if i.idem_key is not None]
    stored: dict[tuple[str, str], IdempotentResult] = find_idempotent(conn, keys)
    batch = BatchState(live)
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
            outcome = apply_item(batch, item, now, risk)
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


def apply_item(batch: BatchState, item: QueuedItem, now: datetime, risk: RiskView) -> Outcome:
    """One command applied to the batch's copies through the ledger; its answer."""
    req = item.request
    cmd: Command
    if isinstance(req, PriceRequest):
        at = req.observed_at or now
        accepted, rejections = risk.guard_prices(batch.market, req.prices, at, now, batch.price_at)
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
    if cmd.account is not None and (not isinstance(cmd, AccountAction) or cmd.kind != "deposit"):
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
    level = risk_level(h, risk.at_risk_below)
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
