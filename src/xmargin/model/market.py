"""The in-memory market: parameters, prices, accounts, totals and deficits.

Parameters are frozen models; balances, perp and option positions, totals, open interest,
the isolation debt, the insurance fund and the bad-debt deficit are the mutable state that
ledger actions change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import TypeVar

from xmargin.errors import UnknownAccount, UnknownAsset, UnknownCategory, UnknownPerp
from xmargin.mathlib import CTX, ZERO, exact
from xmargin.model.account import Account
from xmargin.model.auction import Auction
from xmargin.model.options import OptionMarginParams, OptionParams
from xmargin.model.params import AssetParams, CategoryParams, MarketParams
from xmargin.model.perps import PerpParams
from xmargin.model.portfolio_params import PortfolioMarginParams
from xmargin.option_errors import UnknownOption

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
        Per asset, units of debt written off as bad debt and not covered by the insurance
        fund (contract 3.7, 5.5).
    perps
        Perp parameters by name (contract 5); ``funding_index`` is replaced by the oracle.
    insurance_fund
        Per asset, units that absorb written-off debt before the deficit (contract 5.5).
    open_interest
        Per perp, (long, short) base units summed over all accounts (contract 5.3 step 4).

    auctions, auction_count, reserves, protocol_collateral, supply_index
        The state of the liquidation designs (contract 8): running auctions by id and
        how many were ever started; the storefront's reserves (units, may be negative)
        and absorbed collateral; each asset's supply index (1 when absent).

    options, option_margin, portfolio_margin
        Option parameters by name and the standard and portfolio margin parameters
        (contract 6); an option's ``volatility`` and ``forward`` are market data, replaced
        as a price is.

    ``perps``, ``options``, ``insurance_fund``, ``open_interest`` and the design state are
    replaced, never changed in place, so a market assembled attribute by attribute (the
    store's working copy) reads the class defaults below: no perps or options, default
    margin parameters, an empty fund, no auctions.
    """

    perps: Mapping[str, PerpParams] = MappingProxyType({})
    insurance_fund: Mapping[str, Decimal] = MappingProxyType({})
    open_interest: Mapping[str, tuple[Decimal, Decimal]] = MappingProxyType({})
    auctions: Mapping[int, Auction] = MappingProxyType({})
    auction_count: int = 0
    reserves: Mapping[str, Decimal] = MappingProxyType({})
    protocol_collateral: Mapping[str, Decimal] = MappingProxyType({})
    supply_index: Mapping[str, Decimal] = MappingProxyType({})
    options: Mapping[str, OptionParams] = MappingProxyType({})
    option_margin: OptionMarginParams = OptionMarginParams()
    portfolio_margin: PortfolioMarginParams = PortfolioMarginParams()

    def __init__(
        self,
        params: MarketParams,
        assets: Mapping[str, AssetParams],
        categories: Mapping[str, CategoryParams] | None = None,
        accounts: Iterable[Account] = (),
        deficit: Mapping[str, Decimal] | None = None,
        isolation_debt: Mapping[str, Decimal] | None = None,
        perps: Mapping[str, PerpParams] | None = None,
        insurance_fund: Mapping[str, Decimal] | None = None,
        options: Mapping[str, OptionParams] | None = None,
        option_margin: OptionMarginParams | None = None,
        portfolio_margin: PortfolioMarginParams | None = None,
    ) -> None:
        self.params = params
        if options:
            self.options = dict(options)
        if option_margin is not None:
            self.option_margin = option_margin
        if portfolio_margin is not None:
            self.portfolio_margin = portfolio_margin
        self.assets: dict[str, AssetParams] = dict(assets)
        self.categories: dict[str, CategoryParams] = dict(categories or {})
        self.perps = dict(perps or {})
        self.insurance_fund = {a: v for a, v in (insurance_fund or {}).items() if v}
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

    def perp(self, name: str) -> PerpParams:
        try:
            return self.perps[name]
        except KeyError:
            raise UnknownPerp(name) from None

    def perp_price(self, perp: PerpParams) -> Decimal:
        """P: the oracle price of ``perp``, its underlying's price (contract 5), or its
        ``mark_price`` where one is given (extension, docs/contract.md 6.5)."""
        if perp.mark_price is not None:
            return perp.mark_price
        return self.assets[perp.underlying].price

    def option(self, name: str) -> OptionParams:
        try:
            return self.options[name]
        except KeyError:
            raise UnknownOption(name) from None

    # -- derived state ----------------------------------------------------------------
    @exact
    def _recount_totals(self) -> None:
        ts: dict[str, Decimal] = {}
        tb: dict[str, Decimal] = {}
        oi: dict[str, tuple[Decimal, Decimal]] = {}
        for acc in self.accounts.values():
            for a, s in acc.supply.items():
                ts[a] = ts.get(a, ZERO) + s
            for a, b in acc.borrow.items():
                tb[a] = tb.get(a, ZERO) + b
            for n, pos in acc.perps.items():
                long, short = oi.get(n, (ZERO, ZERO))
                q = pos.size
                oi[n] = (long + q, short) if q > ZERO else (long, short - q)
        self.total_supply = ts
        self.total_borrow = tb
        self.open_interest = oi

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
        """A copy of this market with some prices replaced (balances shared read-only).

        An option's forward and a perp's mark price on a re-priced asset follow its price
        proportionally, F·S′/S (contract 6.1).
        """
        assets = dict(self.assets)
        ratio: dict[str, Decimal] = {}
        for sym, p in prices.items():
            old = self.asset(sym).price
            assets[sym] = self.assets[sym].model_copy(update={"price": p})
            if p != old:
                ratio[sym] = CTX.divide(p, old)
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
        m.perps = self.perps
        m.insurance_fund = self.insurance_fund
        m.open_interest = self.open_interest
        m.copy_design_state(self)
        m.option_margin = self.option_margin
        m.portfolio_margin = self.portfolio_margin
        m.options = self.options
        if ratio:
            m.perps = {
                n: _moved(p, p.underlying, "mark_price", ratio) for n, p in self.perps.items()
            }
            m.options = {
                n: _moved(o, o.underlying, "forward", ratio) for n, o in self.options.items()
            }
        return m

    def copy_design_state(self, other: Market) -> None:
        """Take ``other``'s liquidation-design state (contract 8); mappings are copied."""
        self.auctions = dict(other.auctions)
        self.auction_count = other.auction_count
        self.reserves = dict(other.reserves)
        self.protocol_collateral = dict(other.protocol_collateral)
        self.supply_index = dict(other.supply_index)

    def copy(self) -> Market:
        """A deep copy of the mutable state (parameters are frozen and shared)."""
        m = Market(
            self.params,
            self.assets,
            self.categories,
            (a.copy() for a in self.accounts.values()),
            self.deficit,
            self.isolation_debt,
            self.perps,
            self.insurance_fund,
            self.options,
            self.option_margin,
            self.portfolio_margin,
        )
        m.source_format = self.source_format
        m.copy_design_state(self)
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
            and dict(self.perps) == dict(other.perps)
            and dict(self.insurance_fund) == dict(other.insurance_fund)
            and dict(self.open_interest) == dict(other.open_interest)
            and dict(self.auctions) == dict(other.auctions)
            and self.auction_count == other.auction_count
            and dict(self.reserves) == dict(other.reserves)
            and dict(self.protocol_collateral) == dict(other.protocol_collateral)
            and dict(self.supply_index) == dict(other.supply_index)
            and dict(self.options) == dict(other.options)
            and self.option_margin == other.option_margin
            and self.portfolio_margin == other.portfolio_margin
        )


_P = TypeVar("_P", PerpParams, OptionParams)


def _moved(params: _P, underlying: str, key: str, ratio: Mapping[str, Decimal]) -> _P:
    """``params`` with its ``key`` (a perp's mark price, an option's forward) moved by the
    ratio of its underlying's new price to the old, when it has one and it moved."""
    r = ratio.get(underlying)
    value = getattr(params, key)
    if r is None or value is None:
        return params
    return params.model_copy(update={key: CTX.multiply(value, r)})
