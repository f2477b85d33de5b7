"""The options the commands share, declared once: the market file, ``--json``, names, and
the options of a Monte Carlo run.

Every command module takes its arguments from here, so that ``MARKET_FILE`` and
``--json`` read the same in every help text, and no command module imports another.
``simulate montecarlo`` and ``optimize`` take the same Monte Carlo options (contract 7.2:
``optimize`` computes VaR99 as ``simulate montecarlo`` does), declared once below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from xmargin.errors import InputError
from xmargin.model.numbers import NumberError, parse_number

__all__ = [
    "AccountOpt",
    "Cap",
    "Corr",
    "DesignList",
    "Dof",
    "End",
    "FundingRates",
    "Gas",
    "Horizon",
    "Json",
    "Lambda",
    "Maps",
    "MarketFile",
    "ModelOpt",
    "OutOpt",
    "Paths",
    "PauseDrop",
    "PauseWindow",
    "Prices",
    "Progress",
    "Report",
    "Scheduler",
    "Seed",
    "Settle",
    "ShockOpts",
    "Start",
    "Statics",
    "StepLength",
    "Steps",
    "UseLiquidity",
    "Vols",
    "Workers",
    "check_gas",
    "check_workers",
    "name_values",
    "vols",
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
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write the market after the action here (input's format)."),
]

# -- a Monte Carlo run (simulate montecarlo, optimize) and the simulations' breakers ---------
ModelOpt = Annotated[
    str, typer.Option("--model", help="bootstrap (filtered historical), t, or gbm.")
]
Prices = Annotated[
    list[Path] | None, typer.Option("--prices", help="Price files or folders (CSV).")
]
Start = Annotated[str | None, typer.Option("--start", help="Calibration window start.")]
End = Annotated[str | None, typer.Option("--end", help="Calibration window end.")]
Maps = Annotated[
    list[str] | None,
    typer.Option("--map", help="ASSET=SERIES: price series that drives a market asset."),
]
Statics = Annotated[
    list[str] | None, typer.Option("--static", help="Hold this asset at today's price.")
]
Vols = Annotated[
    list[str] | None, typer.Option("--vol", help="SERIES=0.8: a stated annual volatility.")
]
Corr = Annotated[
    float | None, typer.Option("--corr", help="gbm without data: one common correlation.")
]
Dof = Annotated[float, typer.Option("--dof", help="Degrees of freedom of the t model.")]
Lambda = Annotated[float, typer.Option("--lambda", help="EWMA decay of the bootstrap.")]
Paths = Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")]
Horizon = Annotated[str, typer.Option("--horizon", help="Horizon, e.g. 24h.")]
Steps = Annotated[int, typer.Option("--steps", help="Steps over the horizon.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed: same seed, same paths and numbers.")]
Settle = Annotated[
    bool, typer.Option("--settle/--no-settle", help="Liquidate at today's prices first.")
]
UseLiquidity = Annotated[
    bool, typer.Option("--liquidity/--no-liquidity", help="Use the market's liquidity models.")
]
Gas = Annotated[float, typer.Option("--gas", help="Quote a liquidator pays per liquidation.")]
Cap = Annotated[
    float | None,
    typer.Option("--cap", help="Breaker: most debt value (quote) liquidated per round per path."),
]
PauseDrop = Annotated[
    str | None,
    typer.Option("--pause-drop", help="Breaker: pause an asset's liquidations after a fall (20%)."),
]
PauseWindow = Annotated[
    str, typer.Option("--pause-window", help="Window of the pause's high, e.g. 1h.")
]
Workers = Annotated[
    int | None, typer.Option("--workers", help="Run on a Dask LocalCluster of N workers.")
]
Scheduler = Annotated[
    str | None, typer.Option("--scheduler", help="Run on an existing Dask cluster (address).")
]


# -- the simulations' paths (simulate cascade, replay, compare) ----------------------------
FundingRates = Annotated[
    list[str] | None,
    typer.Option(
        "--funding-rate",
        help="PERP=0.01%/h: funding accrues at this rate over steps (repeatable).",
        show_default=False,
    ),
]
DesignList = Annotated[
    str,
    typer.Option(
        "--liquidation",
        help="Designs to compare, comma-separated: fixed, threshold, health, target, "
        "auction, storefront.",
    ),
]
StepLength = Annotated[
    str, typer.Option("--step", help="Time per step: auction time, e.g. 10m (contract 8.6).")
]


def check_gas(gas: float) -> None:
    """``--gas``: a finite quote amount >= 0."""
    if not (math.isfinite(gas) and gas >= 0):
        raise InputError(f"--gas: must be >= 0, was {gas}")


def check_workers(workers: int | None, scheduler: str | None) -> None:
    """``--workers N`` (a local Dask cluster) or ``--scheduler ADDRESS``, not both."""
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: must be >= 1, was {workers}")


def name_values(items: Sequence[str], option: str) -> dict[str, str]:
    """``["A=1", "B=x"]`` -> ``{"A": "1", "B": "x"}``; refuses an item without a name or
    value, and a name given twice."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{option} {item!r}: expected NAME=VALUE")
        if key.strip() in out:
            raise InputError(f"{option}: {key.strip()} is given more than once")
        out[key.strip()] = value.strip()
    return out


def vols(items: Sequence[str], option: str = "--vol") -> dict[str, float]:
    """``--vol SERIES=0.8`` options as annual volatilities: numbers >= 0 in the contract's
    syntax (0.8 is 80% a year)."""
    out: dict[str, float] = {}
    for name, text in name_values(items, option).items():
        try:
            v = parse_number(text)
        except NumberError as exc:
            raise InputError(f"{option} {name}={text}: not a number ({exc.reason})") from None
        if v < 0:
            raise InputError(f"{option} {name}={text}: must be >= 0")
        out[name] = float(v)
    return out


def warning_level(text: str, option: str = "--warning-level") -> Decimal:
    """A warning level (a number >= 1) from an option's text."""
    from xmargin.risk.status import check_warning_level

    try:
        level = parse_number(text)
    except NumberError as exc:
        raise InputError(f"{option}: {exc}") from None
    return check_warning_level(level, option)
