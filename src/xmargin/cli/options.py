"""The options the commands share, declared once: the market file, ``--json``, names.

Every command module takes its arguments from here, so that ``MARKET_FILE`` and
``--json`` read the same in every help text, and no command module imports another.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from xmargin.errors import InputError
from xmargin.model.numbers import NumberError, parse_number

__all__ = [
    "AccountOpt",
    "Json",
    "MarketFile",
    "Progress",
    "Report",
    "ShockOpts",
    "name_values",
    "warning_level",
]

MarketFile = Annotated[
    Path,
    typer.Argument(
        metavar="MARKET_FILE",
        help="Market file, .toml or .json (contract section 1).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document and nothing else.")]
AccountOpt = Annotated[str, typer.Option("--account", help="Account ID.", show_default=False)]
ShockOpts = Annotated[
    list[str],
    typer.Option(
        "--shock",
        help="ASSET=-30% (or ASSET=-0.3): multiply its price by 1 + shock. Repeatable.",
        show_default=False,
    ),
]
Report = Annotated[
    Path | None,
    typer.Option("--report", help="Also write a self-contained HTML report to this file."),
]
Progress = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress", help="Progress bar on stderr (default: if a terminal)."
    ),
]


def name_values(items: Sequence[str], option: str) -> dict[str, str]:
    """``["A=1", "B=x"]`` -> ``{"A": "1", "B": "x"}``; refuses an item without a name or value."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{option} {item!r}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def warning_level(text: str, option: str = "--warning-level") -> Decimal:
    """A warning level (a number >= 1) from an option's text."""
    from xmargin.risk.status import check_warning_level

    try:
        level = parse_number(text)
    except NumberError as exc:
        raise InputError(f"{option}: {exc}") from None
    return check_warning_level(level, option)
