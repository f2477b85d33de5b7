"""``xmargin liquidate``: one command, three paths, chosen by its options and the market.

- ``--debt A --collateral B (--amount X | --max)``: contract section 3 (the exact engine);
- ``--perp NAME (--size X | --max)``: a perp position, contract 5.4;
- ``--options``: option positions closed at mark, shorts first (contract 6.5);
- on a market whose ``liquidation`` is ``auction`` or ``storefront`` (contract 8.5): the
  pair starts an auction, or the account is absorbed.

Each path calls one ledger function through :func:`xmargin.cli.market_actions.run_action`
and renders with :mod:`xmargin.cli.render`, :mod:`~xmargin.cli.perp_render` or
:mod:`~xmargin.cli.liquidation_design_render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from xmargin.cli import liquidation_design_render as design_render
from xmargin.cli import option_render, perp_render, render
from xmargin.cli.market_actions import amount_or_max, run_action
from xmargin.cli.options import AccountOpt, Json, MarketFile, OutOpt
from xmargin.errors import InputError, NothingToLiquidate
from xmargin.io.market_file import read_market_document
from xmargin.ledger.actions import execute_liquidate
from xmargin.ledger.auctions import execute_auction_start
from xmargin.ledger.options import execute_liquidate_options
from xmargin.ledger.perps import execute_liquidate_perp
from xmargin.ledger.storefront import execute_absorb
from xmargin.model.market import Market

__all__ = ["liquidate", "register"]


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
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Liquidate one account as contract section 3 (or 5.4, --perp; 6.5, --options) says;
    refused liquidations exit 1."""
    if options:
        others = {"--debt": debt, "--collateral": collateral, "--amount": amount}
        others |= {"--perp": perp, "--size": size, "--max": "" if max_ else None}
        given = [name for name, value in others.items() if value is not None]
        if given:
            raise InputError(f"liquidate: --options cannot be combined with {', '.join(given)}")
        run_action(
            market_file,
            out,
            as_json,
            lambda m: execute_liquidate_options(m, account),
            lambda q, _m: option_render.option_liquidation_doc(q),
            option_render.print_option_liquidation,
        )
        return
    if perp is not None or size is not None:
        spot = {"--debt": debt, "--collateral": collateral, "--amount": amount}
        _liquidate_perp(market_file, account, perp, size, max_, out, as_json, spot)
        return
    design = _design(market_file)
    if debt is None or collateral is None:
        if design in ("auction", "storefront"):
            raise InputError("liquidate: give --debt ASSET and --collateral ASSET")
        raise InputError("liquidate: give --debt ASSET and --collateral ASSET, or --perp NAME")
    if design == "storefront":
        if amount is not None:
            raise InputError("liquidate: absorb takes every balance; give --max, not --amount")
        _absorb(market_file, account, debt, collateral, out, as_json)
        return
    units = amount_or_max(amount, max_, "liquidate")
    if design == "auction":

        def start(m: Market) -> dict[str, Any]:
            return design_render.auction_start_doc(
                execute_auction_start(m, account, debt, collateral, units)
            )

        title = f"Auction started on {account}"
        run_action(
            market_file, out, as_json, start, design_render.same_doc, design_render.printer(title)
        )
        return
    run_action(
        market_file,
        out,
        as_json,
        lambda m: execute_liquidate(m, account, debt, collateral, units),
        lambda q, _m: render.liquidation_doc(q),
        render.print_liquidation,
    )


def _design(market_file: Path) -> object:
    """The market's ``liquidation`` design as written (read before the market is loaded,
    which reports any problem of the file itself)."""
    raw, _ = read_market_document(market_file)
    table = raw.get("market")
    return table.get("liquidation") if isinstance(table, dict) else None


def _absorb(
    market_file: Path, account: str, debt: str, collateral: str, out: Path | None, as_json: bool
) -> None:
    """Absorb the account (storefront design): every balance goes, but ``--debt`` and
    ``--collateral`` must still name a debt and a collateral of the account."""

    def absorb_pair(m: Market) -> dict[str, Any]:
        acc = m.account(account)
        m.asset(debt)
        m.asset(collateral)
        if not acc.borrowed(debt) or not acc.supplied(collateral):
            what = f"owes no {debt}" if not acc.borrowed(debt) else f"holds no {collateral}"
            raise NothingToLiquidate(account, what)
        return design_render.absorb_doc(execute_absorb(m, account), m)

    shown = design_render.printer(f"Absorb of {account}")
    run_action(market_file, out, as_json, absorb_pair, design_render.same_doc, shown)


def _liquidate_perp(
    market_file: Path,
    account: str,
    perp: str | None,
    size: str | None,
    max_: bool,
    out: Path | None,
    as_json: bool,
    spot: Mapping[str, str | None],
) -> None:
    """``liquidate --perp NAME (--size X | --max)`` (contract 5.4, 5.7); ``spot`` holds the
    section-3 options, which may not be given with ``--perp``."""
    given = [name for name, value in spot.items() if value is not None]
    if perp is None:
        raise InputError("liquidate: --size goes with --perp NAME")
    if given:
        raise InputError(f"liquidate: --perp cannot be combined with {', '.join(given)}")
    units = amount_or_max(size, max_, "liquidate --perp", "--size")
    run_action(
        market_file,
        out,
        as_json,
        lambda m: execute_liquidate_perp(m, account, perp, units),
        lambda q, _m: perp_render.perp_liquidation_doc(q),
        perp_render.print_perp_liquidation,
    )


def register(app: typer.Typer) -> None:
    """Add ``liquidate`` to ``app`` (once, however often it is called)."""
    if "liquidate" not in {info.name for info in app.registered_commands}:
        app.command("liquidate")(liquidate)
