"""The perp parts of a market file (contract 5): ``[perps.*]``, ``market.insurance_fund``,
positions in accounts and in a long-form ``perps_file``; and writing them back.

Loading reports every problem with its location into the caller's list, as the rest of
:mod:`xmargin.io.market_file` does (contract 1.1); nothing is half-loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from xmargin.errors import Problem
from xmargin.io.long_tables import read_columns
from xmargin.mathlib import ZERO, quantize_down
from xmargin.model.market import Market
from xmargin.model.numbers import NumberError, parse_number
from xmargin.model.params import AssetParams
from xmargin.model.perps import PerpParams, PerpPosition

__all__ = [
    "PERPS_FILE_COLUMNS",
    "dump_perps",
    "parse_perps",
    "parse_position",
    "perps_of_account",
    "read_perps_file",
]

#: Columns of a ``perps_file`` (contract 5.8); ``funding_index`` is optional.
PERPS_FILE_COLUMNS = ("account", "perp", "size", "entry_price", "funding_index")
_POSITION_KEYS = ("size", "entry_price", "funding_index")

Validate = Callable[[type[PerpParams], Any, str, list[Problem]], PerpParams | None]


def parse_perps(
    raw: Any,
    assets: Mapping[str, AssetParams | None],
    validate: Validate,
    problems: list[Problem],
) -> dict[str, PerpParams | None]:
    """The ``[perps.*]`` tables: each validated, its underlying and settlement asset known.

    A perp whose own table is invalid maps to ``None`` (its name stays known, so that
    positions in it are not reported twice).
    """
    out: dict[str, PerpParams | None] = {}
    if not isinstance(raw, dict):
        problems.append(Problem("perps", "must be a table"))
        return out
    for name, table in raw.items():
        loc = f"perps.{name}"
        if isinstance(table, dict) and "name" in table:
            problems.append(Problem(f"{loc}.name", "unknown key"))
            out[name] = None
            continue
        data = {**table, "name": name} if isinstance(table, dict) else table
        perp = validate(PerpParams, data, loc, problems)
        for key in ("underlying", "settlement_asset"):  # reported even if the table is invalid
            symbol = table.get(key) if isinstance(table, dict) else None
            if isinstance(symbol, str) and symbol not in assets:
                problems.append(Problem(f"{loc}.{key}", f"unknown asset {symbol!r}"))
                perp = None
        out[name] = perp
    return out


def _size_problem(size: Decimal, perp: PerpParams, assets: Mapping[str, AssetParams | None]) -> str:
    ap = assets.get(perp.underlying)
    if ap is not None and quantize_down(size, ap.decimals) != size:
        return f"has more than {ap.decimals} decimal places (the underlying's), was {size}"
    return ""


def parse_position(
    cells: Mapping[str, Any],
    perp: PerpParams | None,
    assets: Mapping[str, AssetParams | None],
    where: str,
    problems: list[Problem],
) -> PerpPosition | None:
    """One position from its ``size``, ``entry_price`` and optional ``funding_index``.

    ``size``: signed base units, at most the underlying's decimals; ``entry_price`` > 0;
    ``funding_index`` defaults to the perp's F. A cell's location is ``where.key``.
    ``perp`` is ``None`` when the perp is invalid: the cells are still checked.
    """

    def loc(key: str) -> str:
        return f"{where}.{key}"

    values: dict[str, Decimal] = {}
    ok = True
    for key in _POSITION_KEYS:
        cell = cells.get(key)
        if cell is None or cell == "":
            if key != "funding_index":
                problems.append(Problem(loc(key), "required"))
                ok = False
            continue
        try:
            values[key] = parse_number(cell)
        except NumberError as exc:
            problems.append(Problem(loc(key), str(exc)))
            ok = False
    size, entry = values.get("size"), values.get("entry_price")
    if entry is not None and entry <= ZERO:
        problems.append(Problem(loc("entry_price"), f"must be > 0, was {entry}"))
        ok = False
    why = _size_problem(size, perp, assets) if size is not None and perp is not None else ""
    if why:
        problems.append(Problem(loc("size"), why))
        ok = False
    if not ok or perp is None or size is None or entry is None:
        return None
    return PerpPosition(size, entry, values.get("funding_index", perp.funding_index))


def perps_of_account(
    raw: Any,
    where: str,
    perps: Mapping[str, PerpParams | None],
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> dict[str, PerpPosition]:
    """An inline account's ``perps = { NAME = { size, entry_price, funding_index } }``."""
    out: dict[str, PerpPosition] = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(where, f"must be a table of perp = position, was {type(raw).__name__}")
        )
        return out
    for name, table in raw.items():
        here = f"{where}.{name}"
        if name not in perps:
            problems.append(Problem(here, f"unknown perp {name!r}"))
            continue
        if not isinstance(table, dict):
            problems.append(
                Problem(
                    here,
                    "must be a table { size, entry_price, funding_index }, "
                    f"was {type(table).__name__}",
                )
            )
            continue
        for key in table:
            if key not in _POSITION_KEYS:
                problems.append(Problem(f"{here}.{key}", "unknown key"))
        pos = parse_position(table, perps[name], assets, here, problems)
        if pos is not None:
            out[name] = pos
    return out


def read_perps_file(
    path: Path,
    perps: Mapping[str, PerpParams | None],
    assets: Mapping[str, AssetParams | None],
    problems: list[Problem],
) -> Iterator[tuple[str, str, PerpPosition, str]]:
    """Rows of a long-form ``perps_file`` (CSV or Parquet, contract 5.8):
    ``(account, perp, position, location)``. A repeated ``(account, perp)`` is a problem.
    """
    name = path.name
    cols = read_columns(path, "perps_file", PERPS_FILE_COLUMNS, problems, required=4)
    if cols is None:
        return
    seen: set[tuple[str, str]] = set()
    for i, acc_id in enumerate(cols["account"]):
        row = f"{name}:row {i + 2}"  # 1-based, after the header line
        perp_name = cols["perp"][i]
        if acc_id is None or acc_id == "":
            problems.append(Problem(f"{row}.account", "must not be empty"))
            continue
        if perp_name not in perps:
            problems.append(Problem(f"{row}.perp", f"unknown perp {perp_name!r}"))
            continue
        if (acc_id, perp_name) in seen:
            problems.append(Problem(row, f"repeats account {acc_id!r} and perp {perp_name!r}"))
            continue
        seen.add((acc_id, perp_name))
        cells = {k: cols[k][i] for k in _POSITION_KEYS if k in cols}
        pos = parse_position(cells, perps[perp_name], assets, row, problems)
        if pos is not None:
            yield str(acc_id), str(perp_name), pos, row


def dump_perps(market: Market, doc: dict[str, Any], num: Callable[[Any], Any]) -> None:
    """Write the perp parts of ``market`` into the document ``doc`` (in place): the fund
    in ``[market]``, the ``[perps.*]`` tables with today's funding index, and each
    account's positions inline. A market without perps or fund gains nothing."""
    fund = {a: v for a, v in market.insurance_fund.items() if v}
    if fund:
        doc["market"]["insurance_fund"] = num(fund)
    if market.perps:
        doc["perps"] = {
            name: num(p.model_dump(exclude_none=True, exclude={"name"}))
            for name, p in market.perps.items()
        }
    for acc in market.accounts.values():
        if acc.perps:
            doc["accounts"][acc.id]["perps"] = {
                name: num(
                    {"size": p.size, "entry_price": p.entry_price, "funding_index": p.funding_index}
                )
                for name, p in acc.perps.items()
            }
