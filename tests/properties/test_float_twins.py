"""Every float rule equals its exact twin (the float rule source, ``xmargin.fast``).

Random markets and accounts (``tests.strategies``: categories, size haircuts, liability
weights, fees, small positions, dust, every bonus policy) are driven through each float
rule and its exact twin in :mod:`xmargin.risk`, step by step: each float twin is given the
exact engine's inputs of that step and must return its result within the book's float
tolerance (``xmargin.book.tolerances``: REL_TOL relative, ABS_TOL absolute; amounts the
exact engine rounds to an asset's decimals also within one unit of those), and take the
same decision wherever the two sides of the decision are farther apart than that band.

FLOAT-1  A size haircut (either side) equals the exact one.
FLOAT-2  Every account's section-2 figures, from the market packing through the float
         rules, equal the exact engine's; liquidatable and the status are the same.
FLOAT-3  Each step of a liquidation (max_repayable, liquidation_bonus under the three
         policies, seize, protocol_fee, the dust rule) equals the exact step.
FLOAT-4  After a liquidation, the float bad-debt rule (no position counts as collateral)
         writes off exactly when the exact one does.
FLOAT-5  The float engine's proposals (NumPy lanes) are the exact engine's liquidations,
         step after step until the account is done.
FLOAT-6  The Numba and the NumPy engines settle a book alike.
FLOAT-7  An account's liquidation price of an asset (contract 4), from the exact figures
         through the float twin, equals the exact one; none exactly where there is none
         (up to a solution within float error of 0).
FLOAT-8  A pack derived with other asset parameters equals the pack of the market with
         those parameters (the category rule applied again).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from tests.strategies import liquidatable_accounts, markets
from xmargin.analytics import lanes as ln
from xmargin.analytics.kernel_layout import (
    NOT_LIQUIDATABLE,
    OK,
    STUCK_DUST,
    STUCK_NO_COLLATERAL,
    STUCK_ZERO,
)
from xmargin.analytics.sim_kernels import sim_kernels
from xmargin.analytics.simbook import SimBook
from xmargin.book.tolerances import ABS_TOL, REL_TOL
from xmargin.errors import NothingToLiquidate, WouldLeaveDust
from xmargin.fast import health as fh
from xmargin.fast import liquidation as fl
from xmargin.fast import liquidation_price as flp
from xmargin.fast import weights as fw
from xmargin.fast.backend import numba_available
from xmargin.fast.packing import MarketPack
from xmargin.ledger.actions import execute_liquidate
from xmargin.mathlib import HF_DECIMALS, div_up
from xmargin.model import BonusPolicy, Market
from xmargin.risk import health as xh
from xmargin.risk import liquidation as xl
from xmargin.risk import status as xs
from xmargin.risk import weights as xw
from xmargin.risk.liquidation_price import liquidation_price

ZERO = Decimal(0)


def _tol(scale: float) -> float:
    return REL_TOL * abs(scale) + ABS_TOL


def close(f: object, e: Decimal | float, unit: float = 0.0) -> bool:
    """``f`` (float twin) within the tolerance (and ``unit``) of ``e`` (exact twin)."""
    x, y = float(f), float(e)  # type: ignore[arg-type]
    return abs(x - y) <= _tol(max(abs(x), abs(y))) + unit


def close_ratio(
    f: object, e: Decimal, nums: tuple[float, Decimal], dens: tuple[float, Decimal]
) -> bool:
    """A float ratio against the exact ``e``: the numerator and the denominator (each as
    the float and the exact engine hold it) carry the band's error, absolute for tiny
    figures, so the ratio carries the sum of their relative errors."""
    x, y = float(f), float(e)  # type: ignore[arg-type]
    if not nums[1]:
        return abs(x - y) <= ABS_TOL
    rel = sum(_tol(max(float(a), float(b))) / min(float(a), float(b)) for a, b in (nums, dens))
    return abs(x - y) <= (rel + REL_TOL) * abs(y) + 1e-18


def apart(a: Decimal | float, b: Decimal | float, scale: Decimal | float = 0.0) -> bool:
    """Whether a decision ``a < b`` lies outside the float band (floats cannot flip it)."""
    x, y = float(a), float(b)
    return abs(x - y) > 4 * _tol(max(abs(x), abs(y), float(scale)))


def unit(market: Market, asset: str) -> float:
    return 10.0 ** -market.assets[asset].decimals


# -- FLOAT-1 --------------------------------------------------------------------------------
weights = st.integers(0, 1000).map(lambda i: Decimal(i).scaleb(-3))
liability = st.integers(1000, 1500).map(lambda i: Decimal(i).scaleb(-3))
size_factor = st.one_of(st.just(ZERO), st.integers(1, 10**4).map(lambda i: Decimal(i).scaleb(-6)))
units = st.integers(0, 10**18).map(lambda i: Decimal(i).scaleb(-6))


@given(w=weights, lw=liability, k=size_factor, u=units)
def test_float_1_size_haircuts_equal_their_exact_twins(
    w: Decimal, lw: Decimal, k: Decimal, u: Decimal
) -> None:
    down = xw.size_haircut_asset_weight_down(w, k, u)
    up = xw.size_haircut_liability_weight_up(lw, k, u)
    assert close(fw.size_haircut_asset_weight_down(float(w), float(k), float(u)), down)
    assert close(fw.size_haircut_liability_weight_up(float(lw), float(k), float(u)), up)
    assert close(fw.effective_weight(fw.SUPPLY, float(w), float(k), float(u)), down)
    assert close(fw.effective_weight(fw.BORROW, float(lw), float(k), float(u)), up)


# -- FLOAT-2 --------------------------------------------------------------------------------
@given(market=markets(), warn=st.integers(1000, 1500).map(lambda i: Decimal(i).scaleb(-3)))
def test_float_2_figures_and_decisions_equal_the_exact_engine(
    market: Market, warn: Decimal
) -> None:
    book = SimBook.from_market(market)
    every = np.arange(book.n_accounts, dtype=np.int64)
    lanes = ln.Lanes.of(
        book.arrays(), every, book.s, book.b, book.indptr[:-1], np.tile(book.price, (len(every), 1))
    )
    cv, dv, ic, id_, mc, md = ln.sums(lanes, book.ap)
    hf_book = book.health_factors()
    for i, acc_id in enumerate(book.account_ids):
        h = xh.account_health(market.accounts[acc_id], market)
        for f, e in zip((cv, dv, ic, id_, mc, md), h[:6], strict=True):
            assert close(f[i], e), acc_id
        atb = fh.available_to_borrow(ic[i], id_[i])
        assert abs(float(atb) - float(h.available_to_borrow)) <= 2 * _tol(max(ic[i], id_[i]))
        if h.health_factor is None:
            assert np.isnan(fh.health_factor(mc[i], md[i])) and np.isnan(hf_book[i])
            continue
        nums, dens = (mc[i], h.maintenance_collateral), (md[i], h.maintenance_debt)
        assert close_ratio(fh.health_factor(mc[i], md[i]), h.health_factor, nums, dens)
        assert close_ratio(hf_book[i], h.health_factor, nums, dens)
        if apart(h.maintenance_collateral, h.maintenance_debt):
            assert bool(fh.is_liquidatable(mc[i], md[i])) == h.liquidatable, acc_id
        if apart(h.maintenance_collateral, h.maintenance_debt) and apart(
            h.maintenance_collateral, warn * h.maintenance_debt
        ):
            assert int(fh.status_of(mc[i], md[i], float(warn))) == xs.status_of(h, warn)


# -- FLOAT-3 and FLOAT-4 ----------------------------------------------------------------------
policies = st.sampled_from(list(BonusPolicy))


def _pair(market: Market, account: str, data: st.DataObject) -> tuple[str, str]:
    acc = market.accounts[account]
    debt = data.draw(st.sampled_from(sorted(acc.borrow)), label="debt asset")
    category = market.category_of(acc)
    seizable = [
        a
        for a in sorted(acc.supply)
        if xw.category_weights(market.assets[a], category).liquidation_threshold > 0
    ]
    assume(seizable)
    return debt, data.draw(st.sampled_from(seizable), label="collateral asset")


@given(case=liquidatable_accounts(), policy=policies, data=st.data())
def test_float_3_each_liquidation_step_equals_its_exact_twin(
    case: tuple[Market, str], policy: BonusPolicy, data: st.DataObject
) -> None:
    market, account = case
    market.params = market.params.model_copy(update={"bonus_policy": policy})
    rules = MarketPack.of_market(market).rules
    acc = market.accounts[account]
    debt, coll = _pair(market, account, data)
    h = xh.account_health(acc, market)
    hf = div_up(h.maintenance_collateral, h.maintenance_debt, HF_DECIMALS)
    d, c = acc.borrowed(debt), acc.supplied(coll)
    p_debt, p_coll = market.assets[debt].price, market.assets[coll].price
    params = market.params
    # 3.2 max_repayable: the whole debt, or the close-factor limit (rounded down).
    limit = xl.max_repayable(
        params, hf, d, c, h.debt_value, p_debt, p_coll, market.assets[debt].decimals
    )
    f_limit = fl.max_repayable(
        rules.close_factor, rules.full_liquidation_health, rules.small_position_value,
        float(hf), float(d), float(c), float(h.debt_value), float(p_debt), float(p_coll),
    )  # fmt: skip
    spv = params.small_position_value
    if (
        apart(hf, params.full_liquidation_health)
        and apart(d * p_debt, spv)
        and apart(c * p_coll, spv)
    ):
        assert close(f_limit, limit, unit(market, debt))
    # 3.3 liquidation_bonus, after the category rule, lt before the size haircut.
    w = xw.effective_weights(market.assets[coll], market.category_of(acc), c, ZERO)
    beta = xl.liquidation_bonus(params, w.liquidation_bonus, w.base_liquidation_threshold, hf)
    f_beta = fl.liquidation_bonus(
        fl.POLICY_CODE[policy], float(params.max_bonus), float(w.liquidation_bonus),
        float(w.base_liquidation_threshold), float(hf),
    )  # fmt: skip
    assert close(f_beta, beta)
    # 3.4 seize, from the exact repaid amount: capped at the collateral exactly when.
    repaid = limit
    seized, repaid_after = xl.seize(
        repaid, p_debt, p_coll, beta, c, market.assets[debt].decimals, market.assets[coll].decimals
    )
    f_seized, f_repaid = fl.seize(
        float(repaid), float(p_debt), float(p_coll), float(beta), float(c)
    )
    raw = repaid * p_debt * (1 + beta) / p_coll
    if apart(raw, c):
        assert close(f_seized, seized, unit(market, coll))
        assert close(f_repaid, repaid_after, unit(market, debt))
    # 3.5 protocol_fee, from the exact seized amount.
    fee_rate = market.assets[coll].protocol_fee
    fee = xl.protocol_fee(seized, beta, fee_rate, market.assets[coll].decimals)
    f_fee = fl.protocol_fee(float(seized), float(beta), float(fee_rate))
    assert close(f_fee, fee, unit(market, coll))
    # 3.6 dust, from the exact amounts.
    mlv = params.min_leftover_value
    dust = xl.leaves_dust(mlv, repaid_after, d, seized, c, p_debt, p_coll)
    f_dust = fl.leaves_dust(
        float(mlv), float(repaid_after), float(d), float(seized), float(c), float(p_debt),
        float(p_coll),
    )  # fmt: skip
    if apart((d - repaid_after) * p_debt, mlv) and apart((c - seized) * p_coll, mlv):
        assert bool(f_dust) == (dust is not None)


@given(case=liquidatable_accounts(), data=st.data())
def test_float_4_bad_debt_is_written_off_exactly_when_the_exact_engine_does(
    case: tuple[Market, str], data: st.DataObject
) -> None:
    market, account = case
    debt, coll = _pair(market, account, data)
    try:
        quote = xl.quote_liquidation(market, account, debt, coll, "max")
    except (NothingToLiquidate, WouldLeaveDust):
        assume(False)
        return
    # The account after repaying and seizing, before any write-off.
    after = market.accounts[account].copy()
    after.set_borrow(debt, after.borrowed(debt) - quote.repaid)
    after.set_supply(coll, after.supplied(coll) - quote.seized)
    spot = MarketPack.of_market(market).spot
    category = spot.category_index.get(after.category or "", spot.no_category)
    covered = any(
        bool(fl.has_collateral(float(s), spot.maintenance[category, spot.asset_index[a], 0]))
        for a, s in after.supply.items()
    )
    assert covered == xl.has_collateral(after, market)
    written = bool(after.borrow) and not covered
    assert written == bool(quote.bad_debt)


# -- FLOAT-5 ------------------------------------------------------------------------------------
def _float_proposal(market: Market, account: str) -> tuple[ln.Proposal, ln.Lanes, SimBook]:
    book = SimBook.from_market(market, [account])
    lanes = ln.Lanes.of(
        book.arrays(), np.zeros(1, np.int64), book.s, book.b, np.zeros(1, np.int64),
        book.price[None, :],
    )  # fmt: skip
    return ln.propose(lanes, book.ap, book.rules, np.full(1, np.inf)), lanes, book


def _slack(market: Market, debt: str, coll: str, beta: Decimal) -> tuple[float, float]:
    """How far the float amounts may stand from the exact ones, which round to the assets'
    decimals: (debt units, collateral units): a few units each, and what one unit of
    debt repaid moves the collateral seized by."""
    a, b = market.assets[debt], market.assets[coll]
    u_debt, u_coll = Decimal(1).scaleb(-a.decimals), Decimal(1).scaleb(-b.decimals)
    return 2 * float(u_debt), 2 * float(u_coll) + float(u_debt * a.price * (1 + beta) / b.price)


@given(case=liquidatable_accounts(), policy=policies)
def test_float_5_the_float_engine_liquidates_as_the_exact_engine_step_by_step(
    case: tuple[Market, str], policy: BonusPolicy
) -> None:
    market, account = case
    market.params = market.params.model_copy(update={"bonus_policy": policy})
    mlv = market.params.min_leftover_value
    for step in range(12):
        event(f"liquidations before the end: {step}")
        acc = market.accounts[account]
        h = xh.account_health(acc, market)
        assume(not h.maintenance_debt or apart(h.maintenance_collateral, h.maintenance_debt))
        q, lanes, book = _float_proposal(market, account)
        status = int(q.status[0])
        if not h.liquidatable:
            assert status == NOT_LIQUIDATABLE
            return
        if not xl.has_collateral(acc, market):
            assert status == STUCK_NO_COLLATERAL
            return
        debt = book.assets[int(lanes.col[q.debt[0]])]
        coll = book.assets[int(lanes.col[q.coll[0]])]
        d, c = acc.borrowed(debt), acc.supplied(coll)
        p_debt, p_coll = market.assets[debt].price, market.assets[coll].price
        try:
            exact = xl.quote_liquidation(market, account, debt, coll, "max")
        except WouldLeaveDust as exc:
            # The float amounts stand a few rounding units from the exact ones: the dust
            # rule may fall either way where a side is left within them of zero (cleared
            # or not) or of min_leftover_value.
            u_debt, u_coll = _slack(market, debt, coll, Decimal(0))
            slack = u_debt * float(p_debt) + u_coll * float(p_coll) + _tol(float(mlv))
            left = float(exc.leftover_value)
            assume(left > slack and abs(left - float(mlv)) > slack)
            assert status == STUCK_DUST
            return
        except NothingToLiquidate:
            assume(status == STUCK_ZERO)  # the exact amounts round to nothing
            return
        u_debt, u_coll = _slack(market, debt, coll, exact.bonus)
        if status == STUCK_DUST:  # only where a leftover is within rounding of 0 or the floor
            slack = u_debt * float(p_debt) + u_coll * float(p_coll) + _tol(float(mlv))
            lefts = [float((d - exact.repaid) * p_debt), float((c - exact.seized) * p_coll)]
            assume(all(x > slack and abs(x - float(mlv)) > slack for x in lefts))
        assert status == OK
        assert close(q.repaid[0], exact.repaid, u_debt)
        assert close(q.seized[0], exact.seized, u_coll)
        assert close(q.fee[0], exact.protocol_fee, u_coll)
        assert close(q.beta[0], exact.bonus)
        execute_liquidate(market, account, debt, coll, "max")


# -- FLOAT-6 ------------------------------------------------------------------------------------
@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
@given(market=markets())
def test_float_6_numba_and_numpy_settle_a_book_alike(market: Market) -> None:
    book = SimBook.from_market(market)
    args = (book.arrays(), book.s, book.b, book.price, 1000)
    s1, b1, out1 = sim_kernels("numba").settle(*args)
    s2, b2, out2 = sim_kernels("numpy").settle(*args)
    np.testing.assert_array_equal(out1, out2)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(b1, b2)


# -- FLOAT-7 ------------------------------------------------------------------------------------
@given(market=markets(), data=st.data())
def test_float_7_the_liquidation_price_equals_its_exact_twin(
    market: Market, data: st.DataObject
) -> None:
    asset = data.draw(st.sampled_from(sorted(market.assets)), label="asset")
    p = market.assets[asset].price
    for acc_id, acc in market.accounts.items():
        h = xh.account_health(acc, market)
        s, b = acc.supplied(asset), acc.borrowed(asset)
        w = xw.effective_weights(market.assets[asset], market.category_of(acc), s, b)
        slope = flp.price_slope(
            float(s), float(b), float(w.liquidation_threshold), float(w.maintenance_borrow_weight)
        )
        got = flp.liquidation_price(
            float(p), float(h.maintenance_collateral), float(h.maintenance_debt), slope
        )
        exact = liquidation_price(market, acc_id, asset).price
        if exact is None:
            assert np.isnan(got) or got <= 1e-9 * float(p), (acc_id, got)
        else:
            assert not np.isnan(got), (acc_id, exact)
            assert abs(got - float(exact)) <= 1e-7 * float(exact) + 1e-12, (acc_id, got, exact)


# -- FLOAT-8 ------------------------------------------------------------------------------------
@given(market=markets(), data=st.data())
def test_float_8_a_derived_pack_is_the_pack_of_the_changed_market(
    market: Market, data: st.DataObject
) -> None:
    asset = data.draw(st.sampled_from(sorted(market.assets)), label="asset")
    ap = market.assets[asset]
    lt = data.draw(st.integers(0, 900).map(lambda i: Decimal(i).scaleb(-3)), label="lt")
    lt = min(lt, Decimal(1) / (1 + ap.liquidation_bonus)).quantize(Decimal("0.001"), "ROUND_DOWN")
    cf = min(ap.collateral_factor, lt)
    change = {"collateral_factor": cf, "liquidation_threshold": lt}
    derived = MarketPack.of_market(market).with_asset_params({asset: change})
    moved = {**market.assets, asset: ap.model_copy(update=change)}
    direct = MarketPack.of(market.params, moved, market.categories)
    for name in ("initial", "maintenance", "bonus", "size_factor", "protocol_fee", "price"):
        np.testing.assert_array_equal(getattr(derived.spot, name), getattr(direct.spot, name))
    book = SimBook.from_market(market)
    again = book.with_pack(derived)
    np.testing.assert_array_equal(again.s, book.s)
    assert again.pack is derived
