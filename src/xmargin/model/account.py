"""An account's balances: token units supplied and borrowed per asset (mutable state)."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["Account"]


class Account:
    """Balances of one account, in token units, and its optional category.

    Zero balances are dropped, so ``supply`` and ``borrow`` list only held assets.
    """

    __slots__ = ("borrow", "category", "id", "supply")

    def __init__(
        self,
        id: str,
        supply: dict[str, Decimal] | None = None,
        borrow: dict[str, Decimal] | None = None,
        category: str | None = None,
    ) -> None:
        self.id = id
        self.category = category
        self.supply: dict[str, Decimal] = {a: v for a, v in (supply or {}).items() if v}
        self.borrow: dict[str, Decimal] = {a: v for a, v in (borrow or {}).items() if v}

    def copy(self) -> Account:
        """A detached copy, for trying an action before committing it."""
        return Account(self.id, dict(self.supply), dict(self.borrow), self.category)

    def supplied(self, asset: str) -> Decimal:
        return self.supply.get(asset, Decimal(0))

    def borrowed(self, asset: str) -> Decimal:
        return self.borrow.get(asset, Decimal(0))

    def set_supply(self, asset: str, units: Decimal) -> None:
        if units:
            self.supply[asset] = units
        else:
            self.supply.pop(asset, None)

    def set_borrow(self, asset: str, units: Decimal) -> None:
        if units:
            self.borrow[asset] = units
        else:
            self.borrow.pop(asset, None)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Account)
            and self.id == other.id
            and self.category == other.category
            and self.supply == other.supply
            and self.borrow == other.borrow
        )

    def __hash__(self) -> int:  # pragma: no cover - accounts are mutable
        raise TypeError("Account is mutable and unhashable")

    def __repr__(self) -> str:
        return (
            f"Account({self.id!r}, supply={self.supply!r}, borrow={self.borrow!r}, "
            f"category={self.category!r})"
        )
