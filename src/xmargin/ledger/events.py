"""What the ledger records for every accepted action."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xmargin.mathlib import fmt

__all__ = ["LedgerEvent"]


@dataclass(frozen=True)
class LedgerEvent:
    """One accepted action: its kind, account, asset, amount (units) and details."""

    kind: str
    account: str
    asset: str
    amount: Decimal
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def enc(v: Any) -> Any:
            if isinstance(v, Decimal):
                return fmt(v)
            if isinstance(v, dict):
                return {k: enc(x) for k, x in v.items()}
            return v

        return {
            "kind": self.kind,
            "account": self.account,
            "asset": self.asset,
            "amount": fmt(self.amount),
            **{k: enc(v) for k, v in self.details.items()},
        }
