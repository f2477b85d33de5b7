"""The option parts of a market file (contract 6, docs/contract.md 6.5–6.6): ``[options.*]``,
``[option_margin]``, ``[portfolio_margin]``, positions and ``margin`` in accounts, and a
long-form ``options_file``; and writing them back.

Loading reports every problem with its location into the caller's list, as the rest of
:mod:`xmargin.io.market_file` does (contract 1.1); nothing is half-loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel

from xmargin.errors import Problem
from xmargin.io.long_tables import read_columns
from xmargin.mathlib import fmt, quantize_down
from xmargin.model.liquidation_params import format_time
from xmargin.model.market import Market
from xmargin.model.names import name_problem
from xmargin.model.numbers import NumberError, parse_number
from xmargin.model.options import MarginMethod, OptionMarginParams, OptionParams
from xmargin.model.params import AssetParams, MarketParams
from xmargin.model.portfolio_params import PortfolioMarginParams

__all__ = [
    "MAX_YEARS_TO_EXPIRY",
    "OPTIONS_FILE_COLUMNS",
    "SECTIONS",
    "OptionSections",
    "account_options",
    "check_option_time",
    "dump_options",
    "margin_of_account",
    "options_of_account",
    "parse_option_margin",
    "parse_option_sections",
    "parse_options",
    "parse_portfolio_margin",
    "read_options_file",
    "settle_at_load",
]

#: Top-level tables of a market file that hold options (contract 6, 6.6).
SECTIONS = ("options", "option_margin", "portfolio_margin")
#: Columns of an ``options_file`` (docs/contract.md 6.5).
OPTIONS_FILE_COLUMNS = ("account", "option", "size")
#: An option may expire at most this many years (of 365 days) after ``market.time``.
MAX_YEARS_TO_EXPIRY = 100

M = TypeVar("M", bound=BaseModel)


class Validate(Protocol):
    def __call__(
        self, model: type[M], data: Any, loc: str, problems: list[Problem]
    ) -> M | None: ...


class OptionSections(NamedTuple):
    """The option parts of a market document, validated (``None`` where invalid)."""

    options: dict[str, OptionParams | None]
    option_margin: OptionMarginParams | None
    portfolio_margin: PortfolioMarginParams | None

    def valid(
        self,
    ) -> tuple[dict[str, OptionParams], OptionMarginParams | None, PortfolioMarginParams | None]:
        """What :class:`Market` takes: the valid options and the two margin tables."""
        options = {k: v for k, v in self.options.items() if v is not None}
        return options, self.option_margin, self.portfolio_margin


def parse_option_sections(
    raw: Mapping[str, Any],
    params: MarketParams | None,
    assets: Mapping[str, AssetParams | None],
    validate: Validate,
    problems: list[Problem],
) -> OptionSections:
    """``[options.*]`` (with ``market.time``), ``[option_margin]`` and ``[portfolio_margin]``."""
    options: dict[str, OptionParams | None] = {}
    if "options" in raw:
        options = parse_options(raw["options"], assets, validate, problems)
    check_option_time(params, options, problems)
    option_margin = parse_option_margin(raw.get("option_margin", {}), validate, problems)
    portfolio = parse_portfolio_margin(raw.get("portfolio_margin", {}), assets, validate, problems)
    return OptionSections(options, option_margin, portfolio)


def account_options(
    table: Mapping[str, Any],
    loc: str,
    options: Mapping[str, OptionParams | None],
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> tuple[dict[str, Decimal], MarginMethod]:
    """An inline account's ``options`` and ``margin`` (both optional)."""
    held: dict[str, Decimal] = {}
    if "options" in table:
        held = options_of_account(table["options"], f"{loc}.options", options, assets, problems)
    margin = MarginMethod.STANDARD
    if "margin" in table:
        margin = margin_of_account(table["margin"], f"{loc}.margin", problems)
    return held, margin


def settle_at_load(market: Market) -> None:
    """Settle every expired position of a freshly loaded market (contract 6.1: before any
    figure is computed), through the ledger."""
    if market.options:
        from xmargin.ledger.options import settle_expired_options

        settle_expired_options(market)


def parse_options(
    raw: Any,
    assets: Mapping[str, AssetParams | None],
    validate: Validate,
    problems: list[Problem],
) -> dict[str, OptionParams | None]:
    """The ``[options.*]`` tables: each validated, its underlying and settlement asset known,
    one forward and one rate per underlying and expiry. An invalid option maps to ``None``
    (its name stays known, so that positions in it are not reported twice)."""
    out: dict[str, OptionParams | None] = {}
    if not isinstance(raw, dict):
        problems.append(Problem("options", "must be a table"))
        return out
    for name, table in raw.items():
        loc = f"options.{name}"
        why = name_problem(name)
        if why is not None:
            problems.append(Problem("options", f"option name {why}"))
            continue
        if isinstance(table, dict) and "name" in table:
            problems.append(Problem(f"{loc}.name", "unknown key"))
            out[name] = None
            continue
        data = {**table, "name": name} if isinstance(table, dict) else table
        option = validate(OptionParams, data, loc, problems)
        for key in ("underlying", "settlement_asset"):
            symbol = table.get(key) if isinstance(table, dict) else None
            if isinstance(symbol, str) and symbol not in assets:
                problems.append(Problem(f"{loc}.{key}", f"unknown asset {symbol!r}"))
                option = None
        out[name] = option
    _check_one_forward(out, assets, problems)
    return out


def _check_one_forward(
    options: Mapping[str, OptionParams | None],
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> None:
    """Options of one underlying and expiry share one forward (default S) and one rate."""
    first: dict[tuple[str, datetime], tuple[str, Decimal | None, Decimal]] = {}
    for name, o in options.items():
        if o is None or assets.get(o.underlying) is None:
            continue
        ap = assets[o.underlying]
        forward = o.forward if o.forward is not None else (ap.price if ap else None)
        seen = first.setdefault(o.expiry_key(), (name, forward, o.rate))
        other, f0, r0 = seen
        if other == name:
            continue
        if forward != f0:
            problems.append(
                Problem(
                    f"options.{name}.forward",
                    f"must equal {other}'s forward ({fmt(f0)}): one forward per underlying "
                    f"and expiry, was {fmt(forward)}",
                )
            )
        if o.rate != r0:
            problems.append(
                Problem(
                    f"options.{name}.rate",
                    f"must equal {other}'s rate ({fmt(r0)}): one rate per underlying and "
                    f"expiry, was {fmt(o.rate)}",
                )
            )


def check_option_time(
    params: MarketParams | None,
    options: Mapping[str, OptionParams | None],
    problems: list[Problem],
) -> None:
    """``market.time`` is required with options; expiries within 100 years of it."""
    if params is None or not options:
        return
    if params.time is None:
        problems.append(Problem("market.time", "required when the market has options"))
        return
    limit = params.time + timedelta(days=365 * MAX_YEARS_TO_EXPIRY)
    for name, o in options.items():
        if o is not None and o.expiry > limit:
            problems.append(
                Problem(
                    f"options.{name}.expiry",
                    f"must be at most {MAX_YEARS_TO_EXPIRY} years after market.time "
                    f"({format_time(params.time)}), was {format_time(o.expiry)}",
                )
            )


def parse_option_margin(
    raw: Any, validate: Validate, problems: list[Problem]
) -> OptionMarginParams | None:
    """The ``[option_margin]`` table (contract 6), defaults where a key is absent."""
    return validate(OptionMarginParams, raw, "option_margin", problems)


def parse_portfolio_margin(
    raw: Any,
    assets: Mapping[str, AssetParams | None],
    validate: Validate,
    problems: list[Problem],
) -> PortfolioMarginParams | None:
    """The ``[portfolio_margin]`` table (docs/contract.md 6.6); haircuts name known assets."""
    params = validate(PortfolioMarginParams, raw, "portfolio_margin", problems)
    if params is None:
        return None
    for key in ("maintenance_haircut", "initial_haircut"):
        for a in getattr(params, key):
            if a not in assets:
                problems.append(Problem(f"portfolio_margin.{key}.{a}", f"unknown asset {a!r}"))
    return params


def _size(
    value: Any,
    option: OptionParams | None,
    assets: Mapping[str, AssetParams | None],
    here: str,
    problems: list[Problem],
) -> Decimal | None:
    """A signed number of contracts, held to the underlying's decimals (as a perp's size)."""
    try:
        size = parse_number(value)
    except NumberError as exc:
        problems.append(Problem(here, str(exc)))
        return None
    ap = assets.get(option.underlying) if option is not None else None
    if ap is not None and quantize_down(size, ap.decimals) != size:
        problems.append(
            Problem(
                here,
                f"has more than {ap.decimals} decimal places (the underlying's), was {fmt(size)}",
            )
        )
        return None
    return size


def options_of_account(
    raw: Any,
    where: str,
    options: Mapping[str, OptionParams | None],
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> dict[str, Decimal]:
    """An inline account's ``options = { NAME = signed contracts }``."""
    out: dict[str, Decimal] = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(where, f"must be a table of option = contracts, was {type(raw).__name__}")
        )
        return out
    for name, value in raw.items():
        here = f"{where}.{name}"
        if name not in options:
            problems.append(Problem(here, f"unknown option {name!r}"))
            continue
        size = _size(value, options[name], assets, here, problems)
        if size is not None and options[name] is not None:
            out[name] = size
    return out


def margin_of_account(raw: Any, where: str, problems: list[Problem]) -> MarginMethod:
    """An account's ``margin``: ``"standard"`` (default) or ``"portfolio"`` (6.3)."""
    try:
        return MarginMethod(raw)
    except ValueError:
        problems.append(
            Problem(where, f"must be 'standard' or 'portfolio', was {name_or_type(raw)}")
        )
        return MarginMethod.STANDARD


def name_or_type(raw: Any) -> str:
    return repr(raw) if isinstance(raw, str) and len(raw) <= 40 else type(raw).__name__


def read_options_file(
    path: Path,
    options: Mapping[str, OptionParams | None],
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> Iterator[tuple[str, str, Decimal, str]]:
    """Rows of a long-form ``options_file`` (CSV or Parquet): ``(account, option, size,
    location)``. A repeated ``(account, option)`` is a problem."""
    name = path.name
    cols = read_columns(path, "options_file", OPTIONS_FILE_COLUMNS, problems)
    if cols is None:
        return
    seen: set[tuple[str, str]] = set()
    for i, acc_id in enumerate(cols["account"]):
        row = f"{name}:row {i + 2}"  # 1-based, after the header line
        option = cols["option"][i]
        why = name_problem(acc_id)
        if why is not None:
            problems.append(Problem(f"{row}.account", f"account id {why}"))
            continue
        if option not in options:
            problems.append(Problem(f"{row}.option", f"unknown option {option!r}"))
            continue
        if (acc_id, option) in seen:
            problems.append(Problem(row, f"repeats account {acc_id!r} and option {option!r}"))
            continue
        seen.add((acc_id, option))
        cell = cols["size"][i]
        if cell is None or cell == "":
            problems.append(Problem(f"{row}.size", "required"))
            continue
        size = _size(cell, options[option], assets, f"{row}.size", problems)
        if size is not None and options[option] is not None:
            yield str(acc_id), str(option), size, row


def dump_options(market: Market, doc: dict[str, Any], num: Callable[[Any], Any]) -> None:
    """Write the option parts of ``market`` into ``doc`` (in place): the ``[options.*]``
    tables, ``[option_margin]`` and ``[portfolio_margin]`` when not the defaults, and each
    account's positions and margin method inline."""
    if market.options:
        doc["options"] = {}
        for name, o in market.options.items():
            d = o.model_dump(exclude_none=True, exclude={"name"})
            d["kind"] = o.kind.value
            d["expiry"] = format_time(o.expiry)
            doc["options"][name] = num(d)
    om = market.option_margin.model_dump(exclude_defaults=True)
    if om:
        doc["option_margin"] = num(om)
    pm = market.portfolio_margin.model_dump(exclude_defaults=True)
    if "scenarios" in pm:
        pm["scenarios"] = [
            {"spot": s.spot, "vol": s.vol.value, "damping": s.damping}
            for s in market.portfolio_margin.scenarios
        ]
    if pm:
        doc["portfolio_margin"] = num(pm)
    for acc in market.accounts.values():
        entry = doc["accounts"][acc.id]
        if acc.margin is not MarginMethod.STANDARD:
            entry["margin"] = acc.margin.value
        if acc.options:
            entry["options"] = num(dict(acc.options))
