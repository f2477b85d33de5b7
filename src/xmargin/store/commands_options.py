"""Journalled commands on options (contract 6.4, docs/contract.md 6.5): a trade at the mark
value and the liquidation of an account's option positions.

As :mod:`xmargin.store.commands_perps`: each command is what the journal holds
(``to_json``, ``from_json``), names the accounts it reads or changes (``touches``) and
applies itself through the ledger (``apply``), returning the CLI's JSON document.

The service trades at the mark value only (no ``price``): it keeps no order book, and a
premium of the caller's choosing would move value to or from nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from xmargin.ledger.options import execute_liquidate_options, execute_trade_option
from xmargin.mathlib import fmt
from xmargin.model.market import Market
from xmargin.model.numbers import parse_number
from xmargin.risk.option_liquidation import OptionLiquidationQuote
from xmargin.risk.option_trading import OptionTradeQuote
from xmargin.store.results import as_json

if TYPE_CHECKING:
    from xmargin.store.state import BatchState

__all__ = [
    "OptionLiquidation",
    "TradeOption",
    "option_liquidation_doc",
    "option_liquidation_json",
    "option_trade_doc",
    "option_trade_json",
]


def option_trade_doc(q: OptionTradeQuote) -> dict[str, Any]:
    """``trade --option``: 5.7's fields with ``option`` in place of ``perp`` (6.4), then
    the extensions ``price`` (quote per contract) and ``premium`` (> 0: the account paid)."""
    return {
        "account": q.account,
        "option": q.option,
        "size_before": q.size_before,
        "size_after": q.size_after,
        "entry_price": q.entry_price,
        "realized_pnl": q.realized_pnl,
        "funding_paid": q.funding_paid,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "price": q.price,
        "premium": q.premium,
    }


def option_trade_json(q: OptionTradeQuote) -> dict[str, Any]:
    """:func:`option_trade_doc` with numbers as strings (the journal's and service's answer)."""
    return as_json(option_trade_doc(q))


def option_liquidation_doc(q: OptionLiquidationQuote) -> dict[str, Any]:
    """``liquidate --options`` (docs/contract.md 6.5)."""
    return {
        "account": q.account,
        "options": [
            {
                "option": c.option,
                "size_before": c.size_before,
                "closed": c.closed,
                "value": c.value,
                "liquidator_fee": c.liquidator_fee,
                "insurance_fee": c.insurance_fee,
            }
            for c in q.closed
        ],
        "liquidator_fee": q.liquidator_fee,
        "insurance_fee": q.insurance_fee,
        "health_factor_before": q.health_factor_before,
        "health_factor_after": q.health_factor_after,
        "bad_debt": dict(q.bad_debt),
        "insurance_fund_used": dict(q.insurance_fund_used),
    }


def option_liquidation_json(q: OptionLiquidationQuote) -> dict[str, Any]:
    """:func:`option_liquidation_doc` with numbers as strings."""
    return as_json(option_liquidation_doc(q))


@dataclass(frozen=True)
class TradeOption:
    """``account`` trades ``size`` contracts of ``option`` (> 0 buys) at the mark value."""

    account: str
    option: str
    size: Decimal
    kind: Literal["trade_option"] = "trade_option"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "option": self.option, "size": fmt(self.size)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TradeOption:
        return cls(str(doc["account"]), str(doc["option"]), parse_number(doc["size"]))

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        return option_trade_json(execute_trade_option(market, self.account, self.option, self.size))


@dataclass(frozen=True)
class OptionLiquidation:
    """Liquidate ``account``'s option positions: closed at mark, shorts first, until
    health >= 1 or none is left (docs/contract.md 6.5)."""

    account: str
    kind: Literal["liquidate_options"] = "liquidate_options"

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> OptionLiquidation:
        return cls(str(doc["account"]))

    def touches(self, batch: BatchState) -> list[str]:
        return [self.account]

    def apply(self, market: Market) -> dict[str, Any]:
        return option_liquidation_json(execute_liquidate_options(market, self.account))
