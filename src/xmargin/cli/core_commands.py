"""Commands of contract section 4: check, health, liquidate, liquidation-price, stress.

Each command parses its options, calls one library function and renders the result
(:mod:`xmargin.cli.render`). Errors are raised as they come; the one boundary in
:mod:`xmargin.cli.errors` turns them into exit statuses and ``error:`` lines.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from xmargin.analytics.stress import parse_shock, stress
from xmargin.book.routing import prefers_book
from xmargin.cli import render
from xmargin.errors import InputError
from xmargin.io.market_file import dump_market, load_market
from xmargin.ledger.actions import execute_liquidate
from xmargin.model.practice import practice_warnings
from xmargin.risk.health import account_health
from xmargin.risk.liquidation_price import liquidation_price
from xmargin.risk.options import parse_vol_shock

__all__ = [
    "check",
    "health",
    "liquidate",
    "liquidation_price_command",
    "register",
    "stress_command",
]

MarketFile = Annotated[
    Path,
    typer.Argument(
        metavar="MARKET_FILE",
        help="Market file, .toml or .json (contract section 1).",
        show_default=False,
    ),
]
Json = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document (contract section 4) and nothing else."),
]
AccountOpt = Annotated[str, typer.Option("--account", help="Account ID.", show_default=False)]


def check(market_file: MarketFile, as_json: Json = False) -> None:
    """Validate a market file; print the counts of its assets, categories and accounts.

    Values outside published practice are loaded, and warned: one ``warning:`` line each
    on stderr, and ``warnings`` in the JSON (contract extension "Parameter checks").
    """
    market = load_market(market_file)
    warnings = [str(w) for w in practice_warnings(market.params, market.assets, market.categories)]
    for line in warnings:
        typer.echo(f"warning: {line}", err=True)
    doc = {**render.check_doc(market), "warnings": warnings}
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
) -> None:
    """Every figure of contract section 2 for each account, at the file's prices."""
    if prefers_book(market_file):  # a large accounts_file: the risk book (xmargin.book)
        from xmargin.cli.book_commands import book_health
        from xmargin.cli.option_commands import refuse_options_on_book
        from xmargin.cli.perp_commands import refuse_perps_on_book

        refuse_perps_on_book(market_file)
        refuse_options_on_book(market_file)
        book_health(market_file, accounts, as_json)
        return
    market = load_market(market_file)
    ids = accounts or list(market.accounts)
    rows = [(i, account_health(market.account(i), market)) for i in ids]
    if as_json:
        render.print_json(render.health_doc(rows))
    else:
        render.print_health(rows, market.params.quote, bool(market.perps), bool(market.options))


def liquidate(
    market_file: MarketFile,
    account: AccountOpt,
    debt: Annotated[
        str | None, typer.Option("--debt", help="Debt asset to repay.", show_default=False)
    ] = None,
    collateral: Annotated[
        str | None,
        typer.Option("--collateral", help="Collateral asset to seize.", show_default=False),
    ] = None,
    amount: Annotated[
        str | None,
        typer.Option("--amount", help="Units of the debt asset to repay (capped by the rules)."),
    ] = None,
    max_: Annotated[
        bool, typer.Option("--max", help="Repay (or close) as much as the rules allow (3.2, 5.4).")
    ] = False,
    perp: Annotated[
        str | None,
        typer.Option("--perp", help="Close part of this perp position instead (contract 5.4)."),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option("--size", help="With --perp: base units to close (capped by the rules)."),
    ] = None,
    options: Annotated[
        bool,
        typer.Option(
            "--options",
            help="Close option positions at mark, shorts first, until health >= 1 (6.5).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the market after the liquidation here (input's format)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Liquidate one account as contract section 3 (or 5.4, --perp; 6.5, --options) says;
    refused liquidations exit 1."""
    if options:
        from xmargin.cli.option_commands import liquidate_options

        others = {"--debt": debt, "--collateral": collateral, "--amount": amount}
        others |= {"--perp": perp, "--size": size, "--max": "" if max_ else None}
        liquidate_options(market_file, account, out, as_json, others)
        return
    if perp is not None or size is not None:
        from xmargin.cli.perp_commands import liquidate_perp

        spot = {"--debt": debt, "--collateral": collateral, "--amount": amount}
        liquidate_perp(market_file, account, perp, size, max_, out, as_json, spot)
        return
    from xmargin.cli.liquidation_design_commands import liquidate_by_design

    if liquidate_by_design(market_file, account, debt, collateral, amount, max_, out, as_json):
        return  # contract 8.5: an auction or storefront market starts an auction / absorbs
    if debt is None or collateral is None:
        raise InputError("liquidate: give --debt ASSET and --collateral ASSET, or --perp NAME")
    if (amount is None) == (not max_):
        raise InputError("liquidate: give exactly one of --amount X or --max")
    if out is not None and out.suffix.lower() != market_file.suffix.lower():
        raise InputError(f"--out {out}: must end in {market_file.suffix}, the input's format")
    market = load_market(market_file)
    quote = execute_liquidate(market, account, debt, collateral, "max" if max_ else str(amount))
    if out is not None:
        dump_market(market, out)  # same suffix as the input, so the input's format
    if as_json:
        render.print_json(render.liquidation_doc(quote))
    else:
        render.print_liquidation(quote, market)


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
    shocks: Annotated[
        list[str],
        typer.Option(
            "--shock",
            help="ASSET=-30% (or ASSET=-0.3): multiply its price by 1 + shock. Repeatable.",
            show_default=False,
        ),
    ],
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
) -> None:
    """Shock prices (and option volatilities), then every account's figures and a
    summary of what is liquidatable."""
    parsed: dict[str, Decimal] = {}
    for asset, shock in map(parse_shock, shocks):
        if asset in parsed:
            raise InputError(f"--shock: {asset} is shocked more than once")
        parsed[asset] = shock
    vols: dict[str, Decimal] = {}
    for asset, shock in map(parse_vol_shock, vol_shocks or []):
        if asset in vols:
            raise InputError(f"--vol-shock: {asset} is shocked more than once")
        vols[asset] = shock
    if prefers_book(market_file):  # a large accounts_file: the risk book (xmargin.book)
        from xmargin.cli.book_commands import book_stress
        from xmargin.cli.option_commands import refuse_options_on_book
        from xmargin.cli.perp_commands import refuse_perps_on_book

        refuse_perps_on_book(market_file)
        refuse_options_on_book(market_file, bool(vols))
        book_stress(market_file, parsed, as_json, summary_only)
        return
    market = load_market(market_file)
    result = stress(market, parsed, vols)
    if summary_only:
        from xmargin.cli.book_commands import print_stress_summary

        print_stress_summary(result, market.params.quote, as_json)
        return
    if as_json:
        render.print_json(render.stress_doc(result))
    else:
        render.print_stress(result, market.params.quote, bool(market.perps), bool(market.options))


_COMMANDS: dict[str, Callable[..., None]] = {
    "check": check,
    "health": health,
    "liquidate": liquidate,
    "liquidation-price": liquidation_price_command,
    "stress": stress_command,
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app`` (once, however often it is called)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
