"""Running scenarios: shocks, correlated downturns, de-pegs and historical replays.

A scenario (:mod:`xmargin.analytics.scenario_file`) turns today's prices into a path of
prices (:mod:`xmargin.analytics.scenario_paths`); the path is run through the liquidation
engine (:class:`~xmargin.analytics.cascade.PathEngine`): liquidators follow the
contract's rules, and with ``cascade = true`` they act only when profitable and sell into
each asset's liquidity, whose price impact feeds the next round. Given the market, the
accounts that hold options are also valued with them, exactly, at the scenario's end
prices and volatility shocks (:mod:`xmargin.analytics.scenario_options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.cascade import Breakers, CascadeRecord, PathEngine, PathOutcome
from xmargin.analytics.cascade.designs import DesignStep
from xmargin.analytics.design_compare import design_losses, design_step
from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.scenario_file import Scenario
from xmargin.analytics.scenario_options import ScenarioOptions, scenario_options
from xmargin.analytics.scenario_paths import scenario_prices
from xmargin.analytics.settlement import settle
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError
from xmargin.model.market import Market

__all__ = ["ScenarioResult", "compare_breakers", "run_scenario"]

FloatArray = NDArray[np.float64]


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
    #: What settling at today's prices did first (empty when not settled), as montecarlo
    #: reports it: the same default, reported apart.
    initial: dict[str, float | int] = field(default_factory=dict)
    #: The option accounts, valued with their options (``None``: the market holds none).
    options: ScenarioOptions | None = None


def _totals(o: PathOutcome, design: DesignStep | None = None) -> dict[str, float | int]:
    # Under a design, bad debt also counts a storefront's loss and an auction's shortfall.
    extra = 0.0 if design is None else design_losses(design, o)
    return {
        "bad_debt": float(o.bad_debt[0]) + extra,
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


def _perp_totals(o: PathOutcome) -> dict[str, float | int]:
    """The perp liquidations' totals (books whose accounts hold perps)."""
    return {
        "perp_liquidations": int(o.perp_liquidations[0]),
        "perp_closed_value": float(o.perp_closed_value[0]),
        "perp_liquidator_fees": float(o.perp_liquidator_fees[0]),
        "perp_insurance_fees": float(o.perp_insurance_fees[0]),
    }


def _option_totals(o: PathOutcome) -> dict[str, float | int]:
    """The option liquidations' totals (books whose accounts hold options)."""
    return {
        "option_liquidations": int(o.option_liquidations[0]),
        "option_closed_value": float(o.option_closed_value[0]),
        "option_liquidator_fees": float(o.option_liquidator_fees[0]),
        "option_insurance_fees": float(o.option_insurance_fees[0]),
    }


def _vol_shocked(book: SimBook, sc: Scenario) -> SimBook:
    """``book`` with the scenario's volatility shocks on its options (from the start)."""
    if book.options is None or not sc.vol_shocks:
        return book
    shocks = {
        book.asset_index(a, f"scenario {sc.name} vol_shock"): float(x)
        for a, x in sc.vol_shocks.items()
    }
    return book.with_options(book.options.with_vol_shocks(shocks))


def run_scenario(
    book: SimBook,
    sc: Scenario,
    liquidity: Liquidity | None = None,
    settle_first: bool = False,
    breakers: Breakers | None = None,
    top: int = 10,
    liquidation: str | None = None,
    market: Market | None = None,
    funding: Mapping[str, float] | None = None,
) -> ScenarioResult:
    """Run ``sc`` on ``book`` (one path) and gather what the report shows; liquidations by
    the design ``liquidation`` (contract 8.6), else the market's own; with the ``market``
    the book was loaded from, its option accounts too (module docstring); ``funding``:
    rates per hour by perp (:func:`xmargin.analytics.simperps.parse_funding_rates`)."""
    if sc.vol_shocks and market is None:
        raise InputError(f"scenario {sc.name}: vol_shock needs the market (market=...)")
    initial: dict[str, float | int] = {}
    run_book = book
    if settle_first:
        st = settle(book)
        initial, run_book = st.totals(), st.book_after
    path, times = scenario_prices(run_book, sc)
    book.warn_perps_left_out(carried=True)
    opts = None if market is None else scenario_options(market, sc, book.assets, path[-1])
    per_step = None
    if funding and run_book.perps is not None:
        per_step = run_book.perps.funding_per_step(dict(funding), sc.step_hours)
    use_liq = sc.cascade and liquidity is not None and liquidity.any
    gate = sc.cascade
    half = None if sc.impact_half_life_hours is None else sc.impact_half_life_hours / sc.step_hours
    hf_before = run_book.health_factors()
    run_book = _vol_shocked(run_book, sc)
    engine = PathEngine(
        run_book,
        liquidity if use_liq else None,
        gate=gate,
        gas=sc.gas,
        breakers=breakers if breakers is not None else sc.breakers,
        impact_half_life_steps=half,
        design=design_step(run_book, liquidation, sc.step_hours * 3600.0),
        funding_per_step=per_step,
    )
    o, rec = engine.run(path[None, :, :], record=True)
    assert rec.final_s is not None and rec.final_b is not None
    final = o.final_prices[0]
    hf_after = rec.health_after(run_book, final)
    totals = _totals(o, engine.design)
    if rec.perp_accounts is not None and rec.perp_figures is not None:
        if run_book.perps is not None:
            totals.update(_perp_totals(o))
        if run_book.options is not None:
            totals.update(_option_totals(o))
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
        totals=totals,
        record=rec,
        hf_before=hf_before,
        hf_after=hf_after,
        top_accounts=tops,
        toxic_accounts=toxic,
        liquidity_used=use_liq,
        account_ids=book.account_ids,
        initial=initial,
        options=opts,
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
