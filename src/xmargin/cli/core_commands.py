"""Commands of contract section 4: check, health, liquidation-price, stress (``liquidate``:
:mod:`xmargin.cli.liquidate_commands`).

Each command parses its options, calls one library function and renders the result
(:mod:`xmargin.cli.render`). Errors are raised as they come; the one boundary in
:mod:`xmargin.cli.errors` turns them into exit statuses and ``error:`` lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from xmargin.analytics.stress import stress
from xmargin.book.routing import prefers_book
from xmargin.cli import render
from xmargin.cli.console import progress as progress_bar
from xmargin.cli.options import AccountOpt, Json, MarketFile, Progress, ShockOpts
from xmargin.io.market_file import load_market
from xmargin.model.practice import practice_warnings
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price
from xmargin.risk.shocks import parse_shocks, parse_vol_shocks

__all__ = [
    "check",
    "health",
    "liquidation_price_command",
    "register",
    "stress_command",
]


def check(market_file: MarketFile, as_json: Json = False, progress: Progress = None) -> None:
    """Validate a market file; print the counts of its assets, categories and accounts.

    Values outside published practice are loaded, and warned: one ``warning:`` line each
    on stderr, and ``warnings`` in the JSON (contract extension "Parameter checks"). A
    large ``accounts_file`` is checked through the columnar loader (the risk book's), with
    a progress bar on stderr when it is a terminal.
    """
    if prefers_book(market_file):
        from xmargin.book.loading import check_columns

        with progress_bar(2, "check", progress) as advance:
            market, n_accounts = check_columns(market_file, on_step=lambda: advance(1))
    else:
        market = load_market(market_file)
        n_accounts = len(market.accounts)
    warnings = [str(w) for w in practice_warnings(market.params, market.assets, market.categories)]
    for line in warnings:
        typer.echo(f"warning: {line}", err=True)
    doc = {**render.check_doc(market), "accounts": n_accounts, "warnings": warnings}
    if as_json:
        render.print_json(doc)
    else:
        render.print_check(doc)


def health(
    market_file: MarketFile,
    accounts: Annotated[
        list[str] | None,
        typer.Option(
            "--account", help="Only this account (repeatable); default: all, in file order."
        ),
    ] = None,
    as_json: Json = False,
    progress: Progress = None,
) -> None:
    """Every figure of contract section 2 for each account, at the file's prices."""
    if prefers_book(market_file):  # a large accounts_file: the risk book (xmargin.book)
        from xmargin.cli.book_commands import book_health

        book_health(market_file, accounts, as_json, progress)
        return
    market = load_market(market_file)
    ids = accounts or list(market.accounts)
    rows = [(i, account_health(market.account(i), market)) for i in ids]
    if as_json:
        render.print_json(render.health_doc(rows))
    else:
        render.print_health(rows, market.params.quote, bool(market.perps), bool(market.options))


def liquidation_price_command(
    market_file: MarketFile,
    account: AccountOpt,
    asset: Annotated[str, typer.Option("--asset", help="Asset to re-price.", show_default=False)],
    as_json: Json = False,
) -> None:
    """The price of ASSET at which the account's health factor is 1, others fixed."""
    market = load_market(market_file)
    lp = liquidation_price(market, account, asset)
    if as_json:
        render.print_json(render.liquidation_price_doc(lp))
    else:
        render.print_liquidation_price(lp, market.params.quote)


def stress_command(
    market_file: MarketFile,
    shocks: ShockOpts,
    as_json: Json = False,
    summary_only: Annotated[
        bool, typer.Option("--summary", help="Only the summary (and prices): no account rows.")
    ] = False,
    vol_shocks: Annotated[
        list[str] | None,
        typer.Option(
            "--vol-shock",
            help="ASSET=+50%: multiply the volatility of options on ASSET by 1 + shock "
            "(floored at 0). Repeatable.",
            show_default=False,
        ),
    ] = None,
    progress: Progress = None,
) -> None:
    """Shock prices (and option volatilities), then every account's figures and a
    summary of what is liquidatable."""
    parsed = parse_shocks(shocks)
    vols = parse_vol_shocks(vol_shocks or [])
    if prefers_book(market_file):  # a large accounts_file: the risk book (xmargin.book)
        from xmargin.cli.book_commands import book_stress

        book_stress(market_file, parsed, as_json, summary_only, progress, vols)
        return
    market = load_market(market_file)
    result = stress(market, parsed, vols)
    if summary_only:
        from xmargin.cli.book_render import print_stress_summary

        print_stress_summary(result.prices, result.summary, market.params.quote, as_json)
        return
    if as_json:
        render.print_json(render.stress_doc(result))
    else:
        render.print_stress(result, market.params.quote, bool(market.perps), bool(market.options))


_COMMANDS: dict[str, Callable[..., None]] = {
    "check": check,
    "health": health,
    "liquidation-price": liquidation_price_command,
    "stress": stress_command,
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
