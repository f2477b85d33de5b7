"""Commands of contract section 5.7 (perpetual futures): ``trade`` (also of options,
6.4) and the extensions ``settle`` and ``funding`` (``liquidate --perp`` is a path of ``liquidate``,
:mod:`xmargin.cli.liquidate_commands`).

Each command parses its options, calls one ledger function through
:func:`xmargin.cli.market_actions.run_action` and renders the result
(:mod:`xmargin.cli.perp_render`). Errors are raised as they come; the one boundary in
:mod:`xmargin.cli.errors` turns them into exit statuses and ``error:`` lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from xmargin.cli import option_render, perp_render
from xmargin.cli.market_actions import run_action
from xmargin.cli.options import AccountOpt, Json, MarketFile, OutOpt
from xmargin.errors import InputError
from xmargin.ledger.options import execute_trade_option
from xmargin.ledger.perps import execute_settle, execute_trade, set_funding_index

__all__ = ["funding", "register", "settle", "trade"]

PerpOpt = Annotated[str, typer.Option("--perp", help="Perp name.", show_default=False)]


def trade(
    market_file: MarketFile,
    account: AccountOpt,
    size: Annotated[
        str,
        typer.Option(
            "--size",
            help="Signed base units to trade: +X buys (longer), -X sells (shorter).",
            show_default=False,
        ),
    ],
    perp: Annotated[str | None, typer.Option("--perp", help="Perp name.")] = None,
    option: Annotated[
        str | None, typer.Option("--option", help="Option name instead (contract 6.4).")
    ] = None,
    price: Annotated[
        str | None,
        typer.Option(
            "--price",
            help="Execution price in quote (default: the oracle price; an option's mark value).",
        ),
    ] = None,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Trade a perp (contract 5.3: settle funding, move the position, margin-check) or an
    option (6.4: the premium moves through the settlement asset)."""
    if (perp is None) == (option is None):
        raise InputError("trade: give exactly one of --perp NAME or --option NAME")
    if option is not None:
        run_action(
            market_file,
            out,
            as_json,
            lambda m: execute_trade_option(m, account, option, size, price),
            lambda q, _m: option_render.option_trade_doc(q),
            option_render.print_option_trade,
        )
        return
    assert perp is not None
    run_action(
        market_file,
        out,
        as_json,
        lambda m: execute_trade(m, account, perp, size, price),
        lambda q, _m: perp_render.trade_doc(q),
        perp_render.print_trade,
    )


def settle(
    market_file: MarketFile,
    account: AccountOpt,
    perp: PerpOpt,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Realise a perp position's PnL and funding into its settlement asset (5.3)."""
    run_action(
        market_file,
        out,
        as_json,
        lambda m: execute_settle(m, account, perp),
        lambda q, _m: perp_render.settle_doc(q),
        perp_render.print_settle,
    )


def funding(
    market_file: MarketFile,
    perp: PerpOpt,
    index: Annotated[
        str,
        typer.Option(
            "--index",
            help="The new funding index F, quote per base unit (a rise: longs pay shorts).",
            show_default=False,
        ),
    ],
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Set a perp's funding index F (5.3), as its oracle would."""
    run_action(
        market_file,
        out,
        as_json,
        lambda m: set_funding_index(m, perp, index),
        lambda e, _m: perp_render.funding_doc(perp, e.amount, e.details["previous"]),
        lambda e, m: perp_render.print_funding(
            perp, e.amount, e.details["previous"], m.params.quote
        ),
    )


_COMMANDS: dict[str, Callable[..., None]] = {
    "trade": trade,
    "settle": settle,
    "funding": funding,
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
