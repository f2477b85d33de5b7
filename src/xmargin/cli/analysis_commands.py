"""``xmargin calibrate``, ``xmargin optimize``, ``xmargin network`` (contract section 7).

Each command parses its options, calls :mod:`xmargin.analytics` (calibration,
optimize, network) and renders a table, or with ``--json`` the contract's document;
``--report FILE`` also writes a self-contained HTML page. ``optimize`` takes every
option of ``simulate montecarlo`` with the same defaults, and exits 1 (after printing
its document with ``"feasible": false``) when no proposal meets the VaR budget.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from xmargin.cli import analysis_render as show
from xmargin.cli import render
from xmargin.cli.options import (
    Cap,
    Corr,
    Dof,
    End,
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
    Steps,
    UseLiquidity,
    Vols,
    Workers,
    check_workers,
    name_values,
)
from xmargin.cli.options import vols as parse_vols
from xmargin.errors import InputError
from xmargin.model.numbers import NumberError, parse_number
from xmargin.risk.shocks import parse_shocks

__all__ = ["register"]

Assets = Annotated[list[str] | None, typer.Option("--asset", help="Only this asset (repeatable).")]


# -- calibrate ----------------------------------------------------------------------------
def calibrate_command(
    market_file: MarketFile,
    prices: Prices = None,
    assets: Assets = None,
    maps: Maps = None,
    vols: Vols = None,
    confidence: Annotated[float, typer.Option("--confidence", help="q, e.g. 0.99.")] = 0.99,
    horizon: Annotated[
        float | None,
        typer.Option("--horizon", help="T in days (default: from size and liquidity)."),
    ] = None,
    estimator: Annotated[
        str, typer.Option("--estimator", help="Volatility used: ewma or garch.")
    ] = "ewma",
    lam: Annotated[float, typer.Option("--lambda", help="EWMA decay per return step.")] = 0.94,
    return_step: Annotated[
        str, typer.Option("--return-step", help="Return interval, e.g. 1d or 1h.")
    ] = "1d",
    recovery: Annotated[
        float,
        typer.Option("--recovery", help="Times a day the liquidity within the bonus refills."),
    ] = 1.0,
    min_horizon: Annotated[float, typer.Option("--min-horizon", help="Least T in days.")] = 1.0,
    basis: Annotated[
        str, typer.Option("--horizon-basis", help="account (largest borrower) or market (all).")
    ] = "account",
    buffer_sigmas: Annotated[
        float, typer.Option("--cf-buffer-sigmas", help="k of the cf buffer.")
    ] = 1.0,
    buffer_days: Annotated[
        float, typer.Option("--cf-buffer-days", help="t of the cf buffer.")
    ] = 1.0,
    despike: Annotated[str, typer.Option("--despike", help="pegged, all or none.")] = "pegged",
    check_paths: Annotated[
        int, typer.Option("--check-paths", help="Paths of the MC check.")
    ] = 4000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo check.")] = 0,
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Haircuts, liquidation thresholds and collateral factors from volatility and liquidity."""
    from xmargin import simulate as sim
    from xmargin.analytics import calibration as cal
    from xmargin.analytics.analysis_inputs import load_inputs

    if estimator not in ("ewma", "garch"):
        raise InputError(f"--estimator: expected ewma or garch, was {estimator!r}")
    if basis not in ("account", "market"):
        raise InputError(f"--horizon-basis: expected account or market, was {basis!r}")
    if despike not in ("pegged", "all", "none"):
        raise InputError(f"--despike: expected pegged, all or none, was {despike!r}")
    cfg = cal.CalibrationConfig(
        confidence=confidence, horizon_days=horizon, estimator=estimator,  # type: ignore[arg-type]
        lam=lam, return_step_hours=sim.parse_duration_hours(return_step, "--return-step"),
        recovery=recovery, min_horizon_days=min_horizon, horizon_basis=basis,  # type: ignore[arg-type]
        cf_buffer_sigmas=buffer_sigmas, cf_buffer_days=buffer_days,
        despike=despike, check_paths=check_paths, seed=seed,  # type: ignore[arg-type]
    )  # fmt: skip
    inputs = load_inputs(market_file)
    chosen = list(dict.fromkeys(assets or []))
    for a in chosen:
        inputs.book.asset_index(a, "--asset")
    if not chosen:
        chosen = [a for a, p in inputs.market.assets.items() if p.liquidation_threshold > 0]
    amap = name_values(maps or [], "--map")
    series = [amap.get(a, a) for a in chosen]
    stated: dict[str, float] | None = None
    histories = None
    if vols:
        if prices:
            raise InputError("give --prices or --vol, not both")
        given = parse_vols(vols)
        stated = {}
        for s in series:
            if s not in given:
                raise InputError(f"--vol: no volatility for {s} (or leave it out with --asset)")
            if given[s] > 100:
                raise InputError(f"--vol {s}={given[s]:g}: must be from 0 to 100")
            stated[s] = given[s]
    elif prices:
        histories = cal.load_histories(prices, series)
    else:
        raise InputError("give --prices (price files or a folder) or --vol ASSET=0.8 ...")
    result = cal.calibrate(inputs, chosen, cfg, histories, stated, amap)
    if report is not None:
        from xmargin.analytics.analysis_report import calibration_html
        from xmargin.analytics.report import write_report

        write_report(calibration_html(result), report)
    if as_json:
        render.print_json(result.to_doc())
        return
    show.print_calibration(result.to_doc(), confidence)


# -- optimize -----------------------------------------------------------------------------
def optimize_command(
    market_file: MarketFile,
    var99_max: Annotated[
        float, typer.Option("--var99-max", help="K: the VaR99 budget (quote).", show_default=False)
    ],
    assets: Assets = None,
    max_step: Annotated[
        str, typer.Option("--max-step", help="Largest change per parameter.")
    ] = "0.03",
    candidates: Annotated[int, typer.Option("--candidates", help="Moves tried per asset.")] = 10,
    method: Annotated[str, typer.Option("--method", help="chaos or joint.")] = "chaos",
    lar_max: Annotated[
        float | None, typer.Option("--lar-max", help="Bound on Liquidations-at-Risk.")
    ] = None,
    caps: Annotated[
        list[str] | None,
        typer.Option("--caps", help="Search supply and/or borrow caps (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the proposed market here.")
    ] = None,
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
) -> int:
    """Largest borrowing capacity with VaR99 of bad debt within K: a proposal and its diff."""
    from xmargin import simulate as sim
    from xmargin.analytics.analysis_inputs import load_inputs
    from xmargin.analytics.optimize import Evaluator, OptimizeConfig, optimize
    from xmargin.analytics.proposal import render_proposal, write_proposal

    try:
        step = parse_number(max_step)
    except NumberError as exc:
        raise InputError(f"--max-step: {exc}") from None
    check_workers(workers, scheduler)
    kinds = tuple(dict.fromkeys(k.strip() for c in (caps or []) for k in c.split(",") if k.strip()))
    for k in kinds:
        if k not in ("supply", "borrow"):
            raise InputError(f"--caps: expected supply or borrow, was {k!r}")
    ocfg = OptimizeConfig(var99_max, lar_max, step, candidates, method, kinds)  # type: ignore[arg-type]
    opts = sim.MonteCarloOptions(
        model, tuple(prices or ()), start, end, name_values(maps or [], "--map"),
        tuple(statics or ()), parse_vols(vols or []), corr, dof, lam, paths, horizon, steps,
        seed, settle_first, use_liquidity, gas, cap, pause_drop, pause_window,
    )  # fmt: skip
    inputs = load_inputs(market_file)
    mc_cfg = opts.config()
    m = opts.return_model(inputs.book)
    liq = opts.liquidity(inputs.liquidity)
    dots = sys.stderr.isatty() if progress is None else progress

    def dot() -> None:
        sys.stderr.write(".")
        sys.stderr.flush()

    with sim.runner_on(workers, scheduler, m, mc_cfg, liq) as runner:
        ev = Evaluator(inputs, m, mc_cfg, liq, runner, dot if dots else None)
        result = optimize(inputs, ev, assets, ocfg)
    if dots:
        sys.stderr.write("\n")
    target = out or market_file.with_name(market_file.stem + ".proposed" + market_file.suffix)
    result.diff = (
        write_proposal(inputs, result.changes, out)
        if out is not None
        else render_proposal(inputs, result.changes, target)[1]
    )
    if report is not None:
        from xmargin.analytics.analysis_report import optimize_html
        from xmargin.analytics.report import write_report

        write_report(optimize_html(result, inputs.book.quote), report)
    doc = result.to_doc()
    if as_json:
        render.print_json(doc)
    else:
        show.print_optimize(doc, inputs.book.quote)
    if not result.feasible:
        sys.stderr.write(
            f"error: no proposal meets VaR99 <= {ocfg.var99_max:g}; the best found has VaR99 "
            f"{result.after.var99:,.2f}\n"
        )
        return 1
    return 0


# -- network ------------------------------------------------------------------------------
def network_command(
    market_file: MarketFile,
    entities: Annotated[
        Path | None, typer.Option("--entities", help="Entities and cross-claims (TOML).")
    ] = None,
    shocks: Annotated[
        list[str] | None, typer.Option("--shock", help="ASSET=-30% (repeatable).")
    ] = None,
    max_edges: Annotated[int, typer.Option("--max-edges", help="Edges listed at most.")] = 10_000,
    report: Report = None,
    as_json: Json = False,
) -> None:
    """Concentration (HHI, top-10), seized share, liquidation contagion, entity clearing."""
    from xmargin.analytics.analysis_inputs import load_inputs
    from xmargin.analytics.clearing import load_entities
    from xmargin.analytics.network import network

    if not 0 <= max_edges <= 10_000_000:
        raise InputError(f"--max-edges: must be from 0 to 10000000, was {max_edges}")
    parsed = parse_shocks(shocks or [])
    inputs = load_inputs(market_file)
    book = inputs.book
    ents = None if entities is None else load_entities(entities, book.assets)
    result = network(book, inputs.liquidity, parsed, max_edges, entities=ents)
    if report is not None:
        from xmargin.analytics.network_report import network_html
        from xmargin.analytics.report import write_report

        write_report(network_html(result), report)
    doc = result.to_doc()
    if as_json:
        render.print_json(doc)
    else:
        show.print_network(doc)


def register(app: typer.Typer) -> None:
    """Add ``calibrate``, ``optimize`` and ``network`` to ``app`` (once)."""
    names = {c.name for c in app.registered_commands}
    for name, fn in (
        ("calibrate", calibrate_command),
        ("optimize", optimize_command),
        ("network", network_command),
    ):
        if name not in names:
            app.command(name)(fn)
