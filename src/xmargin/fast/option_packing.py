"""Options packed for the float rules: an account's legs as rows of the leg table
(:data:`xmargin.fast.options.LEG_COLUMNS`), the ``[option_margin]`` and
``[portfolio_margin]`` parameters as float arrays.

The legs' inputs (τ, D, F) are the exact engine's (:mod:`xmargin.risk.options`) converted
once to float64; the mark values are then the float Black-76 (:func:`price_legs`), so a
tick re-prices a table without going back to Decimal: F follows spot (F·S′/S, 6.1).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from xmargin.fast import options as fo
from xmargin.model.account import Account
from xmargin.model.liquidation_params import seconds_between
from xmargin.model.market import Market
from xmargin.model.options import OptionMarginParams
from xmargin.model.portfolio_params import PortfolioMarginParams, VolShock
from xmargin.risk.black76 import year_fraction
from xmargin.risk.options import market_time

__all__ = [
    "VOL_CODE",
    "pack_haircuts",
    "pack_legs",
    "pack_option_margin",
    "pack_portfolio_margin",
    "pack_scenarios",
    "price_legs",
    "reprice_legs",
]

#: Scenario volatility codes of :func:`pack_scenarios`.
VOL_CODE = {
    VolShock.UP: 0,
    VolShock.NONE: 1,
    VolShock.DOWN: 2,
    VolShock.SKEW_LINEAR: 3,
    VolShock.SKEW_ABS: 4,
}

#: The fields of ``[portfolio_margin]`` in the order :mod:`xmargin.fast.portfolio_margin`
#: reads them (its ``P_*`` positions).
PORTFOLIO_FIELDS = (
    "maintenance_factor",
    "initial_factor",
    "vol_range_up",
    "vol_range_down",
    "min_vol_up",
    "short_term_power",
    "long_term_power",
    "short_term_days",
    "min_days",
    "long_static_discount",
    "short_static_discount",
    "long_rate_scale",
    "long_rate_add",
    "short_rate_scale",
    "short_rate_add",
    "skew_linear_cap",
    "skew_linear_cap_slope",
    "skew_abs_cap",
    "skew_abs_cap_slope",
    "min_k_star",
    "k_star_width",
    "k_star_vol",
    "k_star_vol_slope",
    "basis_spot_up",
    "basis_spot_down",
    "basis_add",
    "basis_mult",
    "perp_maintenance",
    "perp_initial",
    "naked_short_maintenance",
    "naked_short_initial",
)


def pack_option_margin(p: OptionMarginParams) -> np.ndarray:
    """``[option_margin]`` as float64, in the order of :mod:`xmargin.fast.options`'s
    ``MAX_SPOT`` … ``OFFSET``."""
    return np.array(
        [
            float(p.max_spot_requirement),
            float(p.min_spot_requirement),
            float(p.maintenance_spot_requirement),
            float(p.maintenance_mtm_requirement),
            float(p.unpaired_initial_scale),
            float(p.unpaired_maintenance_scale),
            float(p.maintenance_offset_scale),
        ]
    )


def pack_portfolio_margin(p: PortfolioMarginParams) -> np.ndarray:
    """``[portfolio_margin]``'s numbers as float64, in the order of
    :data:`PORTFOLIO_FIELDS`."""
    return np.array([float(getattr(p, name)) for name in PORTFOLIO_FIELDS])


def pack_haircuts(p: PortfolioMarginParams, underlying: str) -> np.ndarray:
    """The (maintenance, initial) collateral haircut of ``underlying`` under portfolio
    margin (0 where none is given), as the twin's ``haircuts`` argument."""
    return np.array(
        [
            float(p.maintenance_haircut.get(underlying, 0)),
            float(p.initial_haircut.get(underlying, 0)),
        ]
    )


def pack_scenarios(p: PortfolioMarginParams) -> np.ndarray:
    """The scenarios as rows (spot, volatility code of :data:`VOL_CODE`, damping)."""
    return np.array(
        [[float(s.spot), float(VOL_CODE[s.vol]), float(s.damping)] for s in p.scenarios]
    ).reshape(-1, 3)


def pack_legs(account: Account, market: Market, underlying: str | None = None) -> np.ndarray:
    """``account``'s option positions (on ``underlying``, or all) as rows of the leg table,
    expiries contiguous in the order the account first holds each, as
    :func:`xmargin.risk.options.expiry_groups`; the values priced by :func:`price_legs`."""
    groups: dict[tuple[str, object], list[list[float]]] = {}
    now = market_time(market) if account.options else None
    for name, q in account.options.items():
        option = market.options[name]
        if underlying is not None and option.underlying != underlying:
            continue
        spot = market.assets[option.underlying].price
        assert now is not None
        seconds = seconds_between(now, option.expiry)
        if seconds <= 0:
            row = [q, option.is_call, option.strike, 0, 0, 0, 1, option.rate, spot, 0, 0, spot]
        else:
            tau = year_fraction(seconds)
            forward = option.forward if option.forward is not None else spot
            discount = float(np.exp(-float(option.rate) * float(tau)))
            row = [
                q,
                option.is_call,
                option.strike,
                option.volatility,
                tau,
                seconds,
                discount,
                option.rate,
                forward,
                0,
                0,
                spot,
            ]
        groups.setdefault(option.expiry_key(), []).append([_f(x) for x in row])
    rows: list[list[float]] = []
    for g, legs in enumerate(groups.values()):
        for leg in legs:
            leg[fo.GROUP] = float(g)
            rows.append(leg)
    table = np.array(rows, dtype=np.float64).reshape(-1, len(fo.LEG_COLUMNS))
    price_legs(table)
    return table


def _f(x: object) -> float:
    if isinstance(x, Decimal | bool | int | float):
        return float(x)
    raise TypeError(f"pack_legs: unexpected {type(x).__name__}")


def price_legs(legs: np.ndarray) -> None:
    """Fill the leg table's value column with the float Black-76, in place."""
    if len(legs):
        legs[:, fo.VALUE] = fo.black76(
            legs[:, fo.CALL] > 0.5,
            legs[:, fo.FORWARD],
            legs[:, fo.STRIKE],
            legs[:, fo.SIGMA],
            legs[:, fo.TAU],
            legs[:, fo.DISCOUNT],
        )


def reprice_legs(legs: np.ndarray, spot_ratio: np.ndarray) -> None:
    """Move each leg's spot and forward by ``spot_ratio`` (S′/S, one per row: F follows
    spot, 6.1) and re-price the table, in place. An expired leg (τ = 0) is marked at its
    settlement value against the new spot, as its forward is that spot."""
    legs[:, fo.SPOT] *= spot_ratio
    legs[:, fo.FORWARD] *= spot_ratio
    price_legs(legs)
