"""Every perp float rule (``xmargin.fast.perps``) equals its exact twin (``xmargin.risk.perps``).

Random perp markets (``tests.perp_strategies``: margins, fees, size factors, PnL weights,
funding indexes, an insurance fund and a ``pnl_initial_cap`` sometimes; one or two
positions per account, long or short) are driven through each float rule and its exact
twin, within the book's float tolerance (``xmargin.book.tolerances``), as
``tests/properties/test_float_twins.py`` does for balances.

PFLOAT-1  A position's notional and PnL, and the effective margin under the size factor,
          equal the exact ones.
PFLOAT-2  An account's perp terms (:func:`perp_sums` per position from the packing, the
          initial PnL capped per account) equal the exact ``perp_sums``.
PFLOAT-3  An account's perp maintenance line in an asset's price equals the exact one,
          and with the spot slope gives the exact liquidation price.
PFLOAT-4  The perp packing holds the market's parameters, and P per perp is the market's.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.perp_strategies import PERPS, perp_markets
from tests.properties.test_float_twins import _tol, close
from xmargin.fast import liquidation_price as flp
from xmargin.fast import perps as fp
from xmargin.fast.packing import SpotTables
from xmargin.fast.perp_packing import PerpTables
from xmargin.model import Market
from xmargin.risk import health as xh
from xmargin.risk import perps as xp
from xmargin.risk import weights as xw
from xmargin.risk.liquidation_price import liquidation_price

ZERO = Decimal(0)


def _position_args(market: Market, tables: PerpTables, name: str, acc_id: str) -> tuple[float, ...]:
    """The float arguments of :func:`fp.perp_sums` for one position, from the packing."""
    spot = SpotTables.of(market.assets, market.categories)
    pos = market.accounts[acc_id].perps[name]
    j = tables.index_of(name)
    price = tables.prices_of(spot.price)[j]
    return (
        float(pos.size), price, float(pos.entry_price), tables.funding_index[j],
        float(pos.funding_index), tables.initial_margin[j], tables.maintenance_margin[j],
        tables.size_factor[j], tables.pnl_initial_weight[j],
    )  # fmt: skip


# -- PFLOAT-1 -----------------------------------------------------------------------------------
margins = st.integers(1, 1000).map(lambda i: Decimal(i).scaleb(-3))
factors = st.one_of(st.just(ZERO), st.integers(1, 10**4).map(lambda i: Decimal(i).scaleb(-6)))
sizes = st.integers(-(10**15), 10**15).map(lambda i: Decimal(i).scaleb(-6))
prices = st.integers(1, 10**12).map(lambda i: Decimal(i).scaleb(-4))
indexes = st.integers(-(10**9), 10**9).map(lambda i: Decimal(i).scaleb(-3))


@given(r=margins, k=factors, q=sizes, p=prices, e=prices, f=indexes, f0=indexes)
def test_pfloat_1_position_figures_equal_their_exact_twins(
    r: Decimal, k: Decimal, q: Decimal, p: Decimal, e: Decimal, f: Decimal, f0: Decimal
) -> None:
    assert close(fp.notional(float(q), float(p)), xp.notional(q, p))
    exact_pnl = xp.pnl(q, p, e, f, f0)
    scale = abs(q) * (p + e + abs(f) + abs(f0))  # the terms the difference cancels
    got = fp.pnl(float(q), float(p), float(e), float(f), float(f0))
    assert abs(got - float(exact_pnl)) <= 8 * _tol(float(scale))
    r_eff = fp.effective_margin_up(float(r), float(k), float(q))
    assert close(r_eff, xp.effective_margin_up(r, k, q))


# -- PFLOAT-2 -----------------------------------------------------------------------------------
@given(market=perp_markets())
def test_pfloat_2_account_perp_terms_equal_the_exact_perp_sums(market: Market) -> None:
    tables = PerpTables.of_market(market)
    for acc_id, acc in market.accounts.items():
        exact = xp.perp_sums(acc, market)
        total = np.zeros(6)
        scale = 0.0
        for name in acc.perps:
            args = _position_args(market, tables, name, acc_id)
            total += np.array(fp.perp_sums(*args))
            q, price, entry, f, f0 = args[:5]
            scale += abs(q) * (price + entry + abs(f) + abs(f0))
        cv, dv, ic, id_, mc, md = total
        ic = fp.cap_initial_pnl(ic, tables.cap)
        slack = 8 * _tol(scale)  # PnL is a difference: its error scales with its terms
        assert abs(cv - float(exact.positive_pnl)) <= slack, acc_id
        assert abs(mc - float(exact.positive_pnl)) <= slack, acc_id
        assert abs(dv - float(exact.negative_pnl)) <= slack, acc_id
        assert abs(ic - float(exact.initial_pnl)) <= slack, acc_id
        assert abs(id_ - float(exact.negative_pnl + exact.initial_margin)) <= slack, acc_id
        assert abs(md - float(exact.negative_pnl + exact.maintenance_margin)) <= slack, acc_id


# -- PFLOAT-3 -----------------------------------------------------------------------------------
@given(market=perp_markets(), data=st.data())
def test_pfloat_3_the_perp_line_and_liquidation_price_equal_their_exact_twins(
    market: Market, data: st.DataObject
) -> None:
    asset = data.draw(st.sampled_from(sorted(set(PERPS.values()) | {"USDC"})), label="asset")
    tables = PerpTables.of_market(market)
    p = market.assets[asset].price
    for acc_id, acc in market.accounts.items():
        net0 = slope = scale = 0.0
        for name in acc.perps:
            args = _position_args(market, tables, name, acc_id)
            q, price, entry, f, f0, _, r_m, k, _ = args
            on = market.perps[name].underlying == asset
            n, s = fp.perp_maintenance_line(on, q, price, entry, f, f0, r_m, k)
            net0, slope = net0 + n, slope + s
            scale += abs(q) * (price + entry + abs(f) + abs(f0))
        line = xp.perp_maintenance_line(acc, market, asset)
        assert abs(net0 - float(line.net0)) <= 8 * _tol(scale), acc_id
        assert close(slope, line.slope, 1e-15 * sum(abs(float(x.size)) for x in acc.perps.values()))
        # the liquidation price: the spot slope of the asset plus the perps', through the
        # spot twin, from the exact figures
        h = xh.account_health(acc, market)
        s, b = acc.supplied(asset), acc.borrowed(asset)
        w = xw.effective_weights(market.assets[asset], market.category_of(acc), s, b)
        spot = flp.price_slope(
            float(s), float(b), float(w.liquidation_threshold), float(w.maintenance_borrow_weight)
        )
        got = flp.liquidation_price(
            float(p), float(h.maintenance_collateral), float(h.maintenance_debt), spot + slope
        )
        exact = liquidation_price(market, acc_id, asset)
        if exact.method != "closed_form" or exact.price is None or not np.isfinite(got):
            continue
        # p* = p − (mc − md)/slope: the error of mc − md (a difference) over the slope
        terms = float(h.maintenance_collateral + h.maintenance_debt) + scale
        slack = 16 * _tol(terms) / abs(spot + slope) + 1e-9 * float(exact.price)
        assert abs(got - float(exact.price)) <= slack, (acc_id, got, exact.price)


# -- PFLOAT-4 -----------------------------------------------------------------------------------
@given(market=perp_markets())
def test_pfloat_4_the_perp_packing_holds_the_market(market: Market) -> None:
    tables = PerpTables.of_market(market)
    spot = SpotTables.of(market.assets, market.categories)
    assert tables.names == tuple(market.perps)
    price = tables.prices_of(spot.price)
    for j, (name, perp) in enumerate(market.perps.items()):
        assert spot.assets[tables.underlying[j]] == perp.underlying
        assert spot.assets[tables.settlement[j]] == perp.settlement_asset
        for key in ("initial_margin", "maintenance_margin", "size_factor", "funding_index"):
            assert getattr(tables, key)[j] == float(getattr(perp, key)), (name, key)
        assert price[j] == float(market.perp_price(perp))
    cap = market.params.pnl_initial_cap
    assert tables.cap == (np.inf if cap is None else float(cap))
    moved = tables.with_funding_index({"ETH-PERP": 2.5})
    assert moved.funding_index[moved.index_of("ETH-PERP")] == 2.5
