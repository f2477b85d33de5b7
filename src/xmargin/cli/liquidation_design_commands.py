"""Commands of the liquidation designs and the loss waterfall (contract 8.5):
``auction start|take|reset|status``, ``absorb``, ``buy-collateral``, ``socialize``,
``deleverage`` (``liquidate`` on an ``auction`` or ``storefront`` market is a path of
``liquidate``, :mod:`xmargin.cli.liquidate_commands`).

Each command parses its options, calls one ledger function through
:func:`xmargin.cli.market_actions.run_action` and renders the result
(:mod:`xmargin.cli.liquidation_design_render`). Errors are raised as they come; the one
boundary in :mod:`xmargin.cli.errors` turns them into exit statuses and ``error:`` lines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from xmargin.cli import liquidation_design_render as show
from xmargin.cli.market_actions import amount_or_max, run_action
from xmargin.cli.options import AccountOpt, Json, MarketFile, OutOpt
from xmargin.errors import InputError
from xmargin.ledger.auctions import (
    execute_auction_reset,
    execute_auction_start,
    execute_auction_take,
)
from xmargin.ledger.loss_waterfall import (
    execute_deleverage,
    execute_socialize_perp_loss,
    execute_socialize_spot_loss,
)
from xmargin.ledger.storefront import execute_absorb, execute_buy_collateral
from xmargin.model.market import Market
from xmargin.risk.auction_curves import auction_status

__all__ = ["auction_app", "register"]

AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="When: ISO 8601 (2024-06-01T08:05:00Z) or +SECONDS, +Nm, +Nh after market.time "
        "(default market.time).",
    ),
]
IdOpt = Annotated[str, typer.Option("--id", help="Auction id.", show_default=False)]
AmountOpt = Annotated[str | None, typer.Option("--amount", help="Units (capped by the rules).")]
MaxOpt = Annotated[bool, typer.Option("--max", help="As much as the rules allow.")]

auction_app = typer.Typer(
    name="auction",
    help="Dutch auctions (contract 8.2): start, take, reset, status.",
    no_args_is_help=True,
)


def _run(
    market_file: Path,
    out: Path | None,
    as_json: bool,
    title: str,
    action: Callable[[Market], dict[str, Any]],
) -> None:
    run_action(market_file, out, as_json, action, show.same_doc, show.printer(title))


@auction_app.command("start")
def auction_start(
    market_file: MarketFile,
    account: AccountOpt,
    debt: Annotated[str, typer.Option("--debt", help="Debt asset.", show_default=False)],
    collateral: Annotated[
        str, typer.Option("--collateral", help="Collateral asset.", show_default=False)
    ],
    amount: AmountOpt = None,
    max_: MaxOpt = False,
    at: AtOpt = None,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Start an auction of an account's collateral for its debt (Maker's bark)."""
    units = amount_or_max(amount, max_, "auction start")

    def act(m: Market) -> dict[str, Any]:
        return show.auction_start_doc(
            execute_auction_start(m, account, debt, collateral, units, at)
        )

    _run(market_file, out, as_json, f"Auction started on {account}", act)


@auction_app.command("take")
def auction_take(
    market_file: MarketFile,
    auction_id: IdOpt,
    amount: AmountOpt = None,
    max_: MaxOpt = False,
    max_price: Annotated[
        str | None,
        typer.Option("--max-price", help="Refuse above this price (debt units per unit)."),
    ] = None,
    at: AtOpt = None,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Buy collateral from an auction at its current price (Maker's take)."""
    units = amount_or_max(amount, max_, "auction take")

    def act(m: Market) -> dict[str, Any]:
        return show.auction_take_doc(execute_auction_take(m, auction_id, units, max_price, at))

    _run(market_file, out, as_json, f"Auction {auction_id} taken", act)


@auction_app.command("reset")
def auction_reset(
    market_file: MarketFile,
    auction_id: IdOpt,
    at: AtOpt = None,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Restart an expired auction's price from the oracle (Maker's redo)."""

    def act(m: Market) -> dict[str, Any]:
        return show.auction_reset_doc(execute_auction_reset(m, auction_id, at))

    _run(market_file, out, as_json, f"Auction {auction_id} reset", act)


@auction_app.command("status")
def auction_status_command(
    market_file: MarketFile, at: AtOpt = None, as_json: Json = False
) -> None:
    """Every running auction: its price now, its age, whether it needs a reset."""

    def act(m: Market) -> dict[str, Any]:
        return show.auction_status_doc(*auction_status(m, at))

    _run(market_file, None, as_json, "Running auctions", act)


def absorb(
    market_file: MarketFile, account: AccountOpt, out: OutOpt = None, as_json: Json = False
) -> None:
    """Absorb an account below maintenance into the protocol (Compound v3)."""
    _run(
        market_file,
        out,
        as_json,
        f"Absorb of {account}",
        lambda m: show.absorb_doc(execute_absorb(m, account), m),
    )


def buy_collateral(
    market_file: MarketFile,
    asset: Annotated[str, typer.Option("--asset", help="Collateral to buy.", show_default=False)],
    amount: Annotated[
        str | None, typer.Option("--amount", help="Units of the base asset to pay.")
    ] = None,
    max_: Annotated[bool, typer.Option("--max", help="Buy all the protocol holds.")] = False,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Buy absorbed collateral at the store-front price while reserves are below target."""
    units = amount_or_max(amount, max_, "buy-collateral")

    def act(m: Market) -> dict[str, Any]:
        return show.buy_collateral_doc(execute_buy_collateral(m, asset, units), m)

    _run(market_file, out, as_json, f"Purchase of {asset}", act)


def socialize(
    market_file: MarketFile,
    perp: Annotated[
        str | None, typer.Option("--perp", help="Spread over this perp's open interest.")
    ] = None,
    asset: Annotated[
        str | None, typer.Option("--asset", help="Spread over this asset's depositors.")
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Units of the deficit (default: all of it).")
    ] = None,
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Socialise the deficit left after the insurance fund (Drift)."""
    if (perp is None) == (asset is None):
        raise InputError("socialize: give exactly one of --perp NAME or --asset ASSET")

    def act(m: Market) -> dict[str, Any]:
        if perp is not None:
            return show.perp_loss_doc(execute_socialize_perp_loss(m, perp, amount), m)
        assert asset is not None
        return show.spot_loss_doc(execute_socialize_spot_loss(m, asset, amount), m)

    _run(market_file, out, as_json, f"Loss socialised over {perp or asset}", act)


def deleverage(
    market_file: MarketFile,
    account: AccountOpt,
    perp: Annotated[str, typer.Option("--perp", help="Perp name.", show_default=False)],
    out: OutOpt = None,
    as_json: Json = False,
) -> None:
    """Close a bankrupt position against the most profitable opposite ones (ADL)."""

    def act(m: Market) -> dict[str, Any]:
        return show.deleverage_doc(execute_deleverage(m, account, perp))

    _run(market_file, out, as_json, f"Deleverage of {account} in {perp}", act)


_COMMANDS: dict[str, Callable[..., None]] = {
    "absorb": absorb,
    "buy-collateral": buy_collateral,
    "socialize": socialize,
    "deleverage": deleverage,
}


def register(app: typer.Typer) -> None:
    """Add this module's commands and the ``auction`` group to ``app`` (once)."""
    have = {info.name for info in app.registered_commands}
    for name, func in _COMMANDS.items():
        if name not in have:
            app.command(name)(func)
    if "auction" not in {g.name for g in app.registered_groups}:
        app.add_typer(auction_app, name="auction")
