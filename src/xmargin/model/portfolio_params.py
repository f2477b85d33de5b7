"""Portfolio margin parameters (contract 6.3, docs/contract.md 6.6): the ``[portfolio_margin]``
table, with Derive's Portfolio Margin Risk Manager (v2) defaults.

Every key is optional. Scenario spot moves multiply the underlying's price (and with it
every forward and perp mark of that underlying); ``vol`` says which volatility shock of
the expiry applies; ``damping`` scales the scenario's PnL (the tails).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from xmargin.mathlib import ONE
from xmargin.model.numbers import Fraction, NonNegative, Number, Positive

__all__ = [
    "DEFAULT_SCENARIOS",
    "PortfolioMarginParams",
    "Scenario",
    "VolShock",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)


class VolShock(StrEnum):
    """The volatility of a scenario: each expiry's shocked-up, unchanged or shocked-down σ,
    or one of the two skew shocks (each strike's σ moved by its log-moneyness, spot
    unchanged)."""

    UP = "up"
    NONE = "none"
    DOWN = "down"
    SKEW_LINEAR = "skew_linear"
    SKEW_ABS = "skew_abs"

    @property
    def is_skew(self) -> bool:
        return self in (VolShock.SKEW_LINEAR, VolShock.SKEW_ABS)


class Scenario(BaseModel):
    """One scenario: spot × ``spot``, volatility ``vol``, PnL × ``damping`` (>= 0). A skew
    scenario leaves the spot unchanged: its ``spot`` must be 1."""

    model_config = _FROZEN

    spot: Positive
    vol: VolShock = VolShock.NONE
    damping: NonNegative = ONE

    @model_validator(mode="after")
    def _skew_spot(self) -> Self:
        if self.vol.is_skew and self.spot != ONE:
            raise ValueError(f"@spot: must be 1 in a skew scenario, was {self.spot}")
        return self


def _d(text: str) -> Decimal:
    return Decimal(text)


def _default_scenarios() -> tuple[Scenario, ...]:
    """Derive's grid: ±18 % (vol up only), ±13.5 %, ±9 %, ±4.5 % and 0 (each with vol up,
    none and down); then the damped tails, vol up; then the two skew scenarios."""
    out = [Scenario(spot=_d("1.18"), vol=VolShock.UP)]
    for move in ("1.135", "1.09", "1.045", "1", "0.955", "0.91", "0.865"):
        for vol in (VolShock.DOWN, VolShock.NONE, VolShock.UP):
            out.append(Scenario(spot=_d(move), vol=vol))
    out.append(Scenario(spot=_d("0.82"), vol=VolShock.UP))
    tails = (
        ("0.34", "0.0545"),
        ("0.67", "0.109"),
        ("1.5", "0.072"),
        ("2", "0.036"),
        ("3", "0.018"),
        ("4", "0.012"),
    )
    for move, damping in tails:
        out.append(Scenario(spot=_d(move), vol=VolShock.UP, damping=_d(damping)))
    out.append(Scenario(spot=ONE, vol=VolShock.SKEW_LINEAR))
    out.append(Scenario(spot=ONE, vol=VolShock.SKEW_ABS))
    return tuple(out)


DEFAULT_SCENARIOS = _default_scenarios()


class PortfolioMarginParams(BaseModel):
    """The ``[portfolio_margin]`` table (docs/contract.md 6.6), Derive's PMRM v2 defaults.

    Groups of keys:

    - loss factors: ``maintenance_factor`` (0.8), ``initial_factor`` (1.0);
    - ``scenarios``: the grid and its tails;
    - volatility shocks per expiry: mult = (``short_term_days`` days / max(τ,
      ``min_days`` days))^power, power ``short_term_power`` up to ``short_term_days``,
      ``long_term_power`` beyond; up = max(``min_vol_up``, σ·(1 + ``vol_range_up``·mult)),
      down = σ·max(0, 1 − ``vol_range_down``·mult);
    - static discount of a shocked expiry value V: V >= 0: × ``long_static_discount``·
      e^(−τ(r·``long_rate_scale`` + ``long_rate_add``)); V < 0: × min(1/D,
      ``short_static_discount``/e^(−τ(r·``short_rate_scale`` + ``short_rate_add``)));
    - skew: cap = ``skew_linear_cap_slope``·√τ + ``skew_linear_cap`` (``skew_abs_*`` for
      the abs scenario), k* = max(``min_k_star``, √τ·``k_star_width``·(``k_star_vol`` +
      ``k_star_vol_slope``·√τ));
    - basis contingency: spot × ``basis_spot_up`` and × ``basis_spot_down``, factor
      ``basis_add`` + ``basis_mult``·τ;
    - contingencies, fractions of spot notional: ``perp_maintenance`` (+ ``perp_initial``
      for IM), ``naked_short_maintenance`` (+ ``naked_short_initial``), and per asset
      ``maintenance_haircut`` (+ ``initial_haircut``) of the underlying's own balance.
    """

    model_config = _FROZEN

    maintenance_factor: Positive = _d("0.8")
    initial_factor: Positive = ONE
    scenarios: Annotated[tuple[Scenario, ...], Field(min_length=1)] = DEFAULT_SCENARIOS
    vol_range_up: NonNegative = _d("0.5")
    vol_range_down: NonNegative = _d("0.275")
    min_vol_up: NonNegative = _d("0.45")
    short_term_power: NonNegative = _d("0.3")
    long_term_power: NonNegative = _d("0.13")
    short_term_days: Positive = _d("30")
    min_days: Positive = ONE
    long_static_discount: NonNegative = _d("0.95")
    short_static_discount: NonNegative = _d("1.04")
    long_rate_scale: NonNegative = ONE
    long_rate_add: NonNegative = _d("0.08")
    short_rate_scale: NonNegative = _d("0.5")
    short_rate_add: NonNegative = _d("0.08")
    skew_linear_cap: NonNegative = _d("0.15")
    skew_linear_cap_slope: Number = _d("-0.05")
    skew_abs_cap: NonNegative = _d("0.15")
    skew_abs_cap_slope: Number = _d("-0.05")
    min_k_star: Positive = _d("0.01")
    k_star_width: NonNegative = _d("4")
    k_star_vol: Number = _d("0.6")
    k_star_vol_slope: Number = _d("-0.1")
    basis_spot_up: Positive = _d("1.045")
    basis_spot_down: Positive = _d("0.955")
    basis_add: NonNegative = _d("0.5")
    basis_mult: NonNegative = _d("2")
    perp_maintenance: NonNegative = _d("0.015")
    perp_initial: NonNegative = _d("0.005")
    naked_short_maintenance: NonNegative = _d("0.003")
    naked_short_initial: NonNegative = _d("0.002")
    maintenance_haircut: dict[StrictStr, Fraction] = Field(default_factory=dict)
    initial_haircut: dict[StrictStr, Fraction] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_fields(self) -> Self:
        problems: list[str] = []
        if self.basis_spot_up <= ONE:
            problems.append(f"@basis_spot_up: must be > 1, was {self.basis_spot_up}")
        if self.basis_spot_down >= ONE:
            problems.append(f"@basis_spot_down: must be < 1, was {self.basis_spot_down}")
        if self.maintenance_factor > self.initial_factor:
            problems.append(
                f"@maintenance_factor: must be <= initial_factor ({self.initial_factor}), "
                f"was {self.maintenance_factor}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def __hash__(self) -> int:  # the haircut maps make the default hash fail
        return hash((self.maintenance_factor, self.scenarios))
