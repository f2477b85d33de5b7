"""Options in the durable store (contract 6; migration 0004): the instruments, the
``[option_margin]`` and ``[portfolio_margin]`` tables, each account's margin method and its
option positions.

Instruments, parameters and margin methods are written once, at genesis (no endpoint
changes them); positions change with every trade or liquidation of an option and are
written by the batch that changed them (:func:`option_position_changes`,
:func:`write_option_positions`). :func:`add_options_to_document` puts them back into the
document the stored market is validated from, so a restart serves what was committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.store.models import AccountRow, MarketRow, OptionPositionRow, OptionRow

__all__ = [
    "add_options_to_document",
    "option_position_changes",
    "write_genesis_options",
    "write_option_positions",
]


def write_genesis_options(conn: Connection, market: Market, doc: dict[str, Any]) -> None:
    """Write the option parts of the genesis document ``doc`` (of ``market``)."""
    if doc.get("options"):
        conn.execute(
            insert(OptionRow),
            [
                {"name": name, "ord": i, "params": params}
                for i, (name, params) in enumerate(doc["options"].items())
            ],
        )
    if doc.get("option_margin") or doc.get("portfolio_margin"):
        conn.execute(
            update(MarketRow).values(
                option_margin=doc.get("option_margin"),
                portfolio_margin=doc.get("portfolio_margin"),
            )
        )
    margins = [
        {"b_id": acc_id, "b_margin": entry["margin"]}
        for acc_id, entry in doc.get("accounts", {}).items()
        if entry.get("margin")
    ]
    if margins:
        conn.execute(
            update(AccountRow)
            .where(AccountRow.id == bindparam("b_id"))
            .values(margin=bindparam("b_margin")),
            margins,
        )
    rows = [
        {"account_id": acc.id, "option": name, "size": q}
        for acc in market.accounts.values()
        for name, q in acc.options.items()
    ]
    if rows:
        conn.execute(insert(OptionPositionRow), rows)


def add_options_to_document(conn: Connection, doc: dict[str, Any]) -> None:
    """Add the stored options, parameters, margin methods and positions to ``doc`` (the
    document :func:`xmargin.store.market_store.load_state` validates), in place."""
    mrow = conn.execute(select(MarketRow.option_margin, MarketRow.portfolio_margin)).one()
    if mrow.option_margin:
        doc["option_margin"] = mrow.option_margin
    if mrow.portfolio_margin:
        doc["portfolio_margin"] = mrow.portfolio_margin
    options = conn.execute(select(OptionRow.name, OptionRow.params).order_by(OptionRow.ord)).all()
    if options:
        doc["options"] = {r.name: r.params for r in options}
    accounts = doc["accounts"]
    margins = conn.execute(
        select(AccountRow.id, AccountRow.margin).where(AccountRow.margin.is_not(None))
    ).all()
    for m in margins:
        accounts[m.id]["margin"] = m.margin
    held = conn.execute(
        select(OptionPositionRow.account_id, OptionPositionRow.option, OptionPositionRow.size)
    ).all()
    for h in held:
        accounts[h.account_id].setdefault("options", {})[h.option] = h.size


def option_position_changes(
    acc_id: str, before: Account, after: Account
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(rows to upsert, (account, option) pairs closed) between two states of an account."""
    rows: list[dict[str, Any]] = []
    closed: list[tuple[str, str]] = []
    for name in dict.fromkeys([*before.options, *after.options]):
        q = after.options.get(name)
        if q is None:
            closed.append((acc_id, name))
        elif q != before.options.get(name):
            rows.append({"account_id": acc_id, "option": name, "size": q})
    return rows, closed


def write_option_positions(
    conn: Connection, rows: list[dict[str, Any]], closed: list[tuple[str, str]]
) -> None:
    """Upsert ``rows`` and delete the ``closed`` positions, inside the batch's transaction."""
    if closed:
        conn.execute(
            delete(OptionPositionRow).where(
                tuple_(OptionPositionRow.account_id, OptionPositionRow.option).in_(
                    bindparam("pairs", expanding=True)
                )
            ),
            {"pairs": closed},
        )
    if rows:
        ins: Any = (
            postgresql.insert(OptionPositionRow)
            if conn.dialect.name == "postgresql"
            else sqlite.insert(OptionPositionRow)
        )
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=["account_id", "option"], set_={"size": ins.excluded.size}
            ),
            rows,
        )
