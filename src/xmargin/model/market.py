"""The in-memory market: parameters, prices, accounts, totals and deficits.

Parameters are frozen models; balances, totals, the isolation debt and the bad-debt
deficit are the mutable state that ledger actions change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from xmargin.errors import UnknownAccount, UnknownAsset, UnknownCategory
from xmargin.mathlib import ZERO, exact
from xmargin.model.account import Account
from xmargin.model.params import AssetParams, CategoryParams, MarketParams

__all__ = ["Market"]


class Market:
    """A whole market: what a market file holds plus the state actions change.

    Attributes
    ----------
    total_supply, total_borrow
        Market-wide units per asset (what caps gate).
    isolation_debt
        Per isolated asset, the quote value (at the price when borrowed) of debt drawn by
        accounts that supply it (contract 1.3).
    deficit
        Per asset, units of debt written off as bad debt (contract 3.7).
    """

    def __init__(
        self,
        params: MarketParams,
        assets: Mapping[str, AssetParams],
        categories: Mapping[str, CategoryParams] | None = None,
        accounts: Iterable[Account] = (),
        deficit: Mapping[str, Decimal] | None = None,
        isolation_debt: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.params = params
        self.assets: dict[str, AssetParams] = dict(assets)
        self.categories: dict[str, CategoryParams] = dict(categories or {})
        self.accounts: dict[str, Account] = {}
        for acc in accounts:
            self.accounts[acc.id] = acc
        self.deficit: dict[str, Decimal] = dict(deficit or {})
        self.total_supply: dict[str, Decimal] = {}
        self.total_borrow: dict[str, Decimal] = {}
        self._recount_totals()
        #: "toml" or "json": the format of the file this market was loaded from.
        self.source_format: str = "toml"
        self.isolation_debt: dict[str, Decimal] = (
            dict(isolation_debt) if isolation_debt is not None else self._isolation_debt_now()
        )

    # -- look-ups that raise the contract's errors -------------------------------------
    def asset(self, symbol: str) -> AssetParams:
        try:
            return self.assets[symbol]
        except KeyError:
            raise UnknownAsset(symbol) from None

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise UnknownAccount(account_id) from None

    def category_of(self, account: Account) -> CategoryParams | None:
        if account.category is None:
            return None
        try:
            return self.categories[account.category]
        except KeyError:
            raise UnknownCategory(account.category) from None

    def price(self, symbol: str) -> Decimal:
        return self.asset(symbol).price

    # -- derived state ----------------------------------------------------------------
    @exact
    def _recount_totals(self) -> None:
        ts: dict[str, Decimal] = {}
        tb: dict[str, Decimal] = {}
        for acc in self.accounts.values():
            for a, s in acc.supply.items():
                ts[a] = ts.get(a, ZERO) + s
            for a, b in acc.borrow.items():
                tb[a] = tb.get(a, ZERO) + b
        self.total_supply = ts
        self.total_borrow = tb

    def isolated_collateral_of(self, account: Account) -> str | None:
        """The isolated asset ``account`` supplies, if any (contract 1.3)."""
        for a in account.supply:
            if self.assets[a].debt_ceiling is not None:
                return a
        return None

    @exact
    def _isolation_debt_now(self) -> dict[str, Decimal]:
        """Isolation debt of a freshly loaded book: its debt valued at the file's prices."""
        out: dict[str, Decimal] = {}
        for acc in self.accounts.values():
            iso = self.isolated_collateral_of(acc)
            if iso is None:
                continue
            debt = sum((b * self.assets[a].price for a, b in acc.borrow.items()), ZERO)
            out[iso] = out.get(iso, ZERO) + debt
        return out

    def with_prices(self, prices: Mapping[str, Decimal]) -> Market:
        """A copy of this market with some prices replaced (balances shared read-only)."""
        assets = dict(self.assets)
        for sym, p in prices.items():
            assets[sym] = self.asset(sym).model_copy(update={"price": p})
        m = Market.__new__(Market)
        m.params = self.params
        m.assets = assets
        m.categories = self.categories
        m.accounts = self.accounts
        m.deficit = self.deficit
        m.total_supply = self.total_supply
        m.total_borrow = self.total_borrow
        m.isolation_debt = self.isolation_debt
        m.source_format = self.source_format
        return m

    def copy(self) -> Market:
        """A deep copy of the mutable state (parameters are frozen and shared)."""
        m = Market(
            self.params,
            self.assets,
            self.categories,
            (a.copy() for a in self.accounts.values()),
            self.deficit,
            self.isolation_debt,
        )
        m.source_format = self.source_format
        return m

    def state_equals(self, other: Market) -> bool:
        """Whether two markets hold the same parameters and balances (for tests)."""
        return (
            self.params == other.params
            and self.assets == other.assets
            and self.categories == other.categories
            and list(self.accounts) == list(other.accounts)
            and all(self.accounts[k] == other.accounts[k] for k in self.accounts)
            and self.deficit == other.deficit
            and self.total_supply == other.total_supply
            and self.total_borrow == other.total_borrow
            and self.isolation_debt == other.isolation_debt
        )
