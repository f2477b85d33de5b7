"""Deterministic scenarios: shocks, correlated downturns, de-pegs and historical replays.

A scenario turns today's prices into a path of prices (one or more steps); the path is
run through the liquidation engine (:class:`~xmargin.analytics.cascade.PathEngine`):
liquidators follow the contract's rules, and with ``cascade = true`` they act only when
profitable and sell into each asset's liquidity, whose price impact feeds the next round.

Scenario files are TOML; every key is optional except what a kind needs::

    [defaults]                      # applies to every scenario below
    prices = "prices_hourly"        # price files (a folder or files), relative to this file
    map = { wstETH = "stETH" }      # market asset -> price series
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

Semantics. ``shocks``: price x (1 + shock). ``correlated``: the lead's log return
``r = ln(1 + shock)``; each listed asset (default: every other asset not shocked)
moves by ``correlation * (vol_a / vol_lead) * r`` in log price (the conditional mean of a
bivariate normal), with volatilities from ``vols = {...}``, else from the price files,
else equal. ``depeg``: the asset's price becomes its reference's new price times today's
ratio times ``(1 + deviation)`` (no reference: its own price times ``(1 + deviation)``).
They apply in that order. ``replay``: every asset's price follows its series' ratio to
the window's first price (``p_t = p_today * P_t / P_start``); assets without a series
must be listed in ``static = [...]`` (held at today's price).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.cascade import Breakers, CascadeRecord, PathEngine, PathOutcome
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo import settle
from xmargin.analytics.prices import (
    HOURS_PER_YEAR,
    PriceHistory,
    load_prices,
    parse_duration_hours,
    parse_time,
)
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError, Problem, ScenarioFileError

__all__ = [
    "Correlated",
    "Depeg",
    "Replay",
    "Scenario",
    "ScenarioResult",
    "compare_breakers",
    "load_scenarios",
    "parse_fraction",
    "parse_scenarios",
    "run_scenario",
    "scenario_prices",
]

FloatArray = NDArray[np.float64]

_SCENARIO_KEYS = {
    "description", "shocks", "correlated", "depeg", "replay", "steps", "prices", "map",
    "static", "cascade", "gas", "max_round_value", "pause_drop", "pause_window",
    "step_hours", "impact_half_life",
}  # fmt: skip
_DEFAULT_KEYS = _SCENARIO_KEYS - {"description", "shocks", "correlated", "depeg", "replay"}


def parse_fraction(value: Any, where: str) -> float:
    """``"-40%"`` -> -0.4, ``-0.4`` -> -0.4; a finite number, else :class:`InputError`."""
    if isinstance(value, bool):
        raise InputError(f"{where}: must be a number or a percentage, was {value!r}")
    text = str(value).strip()
    pct = text.endswith("%")
    try:
        d = Decimal(text[:-1].strip() if pct else text)
    except (InvalidOperation, ValueError):
        raise InputError(f"{where}: must be a number or a percentage, was {value!r}") from None
    if not d.is_finite():
        raise InputError(f"{where}: must be finite, was {value!r}")
    x = float(d) / 100.0 if pct else float(d)
    return x


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

    @property
    def kind(self) -> str:
        return "replay" if self.replay is not None else "shock"


# -- files ----------------------------------------------------------------------------------
def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read a scenario file; every problem is reported at once, with its location."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(str(p), [Problem("", f"cannot read: {exc}")]) from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(str(p), [Problem("", f"not valid TOML: {exc}")]) from exc
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
    for key in defaults:
        if key not in _DEFAULT_KEYS:
            problems.append(Problem(f"defaults.{key}", "unknown key"))
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
        merged = {**{k: v for k, v in defaults.items() if k in _DEFAULT_KEYS}, **table}
        sc = _parse_one(str(name), merged, loc, problems, base_dir)
        if sc is not None:
            out.append(sc)
    if problems:
        raise ScenarioFileError(source, problems)
    return out


def _fraction(value: Any, loc: str, problems: list[Problem], above: float | None = -1.0) -> float:
    try:
        x = parse_fraction(value, loc)
    except InputError as exc:
        problems.append(Problem(loc, str(exc).removeprefix(f"{loc}: ")))
        return 0.0
    if above is not None and x <= above:
        problems.append(Problem(loc, f"must be above {above * 100:g}% so the price stays > 0"))
    return x


def _positive(value: Any, loc: str, problems: list[Problem]) -> float:
    try:
        x = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        problems.append(Problem(loc, f"must be a number, was {value!r}"))
        return 0.0
    if isinstance(value, bool) or not math.isfinite(x) or x <= 0:
        problems.append(Problem(loc, f"must be a positive number, was {value!r}"))
    return x


def _str_list(value: Any, loc: str, problems: list[Problem]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(loc, "must be a list of strings"))
        return ()
    return tuple(value)


def _parse_one(
    name: str, t: Mapping[str, Any], loc: str, problems: list[Problem], base: Path | None
) -> Scenario | None:
    n0 = len(problems)
    for key in t:
        if key not in _SCENARIO_KEYS:
            problems.append(Problem(f"{loc}.{key}", "unknown key"))
    shocks: dict[str, float] = {}
    raw_shocks = t.get("shocks", {})
    if not isinstance(raw_shocks, dict):
        problems.append(Problem(f"{loc}.shocks", "must be a table of ASSET = shock"))
    else:
        for a, v in raw_shocks.items():
            shocks[a] = _fraction(v, f"{loc}.shocks.{a}", problems)
    corr: Correlated | None = None
    if "correlated" in t:
        c = t["correlated"]
        cl = f"{loc}.correlated"
        if not isinstance(c, dict):
            problems.append(Problem(cl, "must be a table"))
        else:
            for key in c:
                if key not in ("lead", "shock", "correlation", "assets", "vols"):
                    problems.append(Problem(f"{cl}.{key}", "unknown key"))
            lead = c.get("lead")
            if not isinstance(lead, str):
                problems.append(Problem(f"{cl}.lead", "required: the asset that leads"))
                lead = ""
            shock = _fraction(c.get("shock", "missing"), f"{cl}.shock", problems)
            rho = _fraction(c.get("correlation", "missing"), f"{cl}.correlation", problems, None)
            if not -1.0 <= rho <= 1.0:
                problems.append(Problem(f"{cl}.correlation", f"must be in [-1, 1], was {rho}"))
            assets = _str_list(c["assets"], f"{cl}.assets", problems) if "assets" in c else None
            vols: dict[str, float] = {}
            if "vols" in c:
                if not isinstance(c["vols"], dict):
                    problems.append(Problem(f"{cl}.vols", "must be a table of ASSET = vol"))
                else:
                    for a, v in c["vols"].items():
                        vols[a] = _positive(v, f"{cl}.vols.{a}", problems)
            corr = Correlated(lead, shock, rho, assets, vols)
    depegs: list[Depeg] = []
    raw_dp = t.get("depeg", [])
    if isinstance(raw_dp, dict):
        raw_dp = [raw_dp]
    if not isinstance(raw_dp, list):
        problems.append(Problem(f"{loc}.depeg", "must be a list of tables"))
        raw_dp = []
    for i, d in enumerate(raw_dp):
        dl = f"{loc}.depeg.{i}"
        if not isinstance(d, dict):
            problems.append(Problem(dl, "must be a table"))
            continue
        for key in d:
            if key not in ("asset", "deviation", "reference"):
                problems.append(Problem(f"{dl}.{key}", "unknown key"))
        asset = d.get("asset")
        if not isinstance(asset, str):
            problems.append(Problem(f"{dl}.asset", "required"))
            continue
        ref = d.get("reference")
        if ref is not None and not isinstance(ref, str):
            problems.append(Problem(f"{dl}.reference", "must be an asset name"))
            ref = None
        dev = _fraction(d.get("deviation", "missing"), f"{dl}.deviation", problems)
        depegs.append(Depeg(asset, dev, ref))
    replay: Replay | None = None
    if "replay" in t:
        r = t["replay"]
        rl = f"{loc}.replay"
        if not isinstance(r, dict):
            problems.append(Problem(rl, "must be a table with start and end"))
        else:
            for key in r:
                if key not in ("start", "end", "step"):
                    problems.append(Problem(f"{rl}.{key}", "unknown key"))
            for key in ("start", "end"):
                try:
                    parse_time(r.get(key, ""), f"{rl}.{key}")
                except InputError as exc:
                    problems.append(Problem(f"{rl}.{key}", str(exc).split(": ", 1)[-1]))
            try:
                parse_duration_hours(r.get("step", "1h"), f"{rl}.step")
            except InputError as exc:
                problems.append(Problem(f"{rl}.step", str(exc).split(": ", 1)[-1]))
            replay = Replay(str(r.get("start")), str(r.get("end")), str(r.get("step", "1h")))
        if shocks or corr is not None or depegs:
            problems.append(
                Problem(rl, "a replay cannot be combined with shocks, correlated or depeg")
            )
        if "prices" not in t:
            problems.append(Problem(f"{loc}.prices", "a replay needs price files (prices = ...)"))
    if replay is None and not (shocks or corr is not None or depegs):
        problems.append(Problem(loc, "needs shocks, correlated, depeg or replay"))
    steps = t.get("steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 100_000:
        problems.append(
            Problem(f"{loc}.steps", f"must be an integer from 1 to 100000, was {steps!r}")
        )
        steps = 1
    prices: tuple[str, ...] = ()
    if "prices" in t:
        prices = tuple(
            str((base or Path(".")) / p) for p in _str_list(t["prices"], f"{loc}.prices", problems)
        )
    amap: dict[str, str] = {}
    if "map" in t:
        if not isinstance(t["map"], dict) or not all(isinstance(v, str) for v in t["map"].values()):
            problems.append(Problem(f"{loc}.map", 'must be a table of ASSET = "SERIES"'))
        else:
            amap = dict(t["map"])
    static = _str_list(t.get("static", []), f"{loc}.static", problems)
    cascade = t.get("cascade", False)
    if not isinstance(cascade, bool):
        problems.append(Problem(f"{loc}.cascade", "must be true or false"))
        cascade = False
    gas = 0.0
    if "gas" in t:
        gas = _fraction(t["gas"], f"{loc}.gas", problems, None)
        if gas < 0:
            problems.append(Problem(f"{loc}.gas", f"must be >= 0, was {gas}"))
    cap = (
        _positive(t["max_round_value"], f"{loc}.max_round_value", problems)
        if "max_round_value" in t
        else None
    )
    drop = None
    if "pause_drop" in t:
        drop = _fraction(t["pause_drop"], f"{loc}.pause_drop", problems, None)
        if not 0.0 < drop < 1.0:
            problems.append(
                Problem(f"{loc}.pause_drop", f"must be a fraction in (0, 1), was {drop}")
            )
    step_h = 1.0
    if replay is not None:
        try:
            step_h = parse_duration_hours(replay.step)
        except InputError:
            step_h = 1.0
    if "step_hours" in t:
        step_h = _positive(t["step_hours"], f"{loc}.step_hours", problems) or 1.0
    window_steps = 1
    if "pause_window" in t:
        try:
            window_steps = max(1, round(parse_duration_hours(t["pause_window"]) / step_h))
        except InputError as exc:
            problems.append(Problem(f"{loc}.pause_window", str(exc).split(": ", 1)[-1]))
    half = None
    if "impact_half_life" in t:
        try:
            half = parse_duration_hours(t["impact_half_life"])
        except InputError as exc:
            problems.append(Problem(f"{loc}.impact_half_life", str(exc).split(": ", 1)[-1]))
    desc = t.get("description", "")
    if not isinstance(desc, str):
        problems.append(Problem(f"{loc}.description", "must be a string"))
        desc = ""
    if len(problems) > n0:
        return None
    return Scenario(
        name=name,
        description=desc,
        shocks=shocks,
        correlated=corr,
        depeg=tuple(depegs),
        replay=replay,
        steps=int(steps),
        prices=prices,
        asset_map=amap,
        static=static,
        cascade=cascade,
        gas=gas,
        breakers=Breakers(cap, drop, window_steps),
        step_hours=step_h,
        impact_half_life_hours=half,
    )


# -- prices ---------------------------------------------------------------------------------
def _history_for(book: SimBook, sc: Scenario, assets: Sequence[str]) -> PriceHistory:
    series = [sc.asset_map.get(a, a) for a in assets]
    return load_prices(list(sc.prices), symbols=list(dict.fromkeys(series)))


def _terminal(book: SimBook, sc: Scenario) -> FloatArray:
    """Prices after the scenario's shocks, correlated move and de-pegs."""
    p0 = book.price
    p = p0.copy()
    for a, x in sc.shocks.items():
        p[book.asset_index(a, f"scenario {sc.name} shocks")] = p0[book.asset_index(a)] * (1.0 + x)
    c = sc.correlated
    if c is not None:
        lead = book.asset_index(c.lead, f"scenario {sc.name} correlated.lead")
        followers = (
            [book.asset_index(a, f"scenario {sc.name} correlated.assets") for a in c.assets]
            if c.assets is not None
            else [j for j, a in enumerate(book.assets) if j != lead and a not in sc.shocks]
        )
        vols = _vols(book, sc, [lead, *followers])
        r_lead = math.log1p(c.shock)
        p[lead] = p0[lead] * (1.0 + c.shock)
        for j in followers:
            beta = c.correlation * vols[j] / vols[lead] if vols[lead] > 0 else c.correlation
            p[j] = p0[j] * math.exp(beta * r_lead)
    for d in sc.depeg:
        j = book.asset_index(d.asset, f"scenario {sc.name} depeg")
        if d.reference is None:
            p[j] = p[j] * (1.0 + d.deviation)
        else:
            r = book.asset_index(d.reference, f"scenario {sc.name} depeg reference")
            p[j] = p[r] * (p0[j] / p0[r]) * (1.0 + d.deviation)
    return p


def _vols(book: SimBook, sc: Scenario, idx: Sequence[int]) -> dict[int, float]:
    c = sc.correlated
    assert c is not None
    out = {j: 1.0 for j in idx}
    named = [j for j in idx if book.assets[j] in c.vols]
    for j in named:
        out[j] = c.vols[book.assets[j]]
    rest = [j for j in idx if j not in named]
    if rest and sc.prices:
        hist = _history_for(book, sc, [book.assets[j] for j in rest])
        r = hist.log_returns()
        sd = r.std(axis=0, ddof=1) * math.sqrt(HOURS_PER_YEAR / hist.step_hours)
        for j in rest:
            out[j] = float(sd[hist.symbols.index(sc.asset_map.get(book.assets[j], book.assets[j]))])
    return out


def scenario_prices(book: SimBook, sc: Scenario) -> tuple[FloatArray, FloatArray | None]:
    """``(path, times)``: exogenous prices per step (steps x assets), and unix times for a
    replay (``None`` otherwise)."""
    if sc.replay is not None:
        for a in sc.static:
            book.asset_index(a, f"scenario {sc.name} static")
        moving = [a for a in book.assets if a not in sc.static]
        series = [sc.asset_map.get(a, a) for a in moving]
        hist = load_prices(
            list(sc.prices),
            symbols=list(dict.fromkeys(series)),
            step=sc.replay.step,
            start=sc.replay.start,
            end=sc.replay.end,
        )
        rel = hist.relative_path()
        path = np.repeat(book.price[None, :], len(hist.times), axis=0)
        for a, s in zip(moving, series, strict=True):
            j = book.asset_index(a)
            path[:, j] = book.price[j] * rel[:, hist.symbols.index(s)]
        return path, hist.times.astype(np.float64)
    end = _terminal(book, sc)
    if (end <= 0).any() or not np.isfinite(end).all():
        raise InputError(f"scenario {sc.name}: a price would fall to zero or below")
    frac = np.arange(1, sc.steps + 1)[:, None] / sc.steps
    path = book.price[None, :] * np.exp(frac * np.log(end / book.price)[None, :])
    return path, None


# -- running ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioResult:
    """What a scenario did to the book (values in quote).

    ``totals``: bad debt (written off + residual), liquidated volume (collateral seized),
    repaid value, protocol fees, counts. ``record``: prices and volumes round by round.
    """

    scenario: Scenario
    assets: tuple[str, ...]
    prices_before: FloatArray
    prices_after: FloatArray
    exo_path: FloatArray
    times: FloatArray | None
    totals: dict[str, float | int]
    record: CascadeRecord
    hf_before: FloatArray
    hf_after: FloatArray
    top_accounts: list[tuple[str, float]]
    toxic_accounts: list[str]
    liquidity_used: bool
    account_ids: tuple[str, ...] = ()


def _totals(o: PathOutcome) -> dict[str, float | int]:
    return {
        "bad_debt": float(o.bad_debt[0]),
        "written_off": float(o.written_off[0]),
        "residual": float(o.residual[0]),
        "liquidated_volume": float(o.seized[0]),
        "repaid_value": float(o.repaid[0]),
        "protocol_fees": float(o.fees[0]),
        "liquidations": int(o.liquidations[0]),
        "accounts_liquidated": int(o.accounts_liquidated[0]),
        "toxic_accounts": int(o.toxic_accounts[0]),
        "still_liquidatable": int(o.still_liquidatable[0]),
        "rounds": int(o.rounds[0]),
        "refused_unprofitable": int(o.unprofitable[0]),
        "refused_capped": int(o.capped[0]),
        "refused_paused": int(o.paused[0]),
        "borrowing_power": float(o.borrowing_power[0]),
        "borrowed": float(o.borrowed[0]),
    }


def run_scenario(
    book: SimBook,
    sc: Scenario,
    liquidity: Liquidity | None = None,
    settle_first: bool = False,
    breakers: Breakers | None = None,
    top: int = 10,
) -> ScenarioResult:
    """Run ``sc`` on ``book`` (one path) and gather what the report shows."""
    run_book = settle(book).book_after if settle_first else book
    path, times = scenario_prices(run_book, sc)
    use_liq = sc.cascade and liquidity is not None and liquidity.any
    gate = sc.cascade
    half = None if sc.impact_half_life_hours is None else sc.impact_half_life_hours / sc.step_hours
    engine = PathEngine(
        run_book,
        liquidity if use_liq else None,
        gate=gate,
        gas=sc.gas,
        breakers=breakers if breakers is not None else sc.breakers,
        impact_half_life_steps=half,
    )
    o, rec = engine.run(path[None, :, :], record=True)
    assert rec.final_s is not None and rec.final_b is not None
    after_book = run_book.with_balances(rec.final_s, rec.final_b)
    hf_before = run_book.health_factors()
    final = o.final_prices[0]
    hf_after = after_book.health_factors(final)
    bad = np.bincount(o.pair_acct, weights=o.pair_bad, minlength=book.n_accounts)
    order = np.argsort(-bad, kind="stable")[:top]
    tops = [(book.account_ids[i], float(bad[i])) for i in order if bad[i] > 0]
    toxic = [book.account_ids[i] for i in np.unique(o.pair_acct[o.pair_toxic > 0])]
    return ScenarioResult(
        scenario=sc,
        assets=book.assets,
        prices_before=run_book.price.copy(),
        prices_after=final,
        exo_path=path,
        times=times,
        totals=_totals(o),
        record=rec,
        hf_before=hf_before,
        hf_after=hf_after,
        top_accounts=tops,
        toxic_accounts=toxic,
        liquidity_used=use_liq,
        account_ids=book.account_ids,
    )


def compare_breakers(
    book: SimBook,
    sc: Scenario,
    liquidity: Liquidity | None,
    variants: Mapping[str, Breakers],
    settle_first: bool = False,
) -> dict[str, dict[str, float | int]]:
    """The scenario's totals under each set of breakers (``{"none": Breakers(), ...}``)."""
    return {
        label: run_scenario(book, sc, liquidity, settle_first, br).totals
        for label, br in variants.items()
    }
