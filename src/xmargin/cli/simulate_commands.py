"""Commands of hypothetical modeling: ``xmargin simulate
scenario|montecarlo|cascade|replay|compare``.

Each command parses its options, calls :mod:`xmargin.simulate` and renders a table (or,
with ``--json``, one JSON document whose numbers are decimal strings, as the contract's
are; :mod:`xmargin.cli.simulate_render`); ``--report FILE`` also writes a self-contained
HTML page. Long runs show a progress bar on stderr when it is a terminal.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.option_var import option_var, parse_elasticity
from xmargin.analytics.simbook import load_simbook
from xmargin.cli import compare_render, render
from xmargin.cli import simulate_render as out
from xmargin.cli.console import progress as progress_bar
from xmargin.cli.option_var_render import option_var_doc, print_option_var
from xmargin.cli.options import (
    Cap,
    Corr,
    DesignList,
    Dof,
    End,
    FundingRates,
    Gas,
    Horizon,
    Json,
    Lambda,
    Maps,
    MarketFile,
    ModelOpt,
    Paths,
    PauseDrop,
    PauseWindow,
    Prices,
    Progress,
    Report,
    Scheduler,
    Seed,
    Settle,
    Start,
    Statics,
    StepLength,
    Steps,
    UseLiquidity,
    Vols,
    Workers,
    check_gas,
    check_workers,
    name_values,
)
from xmargin.cli.options import vols as parse_vols
from xmargin.errors import InputError
from xmargin.risk.shocks import parse_shocks

if TYPE_CHECKING:
    from xmargin import simulate as sim
else:

    class _LazySimulate:
        """``xmargin.simulate`` on first use: it imports NumPy and the kernels, which
        would cost every other command start-up time if imported at registration."""

        def __getattr__(self, name: str) -> Any:
            import xmargin.simulate as module

            return getattr(module, name)

    sim = _LazySimulate()

__all__ = ["register", "simulate_app"]

simulate_app = typer.Typer(
    name="simulate",
    help="Hypothetical modeling: scenarios, Monte Carlo bad-debt VaR, liquidation cascades, "
    "liquidation designs compared.",
    no_args_is_help=True,
    add_completion=False,
)


def _funding(book: Any, specs: list[str] | None) -> dict[str, float]:
    """Rates per hour by perp from ``--funding-rate`` options."""
    if not specs:
        return {}
    names = book.perps.tables.names if book.perps is not None else ()
    return sim.parse_funding_rates(specs, names)


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
    settle_first: Settle = True,
    settle_first_old: Annotated[
        bool, typer.Option("--settle-first", hidden=True, help="Same as --settle (kept).")
    ] = False,
    progress: Progress = None,
    funding_rates: FundingRates = None,
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Run the scenarios of a scenario file on the book: liquidations, bad debt, cascade.

    As montecarlo, the book is first settled (liquidated at today's prices, reported
    apart); --no-settle skips that. Accounts holding options are also valued with them,
    exactly, at each scenario's end prices and vol_shock (as stress --vol-shock).
    """
    settle_first = settle_first or settle_first_old
    scenarios = sim.load_scenarios(scenario_file)
    if names:
        known = {s.name for s in scenarios}
        for n in names:
            if n not in known:
                raise InputError(f"--name {n!r}: no such scenario in {scenario_file}")
        scenarios = [s for s in scenarios if s.name in names]
    book, market = load_simbook(market_file)
    liquidity = Liquidity.from_params(market.assets)
    funding = _funding(book, funding_rates)
    results = []
    with progress_bar(len(scenarios), "scenarios", progress) as advance:
        for s in scenarios:
            try:
                results.append(
                    sim.run_scenario(
                        book, s, liquidity, settle_first, market=market, funding=funding
                    )
                )
            except InputError as exc:  # name the file and the scenario that needs the fix
                raise InputError(f"{scenario_file}: scenarios.{s.name}: {exc}") from None
            advance(1)
    if report is not None:
        sim.write_report(
            sim.scenario_html(results, f"Scenarios: {scenario_file.name}", book.quote), report
        )
    if as_json:
        docs = [out.scenario_doc(r) for r in results]
        render.print_json({"quote": book.quote, "scenarios": docs})
        return
    out.print_scenarios(results, book.quote)


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
    progress: Progress = None,
    funding_rates: FundingRates = None,
    report: Report = None,
    as_json: Json = False,
    liquidation: Annotated[
        str | None,
        typer.Option(
            "--liquidation",
            help="Liquidate by this design (fixed, threshold, health, target, auction, "
            "storefront); default: the market's own.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """A liquidation spiral: liquidators sell into each asset's liquidity until no profit.

    Compares the circuit breakers given (a cap per round, a price-drop pause) with none.
    """
    if liquidation is not None and liquidation not in sim.DESIGNS:
        raise InputError(
            f"--liquidation: unknown design {liquidation!r}; known: {', '.join(sim.DESIGNS)} "
            "(one; simulate compare runs several)"
        )
    check_gas(gas)
    parsed = {a: float(x) for a, x in parse_shocks(shocks).items()}
    if not 1 <= steps <= 100_000:
        raise InputError(f"--steps: must be from 1 to 100000, was {steps}")
    book, liquidity = sim.open_book(market_file)
    for a in parsed:
        book.asset_index(a, "--shock")
    funding = _funding(book, funding_rates)
    sc = sim.Scenario(name="cascade", shocks=parsed, steps=steps, cascade=True, gas=gas)
    full = sim.breakers_of_options(cap, pause_drop, pause_window, 1.0)
    variants = {"none": sim.Breakers()}
    if cap is not None:
        variants["cap"] = sim.Breakers(cap, None, full.pause_window_steps)
    if pause_drop is not None:
        variants["pause"] = sim.Breakers(None, full.pause_drop, full.pause_window_steps)
    if cap is not None and pause_drop is not None:
        variants["cap+pause"] = full
    design = sim.design_name(book, liquidation)
    results = {}
    with progress_bar(len(variants), "cascade variants", progress) as advance:
        for label, br in variants.items():
            named = dataclasses.replace(sc, name=label)
            results[label] = sim.run_scenario(
                book, named, liquidity, False, br, liquidation=liquidation, funding=funding
            )
            advance(1)
    if report is not None:
        sim.write_report(
            sim.scenario_html(list(results.values()), "Liquidation cascade", book.quote), report
        )
    if as_json:
        render.print_json(
            {
                "quote": book.quote,
                "liquidity_models": bool(liquidity.any),
                "liquidation": design,
                "variants": {k: out.scenario_doc(r) for k, r in results.items()},
            }
        )
        return
    if not liquidity.any:
        out.print_note("note: no asset declares liquidity; sales have no price impact")
    if design not in ("fixed", "threshold", "health"):
        out.print_note(f"liquidation design: {design} (contract 8.6)")
    out.print_scenarios(list(results.values()), book.quote)


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
    progress: Progress = None,
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Replay a window of historical prices, as moves from today's, through liquidations."""
    check_gas(gas)
    book, liquidity = sim.open_book(market_file)
    step_h = sim.parse_duration_hours(step, "--step")
    sc = sim.Scenario(
        name=f"replay {start} .. {end}",
        replay=sim.Replay(start, end, step),
        prices=tuple(str(p) for p in prices),
        asset_map=name_values(maps or [], "--map"),
        static=tuple(statics or []),
        cascade=cascade,
        gas=gas,
        breakers=sim.breakers_of_options(cap, pause_drop, pause_window, step_h),
        step_hours=step_h,
    )
    for p in (start, end):
        sim.parse_time(p, "--start/--end")
    with progress_bar(1, "replay", progress) as advance:
        result = sim.run_scenario(book, sc, liquidity)
        advance(1)
    if report is not None:
        sim.write_report(sim.scenario_html([result], "Historical replay", book.quote), report)
    if as_json:
        render.print_json({"quote": book.quote, "scenarios": [out.scenario_doc(result)]})
        return
    out.print_scenarios([result], book.quote)


# -- montecarlo ---------------------------------------------------------------------------
@simulate_app.command("montecarlo")
def montecarlo_command(
    market_file: MarketFile,
    model: ModelOpt = "bootstrap",
    prices: Prices = None,
    start: Start = None,
    end: End = None,
    maps: Maps = None,
    statics: Statics = None,
    vols: Vols = None,
    corr: Corr = None,
    dof: Dof = 4.0,
    lam: Lambda = 0.94,
    paths: Paths = 10_000,
    horizon: Horizon = "24h",
    steps: Steps = 1,
    seed: Seed = 0,
    settle_first: Settle = True,
    use_liquidity: UseLiquidity = True,
    gas: Gas = 0.0,
    cap: Cap = None,
    pause_drop: PauseDrop = None,
    pause_window: PauseWindow = "1h",
    workers: Workers = None,
    scheduler: Scheduler = None,
    progress: Progress = None,
    report: Report = None,
    as_json: Json = False,
    vol_elasticity: Annotated[
        float,
        typer.Option(
            "--vol-elasticity",
            help="Option books: σ moves as (S_T/S_0)^(-E) over the horizon (0 keeps σ).",
        ),
    ] = 1.0,
) -> None:
    """Monte Carlo over a horizon: VaR and ES of bad debt, Liquidations-at-Risk, usage;
    for a market with options, the option book's loss and shortfall with a volatility path."""
    check_gas(gas)
    check_workers(workers, scheduler)
    elasticity = parse_elasticity(vol_elasticity)
    opts = sim.MonteCarloOptions(
        model, tuple(prices or ()), start, end, name_values(maps or [], "--map"),
        tuple(statics or ()), parse_vols(vols or []), corr, dof, lam, paths, horizon, steps,
        seed, settle_first, use_liquidity, gas, cap, pause_drop, pause_window, elasticity,
    )  # fmt: skip
    cfg = opts.config()
    book, market = load_simbook(market_file)
    liquidity = Liquidity.from_params(market.assets)
    m = opts.return_model(book)
    liq = opts.liquidity(liquidity)
    with (
        progress_bar(paths, "paths", progress) as advance,
        sim.runner_on(workers, scheduler, m, cfg, liq, on_chunk=advance) as runner,
    ):
        result = sim.monte_carlo(book, m, cfg, liq, runner=runner, on_chunk=advance)
    if report is not None:
        detail = sim.replay_path(result, m, liq, 0.99)
        sim.write_report(sim.montecarlo_html(result, detail), report)
    options = option_var(market, book, m, cfg, elasticity) if market.options else None
    if as_json:
        doc = out.montecarlo_doc(result, book.quote)
        if options is not None:
            doc["options"] = option_var_doc(options)
        render.print_json(doc)
        return
    out.print_montecarlo(result, cfg, book.quote)
    if options is not None:
        print_option_var(options, book.quote)


# -- compare ------------------------------------------------------------------------------


@simulate_app.command("compare")
def compare_command(
    market_file: MarketFile,
    shocks: Annotated[
        list[str],
        typer.Option(
            "--shock",
            help="ASSET=-30%: the shock the paths reach (repeatable).",
            show_default=False,
        ),
    ],
    liquidation: DesignList = "fixed,threshold,health,target,auction,storefront",
    steps: Annotated[int, typer.Option("--steps", help="Reach the shock in this many steps.")] = 1,
    step: StepLength = "10m",
    horizon: Horizon = "4h",
    paths: Annotated[int, typer.Option("--paths", help="Paths (noise with --vol).")] = 1,
    seed: Seed = 0,
    vols: Vols = None,
    gas: Gas = 0.0,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also write a plot (.png, .svg, .pdf).")
    ] = None,
    as_json: Json = False,
) -> None:
    """The same paths under each liquidation design: bad debt, liquidated volume,
    liquidator profit, borrower loss, insurance fund drawdown, time to clear."""
    check_gas(gas)
    designs = sim.parse_designs(liquidation)
    parsed = {a: float(x) for a, x in parse_shocks(shocks).items()}
    step_hours = sim.parse_duration_hours(step, "--step")
    total = round(sim.parse_duration_hours(horizon, "--horizon") / step_hours)
    if not 1 <= total <= 100_000:
        raise InputError(f"--horizon: must be from 1 to 100000 steps of --step, was {total}")
    if not 1 <= paths <= 100_000:
        raise InputError(f"--paths: must be from 1 to 100000, was {paths}")
    if paths * total > 10_000_000:
        raise InputError(f"--paths: {paths} paths x {total} steps is more than 10,000,000")
    book, market = sim.load_simbook(market_file)
    liquidity = sim.Liquidity.from_params(market.assets)
    exo = sim.shock_paths(
        book, parsed, steps, total, paths, seed, parse_vols(vols or []), step_hours
    )
    results = sim.compare_designs(book, market, designs, exo, liquidity, gas, step_hours)
    title = f"{Path(market_file).name}: " + ", ".join(f"{a} {x:+.0%}" for a, x in parsed.items())
    if plot is not None:
        sim.write_compare_plot(results, plot, book.quote, title)
    if as_json:
        doc = sim.compare_doc(
            results, book.quote, parsed, paths, seed, total, step_hours, bool(liquidity.any)
        )
        render.print_json(doc)
        return
    note = "" if liquidity.any else "note: no asset declares liquidity; sales have no price impact"
    compare_render.print_compare(results, book.quote, paths, note)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and its commands to ``app`` (once, however often it is called)."""
    if not any(g.name == "simulate" for g in app.registered_groups):
        app.add_typer(simulate_app, name="simulate")
