"""Portfolio margin (contract 6.3, docs/contract.md 6.6): Derive's Portfolio Margin Risk
Manager (v2), per underlying, exact.

For an account with ``margin = "portfolio"`` and each underlying U of its options and
perps, the options (by expiry), the perps and the account's own balance of U are revalued
on every scenario of ``[portfolio_margin]``:

- an expiry's value V(s, v) at forward F·s and volatility v (up: max(min_vol_up,
  σ·(1 + vol_range_up·mult)); down: σ·max(0, 1 − vol_range_down·mult); mult =
  (30 d / max(τ, 1 d))^power), discounted statically (V >= 0: × pos; V < 0: × neg) and
  taken against its mark: (V·disc − mtm)·damping;
- a perp: q·(s − 1)·P·damping; the balance of U: (supply − borrow)·S·(s − 1)·damping;
- the skew scenarios (linear and abs): each expiry repriced at σ_K = σ·max(0, 1 +
  clamp(k·cap/k*)) with k = ln(K/F) (abs: |k|), counted as −|V·disc − mtm|.

W is the worst scenario PnL, B the basis contingency Σ min(V(F·1.045) − mtm, V(F·0.955)
− mtm, 0)·(0.5 + 2τ), C the contingencies (perps, naked shorts, the haircut of U's
balance; IM adds its own on top of MM's). The requirements, <= 0:
R_MM = maintenance_factor·min(B, W) − C_MM and R_IM = initial_factor·min(B, W) − C_MM −
C_IM. Derive's margin R + MtM + cash is what the section-2 sums then hold.

Nothing rounds here (the totals are rounded with the section-2 sums); powers, logarithms
and exponentials are the 200-digit context's.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

from xmargin.mathlib import CTX, ONE, ZERO
from xmargin.model.account import Account
from xmargin.model.market import Market
from xmargin.model.portfolio_params import PortfolioMarginParams, VolShock
from xmargin.risk.black76 import black76
from xmargin.risk.option_margin import NO_OPTIONS, OptionSums
from xmargin.risk.options import ExpiryGroup, expiry_groups, portfolio_underlyings

__all__ = [
    "PortfolioMargin",
    "basis_contingency",
    "naked_shorts",
    "portfolio_margin",
    "portfolio_margins",
    "portfolio_sums",
    "scenario_pnls",
    "static_discounts",
    "vol_shock_multipliers",
]

_DAY = Decimal(86_400)


def vol_shock_multipliers(seconds: Decimal, p: PortfolioMarginParams) -> tuple[Decimal, Decimal]:
    """(up, down) volatility multipliers of an expiry ``seconds`` away.

    Notes
    -----
    mult = (short_term_days·1 d / max(τ, min_days·1 d))^power, power = short_term_power
    while τ <= short_term_days, long_term_power beyond; up = 1 + vol_range_up·mult,
    down = max(0, 1 − vol_range_down·mult).
    """
    horizon = CTX.multiply(p.short_term_days, _DAY)
    floor = CTX.multiply(p.min_days, _DAY)
    power = p.short_term_power if seconds <= horizon else p.long_term_power
    mult = CTX.power(CTX.divide(horizon, max(seconds, floor)), power)
    down = ONE - CTX.multiply(p.vol_range_down, mult)
    return ONE + CTX.multiply(p.vol_range_up, mult), down if down > ZERO else ZERO


def static_discounts(group: ExpiryGroup, p: PortfolioMarginParams) -> tuple[Decimal, Decimal]:
    """(pos, neg): the factors of a shocked expiry value V >= 0 and V < 0.

    pos = long_static_discount·e^(−τ(r·long_rate_scale + long_rate_add));
    neg = min(1/D, short_static_discount/e^(−τ(r·short_rate_scale + short_rate_add))).
    """
    tau, r = group.tau, group.rate
    pos_rate = CTX.add(CTX.multiply(r, p.long_rate_scale), p.long_rate_add)
    neg_rate = CTX.add(CTX.multiply(r, p.short_rate_scale), p.short_rate_add)
    pos = CTX.multiply(p.long_static_discount, CTX.exp(-CTX.multiply(tau, pos_rate)))
    neg = CTX.divide(p.short_static_discount, CTX.exp(-CTX.multiply(tau, neg_rate)))
    return pos, min(CTX.divide(ONE, group.discount), neg)


def naked_shorts(group: ExpiryGroup) -> Decimal:
    """Contracts short and not offset by a long at the same strike (calls and puts alike,
    as Derive): Σ over strikes of max(0, Σ short − Σ long)."""
    by_strike: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for leg in group.legs:
        by_strike[leg.option.strike] += leg.q
    return sum((-q for q in by_strike.values() if q < ZERO), ZERO)


def _value(group: ExpiryGroup, spot_move: Decimal, sigmas: list[Decimal]) -> Decimal:
    """Σ q·Black-76 of the group at forward F·spot_move and the given volatilities."""
    forward = CTX.multiply(group.forward, spot_move)
    total = ZERO
    for leg, sigma in zip(group.legs, sigmas, strict=True):
        v = black76(leg.option.is_call, forward, leg.option.strike, sigma, leg.tau, leg.discount)
        total += CTX.multiply(leg.q, v)
    return total


def _skew_sigmas(group: ExpiryGroup, kind: VolShock, p: PortfolioMarginParams) -> list[Decimal]:
    """σ_K = σ·max(0, 1 + c) with k = ln(K/F) (abs: |k|), cap = slope·√τ + cap₀ (the
    linear or abs pair), k* = max(min_k_star, √τ·k_star_width·(k_star_vol +
    k_star_vol_slope·√τ)), c = min(cap, k·cap/k*) for k >= 0, max(−cap, k·cap/k*) below."""
    root = CTX.sqrt(group.tau)
    if kind is VolShock.SKEW_ABS:
        cap = CTX.add(CTX.multiply(p.skew_abs_cap_slope, root), p.skew_abs_cap)
    else:
        cap = CTX.add(CTX.multiply(p.skew_linear_cap_slope, root), p.skew_linear_cap)
    vol_param = CTX.add(p.k_star_vol, CTX.multiply(p.k_star_vol_slope, root))
    k_star = max(p.min_k_star, CTX.multiply(CTX.multiply(root, p.k_star_width), vol_param))
    out: list[Decimal] = []
    for leg in group.legs:
        k = CTX.ln(CTX.divide(leg.option.strike, group.forward))
        if kind is VolShock.SKEW_ABS:
            k = abs(k)
        scaled = CTX.divide(CTX.multiply(k, cap), k_star)
        shift = min(cap, scaled) if k >= ZERO else max(-cap, scaled)
        mult = ONE + shift
        out.append(CTX.multiply(leg.option.volatility, mult) if mult > ZERO else ZERO)
    return out


class _Prepared(NamedTuple):
    """An expiry ready for the scenarios: its mark, its volatilities (as marked, shocked
    up and down) and its static discounts."""

    group: ExpiryGroup
    mtm: Decimal
    sigmas: list[Decimal]
    ups: list[Decimal]
    downs: list[Decimal]
    pos: Decimal
    neg: Decimal

    def discounted_change(self, v: Decimal) -> Decimal:
        """V·disc − mtm: the expiry's scenario PnL before damping."""
        return CTX.multiply(v, self.pos if v >= ZERO else self.neg) - self.mtm


def _scenario_pnls(
    prepared: list[_Prepared], p: PortfolioMarginParams, linear_value: Decimal
) -> list[Decimal]:
    """Each scenario's PnL, damped, in the order of ``p.scenarios``; ``linear_value`` is
    Σ q·P of the perps plus the balance's value (supply − borrow)·S, which moves with s."""
    out: list[Decimal] = []
    for sc in p.scenarios:
        pnl = ZERO
        if sc.vol.is_skew:  # spot unchanged; each expiry counts -|ΔV|
            for e in prepared:
                pnl -= abs(
                    e.discounted_change(_value(e.group, ONE, _skew_sigmas(e.group, sc.vol, p)))
                )
        else:
            pnl = CTX.multiply(linear_value, sc.spot - ONE)
            for e in prepared:
                if sc.vol is VolShock.NONE and sc.spot == ONE:
                    v = e.mtm
                else:
                    vols = (
                        e.ups
                        if sc.vol is VolShock.UP
                        else e.downs
                        if sc.vol is VolShock.DOWN
                        else e.sigmas
                    )
                    v = _value(e.group, sc.spot, vols)
                pnl += e.discounted_change(v)
        out.append(CTX.multiply(pnl, sc.damping))
    return out


def scenario_pnls(account: Account, market: Market, underlying: str) -> list[Decimal]:
    """Every scenario's PnL (damped, quote) for ``account``'s positions on ``underlying``,
    in the order of ``[portfolio_margin].scenarios`` (6.6)."""
    p = market.portfolio_margin
    groups = [g for g in expiry_groups(account, market) if g.underlying == underlying]
    return _scenario_pnls(
        [_prepare(g, p) for g in groups], p, _linear_value(account, market, underlying)
    )


class PortfolioMargin(NamedTuple):
    """The portfolio margin of one underlying (values in quote).

    ``worst_scenario_loss`` W and ``worst_scenario`` (its index in ``scenarios``;
    ``None`` when no scenario loses), the
    ``basis_contingency`` B, the contingencies (>= 0: ``maintenance_contingency`` C_MM and
    ``initial_contingency`` C_MM + C_IM), the requirements R_MM and R_IM (<= 0) and the
    options' ``option_value`` (Σ mtm).
    """

    underlying: str
    spot: Decimal
    worst_scenario_loss: Decimal
    worst_scenario: int | None
    basis_contingency: Decimal
    maintenance_contingency: Decimal
    initial_contingency: Decimal
    maintenance_requirement: Decimal
    initial_requirement: Decimal
    option_value: Decimal


def _prepare(g: ExpiryGroup, p: PortfolioMarginParams) -> _Prepared:
    sigmas = [leg.option.volatility for leg in g.legs]
    up, down = vol_shock_multipliers(g.seconds, p)
    pos, neg = static_discounts(g, p)
    ups = [max(p.min_vol_up, CTX.multiply(s, up)) for s in sigmas]
    downs = [CTX.multiply(s, down) for s in sigmas]
    return _Prepared(g, g.mtm(), sigmas, ups, downs, pos, neg)


def _perps_on(account: Account, market: Market, underlying: str) -> list[tuple[Decimal, Decimal]]:
    """(q, P) of the account's perps on ``underlying``."""
    return [
        (pos.size, market.perp_price(market.perps[n]))
        for n, pos in account.perps.items()
        if market.perps[n].underlying == underlying
    ]


def _linear_value(account: Account, market: Market, underlying: str) -> Decimal:
    """Σ q·P over the perps on ``underlying`` plus (supply − borrow)·S: what moves in
    proportion to the spot in a scenario."""
    spot = market.assets[underlying].price
    net_units = account.supplied(underlying) - account.borrowed(underlying)
    perps = sum(
        (CTX.multiply(q, price) for q, price in _perps_on(account, market, underlying)), ZERO
    )
    return CTX.add(perps, CTX.multiply(net_units, spot))


def basis_contingency(e: _Prepared, p: PortfolioMarginParams) -> Decimal:
    """min(V(F·basis_spot_up) − mtm, V(F·basis_spot_down) − mtm, 0)·(basis_add +
    basis_mult·τ) of one expiry, undiscounted (Derive's forward contingency)."""
    g = e.group
    worst = min(
        _value(g, p.basis_spot_up, e.sigmas) - e.mtm,
        _value(g, p.basis_spot_down, e.sigmas) - e.mtm,
        ZERO,
    )
    return CTX.multiply(worst, CTX.add(p.basis_add, CTX.multiply(p.basis_mult, g.tau)))


def portfolio_margin(
    account: Account,
    market: Market,
    underlying: str,
    groups: list[ExpiryGroup] | None = None,
) -> PortfolioMargin:
    """The scenario requirement of ``account``'s positions on ``underlying`` (module
    docstring; contract 6.3). ``groups``: the account's expiry groups, if at hand."""
    p = market.portfolio_margin
    spot = market.assets[underlying].price
    if groups is None:
        groups = expiry_groups(account, market)
    prepared = [_prepare(g, p) for g in groups if g.underlying == underlying]
    basis = sum((basis_contingency(e, p) for e in prepared), ZERO)
    worst: Decimal | None = None
    worst_at: int | None = None
    pnls = _scenario_pnls(prepared, p, _linear_value(account, market, underlying))
    for i, pnl in enumerate(pnls):
        if worst is None or pnl < worst:
            worst, worst_at = pnl, i
    assert worst is not None  # scenarios has at least one entry
    if worst >= ZERO:
        worst_at = None

    # Contingencies, of spot notional (quote/unit x units = quote).
    naked = sum((naked_shorts(e.group) for e in prepared), ZERO)
    perp_units = sum((abs(q) for q, _ in _perps_on(account, market, underlying)), ZERO)
    supplied = account.supplied(underlying)
    c_mm = CTX.multiply(
        spot,
        CTX.multiply(perp_units, p.perp_maintenance)
        + CTX.multiply(naked, p.naked_short_maintenance)
        + CTX.multiply(supplied, p.maintenance_haircut.get(underlying, ZERO)),
    )
    c_im = CTX.multiply(
        spot,
        CTX.multiply(perp_units, p.perp_initial)
        + CTX.multiply(naked, p.naked_short_initial)
        + CTX.multiply(supplied, p.initial_haircut.get(underlying, ZERO)),
    )
    loss = min(basis, worst)
    r_mm = CTX.multiply(p.maintenance_factor, loss) - c_mm
    r_im = CTX.multiply(p.initial_factor, loss) - c_mm - c_im
    mtm = sum((e.mtm for e in prepared), ZERO)
    return PortfolioMargin(
        underlying, spot, worst, worst_at, basis, c_mm, c_mm + c_im, r_mm, r_im, mtm
    )


def portfolio_margins(
    account: Account, market: Market, groups: list[ExpiryGroup] | None = None
) -> list[PortfolioMargin]:
    """:func:`portfolio_margin` of every underlying the account margins by scenarios, in
    the order of its options and then its perps; empty under standard margin."""
    names = [market.options[n].underlying for n in account.options]
    names += [market.perps[n].underlying for n in account.perps]
    under = portfolio_underlyings(account, market)
    if groups is None and under:
        groups = expiry_groups(account, market)
    return [
        portfolio_margin(account, market, u, groups) for u in dict.fromkeys(names) if u in under
    ]


def portfolio_sums(account: Account, market: Market) -> OptionSums:
    """What portfolio margin adds to the section-2 sums (docs/contract.md 6.6).

    Notes
    -----
    Per underlying U: the balance of U at full value (s·S to ``collateral_value``,
    ``initial_collateral`` and ``maintenance_collateral``; b·S to ``debt_value``,
    ``initial_debt`` and ``maintenance_debt``: its risk is in the scenarios and the
    haircut); long option mtm to ``collateral_value``, short |mtm| to ``debt_value``; and
    G = R + Σ mtm of U's options: max(G, 0) to the collateral side, max(−G, 0) to the debt
    side (IM and MM each with their own R). The perps' PnL enters as in 5.2; their
    notional margin is replaced by R. :func:`xmargin.risk.health.weighted_sums` leaves the
    balances of U out of its spot sums.
    """
    under = portfolio_underlyings(account, market)
    if not under:
        return NO_OPTIONS
    cv = dv = ic = id_ = mc = md = total = ZERO
    for u in sorted(under):
        price = market.assets[u].price
        s = CTX.multiply(account.supplied(u), price)
        b = CTX.multiply(account.borrowed(u), price)
        cv += s
        ic += s
        mc += s
        dv += b
        id_ += b
        md += b
    groups = expiry_groups(account, market)
    for group in groups:
        for leg in group.legs:
            mtm = CTX.multiply(leg.q, leg.value)
            if mtm > ZERO:
                cv += mtm
            else:
                dv -= mtm
    for pm in portfolio_margins(account, market, groups):
        total += pm.option_value
        g_im = CTX.add(pm.initial_requirement, pm.option_value)
        g_mm = CTX.add(pm.maintenance_requirement, pm.option_value)
        if g_im > ZERO:
            ic += g_im
        else:
            id_ -= g_im
        if g_mm > ZERO:
            mc += g_mm
        else:
            md -= g_mm
    return OptionSums(cv, dv, ic, id_, mc, md, total)
