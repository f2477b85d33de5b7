"""Commands of hypothetical modeling: ``xmargin simulate scenario|montecarlo|cascade|replay``.

Each command parses its options, calls :mod:`xmargin.simulate` and renders a table (or,
with ``--json``, one JSON document whose numbers are decimal strings, as the contract's
are); ``--report FILE`` also writes a self-contained HTML page. Long runs show a progress
bar on stderr when it is a terminal.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from xmargin.analytics.stress import parse_shock
from xmargin.cli import render
from xmargin.errors import InputError
from xmargin.mathlib import fmt

if TYPE_CHECKING:
    from xmargin import simulate as sim
else:

    class _LazySimulate:
        """``xmargin.simulate`` on first use: it imports Numba, which costs every other
        command about 0.6 s of start-up if imported when the CLI registers commands."""

        def __getattr__(self, name: str) -> Any:
            import xmargin.simulate as module

            return getattr(module, name)

    sim = _LazySimulate()

__all__ = ["register", "simulate_app"]

simulate_app = typer.Typer(
    name="simulate",
    help="Hypothetical modeling: scenarios, Monte Carlo bad-debt VaR, liquidation cascades.",
    no_args_is_help=True,
    add_completion=False,
)

MarketFile = Annotated[
    Path,
    typer.Argument(metavar="MARKET_FILE", help="Market file, .toml or .json.", show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document and nothing else.")]
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
Maps = Annotated[
    list[str] | None,
    typer.Option("--map", help="ASSET=SERIES: price series that drives a market asset."),
]
Statics = Annotated[
    list[str] | None, typer.Option("--static", help="Hold this asset at today's price.")
]


# -- numbers and documents ----------------------------------------------------------------
def _d(x: float | int | None) -> str | int | None:
    """A float as the contract writes numbers: a decimal string; ``null`` if not finite."""
    if x is None:
        return None
    if isinstance(x, int | np.integer) and not isinstance(x, bool):
        return int(x)
    f = float(x)
    if not math.isfinite(f):
        return None
    return fmt(Decimal(float.__repr__(f)))


def _figures_doc(figures: dict[str, sim.RiskFigure]) -> dict[str, Any]:
    return {k: {"value": _d(v.value), "std_error": _d(v.std_error)} for k, v in figures.items()}


def _totals_doc(totals: dict[str, float | int]) -> dict[str, Any]:
    return {k: _d(v) for k, v in totals.items()}


def _scenario_doc(r: sim.ScenarioResult) -> dict[str, Any]:
    rec = r.record
    return {
        "name": r.scenario.name,
        "kind": r.scenario.kind,
        "description": r.scenario.description,
        "cascade": r.scenario.cascade,
        "liquidity_models": r.liquidity_used,
        "prices_before": {a: _d(p) for a, p in zip(r.assets, r.prices_before, strict=True)},
        "prices_after": {a: _d(p) for a, p in zip(r.assets, r.prices_after, strict=True)},
        "totals": _totals_doc(r.totals),
        "rounds": [
            {
                "step": int(step),
                "prices": {a: _d(p) for a, p in zip(r.assets, prices[0], strict=True)},
                "liquidations": _d(int(ex[0])),
                "liquidated_volume": _d(sv[0]),
                "repaid_value": _d(rv[0]),
            }
            for step, prices, ex, sv, rv in zip(
                rec.step,
                rec.prices,
                rec.executed,
                rec.seized_value,
                rec.repaid_value,
                strict=True,
            )
        ],
        "top_accounts": [{"account": a, "bad_debt": _d(v)} for a, v in r.top_accounts],
        "toxic_accounts": list(r.toxic_accounts),
    }


def _console(stderr: bool = False) -> Console:
    console = Console(markup=False, emoji=False, highlight=False, stderr=stderr)
    if not console.is_terminal:
        console.width = max(console.width, 140)
    return console


def _num(x: float, places: int = 2) -> str:
    return "-" if not math.isfinite(x) else f"{x:,.{places}f}"


@contextmanager
def _progress(total: int, label: str, show: bool | None) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr; ``advance(n)`` moves it by ``n``."""
    on = sys.stderr.isatty() if show is None else show
    if not on:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _kv(items: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(f"{option} {item!r}: expected NAME=VALUE")
        out[key.strip()] = value.strip()
    return out


def _breakers(
    cap: float | None, pause_drop: str | None, window: str, step_h: float
) -> sim.Breakers:
    if cap is not None and not (math.isfinite(cap) and cap > 0):
        raise InputError(f"--cap: must be a positive value, was {cap}")
    drop = None
    if pause_drop is not None:
        from xmargin.analytics.scenarios import parse_fraction

        drop = parse_fraction(pause_drop, "--pause-drop")
        if not 0.0 < drop < 1.0:
            raise InputError(f"--pause-drop: must be a fraction in (0, 1), was {pause_drop}")
    steps = max(1, round(sim.parse_duration_hours(window, "--pause-window") / step_h))
    return sim.Breakers(cap, drop, steps)


def _book(market_file: Path) -> tuple[sim.SimBook, sim.Liquidity]:
    book, market = sim.load_simbook(market_file)
    if market is None:
        from xmargin.io.market_file import parse_market, read_market_document

        raw, _ = read_market_document(market_file)
        mk = {k: v for k, v in raw["market"].items() if k != "accounts_file"}
        market = parse_market({**raw, "market": mk}, str(market_file), market_file.parent)
    return book, sim.Liquidity.from_params(market.assets)


def _check_gas(gas: float) -> None:
    if not (math.isfinite(gas) and gas >= 0):
        raise InputError(f"--gas: must be >= 0, was {gas}")


# -- scenario -----------------------------------------------------------------------------
@simulate_app.command("scenario")
def scenario_command(
    market_file: MarketFile,
    scenario_file: Annotated[
        Path,
        typer.Argument(metavar="SCENARIO_FILE", help="Scenario file (TOML).", show_default=False),
    ],
    names: Annotated[
        list[str] | None, typer.Option("--name", help="Run only this scenario (repeatable).")
    ] = None,
    settle_first: Annotated[
        bool, typer.Option("--settle-first", help="Liquidate at today's prices first.")
    ] = False,
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Run the scenarios of a scenario file on the book: liquidations, bad debt, cascade."""
    scenarios = sim.load_scenarios(scenario_file)
    if names:
        known = {s.name for s in scenarios}
        for n in names:
            if n not in known:
                raise InputError(f"--name {n!r}: no such scenario in {scenario_file}")
        scenarios = [s for s in scenarios if s.name in names]
    book, liquidity = _book(market_file)
    results = [sim.run_scenario(book, s, liquidity, settle_first) for s in scenarios]
    if report is not None:
        sim.write_report(sim.scenario_html(results, f"Scenarios: {scenario_file.name}"), report)
    if as_json:
        render.print_json({"quote": book.quote, "scenarios": [_scenario_doc(r) for r in results]})
        return
    _print_scenarios(results, book.quote)


def _print_scenarios(results: Sequence[sim.ScenarioResult], quote: str) -> None:
    console = _console()
    table = Table(title=f"Scenarios (values in {quote})", title_justify="left")
    cols = [
        "bad_debt",
        "liquidated_volume",
        "liquidations",
        "accounts_liquidated",
        "toxic_accounts",
        "rounds",
        "still_liquidatable",
    ]
    table.add_column("scenario")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for r in results:
        table.add_row(
            r.scenario.name,
            *[_num(float(r.totals[c]), 2 if isinstance(r.totals[c], float) else 0) for c in cols],
        )
    console.print(table)
    for r in results:
        if r.top_accounts:
            t = Table(title=f"{r.scenario.name}: top accounts by bad debt", title_justify="left")
            t.add_column("account")
            t.add_column(f"bad debt ({quote})", justify="right")
            for a, v in r.top_accounts[:5]:
                t.add_row(a, _num(v))
            console.print(t)


# -- cascade ------------------------------------------------------------------------------
@simulate_app.command("cascade")
def cascade_command(
    market_file: MarketFile,
    shocks: Annotated[
        list[str],
        typer.Option(
            "--shock", help="ASSET=-30%: the shock that starts it (repeatable).", show_default=False
        ),
    ],
    steps: Annotated[int, typer.Option("--steps", help="Reach the shock in this many steps.")] = 1,
    gas: Gas = 0.0,
    cap: Cap = None,
    pause_drop: PauseDrop = None,
    pause_window: PauseWindow = "1h",
    report: Report = None,
    as_json: Json = False,
) -> None:
    """A liquidation spiral: liquidators sell into each asset's liquidity until no profit.

    Compares the circuit breakers given (a cap per round, a price-drop pause) with none.
    """
    _check_gas(gas)
    parsed: dict[str, float] = {}
    for asset, x in map(parse_shock, shocks):
        if asset in parsed:
            raise InputError(f"--shock: {asset} is shocked more than once")
        parsed[asset] = float(x)
    if not 1 <= steps <= 100_000:
        raise InputError(f"--steps: must be from 1 to 100000, was {steps}")
    book, liquidity = _book(market_file)
    for a in parsed:
        book.asset_index(a, "--shock")
    sc = sim.Scenario(name="cascade", shocks=parsed, steps=steps, cascade=True, gas=gas)
    full = _breakers(cap, pause_drop, pause_window, 1.0)
    variants = {"none": sim.Breakers()}
    if cap is not None:
        variants["cap"] = sim.Breakers(cap, None, full.pause_window_steps)
    if pause_drop is not None:
        variants["pause"] = sim.Breakers(None, full.pause_drop, full.pause_window_steps)
    if cap is not None and pause_drop is not None:
        variants["cap+pause"] = full
    results = {
        label: sim.run_scenario(book, dataclasses.replace(sc, name=label), liquidity, False, br)
        for label, br in variants.items()
    }
    if report is not None:
        sim.write_report(sim.scenario_html(list(results.values()), "Liquidation cascade"), report)
    if as_json:
        render.print_json(
            {
                "quote": book.quote,
                "liquidity_models": bool(liquidity.any),
                "variants": {k: _scenario_doc(r) for k, r in results.items()},
            }
        )
        return
    if not liquidity.any:
        _console().print("note: no asset declares liquidity; sales have no price impact")
    _print_scenarios(list(results.values()), book.quote)


# -- replay -------------------------------------------------------------------------------
@simulate_app.command("replay")
def replay_command(
    market_file: MarketFile,
    prices: Annotated[
        list[Path],
        typer.Option("--prices", help="Price files or folders (CSV).", show_default=False),
    ],
    start: Annotated[
        str, typer.Option("--start", help="Window start, ISO UTC.", show_default=False)
    ],
    end: Annotated[str, typer.Option("--end", help="Window end, ISO UTC.", show_default=False)],
    step: Annotated[str, typer.Option("--step", help="Grid step of the replay.")] = "1h",
    maps: Maps = None,
    statics: Statics = None,
    cascade: Annotated[
        bool, typer.Option("--cascade", help="Liquidators need profit; sales move prices.")
    ] = False,
    gas: Gas = 0.0,
    cap: Cap = None,
    pause_drop: PauseDrop = None,
    pause_window: PauseWindow = "1h",
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Replay a window of historical prices, as moves from today's, through liquidations."""
    _check_gas(gas)
    book, liquidity = _book(market_file)
    step_h = sim.parse_duration_hours(step, "--step")
    sc = sim.Scenario(
        name=f"replay {start} .. {end}",
        replay=sim.Replay(start, end, step),
        prices=tuple(str(p) for p in prices),
        asset_map=_kv(maps or [], "--map"),
        static=tuple(statics or []),
        cascade=cascade,
        gas=gas,
        breakers=_breakers(cap, pause_drop, pause_window, step_h),
        step_hours=step_h,
    )
    for p in (start, end):
        sim.parse_time(p, "--start/--end")
    result = sim.run_scenario(book, sc, liquidity)
    if report is not None:
        sim.write_report(sim.scenario_html([result], "Historical replay"), report)
    if as_json:
        render.print_json({"quote": book.quote, "scenarios": [_scenario_doc(result)]})
        return
    _print_scenarios([result], book.quote)


# -- montecarlo ---------------------------------------------------------------------------
def _model(
    book: sim.SimBook,
    kind: str,
    prices: Sequence[Path],
    start: str | None,
    end: str | None,
    asset_map: dict[str, str],
    static: Sequence[str],
    vols: dict[str, str],
    corr: float | None,
    dof: float,
    lam: float,
) -> sim.ReturnModel:
    held = {book.assets[j] for j in np.unique(book.col)}  # only held assets move figures
    moving = [a for a in book.assets if a not in static and a in held]
    series = list(dict.fromkeys(asset_map.get(a, a) for a in moving))
    if kind == "gbm" and not prices:
        if not vols:
            raise InputError("--model gbm: give --prices to calibrate, or --vol ASSET=0.8 ...")
        missing = [s for s in series if s not in vols]
        if missing:
            raise InputError(f"--vol: no volatility for {', '.join(missing)} (or --static them)")
        sigma = []
        for s in series:
            try:
                v = float(vols[s])
            except ValueError:
                raise InputError(f"--vol {s}={vols[s]}: not a number") from None
            if not (math.isfinite(v) and v >= 0):
                raise InputError(f"--vol {s}={vols[s]}: must be >= 0")
            sigma.append(v)
        rho = 0.0 if corr is None else corr
        if not -1.0 / max(1, len(series) - 1) <= rho <= 1.0 and len(series) > 1:
            raise InputError(f"--corr: {rho} is not a valid common correlation")
        c = np.full((len(series), len(series)), rho)
        np.fill_diagonal(c, 1.0)
        return sim.GBM(tuple(series), np.array(sigma), None, c)
    if not prices:
        raise InputError(f"--model {kind}: needs --prices (price files or a folder)")
    history = sim.load_prices(list(prices), symbols=series, start=start, end=end)
    if kind == "gbm":
        return sim.GBM.calibrate(history)
    if kind == "t":
        return sim.StudentT.calibrate(history, dof)
    if kind == "bootstrap":
        return sim.FilteredBootstrap(history, lam)
    raise InputError(f"--model {kind!r}: expected bootstrap, t or gbm")


@simulate_app.command("montecarlo")
def montecarlo_command(
    market_file: MarketFile,
    model: Annotated[
        str, typer.Option("--model", help="bootstrap (filtered historical), t, or gbm.")
    ] = "bootstrap",
    prices: Annotated[
        list[Path] | None, typer.Option("--prices", help="Price files or folders to calibrate on.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Calibration window start.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Calibration window end.")] = None,
    maps: Maps = None,
    statics: Statics = None,
    vols: Annotated[
        list[str] | None, typer.Option("--vol", help="gbm without data: SERIES=0.8 (annual).")
    ] = None,
    corr: Annotated[
        float | None, typer.Option("--corr", help="gbm without data: one common correlation.")
    ] = None,
    dof: Annotated[float, typer.Option("--dof", help="Degrees of freedom of the t model.")] = 4.0,
    lam: Annotated[float, typer.Option("--lambda", help="EWMA decay of the bootstrap.")] = 0.94,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")] = 10_000,
    horizon: Annotated[str, typer.Option("--horizon", help="Horizon, e.g. 24h.")] = "24h",
    steps: Annotated[int, typer.Option("--steps", help="Steps over the horizon.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same numbers.")] = 0,
    settle_first: Annotated[
        bool, typer.Option("--settle/--no-settle", help="Liquidate at today's prices first.")
    ] = True,
    use_liquidity: Annotated[
        bool,
        typer.Option("--liquidity/--no-liquidity", help="Use the market's liquidity models."),
    ] = True,
    gas: Gas = 0.0,
    cap: Cap = None,
    pause_drop: PauseDrop = None,
    pause_window: PauseWindow = "1h",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Run on a Dask LocalCluster of N workers.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Run on an existing Dask cluster (address).")
    ] = None,
    progress: Progress = None,
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Monte Carlo over a horizon: VaR and ES of bad debt, Liquidations-at-Risk, usage."""
    _check_gas(gas)
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: must be >= 1, was {workers}")
    hours = sim.parse_duration_hours(horizon, "--horizon")
    book, liquidity = _book(market_file)
    asset_map = _kv(maps or [], "--map")
    static = tuple(statics or [])
    for a in static:
        book.asset_index(a, "--static")
    m = _model(
        book,
        model,
        prices or [],
        start,
        end,
        asset_map,
        static,
        _kv(vols or [], "--vol"),
        corr,
        dof,
        lam,
    )
    cfg = sim.MonteCarloConfig(
        n_paths=paths,
        horizon_hours=hours,
        steps=steps,
        seed=seed,
        settle_first=settle_first,
        asset_map=asset_map,
        static=static,
        use_liquidity=use_liquidity,
        gas=gas,
        breakers=_breakers(cap, pause_drop, pause_window, hours / max(1, steps)),
    )
    liq = liquidity if use_liquidity else None
    with _progress(paths, "paths", progress) as advance:
        if workers is None and scheduler is None:
            result = sim.monte_carlo(book, m, cfg, liq, on_chunk=advance)
        else:
            with sim.dask_client(workers, scheduler) as client:
                runner = sim.dask_runner(client, m, cfg, liq, on_chunk=advance)
                result = sim.monte_carlo(book, m, cfg, liq, runner=runner)
    if report is not None:
        detail = sim.replay_path(result, m, liq, 0.99)
        sim.write_report(sim.montecarlo_html(result, detail), report)
    if as_json:
        render.print_json(
            {
                "quote": book.quote,
                "paths": cfg.n_paths,
                "horizon_hours": _d(cfg.horizon_hours),
                "steps": cfg.steps,
                "seed": cfg.seed,
                "engine": result.engine,
                "model": {
                    k: v if isinstance(v, str | int) else str(v)
                    for k, v in result.model.items()
                    if not isinstance(v, dict)
                },
                "initial": _totals_doc(result.initial),
                "figures": _figures_doc(result.figures),
                "top_accounts": [
                    {"account": a, "expected_bad_debt": _d(v)} for a, v in result.top_accounts(10)
                ],
            }
        )
        return
    console = _console()
    table = Table(
        title=f"Monte Carlo, {cfg.n_paths:,} paths over {hours:g} h (values in {book.quote})",
        title_justify="left",
    )
    table.add_column("figure")
    table.add_column("estimate", justify="right")
    table.add_column("std. error", justify="right")
    for k, v in result.figures.items():
        places = 4 if ("usage" in k or "probability" in k) else 2
        table.add_row(k.replace("_", " "), _num(v.value, places), _num(v.std_error, places))
    console.print(table)
    if result.initial:
        console.print(
            f"settled at today's prices first: bad debt {_num(float(result.initial['bad_debt']))}, "
            f"{result.initial['liquidations']} liquidations"
        )


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and its commands to ``app`` (once, however often it is called)."""
    if not any(g.name == "simulate" for g in app.registered_groups):
        app.add_typer(simulate_app, name="simulate")
