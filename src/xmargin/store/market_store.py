"""The stored market: writing a freshly loaded market (the genesis), reading it back.

The stored state is validated exactly as a market file is when it is read
(:func:`load_state`), so a database edited by hand cannot feed the engine a market the
contract forbids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import StoreError
from xmargin.io.market_file import market_to_dict, parse_market
from xmargin.mathlib import ZERO, fmt
from xmargin.model.market import Market
from xmargin.store.engine import write_transaction
from xmargin.store.models import (
    AccountRow,
    AssetRow,
    BalanceRow,
    Base,
    IdempotencyRow,
    JournalRow,
    MarketRow,
)
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


def _asset_row(market: Market, sym: str, ord_: int, at: datetime | None) -> dict[str, Any]:
    ap = market.assets[sym]
    return {
        "symbol": sym,
        "ord": ord_,
        "params": ap.model_dump(exclude={"symbol", "price"}, exclude_none=True),
        "price": ap.price,
        "price_at": at,
        "total_supply": market.total_supply.get(sym, ZERO),
        "total_borrow": market.total_borrow.get(sym, ZERO),
        "deficit": market.deficit.get(sym, ZERO),
        "isolation_debt": market.isolation_debt.get(sym, ZERO),
    }


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
                    "params": mp,
                    "categories": doc.get("categories", {}),
                    "source": source,
                    "created_at": now,
                }
            ],
        )
        conn.execute(
            insert(AssetRow),
            [_asset_row(market, sym, i, None) for i, sym in enumerate(market.assets)],
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


def load_state(conn: Connection) -> StoredState:
    """The stored market (validated exactly as a market file is) and writer bookkeeping."""
    try:
        mrow = conn.execute(select(MarketRow.params, MarketRow.categories)).one_or_none()
        if mrow is None:
            raise StoreError("the database holds no market: start `xmargin serve --market FILE`")
        assets = _rows(conn, AssetRow, AssetRow.ord)
        accounts = _rows(conn, AccountRow, AccountRow.ord)
        balances = _rows(conn, BalanceRow)
        last_seq = conn.execute(select(func.max(JournalRow.seq))).scalar() or 0
    except SQLAlchemyError as exc:
        raise _err("cannot read the stored market", exc) from exc
    # Stored figures go back in as Decimals: values the engine computed (balances after
    # a liquidation, isolation debt) are exact, not text to be read (model.numbers).
    supply: dict[str, dict[str, Decimal]] = {a.id: {} for a in accounts}
    borrow: dict[str, dict[str, Decimal]] = {a.id: {} for a in accounts}
    for b in balances:
        if b.supply:
            supply[b.account_id][b.asset] = b.supply
        if b.borrow:
            borrow[b.account_id][b.asset] = b.borrow
    doc: dict[str, Any] = {
        "market": mrow.params,
        "assets": {a.symbol: {**a.params, "price": a.price} for a in assets},
        "categories": mrow.categories,
        "accounts": {
            a.id: {
                **({"category": a.category} if a.category is not None else {}),
                "supply": supply[a.id],
                "borrow": borrow[a.id],
            }
            for a in accounts
        },
        "state": {
            "deficit": {a.symbol: a.deficit for a in assets if a.deficit},
            "isolation_debt": {a.symbol: a.isolation_debt for a in assets},
        },
    }
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
    return {
        "total_supply": {r.symbol: r.total_supply for r in rows},
        "total_borrow": {r.symbol: r.total_borrow for r in rows},
        "deficit": {r.symbol: r.deficit for r in rows},
        "isolation_debt": {r.symbol: r.isolation_debt for r in rows},
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
