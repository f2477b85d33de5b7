"""Commands backed by the columnar risk book: watch, generate-book, large-file paths.

``watch`` replays a price file through a :class:`~xmargin.book.RiskBook` and prints each
risk event as one JSON line; ``generate-book`` writes a synthetic book. The core
``health`` and ``stress`` commands call :func:`book_health` and :func:`book_stress` for
large books (see :func:`xmargin.book.routing.prefers_book`); what they print is
:mod:`xmargin.cli.book_render`'s.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xmargin.cli.console import console
from xmargin.cli.console import progress as progress_bar
from xmargin.cli.options import Json, MarketFile, Progress
from xmargin.cli.options import warning_level as warning_level_of
from xmargin.risk.status import DEFAULT_WARNING_LEVEL

if TYPE_CHECKING:  # the book pulls in NumPy and pyarrow: imported when a command runs
    from xmargin.fast.backend import Backend

__all__ = ["book_health", "book_stress", "generate_book_command", "register", "watch"]


# -- health and stress on the book (called by the core commands) ---------------------------
def book_health(
    market_file: Path, accounts: list[str] | None, as_json: bool, progress: bool | None = None
) -> None:
    """``health`` on the risk book: every account (float64 figures, exact decisions), or
    the listed accounts exactly. A progress bar for loading and pricing goes to stderr
    when it is a terminal (ended before anything is written)."""
    from xmargin.book.riskbook import RiskBook
    from xmargin.cli.book_render import print_book, write_health_json

    with progress_bar(1, "health: load and price", progress) as advance:
        book = RiskBook.load(market_file, cluster=False, backend=_one_pass_backend())
        advance(1)
    if accounts:
        from xmargin.cli import render

        rows = [(a, book.exact_health(a)) for a in accounts]
        if as_json:
            render.print_json(render.health_doc(rows))
        else:
            render.print_health(rows, book.quote)
        return
    if as_json:
        write_health_json(sys.stdout, book)
        return
    print_book(book, "Risk book at the file's prices", None)


def book_stress(
    market_file: Path,
    shocks: Mapping[str, Decimal],
    as_json: bool,
    summary_only: bool,
    progress: bool | None = None,
    vol_shocks: Mapping[str, Decimal] | None = None,
) -> None:
    """``stress`` on the risk book; ``summary_only`` leaves out the per-account rows.

    The book is loaded in file order and priced once, at the shocked prices: the NumPy
    kernels do a single pass faster than Numba starts. ``vol_shocks`` (by underlying)
    shock the options' volatilities first, as the exact engine's ``stress`` does.
    """
    from xmargin.book.loading import parts_of_file
    from xmargin.book.riskbook import RiskBook
    from xmargin.cli.book_render import print_book, print_stress_summary, write_health_json
    from xmargin.risk.options import with_vol_shocks

    with progress_bar(1, "stress: load and price", progress) as advance:
        parts = parts_of_file(market_file, cluster=False)
        if vol_shocks:
            parts.market = with_vol_shocks(parts.market, vol_shocks)
        book = RiskBook(parts, shocks=shocks, backend=_one_pass_backend())
        advance(1)
    prices = {a: book.prices[a] for a in shocks}
    summary = book.summary()
    if summary_only:
        print_stress_summary(prices, summary, book.quote, as_json)
        return
    if as_json:
        write_health_json(
            sys.stdout, book, summary=summary, prices=prices, accounts=not summary_only,
            vol_shocks=vol_shocks,
        )  # fmt: skip
        return
    print_book(book, "Risk book after shocks", prices, summary)


def _one_pass_backend() -> Backend:
    """NumPy for a book priced once (unless ``XMARGIN_BACKEND`` says otherwise)."""
    from xmargin.fast.backend import BACKEND_ENV  # NumPy: loaded by the command only

    return "auto" if os.environ.get(BACKEND_ENV) else "numpy"


# -- watch --------------------------------------------------------------------------------
def watch(
    market_file: MarketFile,
    prices: Annotated[
        list[Path],
        typer.Option(
            "--prices",
            help="Price files or folders (repeatable), in the formats simulate reads: "
            "timestamp,asset,price (ISO-8601 or unix seconds), symbol,timestamp,USD_price "
            "(ms) or timestamp_x,ask_price,bid_price (µs, mid).",
            show_default=False,
        ),
    ],
    warning_level: Annotated[
        str,
        typer.Option("--warning-level", help="Health factor below which an account is at risk."),
    ] = str(DEFAULT_WARNING_LEVEL),
    rebase: Annotated[
        bool,
        typer.Option(
            "--rebase",
            help="Start each asset at its first price in the file (no events for that step).",
        ),
    ] = False,
    progress: Progress = None,
) -> None:
    """Replay a price file through the risk book; print each risk event as a JSON line.

    An event line has type "event", the timestamp, the account, from and to (healthy,
    at_risk, liquidatable), its health factor and whether the exact engine decided it; a
    price the oracle guards refused prints a line of type "rejected" with the asset, the
    price, the error code and message. A summary goes to stderr, and a progress bar when
    stderr is a terminal.
    """
    from xmargin.analytics.price_ticks import read_price_ticks
    from xmargin.book.events import Status
    from xmargin.book.replay import replay
    from xmargin.book.riskbook import RiskBook

    level = warning_level_of(warning_level)
    ticks = read_price_ticks(prices)
    book = RiskBook.load(market_file, warning_level=level)
    err = console(stderr=True)
    out = sys.stdout
    n_events = n_rejected = 0
    status = "{events} events, {rejected} rejected"
    with progress_bar(len(ticks), "replaying", progress, status, transient=False) as advance:
        for step in replay(book, ticks, rebase=rebase):
            when = step.tick.time_text
            for ev in step.update.events:
                out.write(
                    json.dumps(
                        {"type": "event", "timestamp": when, **ev.to_dict()}, ensure_ascii=False
                    )
                    + "\n"
                )
            for r in step.update.rejected:
                out.write(
                    json.dumps(
                        {"type": "rejected", "timestamp": when, **r.to_dict()}, ensure_ascii=False
                    )
                    + "\n"
                )
            n_events += len(step.update.events)
            n_rejected += len(step.update.rejected)
            advance(1, events=n_events, rejected=n_rejected)
    out.flush()
    counts = book.counts()
    head = book.liquidation_queue(1)
    err.print(
        f"replayed {len(ticks)} updates: {n_events} events, {n_rejected} rejected prices; "
        f"now {counts[Status.HEALTHY]} healthy, {counts[Status.AT_RISK]} at risk, "
        f"{counts[Status.LIQUIDATABLE]} liquidatable"
        + (
            f"; largest shortfall {head[0].account} ({head[0].shortfall_value:,.2f} {book.quote})"
            if head
            else ""
        )
    )


# -- generate-book --------------------------------------------------------------------------
def generate_book_command(
    accounts: Annotated[
        int, typer.Option("--accounts", help="Accounts to draw.", show_default=False)
    ],
    assets: Annotated[int, typer.Option("--assets", help="Assets the market lists.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every draw.")] = 0,
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write market.toml and the positions into.")
    ] = Path("book"),
    fmt_: Annotated[
        str, typer.Option("--format", help="Positions file format: parquet or csv.")
    ] = "parquet",
    perp_share: Annotated[
        float,
        typer.Option(
            "--perp-share",
            help="Share of accounts holding one or two perps (ETH-PERP, BTC-PERP), "
            "written to perps.csv (contract 5.8); 0: no perps.",
        ),
    ] = 0.0,
    per_account: Annotated[
        float | None,
        typer.Option(
            "--positions-per-account",
            help="Mean positions drawn per account, 1 to 5.5 (default 2.52).",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
    progress: Progress = None,
) -> None:
    """Write a synthetic book: market.toml and a positions file (contract 1.4)."""
    from xmargin.book.generate import generate_book

    with progress_bar(1, "generate-book", progress) as advance:
        market_path, positions_path = generate_book(
            accounts, assets, seed, out, fmt=fmt_, perp_share=perp_share,
            positions_per_account=per_account,
        )  # fmt: skip
        advance(1)
    if as_json:
        doc = {"market": str(market_path), "positions": str(positions_path),
               "accounts": accounts, "assets": assets, "seed": seed}  # fmt: skip
        if perp_share:
            doc["perps"] = str(market_path.parent / "perps.csv")
            doc["perp_share"] = perp_share
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    else:
        console().print(
            f"wrote {market_path} and {positions_path} ({accounts:,} accounts, {assets} assets, "
            f"seed {seed})"
        )


_COMMANDS: dict[str, Callable[..., None]] = {
    "watch": watch,
    "generate-book": generate_book_command,
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
