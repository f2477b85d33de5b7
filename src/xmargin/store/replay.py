"""``xmargin replay``: rebuild the market from the journal and compare with the store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from xmargin.errors import JournalMismatch, MarketFileError, StoreError
from xmargin.mathlib import ZERO, fmt
from xmargin.store.engine import describe_url
from xmargin.store.journal import compare_markets, replay_entries
from xmargin.store.migrations import current_revision
from xmargin.store.repositories import iter_journal, load_state, stored_totals

__all__ = ["ReplayResult", "replay_database"]


@dataclass(frozen=True)
class ReplayResult:
    """A replay that agreed with the stored state."""

    entries: int
    last_seq: int
    accounts: int

    def to_json(self) -> dict[str, object]:
        return {
            "entries": self.entries,
            "last_seq": self.last_seq,
            "accounts": self.accounts,
            "agrees": True,
        }


def replay_database(engine: Engine) -> ReplayResult:
    """Replay the whole journal and compare it with the stored state: balances, positions,
    totals, open interest, funding indexes, the insurance fund and the designs' state.

    Reads the journal and the state in one transaction (one consistent snapshot), so it
    may run beside a live server.

    Raises
    ------
    JournalMismatch
        Every difference between the replayed and the stored state, located.
    StoreError
        The database cannot be read or holds no market.
    """
    if current_revision(engine) is None:
        raise StoreError(
            f"database {describe_url(str(engine.url))} holds no xmargin store: start "
            "`xmargin serve --market FILE --db URL` once to create it"
        )
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                report = replay_entries(
                    (e.seq, e.kind, e.command, e.result) for e in iter_journal(conn)
                )
                try:
                    stored = load_state(conn)
                except MarketFileError as exc:
                    raise JournalMismatch(
                        [f"stored state: does not load as a market: {p}" for p in exc.problems]
                    ) from exc
                totals = stored_totals(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the database: {exc}") from exc
    problems = compare_markets(report.market, stored.market)
    if report.last_seq != stored.last_seq:
        problems.append(f"journal: replayed to {report.last_seq}, stored last {stored.last_seq}")
    # The totals kept on the asset rows must agree with the balances too.
    m = report.market
    for name, replayed in (
        ("total_supply", m.total_supply),
        ("total_borrow", m.total_borrow),
        ("deficit", m.deficit),
        ("isolation_debt", m.isolation_debt),
    ):
        for sym, v in totals[name].items():
            if replayed.get(sym, ZERO) != v:
                problems.append(
                    f"assets.{sym}.{name}: journal gives {fmt(replayed.get(sym, ZERO))}, "
                    f"the asset row holds {fmt(v)}"
                )
    # ... and so must the open interest kept on the perp rows with the positions.
    for side, i in (("long", 0), ("short", 1)):
        for name, v in totals[f"open_interest_{side}"].items():
            got = m.open_interest.get(name, (ZERO, ZERO))[i]
            if got != v:
                problems.append(
                    f"perps.{name}.open_interest_{side}: journal gives {fmt(got)}, "
                    f"the perp row holds {fmt(v)}"
                )
    if problems:
        raise JournalMismatch(problems)
    return ReplayResult(report.entries, report.last_seq, report.accounts)
