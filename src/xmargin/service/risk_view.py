"""The service's one seam with the risk book (:mod:`xmargin.book`).

Everything the service asks of the book goes through :class:`RiskView`: the oracle guards
applied to a batch of prices (:func:`xmargin.book.oracle.check_price`), the risk status
of every account and its crossings after each commit (:class:`~xmargin.book.RiskBook`
events), the liquidation queue and the market summary. Decisions that move money (every
ledger action and liquidation) stay on the exact Decimal engine; the book only watches,
and it is updated after each commit, from what was committed.

Perps: the book holds perp positions beside balances (:mod:`xmargin.book.perp_columns`),
so a perp account's level, the counts, the queue, the summary's debts and the crossings
are the book's, decided exactly near a level as every account's are. After each commit
the view mirrors the committed positions (:meth:`~xmargin.book.RiskBook.set_perp`) and
funding indexes (:meth:`~xmargin.book.RiskBook.set_funding_index`) into the book.

Options: the book does not decide accounts holding options, so the exact engine does
(:class:`~xmargin.service.option_watch.OptionWatch`), and that decision overrides the
book's in every answer below: the level, the counts, the queue, the summary's debts and
the crossings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from xmargin.book import RiskBook, RiskEvent, Status
from xmargin.book.loading import parts_of_market
from xmargin.book.oracle import OracleState, check_price, parse_price
from xmargin.errors import UnknownAsset, XmarginError
from xmargin.mathlib import (
    CTX,
    HF_DECIMALS,
    ONE,
    VALUE_DECIMALS,
    ZERO,
    div_up,
    float_text,
    fmt,
    quantize_down,
    quantize_up,
)
from xmargin.model.market import Market
from xmargin.risk.health import AccountHealth, account_health
from xmargin.risk.status import DEFAULT_WARNING_LEVEL, status_of
from xmargin.service.option_watch import OptionWatch, holds_options

__all__ = [
    "LEVELS",
    "Crossing",
    "PriceRejection",
    "RiskView",
    "parse_prices",
    "risk_level",
]

#: Places of every ratio in the service's JSON (utilisation; health factors and bonuses
#: are held to the same 18 by the exact engine).
RATIO_DECIMALS = HF_DECIMALS

#: Risk levels (the book's statuses), from safest to worst.
LEVELS = tuple(s.label for s in Status)
Backend = Literal["auto", "numpy", "numba"]


def risk_level(h: AccountHealth, at_risk_below: Decimal) -> str:
    """The book's status of an account from its exact figures
    (:func:`xmargin.risk.status.status_of`), by its label."""
    return status_of(h, at_risk_below).label


@dataclass(frozen=True)
class Crossing:
    """An account that moved from one risk level to another (a book risk event)."""

    account: str
    before: str | None
    after: str
    health_factor: str | None
    exact: bool

    @classmethod
    def of(cls, e: RiskEvent) -> Crossing:
        hf = None if e.health_factor is None else float_text(e.health_factor)
        return cls(e.account, e.previous.label, e.status.label, hf, e.exact)

    @property
    def worse(self) -> bool:
        return self.before is None or LEVELS.index(self.after) > LEVELS.index(self.before)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "from": self.before,
            "to": self.after,
            "direction": "worse" if self.worse else "better",
            "health_factor": self.health_factor,
            "exact": self.exact,
        }


@dataclass(frozen=True)
class PriceRejection:
    """A price the oracle guards refused."""

    asset: str
    price: Decimal
    error: XmarginError

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "price": fmt(self.price),
            "code": self.error.code,
            "message": self.error.message,
        }


def parse_prices(raw: Mapping[str, Any], market: Market) -> dict[str, Decimal]:
    """``{asset: price}`` as exact prices; a bad or unknown one refuses the whole batch.

    Raises
    ------
    UnknownAsset, InvalidPrice
        The first asset that is not listed, or a price that is not a finite number > 0
        of magnitude <= 1e24.
    """
    out: dict[str, Decimal] = {}
    for asset, value in raw.items():
        if asset not in market.assets:
            raise UnknownAsset(asset, "prices")
        out[asset] = parse_price(asset, value)
    return out


class RiskView:
    """The risk book of the live market, kept current after each commit.

    Parameters
    ----------
    at_risk_below
        The book's warning level: health factor under which an account is ``at_risk``.
    backend
        The book's kernels (``numpy``; ``auto``: Numba when installed).
    """

    def __init__(
        self, at_risk_below: Decimal = DEFAULT_WARNING_LEVEL, backend: Backend = "numpy"
    ) -> None:
        self.at_risk_below = at_risk_below
        self.backend: Backend = backend
        self.book: RiskBook | None = None
        #: accounts with option positions, decided exactly (module docstring)
        self.options = OptionWatch(at_risk_below)

    def _book(self) -> RiskBook:
        if self.book is None:
            raise RuntimeError("the risk view has no book yet: call rebuild(market)")
        return self.book

    # -- keeping the book current -------------------------------------------------------
    def rebuild(self, market: Market) -> list[Crossing]:
        """A new book of the whole market (at start, after a reload or a parameter change);
        the crossings against the previous book, if there was one."""
        before = None if self.book is None else {acc: self.level_of(acc) for acc in market.accounts}
        # The book without options: the option watch decides those accounts (module doc).
        parts = parts_of_market(market, cluster=True, options=False)
        self.book = RiskBook(parts, warning_level=self.at_risk_below, backend=self.backend)
        self.options.rebuild(market)
        if before is None:
            return []
        out = []
        for acc, was in before.items():
            now = self.level_of(acc)
            if now is not None and was != now:
                h = account_health(market.accounts[acc], market)
                out.append(Crossing(acc, was, now, fmt(h.health_factor), True))
        return out

    def update(
        self,
        market: Market,
        accounts: Iterable[str],
        prices: Mapping[str, Decimal],
        params_changed: bool,
        funding: Iterable[str] = (),
    ) -> list[Crossing]:
        """Bring the book to the committed ``market``; returns the crossings it saw.

        ``funding``: perps whose funding index moved (their holders' health moved).
        """
        if params_changed:
            return self.rebuild(market)
        accounts = list(accounts)
        # Accounts with options before or after this commit: decided by the exact engine.
        watched = set(self.options.status) | {
            a for a in accounts if holds_options(market.accounts[a])
        }
        was = {a: self.level_of(a) for a in watched}
        book = self._book()
        events: list[RiskEvent] = []
        if prices:
            update = book.apply_prices(dict(prices), guard=False)
            events.extend(update.events)
        for perp in dict.fromkeys(funding):
            events.extend(book.set_funding_index(perp, market.perps[perp].funding_index))
        changes: list[tuple[str, str, Decimal, Decimal]] = []
        perp_changes: list[str] = []
        for acc_id in accounts:
            acc = market.accounts[acc_id]
            if not _holds(book, acc_id):
                book.add_account(acc_id, acc.category)
                before = {}
            else:
                held = book.exact_account(acc_id)
                before = {
                    a: (held.supplied(a), held.borrowed(a)) for a in [*held.supply, *held.borrow]
                }
            for a in dict.fromkeys([*before, *acc.supply, *acc.borrow]):
                now = (acc.supplied(a), acc.borrowed(a))
                if before.get(a, (ZERO, ZERO)) != now:
                    changes.append((acc_id, a, now[0], now[1]))
            if acc.perps or book.perp_positions(acc_id):
                perp_changes.append(acc_id)
        # Every changed balance of the batch, re-priced in one kernel call.
        events.extend(book.set_balances(changes))
        for acc_id in perp_changes:
            acc = market.accounts[acc_id]
            held_perps = book.perp_positions(acc_id)
            for perp in dict.fromkeys([*held_perps, *acc.perps]):
                if held_perps.get(perp) != acc.position(perp):
                    events.extend(book.set_perp(acc_id, perp, acc.position(perp)))
        # One crossing per account: from where it stood before this commit to where it is.
        first: dict[str, RiskEvent] = {}
        last: dict[str, RiskEvent] = {}
        for e in events:
            if e.account not in watched:
                first.setdefault(e.account, e)
                last[e.account] = e
        out = []
        for acc_id, e in last.items():
            start = first[acc_id].previous
            if start != e.status:
                out.append(Crossing.of(e._replace(previous=start)))
        moved = watched if prices or list(funding) else watched & set(accounts)
        self.options.refresh(market, moved)
        for acc_id in watched:
            now_level = self.level_of(acc_id)
            if now_level is not None and now_level != was[acc_id]:
                h = account_health(market.accounts[acc_id], market)
                out.append(Crossing(acc_id, was[acc_id], now_level, fmt(h.health_factor), True))
        out.sort(key=lambda c: c.account)
        return out

    # -- what the service reads ---------------------------------------------------------
    def level_of(self, account: str) -> str | None:
        watched = self.options.status.get(account)
        if watched is not None:
            return watched.label
        book = self._book()
        return book.status(account).label if _holds(book, account) else None

    def queue(self, market: Market, limit: int) -> list[tuple[str, AccountHealth, str]]:
        """Liquidatable accounts, largest shortfall first (the book's queue, perp accounts
        included, with the option accounts the exact engine decides in their place), each
        with its exact figures."""
        watch = self.options
        short: list[tuple[float, str]] = [
            (q.shortfall_value, q.account)
            for q in self._book().liquidation_queue(limit + len(watch.status))
            if q.account not in watch
        ]
        short += [(float(s), a) for a, s in watch.liquidatable()]
        short.sort(key=lambda r: -r[0])  # stable: the book's order breaks ties
        return [
            (a, account_health(market.accounts[a], market), Status.LIQUIDATABLE.label)
            for _, a in short[:limit]
        ]

    def counts(self) -> dict[str, int]:
        book = self._book()
        counts = {s: n for s, n in book.counts().items()}
        for acc, status in self.options.status.items():
            if _holds(book, acc):
                counts[book.status(acc)] -= 1
            counts[status] += 1
        return {s.label: n for s, n in counts.items()}

    def health_of_perp_accounts(self, market: Market) -> dict[str, AccountHealth]:
        """Exact figures of every account holding a perp position (the dashboard's)."""
        return {a: account_health(acc, market) for a, acc in market.accounts.items() if acc.perps}

    def summary(self, market: Market) -> dict[str, Any]:
        """Totals per asset (units exact, values in quote), deficit, accounts by level."""
        assets: dict[str, Any] = {}
        supply_value = borrow_value = deficit_value = ZERO
        for sym, ap in market.assets.items():
            ts = market.total_supply.get(sym, ZERO)
            tb = market.total_borrow.get(sym, ZERO)
            d = market.deficit.get(sym, ZERO)
            # Quote values held to 1e-18 as the account figures are (supply rounds down,
            # borrow and deficit up); utilisation, a ratio, to 18 places, rounded up.
            sv = quantize_down(CTX.multiply(ts, ap.price), VALUE_DECIMALS)
            bv = quantize_up(CTX.multiply(tb, ap.price), VALUE_DECIMALS)
            dv = quantize_up(CTX.multiply(d, ap.price), VALUE_DECIMALS)
            supply_value += sv
            borrow_value += bv
            deficit_value += dv
            assets[sym] = {
                "price": fmt(ap.price),
                "total_supply": fmt(ts),
                "total_borrow": fmt(tb),
                "supply_value": fmt(sv),
                "borrow_value": fmt(bv),
                "deficit": fmt(d),
                "deficit_value": fmt(dv),
                "utilization": fmt(div_up(tb, ts, RATIO_DECIMALS)) if ts else None,
                "supply_index": fmt(market.supply_index.get(sym, ONE)),
            }
        s = self._book().summary()
        # The option accounts' debts as the exact engine decides them, in place of the book's.
        liq, ins, book_liq, book_ins = self.options.debts(market)
        by_level = self.counts()
        return {
            "quote": market.params.quote,
            "accounts": len(market.accounts),
            "by_level": by_level,
            "liquidatable_accounts": by_level[Status.LIQUIDATABLE.label],
            # Sums over the whole book, in float64 (the book's), as decimal strings.
            "liquidatable_debt": float_text(max(s.liquidatable_debt - book_liq + liq, 0.0)),
            "insolvent_debt": float_text(max(s.insolvent_debt - book_ins + ins, 0.0)),
            "total_supply_value": fmt(supply_value),
            "total_borrow_value": fmt(borrow_value),
            "deficit_value": fmt(deficit_value),
            "deficit": {
                s: fmt(market.deficit[s]) for s in market.assets if market.deficit.get(s, ZERO)
            },
            "insurance_fund": {a: fmt(u) for a, u in market.insurance_fund.items() if u},
            "assets": assets,
        }

    # -- oracle guards ------------------------------------------------------------------
    @staticmethod
    def guard_prices(
        market: Market,
        prices: Mapping[str, Decimal],
        observed_at: datetime,
        now: datetime,
        price_at: Mapping[str, datetime | None],
    ) -> tuple[dict[str, Decimal], list[PriceRejection]]:
        """The risk book's oracle guards on a batch: all of it accepted, or none.

        ``max_price_age_seconds``: a price observed longer ago than that is stale;
        a price observed before the asset's last accepted one is out of order;
        ``max_price_deviation``: a move of more than that fraction in one update is
        refused. Returns (accepted, rejections); with any rejection, nothing is accepted.
        """
        state = OracleState()
        for sym, at in price_at.items():
            if at is not None:
                state.last_time[sym] = at.timestamp()
        ts, at_now = observed_at.timestamp(), now.timestamp()
        accepted: dict[str, Decimal] = {}
        rejected: list[PriceRejection] = []
        for asset, p in prices.items():
            ap = market.assets.get(asset)
            last = ap.price if ap is not None else None
            try:
                accepted[asset] = check_price(ap, asset, p, last, state, ts, at_now)
            except XmarginError as exc:
                rejected.append(PriceRejection(asset, p, exc))
        return ({}, rejected) if rejected else (accepted, [])


def _holds(book: RiskBook, account: str) -> bool:
    try:
        book.row_of(account)
    except XmarginError:
        return False
    return True
