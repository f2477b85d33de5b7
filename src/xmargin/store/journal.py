"""The event-sourced journal: commands, how each applies to a market, and replay.

Every accepted command is journalled with a sequence number in the transaction of its
effect. Entry 1 is the ``genesis``: the market document the database was created from
(:func:`~xmargin.io.market_file.market_to_dict`). Replaying the journal applies every
later command, in order, through the same ledger functions the service used, and must
give the stored balances exactly; :func:`replay` lists every difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from xmargin.errors import InputError, JournalMismatch, XmarginError
from xmargin.io.market_file import parse_market
from xmargin.ledger.actions import (
    apply_liquidation,
    execute_borrow,
    execute_deposit,
    execute_repay,
    execute_withdraw,
)
from xmargin.mathlib import fmt
from xmargin.model.market import Market
from xmargin.model.numbers import parse_number
from xmargin.model.params import AssetParams
from xmargin.risk.liquidation import LiquidationQuote, quote_liquidation
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
from xmargin.store.compare import compare_markets
from xmargin.store.types import to_jsonable

__all__ = [
    "ACCOUNT_ACTIONS",
    "AccountAction",
    "AssetParamsChange",
    "Command",
    "LedgerCommand",
    "Liquidation",
    "PriceUpdate",
    "ReplayReport",
    "apply_command",
    "compare_markets",
    "decode_command",
    "liquidation_json",
    "replay_entries",
]

AccountActionKind = Literal["deposit", "withdraw", "borrow", "repay"]
ACCOUNT_ACTIONS: tuple[AccountActionKind, ...] = ("deposit", "withdraw", "borrow", "repay")

_EXECUTE = {
    "deposit": execute_deposit,
    "withdraw": execute_withdraw,
    "borrow": execute_borrow,
    "repay": execute_repay,
}


@dataclass(frozen=True)
class AccountAction:
    """deposit | withdraw | borrow | repay ``amount`` units of ``asset`` on ``account``."""

    kind: AccountActionKind
    account: str
    asset: str
    amount: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "asset": self.asset, "amount": fmt(self.amount)}


@dataclass(frozen=True)
class Liquidation:
    """Liquidate ``account``: repay ``amount`` (or the most allowed) of ``debt_asset``."""

    account: str
    debt_asset: str
    collateral_asset: str
    amount: Decimal | Literal["max"]
    kind: Literal["liquidate"] = "liquidate"

    def to_json(self) -> dict[str, Any]:
        amount = "max" if self.amount == "max" else fmt(self.amount)
        return {
            "account": self.account,
            "debt_asset": self.debt_asset,
            "collateral_asset": self.collateral_asset,
            "amount": amount,
        }


@dataclass(frozen=True)
class PriceUpdate:
    """New prices (quote per unit) that passed the oracle guards."""

    prices: Mapping[str, Decimal]
    kind: Literal["prices"] = "prices"
    account: None = None

    def to_json(self) -> dict[str, Any]:
        return {"prices": {a: fmt(p) for a, p in self.prices.items()}}


@dataclass(frozen=True)
class AssetParamsChange:
    """New risk parameters of a listed asset (its price is kept)."""

    params: AssetParams
    kind: Literal["set_asset"] = "set_asset"
    account: None = None

    @property
    def asset(self) -> str:
        return self.params.symbol

    def to_json(self) -> dict[str, Any]:
        doc = self.params.model_dump(exclude={"symbol", "price"}, exclude_none=True)
        return {"asset": self.asset, "params": to_jsonable(doc)}


#: Commands of perps and the liquidation designs: each applies itself (``apply``), names
#: the accounts it touches, and is compared in full on replay.
LedgerCommand = (
    Trade
    | Settle
    | SetFunding
    | PerpLiquidation
    | AuctionStart
    | AuctionTake
    | AuctionReset
    | Absorb
    | BuyCollateral
    | Socialize
    | Deleverage
    | TradeOption
    | OptionLiquidation
)
Command = AccountAction | Liquidation | PriceUpdate | AssetParamsChange | LedgerCommand

_LEDGER_COMMANDS: dict[str, type[LedgerCommand]] = {
    c.kind: c
    for c in (
        Trade,
        Settle,
        SetFunding,
        PerpLiquidation,
        AuctionStart,
        AuctionTake,
        AuctionReset,
        Absorb,
        BuyCollateral,
        Socialize,
        Deleverage,
        TradeOption,
        OptionLiquidation,
    )
}
#: Kinds whose journalled result replay compares with its own: every kind whose result
#: says what a rule decided.
COMPARED_KINDS = frozenset({"liquidate", *_LEDGER_COMMANDS})


#: Fields of a liquidation's result that older journal entries may lack (replay compares
#: them only where the entry has them).
_ADDED_RESULT_FIELDS = frozenset({"bonus"})


def liquidation_json(quote: LiquidationQuote) -> dict[str, Any]:
    """The contract's ``liquidate`` JSON (section 4), every decimal a string, with
    ``insurance_fund_used`` (5.5) and the CLI's extension ``bonus`` (the β applied, 3.3)."""
    return {
        "account": quote.account,
        "debt_asset": quote.debt_asset,
        "collateral_asset": quote.collateral_asset,
        "repaid": fmt(quote.repaid),
        "seized": fmt(quote.seized),
        "liquidator_receives": fmt(quote.liquidator_receives),
        "protocol_fee": fmt(quote.protocol_fee),
        "health_factor_before": fmt(quote.health_factor_before),
        "health_factor_after": fmt(quote.health_factor_after),
        "bad_debt": {a: fmt(u) for a, u in quote.bad_debt.items()},
        "insurance_fund_used": {a: fmt(u) for a, u in quote.insurance_fund_used.items()},
        "bonus": fmt(quote.bonus),
    }


def apply_command(market: Market, command: Command) -> dict[str, Any]:
    """Apply ``command`` to ``market`` through the ledger; returns its JSON result.

    A refused command raises (an :class:`~xmargin.errors.XmarginError`) and changes
    nothing, as every ledger action does.
    """
    if isinstance(command, AccountAction):
        _EXECUTE[command.kind](market, command.account, command.asset, command.amount)
        return {
            "account": command.account,
            "asset": command.asset,
            "amount": fmt(command.amount),
        }
    if isinstance(command, Liquidation):
        quote = quote_liquidation(
            market, command.account, command.debt_asset, command.collateral_asset, command.amount
        )
        apply_liquidation(market, quote)
        return liquidation_json(quote)
    if not isinstance(command, PriceUpdate | AssetParamsChange):
        return command.apply(market)
    if isinstance(command, PriceUpdate):
        for asset in command.prices:
            market.asset(asset)
        for asset, price in command.prices.items():
            market.assets[asset] = market.assets[asset].model_copy(update={"price": price})
        return {"prices": {a: fmt(p) for a, p in command.prices.items()}}
    current = market.asset(command.asset)
    market.assets[command.asset] = command.params.model_copy(update={"price": current.price})
    return {"asset": command.asset}


def decode_command(kind: str, doc: Mapping[str, Any]) -> Command:
    """A journalled command back from its JSON (the inverse of ``to_json``)."""
    try:
        if kind in ACCOUNT_ACTIONS:
            return AccountAction(
                kind,
                str(doc["account"]),
                str(doc["asset"]),
                parse_number(doc["amount"]),
            )
        if kind == "liquidate":
            raw = doc["amount"]
            amount: Decimal | Literal["max"] = "max" if raw == "max" else parse_number(raw)
            return Liquidation(
                str(doc["account"]), str(doc["debt_asset"]), str(doc["collateral_asset"]), amount
            )
        if kind == "prices":
            return PriceUpdate({str(a): parse_number(p) for a, p in doc["prices"].items()})
        if kind == "set_asset":
            # The price is a placeholder: applying a change keeps the market's price.
            params = AssetParams.model_validate(
                {**doc["params"], "symbol": doc["asset"], "price": 1}
            )
            return AssetParamsChange(params)
        if kind in _LEDGER_COMMANDS:
            return _LEDGER_COMMANDS[kind].from_json(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"journal entry of kind {kind!r} is malformed: {exc}") from exc
    raise InputError(f"journal entry of unknown kind {kind!r}")


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did: entries applied and the last sequence number."""

    entries: int
    last_seq: int
    accounts: int
    market: Market


def replay_entries(
    entries: Iterable[tuple[int, str, dict[str, Any], dict[str, Any]]],
) -> ReplayReport:
    """Rebuild a market from journal entries ``(seq, kind, command, result)``.

    The first entry must be the genesis. Each command is re-executed; a command the
    ledger refuses on replay, a liquidation whose result differs from the one journalled,
    or a gap in the sequence is a :class:`~xmargin.errors.JournalMismatch`.
    """
    market: Market | None = None
    problems: list[str] = []
    count = 0
    last = 0
    for seq, kind, command, result in entries:
        count += 1
        if seq != last + 1:
            problems.append(f"journal: entry {seq} follows {last} (a gap or a reordering)")
        last = seq
        if market is None:
            if kind != "genesis":
                raise JournalMismatch([f"journal: entry {seq} is {kind!r}, not the genesis"])
            market = parse_market(command, f"journal entry {seq} (genesis)")
            continue
        try:
            cmd = decode_command(kind, command)
            got = apply_command(market, cmd)
        except XmarginError as exc:
            problems.append(f"journal entry {seq} ({kind}): refused on replay: {exc}")
            continue
        compared = [k for k in got if k in result or k not in _ADDED_RESULT_FIELDS]
        if kind in COMPARED_KINDS and {k: got[k] for k in compared} != {
            k: result.get(k) for k in compared
        }:
            problems.append(
                f"journal entry {seq} ({kind}): replay gives {got}, the journal says {result}"
            )
    if market is None:
        raise JournalMismatch(["journal: empty (no genesis entry)"])
    if problems:
        raise JournalMismatch(problems)
    return ReplayReport(count, last, len(market.accounts), market)
