"""How the writer runs the commands of perps and the liquidation designs: the instant an
auction action happens at (:func:`action_time`), the accounts a command touches
(:func:`touched_accounts`), and what the service answers and publishes once the ledger
accepted it (:func:`ledger_outcome`): the response body (the journalled result, its
``seq``, and for a liquidator's action the key that acted) and the events of the stream.

Events carry ``account`` (the account the action is about, when there is one) so that an
account key's stream receives its own; a deleverage also lists every account it closed
positions of in ``accounts``. ``funding`` and ``loss_socialized`` change what every
holder owes and are public, as prices are.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from xmargin.errors import MarketFileError, Problem
from xmargin.io.market_file import market_to_dict, parse_market
from xmargin.model.market import Market
from xmargin.model.params import AssetParams
from xmargin.store.commands_designs import (
    Absorb,
    AuctionReset,
    AuctionStart,
    AuctionTake,
    BuyCollateral,
    Deleverage,
    Socialize,
)
from xmargin.store.commands_options import OptionLiquidation, TradeOption
from xmargin.store.commands_perps import PerpLiquidation, SetFunding, Settle, Trade
from xmargin.store.journal import (
    AccountAction,
    AssetParamsChange,
    Command,
    LedgerCommand,
    Liquidation,
    PriceUpdate,
    apply_command,
)
from xmargin.store.state import BatchState, LiveState

__all__ = [
    "EVENT_OF",
    "LIQUIDATOR_COMMANDS",
    "action_time",
    "check_params_change",
    "dry_run",
    "ledger_outcome",
    "result_account",
    "touched_accounts",
]

#: The stream's event kind of each command's result.
EVENT_OF: dict[type[Any], str] = {
    Trade: "trade",
    Settle: "settle",
    SetFunding: "funding",
    PerpLiquidation: "liquidation",
    AuctionStart: "auction_started",
    AuctionTake: "auction_taken",
    AuctionReset: "auction_reset",
    Absorb: "absorb",
    BuyCollateral: "collateral_bought",
    Socialize: "loss_socialized",
    Deleverage: "deleverage",
    TradeOption: "trade",
    OptionLiquidation: "liquidation",
}
#: Commands a liquidator (keeper) key sends: their answers name the key as ``liquidator``.
LIQUIDATOR_COMMANDS = (
    PerpLiquidation,
    AuctionStart,
    AuctionTake,
    AuctionReset,
    Absorb,
    BuyCollateral,
    OptionLiquidation,
)


def result_account(result: dict[str, Any]) -> str | None:
    """The account a result is about: its ``account``, or its auction's."""
    acc = result.get("account")
    if isinstance(acc, str):
        return acc
    auction = result.get("auction")
    if isinstance(auction, dict) and isinstance(auction.get("account"), str):
        return str(auction["account"])
    return None


def ledger_outcome(
    cmd: LedgerCommand, result: dict[str, Any], seq: int, actor: str | None
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """(response body, events) of an accepted command."""
    body = {**result, "seq": seq}
    if isinstance(cmd, LIQUIDATOR_COMMANDS):
        body["liquidator"] = actor
    data = dict(body)
    account = result_account(result)
    if account is not None:
        data["account"] = account
    if isinstance(cmd, Deleverage):
        data["accounts"] = [account, *(c["account"] for c in result["counterparties"])]
    events: list[tuple[str, dict[str, Any]]] = [(EVENT_OF[type(cmd)], data)]
    bad = result.get("bad_debt")
    if bad:
        events.append(("bad_debt", {"seq": seq, "account": account, "assets": bad}))
    return body, events


def action_time(market: Market, now: datetime) -> datetime:
    """When an auction action accepted at ``now`` (the service's clock) happens: ``now``,
    or ``market.time`` if that is later (the market's clock never runs backwards)."""
    clock = market.params.time
    return now if clock is None or now >= clock else clock


def touched_accounts(cmd: Command, batch: BatchState) -> list[str]:
    """The accounts ``cmd`` reads or changes (copied into the batch before it runs)."""
    if isinstance(cmd, AccountAction | Liquidation):
        return [cmd.account]
    if isinstance(cmd, PriceUpdate | AssetParamsChange):
        return []
    return list(dict.fromkeys(cmd.touches(batch)))


def dry_run(live: LiveState, cmd: Command, now: datetime) -> dict[str, Any]:
    """What ``cmd`` would answer if it were sent now, without doing it: it runs on a
    batch's copies of what it touches (:class:`~xmargin.store.state.BatchState`), which
    is then dropped. The quotes of ``GET /v1/liquidations/quote`` are these."""
    batch = BatchState(live)
    if isinstance(cmd, AuctionStart | AuctionTake | AuctionReset) and cmd.at is None:
        cmd = replace(cmd, at=action_time(batch.market, now))
    for acc_id in touched_accounts(cmd, batch):
        batch.touch(acc_id)
    return apply_command(batch.market, cmd)


def check_params_change(batch: BatchState, params: AssetParams) -> None:
    """A parameter change must leave a market that loads as a market file would."""
    current = batch.market.asset(params.symbol)
    if params.decimals != current.decimals:
        raise MarketFileError(
            f"PUT /v1/assets/{params.symbol}",
            [
                Problem(
                    f"assets.{params.symbol}.decimals",
                    f"cannot change the decimals of a listed asset (is {current.decimals}, "
                    f"was sent {params.decimals})",
                )
            ],
        )
    view = batch.accounts_view()
    view.assets[params.symbol] = params.model_copy(update={"price": current.price})
    parse_market(market_to_dict(view, exact=True), f"PUT /v1/assets/{params.symbol}")
