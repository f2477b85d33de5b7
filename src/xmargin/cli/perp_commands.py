"""Commands of contract section 5.7 (perpetual futures): ``trade``, ``liquidate --perp``
(through the core ``liquidate`` command), and the extensions ``settle`` and ``funding``.

Each command parses its options, calls one ledger function and renders the result
(:mod:`xmargin.cli.perp_render`). Errors are raised as they come; the one boundary in
:mod:`xmargin.cli.errors` turns them into exit statuses and ``error:`` lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

import typer

from xmargin.cli import perp_render, render
from xmargin.cli.core_commands import AccountOpt, Json, MarketFile
from xmargin.errors import InputError
from xmargin.io.market_file import dump_market, load_market, read_market_document
from xmargin.ledger.perps import (
    execute_liquidate_perp,
    execute_settle,
    execute_trade,
    set_funding_index,
)

__all__ = [
    "funding",
    "liquidate_perp",
    "refuse_perps_on_book",
    "register",
    "settle",
    "trade",
]

PerpOpt = Annotated[str, typer.Option("--perp", help="Perp name.", show_default=False)]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write the market after the action here (input's format)."),
]


def _check_out(market_file: Path, out: Path | None) -> None:
    if out is not None and out.suffix.lower() != market_file.suffix.lower():
        raise InputError(f"--out {out}: must end in {market_file.suffix}, the input's format")


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
        from xmargin.cli.option_commands import trade_option

        trade_option(market_file, account, option, size, price, out, as_json)
        return
    assert perp is not None
    _check_out(market_file, out)
    market = load_market(market_file)
    quote = execute_trade(market, account, perp, size, price)
    if out is not None:
        dump_market(market, out)
    if as_json:
        render.print_json(perp_render.trade_doc(quote))
    else:
        perp_render.print_trade(quote, market)


def settle(
    market_file: MarketFile,
    account: AccountOpt,
    perp: PerpOpt,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Realise a perp position's PnL and funding into its settlement asset (5.3)."""
    _check_out(market_file, out)
    market = load_market(market_file)
    quote = execute_settle(market, account, perp)
    if out is not None:
        dump_market(market, out)
    if as_json:
        render.print_json(perp_render.settle_doc(quote))
    else:
        perp_render.print_settle(quote, market)


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
    _check_out(market_file, out)
    market = load_market(market_file)
    event = set_funding_index(market, perp, index)
    if out is not None:
        dump_market(market, out)
    previous = event.details["previous"]
    if as_json:
        render.print_json(perp_render.funding_doc(perp, event.amount, previous))
    else:
        perp_render.print_funding(perp, event.amount, previous, market.params.quote)


def liquidate_perp(
    market_file: Path,
    account: str,
    perp: str | None,
    size: str | None,
    max_: bool,
    out: Path | None,
    as_json: bool,
    spot: Mapping[str, str | None],
) -> None:
    """``liquidate --perp NAME (--size X | --max)`` (contract 5.4, 5.7).

    ``spot`` holds the section-3 options, which may not be given with ``--perp``.
    """
    given = [name for name, value in spot.items() if value is not None]
    if perp is None:
        raise InputError("liquidate: --size goes with --perp NAME")
    if given:
        raise InputError(f"liquidate: --perp cannot be combined with {', '.join(given)}")
    if (size is None) == (not max_):
        raise InputError("liquidate --perp: give exactly one of --size X or --max")
    _check_out(market_file, out)
    market = load_market(market_file)
    quote = execute_liquidate_perp(market, account, perp, "max" if max_ else str(size))
    if out is not None:
        dump_market(market, out)
    if as_json:
        render.print_json(perp_render.perp_liquidation_doc(quote))
    else:
        perp_render.print_perp_liquidation(quote, market)


def refuse_perps_on_book(market_file: Path) -> None:
    """Refuse a market with perps on the risk book, which does not hold them yet.

    The book's columns carry balances only; rather than answer without the perps, the
    large-book path stops (exit 2) and names the way round: the exact engine.
    """
    raw, _ = read_market_document(market_file)
    table = raw.get("market")
    has_file = isinstance(table, dict) and table.get("perps_file") is not None
    if raw.get("perps") or has_file:
        raise InputError(
            f"{market_file}: the risk book (large accounts_file) does not hold perp "
            "positions yet; run with XMARGIN_ENGINE=exact to use the exact engine"
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
