"""Market files (contract section 1): TOML or JSON in, validated market out, and back.

Every number is parsed as an exact Decimal. Loading reports *every* problem with its
location (contract 1.1) in one :class:`~xmargin.errors.MarketFileError`; nothing is
half-loaded. pydantic's errors are translated here, at this one boundary.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

import tomli_w
from pydantic import BaseModel, ValidationError

from xmargin.errors import MarketFileError, Problem
from xmargin.io import design_state, option_tables, perp_tables
from xmargin.io.documents import (
    MAX_MARKET_FILE_BYTES,
    DocumentError,
    DuplicateKeys,
    decode_utf8,
    loads_json,
    loads_toml,
    read_regular_file,
)
from xmargin.io.long_tables import join_rows
from xmargin.mathlib import ZERO, exact, fmt, quantize_down, shown
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.names import name_problem
from xmargin.model.numbers import parse_number
from xmargin.model.params import AssetParams, CategoryParams, MarketParams
from xmargin.model.perps import PerpParams
from xmargin.model.practice import liquidation_problems
from xmargin.model.problems import translate_validation_error

__all__ = [
    "MarketFormat",
    "dump_market",
    "load_market",
    "market_to_dict",
    "parse_market",
    "read_market_document",
]

MarketFormat = Literal["toml", "json"]
M = TypeVar("M", bound=BaseModel)

_SECTIONS = {
    "market",
    "assets",
    "categories",
    "accounts",
    "state",
    "perps",
    *option_tables.SECTIONS,
}
_ACCOUNT_KEYS = {"category", "supply", "borrow", "perps", "options", "margin"}


def _loc(*parts: object) -> str:
    return ".".join(str(p) for p in parts if p != "")


def _bad_name_loc(section: str, name: str) -> str:
    """The location of a name that breaks the name rule: printable, and short."""
    return _loc(section, shown(name if name.isprintable() else repr(name)))


def _validate(model: type[M], data: Any, loc: str, problems: list[Problem]) -> M | None:
    if not isinstance(data, dict):
        problems.append(Problem(loc, f"must be a table, was {type(data).__name__}"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(translate_validation_error(exc, loc))
        return None


def read_market_document(path: Path) -> tuple[dict[str, Any], MarketFormat]:
    """Parse a ``.toml`` or ``.json`` market file; every number kept as its text.

    Only a regular UTF-8 file of at most :data:`MAX_MARKET_FILE_BYTES` is read; a JSON
    file with a repeated key is refused (TOML refuses those itself). Every failure names
    the file (:class:`~xmargin.errors.MarketFileError`).
    """
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise MarketFileError(source, [Problem("", "a market file must end in .toml or .json")])
    raw: Any
    try:
        text = decode_utf8(read_regular_file(path, MAX_MARKET_FILE_BYTES))
        # NaN and +-Infinity are kept as tokens (TOML's nan and inf too), so that
        # validation refuses them with their location.
        raw = loads_toml(text) if suffix == ".toml" else loads_json(text)
    except DuplicateKeys as exc:
        raise MarketFileError(
            source, [Problem(e.location, e.message) for e in exc.errors]
        ) from None
    except DocumentError as exc:
        raise MarketFileError(source, [Problem(exc.location, exc.message)]) from None
    if not isinstance(raw, dict):
        raise MarketFileError(source, [Problem("", "the top level must be a table/object")])
    market_format: MarketFormat = "toml" if suffix == ".toml" else "json"
    return raw, market_format


def load_market(path: str | Path) -> Market:
    """Load and validate a market file (and its ``accounts_file``); raise on any problem."""
    p = Path(path)
    raw, market_format = read_market_document(p)
    market = parse_market(raw, str(p), base_dir=p.parent)
    market.source_format = market_format
    return market


def _amount_map(
    raw: Any,
    loc: str,
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(loc, f"must be a table of asset = amount, was {type(raw).__name__}")
        )
        return out
    for asset, value in raw.items():
        here = _loc(loc, asset)
        if asset not in assets:
            problems.append(Problem(here, f"unknown asset {asset!r}"))
            continue
        try:
            d = parse_number(value)
        except ValueError as exc:
            problems.append(Problem(here, str(exc)))
            continue
        if d < ZERO:
            problems.append(Problem(here, f"must be >= 0, was {fmt(d)}"))
            continue
        ap = assets[asset]
        if ap is not None and quantize_down(d, ap.decimals) != d:
            problems.append(
                Problem(here, f"has more than {ap.decimals} decimal places, was {fmt(d)}")
            )
            continue
        out[asset] = d
    return out


def _check_isolation(
    acc: Account, loc: str, assets: Mapping[str, AssetParams | None], problems: list[Problem]
) -> None:
    """Contract 1.3 at load: an isolated supplier holds no other collateral, borrows only
    what isolation allows."""
    iso = [a for a in acc.supply if (p := assets.get(a)) is not None and p.is_isolated]
    if not iso:
        return
    others = [
        a
        for a in acc.supply
        if a not in iso[:1] and (p := assets.get(a)) is not None and p.liquidation_threshold > 0
    ]
    if others:
        problems.append(
            Problem(
                _loc(loc, "supply"),
                f"supplies isolated {iso[0]} beside other collateral ({', '.join(others)})",
            )
        )
    for a in acc.borrow:
        p = assets.get(a)
        if p is not None and not p.borrowable_in_isolation:
            problems.append(
                Problem(
                    _loc(loc, "borrow", a),
                    f"not borrowable in isolation (the account supplies isolated {iso[0]})",
                )
            )


@exact
def parse_market(
    raw: Mapping[str, Any], source: str = "<market>", base_dir: Path | None = None
) -> Market:
    """Validate a parsed market document into a :class:`Market`; every problem at once."""
    problems: list[Problem] = []
    for key in raw:
        if key not in _SECTIONS:
            problems.append(Problem(str(key), "unknown section"))

    params: MarketParams | None = None
    market_raw = raw.get("market")
    fund_raw: Any = {}
    if isinstance(market_raw, dict) and "insurance_fund" in market_raw:
        # The fund is state (liquidations add to it and draw on it), not a parameter.
        market_raw = dict(market_raw)
        fund_raw = market_raw.pop("insurance_fund")
    if "market" not in raw:
        problems.append(Problem("market", "required"))
    else:
        params = _validate(MarketParams, market_raw, "market", problems)

    assets_raw = raw.get("assets")
    assets: dict[str, AssetParams | None] = {}
    if not isinstance(assets_raw, dict) or not assets_raw:
        problems.append(Problem("assets", "at least one asset is required"))
        assets_raw = assets_raw if isinstance(assets_raw, dict) else {}
    for name, table in assets_raw.items():
        loc = _loc("assets", name)
        why = name_problem(name)
        if why is not None:
            problems.append(Problem(_bad_name_loc("assets", name), f"asset symbol {why}"))
            assets[name] = None
            continue
        if isinstance(table, dict) and "symbol" in table:
            problems.append(Problem(_loc(loc, "symbol"), "unknown key"))
            assets[name] = None
            continue
        data = {**table, "symbol": name} if isinstance(table, dict) else table
        assets[name] = _validate(AssetParams, data, loc, problems)

    cats_raw = raw.get("categories", {})
    categories: dict[str, CategoryParams | None] = {}
    if not isinstance(cats_raw, dict):
        problems.append(Problem("categories", "must be a table"))
        cats_raw = {}
    for name, table in cats_raw.items():
        loc = _loc("categories", name)
        why = name_problem(name)
        if why is not None:
            problems.append(Problem(_bad_name_loc("categories", name), f"category name {why}"))
            categories[name] = None
            continue
        if isinstance(table, dict) and "name" in table:
            problems.append(Problem(_loc(loc, "name"), "unknown key"))
            categories[name] = None
            continue
        data = {**table, "name": name} if isinstance(table, dict) else table
        cat = _validate(CategoryParams, data, loc, problems)
        categories[name] = cat
        if cat is not None:
            for key in ("assets", "borrowable"):
                for a in getattr(cat, key) or ():
                    if a not in assets:
                        problems.append(Problem(_loc(loc, key), f"unknown asset {a!r}"))

    perps: dict[str, PerpParams | None] = {}
    if "perps" in raw:
        perps = perp_tables.parse_perps(raw["perps"], assets, _validate, problems)
    fund = _amount_map(fund_raw, "market.insurance_fund", assets, problems)
    opt = option_tables.parse_option_sections(raw, params, assets, _validate, problems)

    accounts: dict[str, Account] = {}
    acc_raw = raw.get("accounts", {})
    if not isinstance(acc_raw, dict):
        problems.append(Problem("accounts", "must be a table"))
        acc_raw = {}
    for acc_id, table in acc_raw.items():
        loc = _loc("accounts", acc_id)
        why = name_problem(acc_id)
        if why is not None:
            problems.append(Problem(_bad_name_loc("accounts", acc_id), f"account id {why}"))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(loc, f"must be a table, was {type(table).__name__}"))
            continue
        for key in table:
            if key not in _ACCOUNT_KEYS:
                problems.append(Problem(_loc(loc, key), "unknown key"))
        category = table.get("category")
        if category is not None and (not isinstance(category, str) or category not in categories):
            problems.append(Problem(_loc(loc, "category"), f"unknown category {category!r}"))
            category = None
        supply = _amount_map(table.get("supply", {}), _loc(loc, "supply"), assets, problems)
        borrow = _amount_map(table.get("borrow", {}), _loc(loc, "borrow"), assets, problems)
        positions = {}
        if "perps" in table:
            where = _loc(loc, "perps")
            positions = perp_tables.perps_of_account(table["perps"], where, perps, assets, problems)
        held, margin = option_tables.account_options(table, loc, opt.options, assets, problems)
        acc = Account(str(acc_id), supply, borrow, category, positions, held, margin)
        _check_isolation(acc, loc, assets, problems)
        accounts[acc.id] = acc
    inline = set(accounts)

    if params is not None and params.accounts_file is not None:
        from xmargin.io.positions import read_positions_exact

        path = (base_dir or Path(".")) / params.accounts_file
        for acc, loc in read_positions_exact(path, assets, categories, problems):
            if acc.id in accounts:
                problems.append(Problem(loc, f"account {acc.id!r} is also written inline"))
                continue
            _check_isolation(acc, loc, assets, problems)
            accounts[acc.id] = acc

    if params is not None and params.perps_file is not None:
        path = (base_dir or Path(".")) / params.perps_file
        rows = perp_tables.read_perps_file(path, perps, assets, problems)
        join_rows(accounts, inline, rows, problems, Account.set_perp)

    if params is not None and params.options_file is not None:
        path = (base_dir or Path(".")) / params.options_file
        held_rows = option_tables.read_options_file(path, opt.options, assets, problems)
        join_rows(accounts, inline, held_rows, problems, Account.set_option)

    state = raw.get("state", {})
    deficit: dict[str, Decimal] = {}
    isolation_debt: dict[str, Decimal] | None = None
    if not isinstance(state, dict):
        problems.append(Problem("state", "must be a table"))
    else:
        for key in state:
            if key not in ("deficit", "isolation_debt", *design_state.STATE_KEYS):
                problems.append(Problem(_loc("state", key), "unknown key"))
        deficit = _amount_map(state.get("deficit", {}), "state.deficit", assets, problems)
        if "isolation_debt" in state:
            isolation_debt = {}
            for a, v in _amount_map(
                state["isolation_debt"], "state.isolation_debt", {a: None for a in assets}, problems
            ).items():
                isolation_debt[a] = v

    design_state.check_design(params, assets, problems)
    design = design_state.parse_state(
        state if isinstance(state, dict) else {}, assets, accounts, problems
    )

    valid_assets = {k: v for k, v in assets.items() if v is not None}
    valid_cats = {k: v for k, v in categories.items() if v is not None}
    if params is not None:
        problems.extend(liquidation_problems(params, valid_assets, valid_cats))
    if problems:
        raise MarketFileError(source, problems)
    assert params is not None
    valid_perps = {k: v for k, v in perps.items() if v is not None}
    market = Market(
        params,
        valid_assets,
        valid_cats,
        accounts.values(),
        deficit,
        isolation_debt,
        valid_perps,
        fund,
        *opt.valid(),
    )
    design_state.apply_state(market, design)
    option_tables.settle_at_load(market)  # contract 6.1: before any figure
    return market


def market_to_dict(market: Market, *, exact: bool = False) -> dict[str, Any]:
    """The market as a contract document; every number an exact decimal string.

    ``exact``: numbers stay Decimals, for validating the document again in-process
    (figures the engine computed, such as isolation debt, may hold more digits than a
    number written in a file may; :mod:`xmargin.model.numbers`).
    """

    def num(v: Any) -> Any:
        # Nested tables and arrays (an asset's ``liquidity``) are written the same way.
        if isinstance(v, Decimal):
            return v if exact else fmt(v)
        if isinstance(v, Mapping):
            return nums(v)
        if isinstance(v, list | tuple):
            return [num(x) for x in v]
        return v

    def nums(d: Mapping[str, Any]) -> dict[str, Any]:
        return {k: num(v) for k, v in d.items()}

    mp = market.params.model_dump(exclude_none=True, mode="python")
    mp.pop("accounts_file", None)  # accounts are written inline
    mp.pop("perps_file", None)  # and so are their perp positions
    mp.pop("options_file", None)  # and their option positions
    doc: dict[str, Any] = {
        "market": nums({k: (str(v) if k == "bonus_policy" else v) for k, v in mp.items()})
    }
    doc["assets"] = {}
    for sym, ap in market.assets.items():
        d = ap.model_dump(exclude_none=True, exclude={"symbol"})
        doc["assets"][sym] = nums(d)
    if market.categories:
        doc["categories"] = {}
        for name, cp in market.categories.items():
            d = cp.model_dump(exclude_none=True, exclude={"name"})
            d["assets"] = list(d["assets"])
            if "borrowable" in d:
                d["borrowable"] = list(d["borrowable"])
            doc["categories"][name] = nums(d)
    doc["accounts"] = {}
    for acc in market.accounts.values():
        entry: dict[str, Any] = {}
        if acc.category is not None:
            entry["category"] = acc.category
        entry["supply"] = nums(acc.supply)
        entry["borrow"] = nums(acc.borrow)
        doc["accounts"][acc.id] = entry
    perp_tables.dump_perps(market, doc, num)
    option_tables.dump_options(market, doc, num)
    state: dict[str, Any] = {}
    deficit = {a: v for a, v in market.deficit.items() if v}
    if deficit:
        state["deficit"] = nums(deficit)
    iso = {a: v for a, v in market.isolation_debt.items() if v}
    if iso:
        state["isolation_debt"] = nums(iso)
    if state:
        doc["state"] = state
    design_state.dump_design(market, doc)
    return doc


def dump_market(market: Market, path: str | Path, format: MarketFormat | None = None) -> None:
    """Write ``market`` as a contract market file (TOML or JSON), numbers as strings."""
    p = Path(path)
    fmt_ = format or ("json" if p.suffix.lower() == ".json" else "toml")
    doc = market_to_dict(market)
    text = json.dumps(doc, indent=2) + "\n" if fmt_ == "json" else tomli_w.dumps(doc)
    p.write_text(text, encoding="utf-8")
