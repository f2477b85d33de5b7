"""The writer's state: the in-memory mirror of the market, and a batch working on it.

The mirror (:class:`LiveState`) is the engine's state; the database is the durable truth.
A :class:`BatchState` applies a batch of commands to copies of what they touch, so the
mirror is not changed until the batch's transaction has committed
(:meth:`BatchState.publish`); :meth:`BatchState.changes` is what that transaction writes.

Besides balances a batch moves the state of perps (positions, funding indexes, open
interest, the insurance fund) and of the liquidation designs (auctions, the storefront's
reserves and holdings, supply indexes, the market's clock). The market replaces those
mappings instead of changing them in place (:class:`~xmargin.model.market.Market`), so a
working market may share them with the mirror until a command replaces them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from xmargin.mathlib import ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.store.market_rows import (
    asset_row,
    asset_state,
    auction_row,
    market_state_row,
    perp_row,
    position_row,
)
from xmargin.store.option_store import option_position_changes
from xmargin.store.repositories import BatchWrite, JournalEntry, StoredState

__all__ = ["BatchState", "LiveState", "Published"]


@dataclass(frozen=True)
class Published:
    """What a published batch changed."""

    accounts: list[str]
    assets: list[str]
    prices: dict[str, Decimal]
    params_changed: bool
    #: perps whose funding index moved
    funding: list[str] = field(default_factory=list)


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
    # Replaced, never changed in place, by every action: shared until then.
    m.perps = base.perps
    m.insurance_fund = base.insurance_fund
    m.open_interest = base.open_interest
    # Options: instruments and parameters never change in a batch (contract 6).
    m.options = base.options
    m.option_margin = base.option_margin
    m.portfolio_margin = base.portfolio_margin
    m.copy_design_state(base)
    return m


#: What :meth:`BatchState.mark` saves of the market besides accounts.
_MARKET_PARTS = (
    "params",
    "assets",
    "total_supply",
    "total_borrow",
    "deficit",
    "isolation_debt",
    "perps",
    "insurance_fund",
    "open_interest",
    "auctions",
    "auction_count",
    "reserves",
    "protocol_collateral",
    "supply_index",
)


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

    def current(self, account_id: str) -> Account | None:
        """The account as this batch sees it (its own copy, else the mirror's)."""
        acc = self.market.accounts.get(account_id)
        return acc if acc is not None else self.live.market.accounts.get(account_id)

    def accounts_where(self, test: Callable[[Account], bool]) -> list[str]:
        """Every account, as the batch sees it, that passes ``test`` (in market order)."""
        ids = dict.fromkeys([*self.live.market.accounts, *self.market.accounts])
        out = []
        for acc_id in ids:
            acc = self.current(acc_id)
            if acc is not None and test(acc):
                out.append(acc_id)
        return out

    def mark(self, account_ids: Iterable[str]) -> tuple[Any, ...]:
        """A savepoint before one command (what :meth:`rollback` restores)."""
        m = self.market
        saved = {}
        for account_id in account_ids:
            acc = m.accounts.get(account_id)
            saved[account_id] = acc.copy() if acc is not None else None
        parts = {}
        for name in _MARKET_PARTS:
            value = getattr(m, name)
            parts[name] = dict(value) if isinstance(value, dict) else value
        return parts, dict(self.price_at), saved

    def rollback(self, mark: tuple[Any, ...]) -> None:
        """Undo a command that failed part-way (only a bug can; rules refuse up front)."""
        parts, price_at, saved = mark
        m = self.market
        for name, value in parts.items():
            setattr(m, name, value)
        self.price_at = price_at
        for account_id, acc in saved.items():
            if acc is None:
                m.accounts.pop(account_id, None)
            else:
                m.accounts[account_id] = acc

    def next_seq(self) -> int:
        return self.live.last_seq + len(self.journal) + 1

    def changed_accounts(self) -> list[str]:
        """Accounts whose balances or positions the batch changed, or that it opened."""
        base = self.live.market.accounts
        return [i for i, acc in self.market.accounts.items() if base.get(i) != acc]

    def changed_assets(self) -> list[str]:
        base, m = self.live.market, self.market
        return [
            sym
            for sym in m.assets
            if m.assets[sym] is not base.assets[sym]
            or self.price_at.get(sym) != self.live.price_at.get(sym)
            or asset_state(m, sym) != asset_state(base, sym)
        ]

    def changed_perps(self) -> list[str]:
        """Perps whose funding index or open interest the batch moved."""
        base, m = self.live.market, self.market
        zero = (ZERO, ZERO)
        return [
            name
            for name in m.perps
            if m.perps[name] != base.perps[name]
            or m.open_interest.get(name, zero) != base.open_interest.get(name, zero)
        ]

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
                before = Account(acc_id)
            else:
                v = live.versions[acc_id]
                out.versions[acc_id] = (v, v + 1)
            assets = [
                a
                for a in dict.fromkeys([*before.supply, *before.borrow, *acc.supply, *acc.borrow])
                if (before.supplied(a), before.borrowed(a)) != (acc.supplied(a), acc.borrowed(a))
            ]
            out.balances.extend((acc_id, a, acc.supplied(a), acc.borrowed(a)) for a in assets)
            for name in dict.fromkeys([*before.perps, *acc.perps]):
                pos = acc.perps.get(name)
                if pos is None:
                    out.positions_closed.append((acc_id, name))
                elif pos != before.perps.get(name):
                    out.positions.append(position_row(acc_id, name, pos))
            if before.options or acc.options:
                rows, closed = option_position_changes(acc_id, before, acc)
                out.option_positions.extend(rows)
                out.option_positions_closed.extend(closed)
        for sym in self.changed_assets():
            out.assets.append(asset_row(m, sym, self.price_at.get(sym)))
        out.perps = [perp_row(m, name) for name in self.changed_perps()]
        before_auctions = live.market.auctions
        for i, a in m.auctions.items():
            if before_auctions.get(i) != a:
                out.auctions.append(auction_row(a))
        out.auctions_ended = [i for i in before_auctions if i not in m.auctions]
        if market_state_row(m) != market_state_row(live.market):
            out.market_state = market_state_row(m)
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
        funding = [n for n in m.perps if m.perps[n].funding_index != base.perps[n].funding_index]
        for acc_id in accounts:
            if acc_id in base.accounts:
                live.versions[acc_id] += 1
            else:
                live.versions[acc_id] = 1
                live.account_ord += 1
            base.accounts[acc_id] = m.accounts[acc_id]
        base.params = m.params
        base.assets = m.assets
        base.total_supply = m.total_supply
        base.total_borrow = m.total_borrow
        base.deficit = m.deficit
        base.isolation_debt = m.isolation_debt
        base.perps = m.perps
        base.insurance_fund = m.insurance_fund
        base.open_interest = m.open_interest
        base.copy_design_state(m)
        live.price_at = self.price_at
        live.last_seq += len(self.journal)
        live.generation += 1
        return Published(accounts, assets, prices, params_changed, funding)

    def accounts_view(self) -> Market:
        """The whole market as the batch sees it (live accounts under the batch's own)."""
        m = _working_market(self.market)
        m.accounts = {**self.live.market.accounts, **self.market.accounts}
        return m
