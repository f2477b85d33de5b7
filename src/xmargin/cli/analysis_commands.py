"""``xmargin calibrate``, ``xmargin optimize``, ``xmargin network`` (contract section 7).

Each command parses its options, calls :mod:`xmargin.analytics` (calibration,
optimize, network) and renders a table, or with ``--json`` the contract's document;
``--report FILE`` also writes a self-contained HTML page. ``optimize`` takes every
option of ``simulate montecarlo`` with the same defaults, and exits 1 (after printing
its document with ``"feasible": false``) when no proposal meets the VaR budget.
"""

from __future__ import annotations

import math
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from xmargin.cli import render
from xmargin.errors import InputError

__all__ = ["register"]

MarketFile = Annotated[
    Path,
    typer.Argument(metavar="MARKET_FILE", help="Market file, .toml or .json.", show_default=False),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document and nothing else.")]
Report = Annotated[Path | None, typer.Option("--report", help="Also write an HTML report here.")]
Assets = Annotated[list[str] | None, typer.Option("--asset", help="Only this asset (repeatable).")]
Prices = Annotated[
    list[Path] | None, typer.Option("--prices", help="Price files or folders (CSV).")
]
Maps = Annotated[
    list[str] | None, typer.Option("--map", help="ASSET=SERIES: the series of an asset.")
]
Vols = Annotated[
    list[str] | None, typer.Option("--vol", help="ASSET=0.8: a stated annual volatility.")
]


def _console() -> Console:
    console = Console(markup=False, emoji=False, highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 140)
    return console


def _table(title: str) -> Table:
    """A compact table: fits 80 columns without wrapping a number."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))


def _f(x: Any, places: int = 4) -> str:
    if x is None:
        return "-"
    v = float(x)
    return "-" if not math.isfinite(v) else f"{v:,.{places}f}"


def _pct(x: Any, places: int = 2) -> str:
    return "-" if x is None else f"{float(x) * 100:.{places}f}%"


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
    from xmargin.analytics.analysis_inputs import load_inputs, parse_kv

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
    amap = parse_kv(maps or [], "--map")
    series = [amap.get(a, a) for a in chosen]
    stated: dict[str, float] | None = None
    histories = None
    if vols:
        if prices:
            raise InputError("give --prices or --vol, not both")
        given = parse_kv(vols, "--vol")
        stated = {}
        for s in series:
            if s not in given:
                raise InputError(f"--vol: no volatility for {s} (or leave it out with --asset)")
            try:
                v = float(given[s])
            except ValueError:
                raise InputError(f"--vol {s}={given[s]}: not a number") from None
            if not (math.isfinite(v) and 0 <= v <= 100):
                raise InputError(f"--vol {s}={given[s]}: must be from 0 to 100")
            stated[s] = v
    elif prices:
        histories = cal.load_histories(prices, series)
    else:
        raise InputError("give --prices (price files or a folder) or --vol ASSET=0.8 ...")
    result = cal.calibrate(inputs, chosen, cfg, histories, stated, amap)
    if report is not None:
        from xmargin.analytics.analysis_report import calibration_html, write_html

        write_html(calibration_html(result), report)
    if as_json:
        render.print_json(result.to_doc())
        return
    t = _table(f"Calibration at {confidence:.2%} ({result.source})")
    for h in ("asset", "σ", "T (d)", "haircut", "terminal", "lt", "lt rec.", "cf", "cf rec."):
        t.add_column(h, justify="left" if h == "asset" else "right", no_wrap=True)
    for ac in result.assets:
        t.add_row(
            ac.asset, _pct(ac.volatility, 1), _f(ac.horizon_days, 2), _pct(ac.haircut),
            _pct(ac.haircut_terminal), _f(ac.lt_current), str(ac.lt_recommended),
            _f(ac.cf_current), str(ac.cf_recommended),
        )  # fmt: skip
    console = _console()
    console.print(t)
    for ac in result.assets:
        for flag in ac.flags:
            console.print(f"note: {ac.asset}: {flag}")


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
    model: Annotated[str, typer.Option("--model", help="bootstrap, t or gbm.")] = "bootstrap",
    prices: Prices = None,
    start: Annotated[str | None, typer.Option("--start", help="Calibration window start.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Calibration window end.")] = None,
    maps: Maps = None,
    statics: Annotated[
        list[str] | None, typer.Option("--static", help="Hold at today's price.")
    ] = None,
    vols: Vols = None,
    corr: Annotated[
        float | None, typer.Option("--corr", help="gbm without data: correlation.")
    ] = None,
    dof: Annotated[float, typer.Option("--dof", help="Degrees of freedom of the t model.")] = 4.0,
    lam: Annotated[float, typer.Option("--lambda", help="EWMA decay of the bootstrap.")] = 0.94,
    paths: Annotated[int, typer.Option("--paths", help="Monte Carlo paths.")] = 10_000,
    horizon: Annotated[str, typer.Option("--horizon", help="Horizon, e.g. 24h.")] = "24h",
    steps: Annotated[int, typer.Option("--steps", help="Steps over the horizon.")] = 1,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed: the same paths for every candidate.")
    ] = 0,
    settle_first: Annotated[
        bool, typer.Option("--settle/--no-settle", help="Liquidate today first.")
    ] = True,
    use_liquidity: Annotated[
        bool, typer.Option("--liquidity/--no-liquidity", help="Use the market's liquidity models.")
    ] = True,
    gas: Annotated[
        float, typer.Option("--gas", help="Quote a liquidator pays per liquidation.")
    ] = 0.0,
    cap: Annotated[
        float | None, typer.Option("--cap", help="Breaker: debt value per round.")
    ] = None,
    pause_drop: Annotated[
        str | None, typer.Option("--pause-drop", help="Breaker: pause after a fall.")
    ] = None,
    pause_window: Annotated[
        str, typer.Option("--pause-window", help="Window of the pause.")
    ] = "1h",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Dask LocalCluster of N workers.")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Existing Dask cluster.")
    ] = None,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress on stderr.")
    ] = None,
    report: Report = None,
    as_json: Json = False,
) -> int:
    """Largest borrowing capacity with VaR99 of bad debt within K: a proposal and its diff."""
    from xmargin import simulate as sim
    from xmargin.analytics.analysis_inputs import MonteCarloOptions, load_inputs, parse_kv
    from xmargin.analytics.optimize import Evaluator, OptimizeConfig, optimize
    from xmargin.analytics.proposal import render_proposal, write_proposal

    try:
        step = Decimal(max_step)
    except InvalidOperation:
        raise InputError(f"--max-step: not a number: {max_step!r}") from None
    if workers is not None and scheduler is not None:
        raise InputError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: must be >= 1, was {workers}")
    kinds = tuple(dict.fromkeys(k.strip() for c in (caps or []) for k in c.split(",") if k.strip()))
    for k in kinds:
        if k not in ("supply", "borrow"):
            raise InputError(f"--caps: expected supply or borrow, was {k!r}")
    ocfg = OptimizeConfig(var99_max, lar_max, step, candidates, method, kinds)  # type: ignore[arg-type]
    opts = MonteCarloOptions(
        model, tuple(prices or ()), start, end, parse_kv(maps or [], "--map"), tuple(statics or ()),
        parse_kv(vols or [], "--vol"), corr, dof, lam, paths, horizon, steps, seed, settle_first,
        use_liquidity, gas, cap, pause_drop, pause_window,
    )  # fmt: skip
    inputs = load_inputs(market_file)
    mc_cfg = opts.config()
    m = opts.return_model(inputs.book)
    liq = opts.liquidity(inputs)
    show = sys.stderr.isatty() if progress is None else progress

    def dot() -> None:
        sys.stderr.write(".")
        sys.stderr.flush()

    tick = dot if show else None

    def run(runner: Any) -> Any:
        ev = Evaluator(inputs, m, mc_cfg, liq, runner, tick)
        return optimize(inputs, ev, assets, ocfg)

    if workers is None and scheduler is None:
        result = run(None)
    else:
        with sim.dask_client(workers, scheduler) as client:
            result = run(sim.dask_runner(client, m, mc_cfg, liq))
    if show:
        sys.stderr.write("\n")
    target = out or market_file.with_name(market_file.stem + ".proposed" + market_file.suffix)
    result.diff = (
        write_proposal(inputs, result.changes, out)
        if out is not None
        else render_proposal(inputs, result.changes, target)[1]
    )
    if report is not None:
        from xmargin.analytics.analysis_report import optimize_html, write_html

        write_html(optimize_html(result, inputs.book.quote), report)
    doc = result.to_doc()
    if as_json:
        render.print_json(doc)
    else:
        _print_optimize(doc, inputs.book.quote)
    if not result.feasible:
        sys.stderr.write(
            f"error: no proposal meets VaR99 <= {ocfg.var99_max:g}; the best found has VaR99 "
            f"{result.after.var99:,.2f}\n"
        )
        return 1
    return 0


def _print_optimize(doc: dict[str, Any], quote: str) -> None:
    console = _console()
    t = _table(f"Proposal ({'feasible' if doc['feasible'] else 'NOT feasible'}; values in {quote})")
    for h in ("figure", "before", "after"):
        t.add_column(h, justify="left" if h == "figure" else "right", no_wrap=True)
    b, a = doc["before"], doc["after"]
    for k in ("var99", "var99_std_error", "liquidations_at_risk", "capacity", "borrowed"):
        t.add_row(k.replace("_", " "), _f(b[k], 2), _f(a[k], 2))
    t.add_row("usage", _pct(b["usage"]), _pct(a["usage"]))
    console.print(t)
    c = _table("Changes")
    for h in ("asset", "parameter", "from", "to"):
        c.add_column(h)
    for ch in doc["changes"]:
        c.add_row(ch["asset"], ch["parameter"], ch["from"] or "-", ch["to"])
    console.print(c)
    for w in doc["warnings"]:
        console.print(f"note: {w}")


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
    from xmargin.analytics.analysis_inputs import load_inputs, parse_shocks
    from xmargin.analytics.clearing import load_entities
    from xmargin.analytics.network import network

    if not 0 <= max_edges <= 10_000_000:
        raise InputError(f"--max-edges: must be from 0 to 10000000, was {max_edges}")
    inputs = load_inputs(market_file)
    book = inputs.book
    parsed = parse_shocks(shocks or [], book.assets)
    ents = None if entities is None else load_entities(entities, book.assets)
    result = network(book, inputs.liquidity, parsed, max_edges, entities=ents)
    if report is not None:
        from xmargin.analytics.analysis_report import write_html
        from xmargin.analytics.network_report import network_html

        write_html(network_html(result), report)
    doc = result.to_doc()
    if as_json:
        render.print_json(doc)
        return
    console = _console()
    t = _table("Concentration")
    for h in ("asset", "supply HHI", "top-10 supply", "debt HHI", "top-10 debt", "seized"):
        t.add_column(h, justify="left" if h == "asset" else "right")
    for r in doc["assets"]:
        t.add_row(
            r["asset"], _f(r["supply_hhi"]), _pct(r["top10_supply_share"]), _f(r["debt_hhi"]),
            _pct(r["top10_debt_share"]), _pct(r["seized_share"]),
        )  # fmt: skip
    console.print(t)
    ct = doc["contagion"]
    console.print(
        f"contagion: {ct['edge_count']:,} edges; largest cascade {ct['largest_cascade_size']:,} "
        f"accounts from {ct['largest_cascade_source'] or '-'}"
    )
    if "entities" in doc:
        e = doc["entities"]
        et = _table("Entities (Eisenberg-Noe clearing)")
        for h in ("entity", "owes", "pays", "shortfall"):
            et.add_column(h, justify="left" if h == "entity" else "right")
        for n, p in e["payments"].items():
            et.add_row(n, _f(e["total_liabilities"][n], 2), _f(p, 2), _f(e["shortfall"][n], 2))
        console.print(et)
        for tok, d in e["depegs"].items():
            console.print(f"de-peg: {tok} {_f(d['price_before'], 6)} -> {_f(d['price_after'], 6)}")


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
