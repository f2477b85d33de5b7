"""``xmargin greeks`` (docs/contract.md 6.5): delta, gamma, vega and theta of each account
per underlying, from the exact engine (:func:`xmargin.risk.greeks.account_greeks`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from xmargin.cli import option_render, render
from xmargin.cli.options import Json, MarketFile
from xmargin.io.market_file import load_market
from xmargin.risk.greeks import account_greeks

__all__ = ["greeks", "register"]


def greeks(
    market_file: MarketFile,
    accounts: Annotated[
        list[str] | None,
        typer.Option(
            "--account", help="Only this account (repeatable); default: all, in file order."
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """Delta, gamma, vega and theta of each account per underlying (options, perps and
    balances of the underlying)."""
    market = load_market(market_file)
    ids = accounts or list(market.accounts)
    rows = [(i, account_greeks(market, i)) for i in ids]
    if as_json:
        render.print_json(option_render.greeks_doc(rows))
    else:
        option_render.print_greeks(rows, market.params.quote)


_COMMANDS: dict[str, Callable[..., None]] = {"greeks": greeks}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
