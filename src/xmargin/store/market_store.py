"""The stored market: writing a freshly loaded market (the genesis), reading it back.

The stored state is validated exactly as a market file is when it is read
(:func:`load_state`), so a database edited by hand cannot feed the engine a market the
contract forbids. Everything a market file holds is stored and read back: balances, perp
positions, funding indexes, the insurance fund, the liquidation designs' state (running
auctions, the storefront's reserves and holdings, supply indexes) and the market's clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError
from xmargin.io.market_file import market_to_dict, parse_market
from xmargin.mathlib import ZERO, fmt
from xmargin.model.market import Market
from xmargin.store.engine import write_transaction
from xmargin.store.market_rows import (
    asset_row,
    auction_row,
    market_state_row,
    perp_row,
    position_row,
    stored_market_params,
)
from xmargin.store.models import (
    AccountRow,
    AssetRow,
    AuctionRow,
    BalanceRow,
    Base,
    IdempotencyRow,
    JournalRow,
    MarketRow,
    PerpPositionRow,
    PerpRow,
)
from xmargin.store.option_store import add_options_to_document, write_genesis_options
from xmargin.store.records import StoredState, store_error, utcnow

__all__ = [
    "count_rows",
    "genesis_document",
    "initialize_market",
    "is_initialized",
    "load_state",
    "stored_totals",
]

_err = store_error


def _rows(conn: Connection, model: type[Base], *order: Any) -> Sequence[Any]:
    """Every row of ``model``'s table as plain rows (attribute access, types applied)."""
    return conn.execute(select(model.__table__).order_by(*order)).all()


def is_initialized(engine: Engine) -> bool:
    """Whether the database already holds a market."""
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(MarketRow)).scalar_one() > 0
    except SQLAlchemyError as exc:
        raise _err("cannot read the database", exc) from exc


def genesis_document(market: Market) -> dict[str, Any]:
    """The market as a contract document, isolation debt written out even where zero."""
    doc = market_to_dict(market)
    state = doc.setdefault("state", {})
    state["isolation_debt"] = {a: fmt(market.isolation_debt.get(a, ZERO)) for a in market.assets}
    return doc


def initialize_market(engine: Engine, market: Market, source: str) -> None:
    """Write a freshly loaded market and its genesis journal entry (seq 1), atomically."""
    now = utcnow()
    doc = genesis_document(market)
    mp = doc["market"]
    with write_transaction(engine) as conn:
        if conn.execute(select(func.count()).select_from(MarketRow)).scalar_one():
            raise StoreError("the database already holds a market")
        conn.execute(
            insert(MarketRow),
            [
                {
                    "id": 1,
                    "params": stored_market_params(mp),
                    "categories": doc.get("categories", {}),
                    "source": source,
                    "created_at": now,
                    **market_state_row(market),
                }
            ],
        )
        conn.execute(
            insert(AssetRow),
            [{**asset_row(market, sym, None), "ord": i} for i, sym in enumerate(market.assets)],
        )
        if market.perps:
            conn.execute(
                insert(PerpRow),
                [{**perp_row(market, name), "ord": i} for i, name in enumerate(market.perps)],
            )
        if market.accounts:
            conn.execute(
                insert(AccountRow),
                [
                    {"id": acc.id, "ord": i, "category": acc.category, "version": 1}
                    for i, acc in enumerate(market.accounts.values())
                ],
            )
            rows = [
                {
                    "account_id": acc.id,
                    "asset": a,
                    "supply": acc.supplied(a),
                    "borrow": acc.borrowed(a),
                }
                for acc in market.accounts.values()
                for a in dict.fromkeys([*acc.supply, *acc.borrow])
            ]
            if rows:
                conn.execute(insert(BalanceRow), rows)
            positions = [
                position_row(acc.id, name, pos)
                for acc in market.accounts.values()
                for name, pos in acc.perps.items()
            ]
            if positions:
                conn.execute(insert(PerpPositionRow), positions)
        if market.auctions:
            conn.execute(insert(AuctionRow), [auction_row(a) for a in market.auctions.values()])
        write_genesis_options(conn, market, doc)
        conn.execute(
            insert(JournalRow),
            [
                {
                    "seq": 1,
                    "at": now,
                    "kind": "genesis",
                    "account": None,
                    "actor": None,
                    "idempotency_key": None,
                    "command": doc,
                    "result": {"source": source},
                }
            ],
        )


def _aware(at: datetime | None) -> datetime | None:
    """A stored instant as an aware UTC datetime (SQLite hands back naive UTC)."""
    if at is None:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def load_state(conn: Connection) -> StoredState:
    """The stored market (validated exactly as a market file is) and writer bookkeeping."""
    try:
        mrow = conn.execute(
            select(MarketRow.params, MarketRow.categories, MarketRow.auction_count, MarketRow.time)
        ).one_or_none()
        if mrow is None:
            raise StoreError("the database holds no market: start `xmargin serve --market FILE`")
        assets = _rows(conn, AssetRow, AssetRow.ord)
        accounts = _rows(conn, AccountRow, AccountRow.ord)
        balances = _rows(conn, BalanceRow)
        perps = _rows(conn, PerpRow, PerpRow.ord)
        positions = _rows(conn, PerpPositionRow, PerpPositionRow.account_id, PerpPositionRow.perp)
        auctions = _rows(conn, AuctionRow, AuctionRow.id)
        options: dict[str, Any] = {"accounts": {a.id: {} for a in accounts}}
        add_options_to_document(conn, options)
        last_seq = conn.execute(select(func.max(JournalRow.seq))).scalar() or 0
    except SQLAlchemyError as exc:
        raise _err("cannot read the stored market", exc) from exc
    # Stored figures go back in as Decimals: values the engine computed (balances after
    # a liquidation, isolation debt, entry prices, funding indexes) are exact, not text
    # to be read (model.numbers).
    supply: dict[str, dict[str, Decimal]] = {a.id: {} for a in accounts}
    borrow: dict[str, dict[str, Decimal]] = {a.id: {} for a in accounts}
    for b in balances:
        if b.supply:
            supply[b.account_id][b.asset] = b.supply
        if b.borrow:
            borrow[b.account_id][b.asset] = b.borrow
    held: dict[str, dict[str, Any]] = {}
    for p in positions:
        held.setdefault(p.account_id, {})[p.perp] = {
            "size": p.size,
            "entry_price": p.entry_price,
            "funding_index": p.funding_index,
        }
    table: dict[str, Any] = dict(mrow.params)
    clock = _aware(mrow.time)
    if clock is not None:
        table["time"] = clock
    fund = {a.symbol: a.insurance_fund for a in assets if a.insurance_fund}
    if fund:
        table["insurance_fund"] = fund
    doc: dict[str, Any] = {
        "market": table,
        "assets": {a.symbol: {**a.params, "price": a.price} for a in assets},
        "categories": mrow.categories,
        "accounts": {
            a.id: {
                **({"category": a.category} if a.category is not None else {}),
                "supply": supply[a.id],
                "borrow": borrow[a.id],
                **({"perps": held[a.id]} if a.id in held else {}),
                **options["accounts"][a.id],
            }
            for a in accounts
        },
        "state": {
            "deficit": {a.symbol: a.deficit for a in assets if a.deficit},
            "isolation_debt": {a.symbol: a.isolation_debt for a in assets},
            "auctions": {
                str(r.id): {
                    "account": r.account,
                    "debt_asset": r.debt_asset,
                    "collateral_asset": r.collateral_asset,
                    "debt": r.debt,
                    "tab": r.tab,
                    "lot": r.lot,
                    "top": r.top,
                    "tic": _aware(r.tic),
                }
                for r in auctions
            },
            "auction_count": mrow.auction_count,
            "reserves": {a.symbol: a.reserves for a in assets if a.reserves},
            "protocol_collateral": {
                a.symbol: a.protocol_collateral for a in assets if a.protocol_collateral
            },
            "supply_index": {
                a.symbol: a.supply_index for a in assets if a.supply_index is not None
            },
        },
    }
    if perps:
        doc["perps"] = {p.name: {**p.params, "funding_index": p.funding_index} for p in perps}
    options.pop("accounts")
    doc.update(options)
    market = parse_market(doc, "the database")
    return StoredState(
        market=market,
        versions={a.id: a.version for a in accounts},
        account_ord=max((a.ord for a in accounts), default=-1) + 1,
        price_at={a.symbol: a.price_at for a in assets},
        last_seq=int(last_seq),
    )


def stored_totals(conn: Connection) -> dict[str, dict[str, Decimal]]:
    """The totals kept on the asset rows (what replay checks beside the balances)."""
    rows = _rows(conn, AssetRow)
    perps = _rows(conn, PerpRow)
    return {
        "total_supply": {r.symbol: r.total_supply for r in rows},
        "total_borrow": {r.symbol: r.total_borrow for r in rows},
        "deficit": {r.symbol: r.deficit for r in rows},
        "isolation_debt": {r.symbol: r.isolation_debt for r in rows},
        "open_interest_long": {p.name: p.open_interest_long for p in perps},
        "open_interest_short": {p.name: p.open_interest_short for p in perps},
    }


def count_rows(conn: Connection) -> Mapping[str, int]:
    """Row counts of the main tables (for tests and the summary)."""
    out = {}
    for name, model in (
        ("journal", JournalRow),
        ("accounts", AccountRow),
        ("balances", BalanceRow),
        ("idempotency", IdempotencyRow),
    ):
        out[name] = int(conn.execute(select(func.count()).select_from(model)).scalar_one())
    return out
