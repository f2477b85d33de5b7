"""An account's balances (token units supplied and borrowed per asset), its perp and
option positions and its margin method: the mutable state of one account."""

from __future__ import annotations

from decimal import Decimal

from xmargin.model.options import MarginMethod
from xmargin.model.perps import PerpPosition

__all__ = ["Account"]


class Account:
    """Balances of one account, in token units, its optional category, its perp
    positions (contract 5, by perp name), its option positions (contract 6: signed
    contracts by option name) and its margin method (6.3: ``standard`` or ``portfolio``).

    Zero balances and zero-size positions are dropped, so ``supply``, ``borrow``,
    ``perps`` and ``options`` list only what is held.
    """

    __slots__ = ("borrow", "category", "id", "margin", "options", "perps", "supply")

    def __init__(
        self,
        id: str,
        supply: dict[str, Decimal] | None = None,
        borrow: dict[str, Decimal] | None = None,
        category: str | None = None,
        perps: dict[str, PerpPosition] | None = None,
        options: dict[str, Decimal] | None = None,
        margin: MarginMethod = MarginMethod.STANDARD,
    ) -> None:
        self.id = id
        self.category = category
        self.supply: dict[str, Decimal] = {a: v for a, v in (supply or {}).items() if v}
        self.borrow: dict[str, Decimal] = {a: v for a, v in (borrow or {}).items() if v}
        self.perps: dict[str, PerpPosition] = {
            n: pos for n, pos in (perps or {}).items() if pos.size
        }
        self.options: dict[str, Decimal] = {n: q for n, q in (options or {}).items() if q}
        self.margin = margin

    def copy(self) -> Account:
        """A detached copy, for trying an action before committing it."""
        return Account(
            self.id,
            dict(self.supply),
            dict(self.borrow),
            self.category,
            dict(self.perps),
            dict(self.options),
            self.margin,
        )

    def position(self, perp: str) -> PerpPosition | None:
        """The position in ``perp``, or ``None`` when the account holds none."""
        return self.perps.get(perp)

    def set_perp(self, perp: str, position: PerpPosition | None) -> None:
        """Replace the position in ``perp``; ``None`` or a zero size removes it."""
        if position is not None and position.size:
            self.perps[perp] = position
        else:
            self.perps.pop(perp, None)

    def option_size(self, option: str) -> Decimal:
        """Signed contracts held in ``option`` (0 when none)."""
        return self.options.get(option, Decimal(0))

    def set_option(self, option: str, size: Decimal) -> None:
        """Replace the position in ``option``; a zero size removes it."""
        if size:
            self.options[option] = size
        else:
            self.options.pop(option, None)

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
            and self.perps == other.perps
            and self.options == other.options
            and self.margin == other.margin
        )

    def __hash__(self) -> int:  # pragma: no cover - accounts are mutable
        raise TypeError("Account is mutable and unhashable")

    def __repr__(self) -> str:
        perps = f", perps={self.perps!r}" if self.perps else ""
        options = f", options={self.options!r}" if self.options else ""
        margin = f", margin={self.margin.value!r}" if self.margin is MarginMethod.PORTFOLIO else ""
        return (
            f"Account({self.id!r}, supply={self.supply!r}, borrow={self.borrow!r}, "
            f"category={self.category!r}{perps}{options}{margin})"
        )
