"""The liquidation designs' parts of a market file (contract 8): their cross-file rules,
their state under ``[state]``, and writing both back.

State keys: ``auctions`` (running auctions by id), ``auction_count`` (how many were ever
started), ``reserves`` (the storefront's reserves per asset, signed units),
``protocol_collateral`` (absorbed collateral the protocol holds, units) and
``supply_index`` (each asset's supply index, 1 when absent). Loading reports every
problem with its location into the caller's list (contract 1.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xmargin.errors import Problem
from xmargin.mathlib import ZERO, fmt, quantize_down
from xmargin.model.account import Account
from xmargin.model.auction import AUCTION_FIELDS, Auction
from xmargin.model.liquidation_params import LiquidationDesign, format_time, parse_time
from xmargin.model.market import Market
from xmargin.model.numbers import NumberError, parse_number
from xmargin.model.params import AssetParams, MarketParams

__all__ = ["STATE_KEYS", "DesignState", "apply_state", "check_design", "dump_design", "parse_state"]

STATE_KEYS = ("auctions", "auction_count", "reserves", "protocol_collateral", "supply_index")


@dataclass
class DesignState:
    """What ``[state]`` holds for the designs, validated, before the market exists."""

    auctions: dict[int, Auction] = field(default_factory=dict)
    auction_count: int = 0
    reserves: dict[str, Decimal] = field(default_factory=dict)
    protocol_collateral: dict[str, Decimal] = field(default_factory=dict)
    supply_index: dict[str, Decimal] = field(default_factory=dict)


def check_design(
    params: MarketParams | None, assets: Mapping[str, AssetParams | None], problems: list[Problem]
) -> None:
    """Rules across tables: the storefront's assets exist; storefront needs its table."""
    if params is None:
        return
    sf = params.storefront
    if params.liquidation == LiquidationDesign.STOREFRONT and sf is None:
        problems.append(
            Problem("market.storefront", "required by liquidation = 'storefront' (its base asset)")
        )
    if sf is None:
        return
    if sf.base not in assets:
        problems.append(Problem("market.storefront.base", f"unknown asset {sf.base!r}"))
    for a in sf.liquidation_factor:
        if a not in assets:
            problems.append(Problem(f"market.storefront.liquidation_factor.{a}", "unknown asset"))


def _number(
    value: Any, loc: str, problems: list[Problem], *, signed: bool = False, positive: bool = False
) -> Decimal | None:
    try:
        d = parse_number(value)
    except NumberError as exc:
        problems.append(Problem(loc, str(exc)))
        return None
    if positive and d <= ZERO:
        problems.append(Problem(loc, f"must be > 0, was {d}"))
        return None
    if not signed and d < ZERO:
        problems.append(Problem(loc, f"must be >= 0, was {d}"))
        return None
    return d


def _units(
    value: Any,
    loc: str,
    asset: AssetParams | None,
    problems: list[Problem],
    *,
    signed: bool = False,
    positive: bool = False,
) -> Decimal | None:
    d = _number(value, loc, problems, signed=signed, positive=positive)
    if d is not None and asset is not None and quantize_down(d, asset.decimals) != d:
        problems.append(Problem(loc, f"has more than {asset.decimals} decimal places, was {d}"))
        return None
    return d


def _per_asset(
    raw: Any,
    loc: str,
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
    *,
    signed: bool = False,
    index: bool = False,
) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(loc, f"must be a table of asset = number, was {type(raw).__name__}")
        )
        return out
    for a, value in raw.items():
        if a not in assets:
            problems.append(Problem(f"{loc}.{a}", f"unknown asset {a!r}"))
            continue
        if index:  # a ratio, not units: any places; 0 once every deposit is lost
            d = _number(value, f"{loc}.{a}", problems)
            if d is not None:
                out[a] = d
            continue
        d = _units(value, f"{loc}.{a}", assets[a], problems, signed=signed)
        if d:
            out[a] = d
    return out


def _auction(
    key: str,
    table: Any,
    assets: Mapping[str, AssetParams | None],
    accounts: Mapping[str, Account],
    problems: list[Problem],
) -> Auction | None:
    loc = f"state.auctions.{key}"
    if not key.isdigit() or int(key) < 1:
        problems.append(Problem(loc, "an auction's id must be a whole number >= 1"))
        return None
    if not isinstance(table, dict):
        problems.append(Problem(loc, f"must be a table, was {type(table).__name__}"))
        return None
    n = len(problems)
    for k in table:
        if k not in AUCTION_FIELDS:
            problems.append(Problem(f"{loc}.{k}", "unknown key"))
    for k in AUCTION_FIELDS:
        if k not in table:
            problems.append(Problem(f"{loc}.{k}", "required"))
    if len(problems) > n:
        return None
    names = {k: table[k] for k in ("account", "debt_asset", "collateral_asset")}
    if not isinstance(names["account"], str) or names["account"] not in accounts:
        problems.append(Problem(f"{loc}.account", f"unknown account {names['account']!r}"))
    for k in ("debt_asset", "collateral_asset"):
        if not isinstance(names[k], str) or names[k] not in assets:
            problems.append(Problem(f"{loc}.{k}", f"unknown asset {names[k]!r}"))
    debt_p = assets.get(str(names["debt_asset"]))
    coll_p = assets.get(str(names["collateral_asset"]))
    debt = _units(table["debt"], f"{loc}.debt", debt_p, problems)
    tab = _units(table["tab"], f"{loc}.tab", debt_p, problems, positive=True)
    lot = _units(table["lot"], f"{loc}.lot", coll_p, problems, positive=True)
    top = _number(table["top"], f"{loc}.top", problems, positive=True)
    try:
        tic = parse_time(table["tic"])
    except ValueError as exc:
        problems.append(Problem(f"{loc}.tic", str(exc)))
        return None
    if debt is not None and tab is not None and debt > tab:
        problems.append(Problem(f"{loc}.debt", f"must be <= tab ({tab}), was {debt}"))
    if len(problems) > n or debt is None or tab is None or lot is None or top is None:
        return None
    account, debt_asset, coll_asset = (str(names[k]) for k in names)
    return Auction(int(key), account, debt_asset, coll_asset, debt, tab, lot, top, tic)


def parse_state(
    state: Mapping[str, Any],
    assets: Mapping[str, AssetParams | None],
    accounts: Mapping[str, Account],
    problems: list[Problem],
) -> DesignState:
    """The designs' keys of ``[state]``, each problem located (``state.auctions.3.lot``)."""
    out = DesignState()
    raw = state.get("auctions", {})
    if not isinstance(raw, dict):
        problems.append(Problem("state.auctions", "must be a table of id = auction"))
        raw = {}
    for key, table in raw.items():
        auction = _auction(str(key), table, assets, accounts, problems)
        if auction is not None:
            out.auctions[auction.id] = auction
    top_id = max(out.auctions, default=0)
    count = state.get("auction_count", top_id)
    if not isinstance(count, int) or isinstance(count, bool) or count < top_id:
        problems.append(
            Problem("state.auction_count", f"must be a whole number >= {top_id}, was {count!r}")
        )
    else:
        out.auction_count = count
    loc = "state.reserves"
    out.reserves = _per_asset(state.get("reserves", {}), loc, assets, problems, signed=True)
    loc = "state.protocol_collateral"
    out.protocol_collateral = _per_asset(
        state.get("protocol_collateral", {}), loc, assets, problems
    )
    loc = "state.supply_index"
    out.supply_index = _per_asset(state.get("supply_index", {}), loc, assets, problems, index=True)
    return out


def apply_state(market: Market, design: DesignState) -> None:
    """Put a parsed :class:`DesignState` on a freshly built market."""
    market.auctions = dict(sorted(design.auctions.items()))
    market.auction_count = design.auction_count
    market.reserves = design.reserves
    market.protocol_collateral = design.protocol_collateral
    market.supply_index = design.supply_index


def dump_design(market: Market, doc: dict[str, Any]) -> None:
    """Write the designs' keys into a market document being built by ``market_to_dict``:
    ``market.time`` as ISO 8601, ``liquidation`` only when not the default, the state."""
    table = doc["market"]
    if market.params.time is not None:
        table["time"] = format_time(market.params.time)
    if market.params.liquidation == LiquidationDesign.CLOSE_FACTOR:
        table.pop("liquidation", None)
    else:
        table["liquidation"] = str(market.params.liquidation.value)
    for key in ("auction", "storefront", "target_health"):
        sub = table.get(key)
        if isinstance(sub, dict) and "curve" in sub:
            sub["curve"] = str(sub["curve"])
    state: dict[str, Any] = {}
    if market.auctions:
        state["auctions"] = {str(i): a.to_dict() for i, a in market.auctions.items()}
    if market.auction_count:
        state["auction_count"] = market.auction_count
    for key in ("reserves", "protocol_collateral", "supply_index"):
        # an index of 0 (every deposit lost) is written; zero balances are not
        values = {a: fmt(v) for a, v in getattr(market, key).items() if v or key == "supply_index"}
        if values:
            state[key] = values
    if state:
        doc.setdefault("state", {}).update(state)
