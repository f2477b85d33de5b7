"""The writer's state: the in-memory mirror of the market, and a batch working on it.

The mirror (:class:`LiveState`) is the engine's state; the database is the durable truth.
A :class:`BatchState` applies a batch of commands to copies of what they touch, so the
mirror is not changed until the batch's transaction has committed
(:meth:`BatchState.publish`); :meth:`BatchState.changes` is what that transaction writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from xmargin.mathlib import ZERO
from xmargin.model.market import Market
from xmargin.store.repositories import BatchWrite, JournalEntry, StoredState

__all__ = ["BatchState", "LiveState", "Published"]


@dataclass(frozen=True)
class Published:
    """What a published batch changed."""

    accounts: list[str]
    assets: list[str]
    prices: dict[str, Decimal]
    params_changed: bool


@dataclass
class LiveState:
    """The committed market, as the service serves it, and the writer's counters."""

    market: Market
    versions: dict[str, int]
    account_ord: int
    price_at: dict[str, datetime | None]
    last_seq: int
    #: bumped at every publish: caches keyed on it know when the market changed
    generation: int = 0

    @classmethod
    def from_stored(cls, stored: StoredState) -> LiveState:
        return cls(
            stored.market,
            stored.versions,
            stored.account_ord,
            stored.price_at,
            stored.last_seq,
        )

    def reset(self, stored: StoredState) -> None:
        """Replace the mirror with what the database holds (after a failed commit)."""
        self.market = stored.market
        self.versions = stored.versions
        self.account_ord = stored.account_ord
        self.price_at = stored.price_at
        self.last_seq = stored.last_seq
        self.generation += 1


def _working_market(base: Market) -> Market:
    """A market sharing ``base``'s frozen parameters, with its own copies of the small
    per-asset state and, filled on demand by :meth:`BatchState.touch`, of accounts."""
    m = Market.__new__(Market)
    m.params = base.params
    m.assets = dict(base.assets)
    m.categories = base.categories
    m.accounts = {}
    m.deficit = dict(base.deficit)
    m.total_supply = dict(base.total_supply)
    m.total_borrow = dict(base.total_borrow)
    m.isolation_debt = dict(base.isolation_debt)
    m.source_format = base.source_format
    return m


@dataclass
class BatchState:
    """One batch of commands applied to copies of what they touch."""

    live: LiveState
    market: Market = field(init=False)
    price_at: dict[str, datetime | None] = field(init=False)
    journal: list[JournalEntry] = field(default_factory=list)
    idempotency: list[tuple[str, str, str, int, dict[str, Any], int | None]] = field(
        default_factory=list
    )

    def __post_init__(self) -> None:
        self.market = _working_market(self.live.market)
        self.price_at = dict(self.live.price_at)

    def touch(self, account_id: str) -> None:
        """Copy ``account_id`` into the batch before a command reads or changes it."""
        if account_id not in self.market.accounts:
            acc = self.live.market.accounts.get(account_id)
            if acc is not None:
                self.market.accounts[account_id] = acc.copy()

    def mark(self, account_id: str | None) -> tuple[Any, ...]:
        """A savepoint before one command (what :meth:`rollback` restores)."""
        m = self.market
        acc = m.accounts.get(account_id) if account_id is not None else None
        return (
            dict(m.assets),
            dict(m.total_supply),
            dict(m.total_borrow),
            dict(m.deficit),
            dict(m.isolation_debt),
            dict(self.price_at),
            account_id,
            acc.copy() if acc is not None else None,
        )

    def rollback(self, mark: tuple[Any, ...]) -> None:
        """Undo a command that failed part-way (only a bug can; rules refuse up front)."""
        m = self.market
        (m.assets, m.total_supply, m.total_borrow, m.deficit, m.isolation_debt) = mark[:5]
        self.price_at = mark[5]
        account_id, acc = mark[6], mark[7]
        if account_id is not None:
            if acc is None:
                m.accounts.pop(account_id, None)
            else:
                m.accounts[account_id] = acc

    def next_seq(self) -> int:
        return self.live.last_seq + len(self.journal) + 1

    def changed_accounts(self) -> list[str]:
        """Accounts whose balances the batch changed, or that it opened."""
        base = self.live.market.accounts
        return [i for i, acc in self.market.accounts.items() if base.get(i) != acc]

    def changed_assets(self) -> list[str]:
        base, m = self.live.market, self.market
        out = []
        for sym in m.assets:
            if (
                m.assets[sym] is not base.assets[sym]
                or self.price_at.get(sym) != self.live.price_at.get(sym)
                or m.total_supply.get(sym, ZERO) != base.total_supply.get(sym, ZERO)
                or m.total_borrow.get(sym, ZERO) != base.total_borrow.get(sym, ZERO)
                or m.deficit.get(sym, ZERO) != base.deficit.get(sym, ZERO)
                or m.isolation_debt.get(sym, ZERO) != base.isolation_debt.get(sym, ZERO)
            ):
                out.append(sym)
        return out

    def changes(self) -> BatchWrite:
        """What the batch's one transaction writes."""
        live, m = self.live, self.market
        base = live.market.accounts
        out = BatchWrite(journal=list(self.journal), idempotency=list(self.idempotency))
        ord_ = live.account_ord
        for acc_id in self.changed_accounts():
            acc = m.accounts[acc_id]
            before = base.get(acc_id)
            if before is None:
                out.new_accounts.append((acc_id, ord_, acc.category))
                ord_ += 1
                assets = list(dict.fromkeys([*acc.supply, *acc.borrow]))
            else:
                v = live.versions[acc_id]
                out.versions[acc_id] = (v, v + 1)
                assets = [
                    a
                    for a in dict.fromkeys(
                        [*before.supply, *before.borrow, *acc.supply, *acc.borrow]
                    )
                    if (before.supplied(a), before.borrowed(a))
                    != (acc.supplied(a), acc.borrowed(a))
                ]
            out.balances.extend((acc_id, a, acc.supplied(a), acc.borrowed(a)) for a in assets)
        for sym in self.changed_assets():
            ap = m.assets[sym]
            out.assets.append(
                {
                    "symbol": sym,
                    "params": ap.model_dump(exclude={"symbol", "price"}, exclude_none=True),
                    "price": ap.price,
                    "price_at": self.price_at.get(sym),
                    "total_supply": m.total_supply.get(sym, ZERO),
                    "total_borrow": m.total_borrow.get(sym, ZERO),
                    "deficit": m.deficit.get(sym, ZERO),
                    "isolation_debt": m.isolation_debt.get(sym, ZERO),
                }
            )
        return out

    def publish(self) -> Published:
        """Make the committed batch the live state; returns what it changed."""
        live, m = self.live, self.market
        accounts = self.changed_accounts()
        assets = self.changed_assets()
        base = live.market
        prices = {s: m.assets[s].price for s in assets if m.assets[s].price != base.assets[s].price}
        params_changed = any(
            m.assets[s].model_copy(update={"price": base.assets[s].price}) != base.assets[s]
            for s in assets
            if m.assets[s] is not base.assets[s]
        )
        for acc_id in accounts:
            if acc_id in base.accounts:
                live.versions[acc_id] += 1
            else:
                live.versions[acc_id] = 1
                live.account_ord += 1
            base.accounts[acc_id] = m.accounts[acc_id]
        base.assets = m.assets
        base.total_supply = m.total_supply
        base.total_borrow = m.total_borrow
        base.deficit = m.deficit
        base.isolation_debt = m.isolation_debt
        live.price_at = self.price_at
        live.last_seq += len(self.journal)
        live.generation += 1
        return Published(accounts, assets, prices, params_changed)

    def accounts_view(self) -> Market:
        """The whole market as the batch sees it (live accounts under the batch's own)."""
        m = _working_market(self.market)
        m.accounts = {**self.live.market.accounts, **self.market.accounts}
        return m
