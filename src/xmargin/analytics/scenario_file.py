"""Scenario files: what a scenario is, and the TOML that describes it, validated.

Every key is optional except what a kind needs::

    [defaults]                      # applies to every scenario below
    prices = "prices_hourly"        # price files (a folder or files), relative to this file
    map = { wstETH = "stETH" }      # market asset -> price series
    static = ["STG"]                # assets held at today's price in a replay
    cascade = true                  # liquidators need profit; sales move prices
    gas = 10                        # quote per liquidation
    max_round_value = 5e6           # breaker: debt value liquidated per round, per path
    pause_drop = "20%"              # breaker: pause when a price falls this far ...
    pause_window = "1h"             # ... below its high over this window

    [scenarios.eth-crash]
    description = "ETH -40%, LSTs follow"
    shocks = { WETH = "-40%", wstETH = "-40%" }
    steps = 4                       # reach the shock in 4 equal steps (in log price)

    [scenarios.broad-downturn]      # lead falls; others follow with a correlation
    correlated = { lead = "WETH", shock = "-30%", correlation = 0.8, assets = ["WBTC"] }

    [scenarios.steth-discount]      # broken correlation: leaves its peg to a reference
    shocks = { WETH = "-20%" }
    depeg = [{ asset = "wstETH", reference = "WETH", deviation = "-7%" }]

    [scenarios.ust-collapse]        # replay a window of the price files
    replay = { start = "2022-05-07", end = "2022-05-14", step = "1h" }

    [scenarios.eth-vol-spike]       # options on WETH: σ -> σ·(1 + 50%), as --vol-shock
    shocks = { WETH = "-10%" }
    vol_shock = { WETH = "+50%" }   # alone, or beside any kind (a replay too)

The file is validated by pydantic models at one boundary, as market files are: every
problem is reported at once with its location (``scenarios.eth-crash.shocks.WETH``) in a
:class:`~xmargin.errors.ScenarioFileError`. What the keys do to prices:
:mod:`xmargin.analytics.scenario_paths`; running a scenario:
:mod:`xmargin.analytics.scenarios`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictStr,
    ValidationError,
)

from xmargin.analytics.cascade import Breakers
from xmargin.analytics.prices import duration_hours, time_seconds
from xmargin.analytics.prices import parse_duration_hours as duration_hours_of
from xmargin.errors import InputError, Problem, ScenarioFileError
from xmargin.io.documents import DocumentError, DuplicateKeys, read_document
from xmargin.model.numbers import parse_number
from xmargin.model.problems import translate_validation_error
from xmargin.risk import shocks

__all__ = [
    "Correlated",
    "Depeg",
    "Replay",
    "Scenario",
    "breakers_of",
    "breakers_of_options",
    "fraction_of",
    "load_scenarios",
    "parse_fraction",
    "parse_scenarios",
]

#: The largest scenario file read: it holds settings, never accounts.
MAX_SCENARIO_FILE_BYTES = 16 * 1024 * 1024


# -- what a scenario is -------------------------------------------------------------------
@dataclass(frozen=True)
class Correlated:
    """A broad downturn: ``lead`` moves by ``shock``; others follow with ``correlation``."""

    lead: str
    shock: float
    correlation: float
    assets: tuple[str, ...] | None = None
    vols: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Depeg:
    """``asset`` leaves its peg to ``reference`` (or to its own price) by ``deviation``."""

    asset: str
    deviation: float
    reference: str | None = None


@dataclass(frozen=True)
class Replay:
    """A window of the price files, replayed as relative moves from today's prices."""

    start: str
    end: str
    step: str = "1h"


@dataclass(frozen=True)
class Scenario:
    """One scenario and how to run it (see the module docstring)."""

    name: str
    description: str = ""
    shocks: Mapping[str, float] = field(default_factory=dict)
    correlated: Correlated | None = None
    depeg: tuple[Depeg, ...] = ()
    replay: Replay | None = None
    steps: int = 1
    prices: tuple[str, ...] = ()
    asset_map: Mapping[str, str] = field(default_factory=dict)
    static: tuple[str, ...] = ()
    cascade: bool = False
    gas: float = 0.0
    breakers: Breakers = field(default_factory=Breakers)
    step_hours: float = 1.0
    impact_half_life_hours: float | None = None
    #: volatility shocks by underlying (exact fractions, ``stress --vol-shock``'s)
    vol_shocks: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "replay" if self.replay is not None else "shock"


# -- numbers of scenario files and options --------------------------------------------------
def fraction_of(value: Any) -> float:
    """``"-40%"`` -> -0.4, ``-0.4`` -> -0.4 (:func:`xmargin.risk.shocks.parse_fraction`);
    :class:`ValueError` with the reason otherwise."""
    return float(shocks.parse_fraction(value))


def parse_fraction(value: Any, where: str) -> float:
    """:func:`fraction_of`, or an :class:`InputError` located at ``where``."""
    try:
        return fraction_of(value)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def breakers_of(
    cap: float | None,
    pause_drop: float | None,
    pause_window_hours: float | None,
    step_hours: float,
) -> Breakers:
    """Circuit breakers from their settings: a cap per round (quote), a pause after a drop
    (a fraction in (0, 1)) over a window (hours, counted in steps of ``step_hours``; none:
    one step). :class:`InputError` naming the option otherwise."""
    if cap is not None and not (math.isfinite(cap) and cap > 0):
        raise InputError(f"--cap: must be a positive value, was {cap}")
    if pause_drop is not None and not 0.0 < pause_drop < 1.0:
        raise InputError(f"--pause-drop: must be a fraction in (0, 1), was {pause_drop}")
    window = 1 if pause_window_hours is None else round(pause_window_hours / step_hours)
    return Breakers(cap, pause_drop, max(1, window))


def breakers_of_options(
    cap: float | None, pause_drop: str | None, pause_window: str, step_hours: float
) -> Breakers:
    """:func:`breakers_of` from the command line's texts: ``--cap``, ``--pause-drop 20%``,
    ``--pause-window 1h`` (every error names its option)."""
    drop = None if pause_drop is None else parse_fraction(pause_drop, "--pause-drop")
    window = duration_hours_of(pause_window, "--pause-window")
    return breakers_of(cap, drop, window, step_hours)


def _check(test: Any, text: str, show: bool = True) -> Any:
    def check(x: float) -> float:
        if not test(x):
            raise ValueError(f"{text}, was {x:g}" if show else text)
        return x

    return AfterValidator(check)


def _positive(value: Any) -> float:
    x = float(parse_number(value))
    if not x > 0:
        raise ValueError(f"must be a positive number, was {value!r}")
    return x


def _steps(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise ValueError(f"must be an integer from 1 to 100000, was {value!r}")
    return value


def _strings(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _text_of(parse: Any) -> Any:
    def check(value: Any) -> str:
        parse(value)
        return str(value)

    return BeforeValidator(check)


Fraction = Annotated[float, BeforeValidator(fraction_of)]
_STAYS = "must be above -100% so the price stays > 0"
Shock = Annotated[Fraction, _check(lambda x: x > -1.0, _STAYS, show=False)]
Correlation = Annotated[Fraction, _check(lambda x: -1.0 <= x <= 1.0, "must be in [-1, 1]")]
Drop = Annotated[Fraction, _check(lambda x: 0.0 < x < 1.0, "must be a fraction in (0, 1)")]
Gas = Annotated[Fraction, _check(lambda x: x >= 0.0, "must be >= 0")]
PositiveNumber = Annotated[float, BeforeValidator(_positive)]
Hours = Annotated[float, BeforeValidator(duration_hours)]
TimeText = Annotated[str, _text_of(time_seconds)]
DurationText = Annotated[str, _text_of(duration_hours)]
Names = Annotated[tuple[StrictStr, ...], BeforeValidator(_strings)]
VolShock = Annotated[Decimal, BeforeValidator(shocks.vol_shock_fraction)]
Steps = Annotated[int, BeforeValidator(_steps)]

_TABLE = ConfigDict(frozen=True, extra="forbid")


# -- the file, as pydantic reads it ----------------------------------------------------------
class _CorrelatedTable(BaseModel):
    model_config = _TABLE
    lead: StrictStr
    shock: Shock
    correlation: Correlation
    assets: Names | None = None
    vols: dict[StrictStr, PositiveNumber] = {}


class _DepegTable(BaseModel):
    model_config = _TABLE
    asset: StrictStr
    deviation: Shock
    reference: StrictStr | None = None


class _ReplayTable(BaseModel):
    model_config = _TABLE
    start: TimeText
    end: TimeText
    step: DurationText = "1h"


class _Defaults(BaseModel):
    """The keys a ``[defaults]`` table may set (every scenario's, but what it does)."""

    model_config = _TABLE
    steps: Steps = 1
    prices: Names = ()
    map: dict[StrictStr, StrictStr] = {}
    static: Names = ()
    cascade: StrictBool = False
    gas: Gas = 0.0
    max_round_value: PositiveNumber | None = None
    pause_drop: Drop | None = None
    pause_window: Hours | None = None
    step_hours: PositiveNumber | None = None
    impact_half_life: Hours | None = None


def _kind_problems(table: Mapping[str, Any], loc: str) -> list[Problem]:
    """What a scenario needs to be one kind: moves (shocks, correlated, depeg), or a replay
    of price files, never both. Read from the keys, so that it is reported beside the
    problems of their values."""
    moves = any(table.get(k) for k in ("shocks", "correlated", "depeg"))
    if "replay" in table:  # a volatility shock may join a replay: it moves no price
        out = []
        if moves:
            why = "a replay cannot be combined with shocks, correlated or depeg"
            out.append(Problem(f"{loc}.replay", why))
        if "prices" not in table:
            out.append(Problem(f"{loc}.prices", "a replay needs price files (prices = ...)"))
        return out
    if not moves and not table.get("vol_shock"):
        return [Problem(loc, "needs shocks, correlated, depeg, replay or vol_shock")]
    return []


def _depegs(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class _ScenarioTable(_Defaults):
    """One ``[scenarios.NAME]`` table, the defaults merged in."""

    description: StrictStr = ""
    shocks: dict[StrictStr, Shock] = {}
    correlated: _CorrelatedTable | None = None
    depeg: Annotated[tuple[_DepegTable, ...], BeforeValidator(_depegs)] = ()
    replay: _ReplayTable | None = None
    vol_shock: dict[StrictStr, VolShock] = {}

    def scenario(self, name: str, base: Path | None) -> Scenario:
        step_h = self.step_hours or (
            duration_hours(self.replay.step) if self.replay is not None else 1.0
        )
        c = self.correlated
        return Scenario(
            name=name,
            description=self.description,
            shocks=dict(self.shocks),
            correlated=None
            if c is None
            else Correlated(c.lead, c.shock, c.correlation, c.assets, dict(c.vols)),
            depeg=tuple(Depeg(d.asset, d.deviation, d.reference) for d in self.depeg),
            replay=None
            if self.replay is None
            else Replay(self.replay.start, self.replay.end, self.replay.step),
            steps=self.steps,
            prices=tuple(str((base or Path(".")) / p) for p in self.prices),
            asset_map=dict(self.map),
            static=self.static,
            cascade=self.cascade,
            gas=self.gas,
            breakers=breakers_of(self.max_round_value, self.pause_drop, self.pause_window, step_h),
            step_hours=step_h,
            impact_half_life_hours=self.impact_half_life,
            vol_shocks=dict(self.vol_shock),
        )


# -- reading ----------------------------------------------------------------------------------
def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read a scenario file (TOML, or JSON by its suffix) as market files are read
    (:func:`xmargin.io.documents.read_document`: a regular file of bounded size, numbers
    kept as their text for :func:`~xmargin.model.numbers.parse_number`, repeated keys
    refused); every problem is reported at once, with its location."""
    p = Path(path)
    try:
        raw = read_document(p, MAX_SCENARIO_FILE_BYTES)
    except DuplicateKeys as exc:
        problems = [Problem(e.location, e.message) for e in exc.errors]
        raise ScenarioFileError(str(p), problems) from None
    except DocumentError as exc:
        raise ScenarioFileError(str(p), [Problem(exc.location, exc.message)]) from None
    if not isinstance(raw, dict):
        raise ScenarioFileError(str(p), [Problem("", "the top level must be a table")])
    return parse_scenarios(raw, str(p), p.parent)


def parse_scenarios(
    raw: Mapping[str, Any], source: str = "<scenarios>", base_dir: Path | None = None
) -> list[Scenario]:
    """Validate a parsed scenario document (see the module docstring)."""
    problems: list[Problem] = []
    for key in raw:
        if key not in ("defaults", "scenarios"):
            problems.append(Problem(str(key), "unknown section (expected defaults, scenarios)"))
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(Problem("defaults", "must be a table"))
        defaults = {}
    try:
        _Defaults.model_validate(defaults)
    except ValidationError as exc:
        found = translate_validation_error(exc, "defaults")
        problems.extend(found)
        bad = {p.location.split(".")[1] for p in found if p.location.count(".")}
        defaults = {k: v for k, v in defaults.items() if k not in bad}
    tables = raw.get("scenarios")
    if not isinstance(tables, dict) or not tables:
        problems.append(Problem("scenarios", "at least one [scenarios.NAME] table is required"))
        tables = {}
    out: list[Scenario] = []
    for name, table in tables.items():
        loc = f"scenarios.{name}"
        if not isinstance(table, dict):
            problems.append(Problem(loc, "must be a table"))
            continue
        merged = {**defaults, **table}
        kind = _kind_problems(merged, loc)
        problems.extend(kind)
        try:
            model = _ScenarioTable.model_validate(merged)
        except ValidationError as exc:
            problems.extend(translate_validation_error(exc, loc))
        else:
            if not kind:
                out.append(model.scenario(str(name), base_dir))
    if problems:
        raise ScenarioFileError(source, problems)
    return out
