"""Every float rule of the liquidation designs equals its exact twin (``xmargin.fast.designs``).

As ``test_float_twins.py``: each float twin is given the exact rule's inputs and must
return its result within the book's float tolerance (REL_TOL relative, ABS_TOL absolute;
amounts the exact engine rounds to decimals also within one unit of those), and take the
same decision (a cap, a branch of a curve, a dust rule) wherever the two sides of the
decision are farther apart than that band.

DFLOAT-1  Aave v4's variable bonus, debt to target and debt to liquidate (contract 8.1).
DFLOAT-2  The auction price curves (linear, step-exponential, two-speed), Derive's buffer
          margin and fraction, and the keeper's incentive (contract 8.2).
DFLOAT-3  The storefront's discounted price and the collateral a base amount buys (8.3).
DFLOAT-4  Socialised loss (the funding delta, the supply index, a scaled balance) and the
          ADL bankruptcy price and score (8.4).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.properties.test_float_twins import apart, close
from xmargin.fast import designs as fd
from xmargin.fast.backend import numba_available
from xmargin.model.liquidation_params import AuctionCurve, AuctionParams
from xmargin.risk import adl as xadl
from xmargin.risk import auction as xa
from xmargin.risk import auction_curves as xc
from xmargin.risk import socialized_loss as xs
from xmargin.risk import storefront as xsf
from xmargin.risk import target_health as xt


def dec(lo: int, hi: int, places: int) -> st.SearchStrategy[Decimal]:
    """Decimals ``i·10^-places`` for integers ``i`` in [lo, hi]."""
    return st.integers(lo, hi).map(lambda i: Decimal(i).scaleb(-places))


fractions = dec(0, 1000, 3)
prices = dec(1, 10**12, 6)
values = dec(0, 10**15, 4)
decimals = st.integers(0, 18)


def f(x: Decimal) -> float:
    return float(x)


def unit(places: int) -> float:
    return 10.0**-places


# -- DFLOAT-1 ----------------------------------------------------------------------------
@given(max_bonus=dec(0, 300, 3), hf=dec(0, 1200, 3), hfm=dec(0, 999, 3), factor=fractions)
def test_dfloat_1_variable_bonus(
    max_bonus: Decimal, hf: Decimal, hfm: Decimal, factor: Decimal
) -> None:
    exact = xt.variable_liquidation_bonus(max_bonus, hf, hfm, factor)
    got = fd.variable_liquidation_bonus(f(max_bonus), f(hf), f(hfm), f(factor))
    if apart(hf, hfm):
        assert close(got, exact, 1e-18)


@given(
    mc=values,
    md=values,
    thf=dec(1000, 2000, 3),
    lb=dec(1000, 1300, 4),
    lt=fractions,
    w=dec(1000, 1500, 3),
    p_debt=prices,
    places=decimals,
)
def test_dfloat_1_debt_to_target(
    mc: Decimal,
    md: Decimal,
    thf: Decimal,
    lb: Decimal,
    lt: Decimal,
    w: Decimal,
    p_debt: Decimal,
    places: int,
) -> None:
    exact = xt.debt_to_target(mc, md, thf, lb, lt, w, p_debt, places)
    got = fd.debt_to_target(f(mc), f(md), f(thf), f(lb), f(lt), f(w), f(p_debt))
    if not apart(thf * w, lb * lt):
        return
    if exact is None:
        assert np.isnan(got)
        return
    # The quotient of a difference: the band scales with what was subtracted.
    den = float(thf * w - lb * lt)
    scale = float(thf * md + mc) / den / float(p_debt)
    assert abs(got - float(exact)) <= 4 * (1e-9 * scale + 1e-15) + unit(places)


@given(
    requested=st.one_of(st.none(), values),
    d=values,
    to_target=st.one_of(st.none(), values),
    p_debt=prices,
    mlv=dec(0, 10**6, 2),
)
def test_dfloat_1_debt_to_liquidate(
    requested: Decimal | None,
    d: Decimal,
    to_target: Decimal | None,
    p_debt: Decimal,
    mlv: Decimal,
) -> None:
    exact = xt.debt_to_liquidate(requested, d, to_target, p_debt, mlv)
    nan = float("nan")
    got = fd.debt_to_liquidate(
        nan if requested is None else f(requested),
        f(d),
        nan if to_target is None else f(to_target),
        f(p_debt),
        f(mlv),
    )
    x = min([d, *(v for v in (requested, to_target) if v is not None)])
    if apart((d - x) * p_debt, mlv, d * p_debt) or x == d:
        assert close(got, exact)


# -- DFLOAT-2 ----------------------------------------------------------------------------
durations = dec(0, 10**7, 3)


@given(dur=durations, tau=dec(1, 10**6, 0))
def test_dfloat_2_linear_decrease(dur: Decimal, tau: Decimal) -> None:
    assert close(fd.linear_decrease(f(dur), f(tau)), xc.linear_decrease(dur, tau))


@given(dur=dec(0, 10**6, 0), step=dec(1, 10**4, 0), cut=dec(500, 1000, 3))
def test_dfloat_2_stairstep_exponential_decrease(dur: Decimal, step: Decimal, cut: Decimal) -> None:
    assume(dur / step < 10_000)  # the exact power's cost; the float one is the same
    exact = xc.stairstep_exponential_decrease(dur, step, cut)
    got = fd.stairstep_exponential_decrease(f(dur), f(step), f(cut))
    # A power of n steps carries n roundings of cut.
    steps = float(int(dur / step))
    assert abs(got - float(exact)) <= (1 + steps) * 1e-15 * float(exact) + 1e-300


@given(dur=durations, floor=dec(1, 999, 3), fast=dec(1, 10**5, 0), slow=dec(1, 10**5, 0))
def test_dfloat_2_two_speed_decrease(
    dur: Decimal, floor: Decimal, fast: Decimal, slow: Decimal
) -> None:
    exact = xc.two_speed_decrease(dur, floor, fast, slow)
    got = fd.two_speed_decrease(f(dur), f(floor), f(fast), f(slow))
    if apart(dur, fast) and apart(dur - fast, slow):
        assert close(got, exact)


@given(
    curve=st.sampled_from(list(AuctionCurve)),
    top=prices,
    dur=dec(0, 10**5, 0),
    tau=dec(1, 10**5, 0),
    step=dec(1, 10**3, 0),
)
def test_dfloat_2_auction_price(
    curve: AuctionCurve, top: Decimal, dur: Decimal, tau: Decimal, step: Decimal
) -> None:
    params = AuctionParams(curve=curve, tau=tau, step=step)
    exact = xc.auction_price(params, top, dur)
    code = {AuctionCurve.LINEAR: fd.LINEAR, AuctionCurve.STEP_EXPONENTIAL: fd.STEP_EXPONENTIAL}
    got = fd.auction_price(
        code.get(curve, fd.TWO_SPEED), f(params.tau), f(params.step), f(params.cut),
        f(params.fast_floor), f(params.fast_seconds), f(params.slow_seconds), f(top), f(dur),
    )  # fmt: skip
    steps = float(int(dur / step))
    assert (
        abs(got - float(exact))
        <= (1 + steps) * 1e-15 * float(exact)
        + 1e-9 * float(top) * (0 if curve is AuctionCurve.STEP_EXPONENTIAL else 1)
        + 1e-18
    )


@given(mm=dec(-(10**9), 10**9, 2), mtm=dec(-(10**9), 10**9, 2), buffer=fractions)
def test_dfloat_2_buffer_margin(mm: Decimal, mtm: Decimal, buffer: Decimal) -> None:
    got = fd.buffer_margin(f(mm), f(mtm), f(buffer))
    scale = abs(float(mm)) + abs(float(mtm))
    assert abs(got - float(xc.buffer_margin(mm, mtm, buffer))) <= 4 * (1e-15 * scale) + 1e-15


@given(bm=dec(-(10**9), 10**9, 2), bid=dec(-(10**9), 10**9, 2))
def test_dfloat_2_max_fraction(bm: Decimal, bid: Decimal) -> None:
    exact = xc.max_fraction(bm, bid)
    got = fd.max_fraction(f(bm), f(bid))
    if bm and apart(bm, bid, abs(bm) + abs(bid)) and apart(bm, bm - bid):
        assert close(got, exact, 1e-18)


def test_dfloat_2_derive_vector() -> None:
    """The issue's vector through the float twins: BM −140, f 0.3182, bid 270 → 0.3415."""
    bm = fd.buffer_margin(-100.0, 300.0, 0.1)
    assert bm == -140.0
    assert round(float(fd.max_fraction(bm, 300.0)), 4) == 0.3182
    bid = 300.0 * fd.two_speed_decrease(300.0, 0.8, 600.0, 7200.0)
    assert abs(bid - 270.0) < 1e-9
    assert round(float(fd.max_fraction(bm, bid)), 4) == 0.3415


@given(tip=values, chip=fractions, tab=values, p_debt=prices, places=decimals)
def test_dfloat_2_keeper_incentive(
    tip: Decimal, chip: Decimal, tab: Decimal, p_debt: Decimal, places: int
) -> None:
    exact = xa.keeper_incentive(tip, chip, tab, p_debt, places)
    assert close(fd.keeper_incentive(f(tip), f(chip), f(tab), f(p_debt)), exact, unit(places))


# -- DFLOAT-3 ----------------------------------------------------------------------------
@given(price=prices, spf=fractions, lf=fractions)
def test_dfloat_3_store_front_price(price: Decimal, spf: Decimal, lf: Decimal) -> None:
    exact = xsf.store_front_price(price, spf, lf)
    assert close(fd.store_front_price(f(price), f(spf), f(lf)), exact)


@given(amount=values, p_base=prices, discounted=prices, places=decimals)
def test_dfloat_3_quote_collateral(
    amount: Decimal, p_base: Decimal, discounted: Decimal, places: int
) -> None:
    exact = xsf.quote_collateral(amount, p_base, discounted, places)
    got = fd.quote_collateral(f(amount), f(p_base), f(discounted))
    assert close(got, exact, unit(places))


def test_dfloat_3_comet_vector() -> None:
    """Comet's published factors (storeFrontPriceFactor 0.5, liquidationFactor 0.93)."""
    assert abs(fd.store_front_price(2000.0, 0.5, 0.93) - 1930.0) < 1e-9


# -- DFLOAT-4 ----------------------------------------------------------------------------
@given(loss=values, long=dec(0, 10**9, 3), short=dec(-(10**9), 0, 3), places=decimals)
def test_dfloat_4_funding_delta(loss: Decimal, long: Decimal, short: Decimal, places: int) -> None:
    assume(long or short)
    exact = xs.funding_delta_to_resolve_bankruptcy(loss, long, short, places)
    got = fd.funding_delta_to_resolve_bankruptcy(f(loss), f(long), f(short))
    assert close(got, exact, unit(places))


def test_dfloat_4_drift_vectors() -> None:
    """The issue's vectors: Δ = 100/11 per unit; the deposit index × (1 − 11/120)."""
    assert abs(fd.funding_delta_to_resolve_bankruptcy(100.0, 7.0, -4.0) - 9.0909091) < 1e-7
    assert abs(fd.supply_index_after_loss(1.0, 11.0, 120.0) - (1 - 11 / 120)) < 1e-15


@given(index=dec(10**17, 10**19, 18), total=dec(1, 10**12, 6), share=fractions)
def test_dfloat_4_supply_index_and_balance(index: Decimal, total: Decimal, share: Decimal) -> None:
    loss = (total * share).quantize(Decimal("0.000001"))
    exact = xs.supply_index_after_loss(index, loss, total)
    assert close(fd.supply_index_after_loss(f(index), f(loss), f(total)), exact, 1e-18)
    balance = (total * share / 3).quantize(Decimal("0.000001"))
    exact_b = xs.scaled_balance(balance, loss, total, 6)
    assert close(fd.scaled_balance(f(balance), f(loss), f(total)), exact_b, unit(6))


@given(
    price=prices,
    value=dec(-(10**12), -1, 4),
    q=dec(-(10**9), 10**9, 4).filter(bool),
)
def test_dfloat_4_bankruptcy_price(price: Decimal, value: Decimal, q: Decimal) -> None:
    exact = xadl.bankruptcy_price(price, value, q)
    got = fd.bankruptcy_price(f(price), f(value), f(q))
    scale = float(price) + abs(float(value / q))
    assert abs(got - float(exact)) <= 4 * 1e-15 * scale + 1e-18


@given(pnl=values, q=dec(1, 10**9, 4), entry=prices, price=prices, value=dec(1, 10**15, 4))
def test_dfloat_4_adl_score(
    pnl: Decimal, q: Decimal, entry: Decimal, price: Decimal, value: Decimal
) -> None:
    exact = xadl.adl_score(pnl, q, entry, price, value)
    got = fd.adl_score(f(pnl), f(q), f(entry), f(price), f(value))
    assert close(got, exact, 1e-18)


# -- the twins compile into Numba kernels --------------------------------------------------
@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
def test_dfloat_the_twins_compile_into_numba_kernels() -> None:
    """Each twin is ``elementwise``: a Numba kernel calls it on scalars, as NumPy does."""
    from xmargin.fast.backend import load_numba

    numba = load_numba()

    @numba.njit(error_model="numpy")  # type: ignore[untyped-decorator]
    def kernel(x: float) -> tuple[float, ...]:
        return (
            fd.variable_liquidation_bonus(0.05, x, 0.85, 0.8),
            fd.debt_to_target(9600.0, 10000.0, 1.05, 1.042, 0.8, 1.0, x),
            fd.debt_to_liquidate(np.nan, 10.0, x, 1.0, 1.0),
            fd.auction_price(fd.TWO_SPEED, 3600.0, 90.0, 0.99, 0.8, 600.0, 7200.0, 300.0, x),
            fd.auction_price(fd.STEP_EXPONENTIAL, 3600.0, 90.0, 0.99, 0.8, 600.0, 7200.0, 3.0, x),
            fd.max_fraction(fd.buffer_margin(-100.0, 300.0, 0.1), x),
            fd.keeper_incentive(20.0, 0.001, x, 1.0),
            fd.store_front_price(x, 0.5, 0.93),
            fd.quote_collateral(x, 1.0, 1930.0),
            fd.funding_delta_to_resolve_bankruptcy(x, 7.0, -4.0),
            fd.supply_index_after_loss(1.0, 11.0, x),
            fd.scaled_balance(x, 11.0, 120.0),
            fd.bankruptcy_price(100.0, -50.0, x),
            fd.adl_score(100.0, 2.0, 1000.0, 1050.0, x),
        )

    for x in (0.9, 270.0, 500.0):
        compiled = kernel(x)
        plain = kernel.py_func(x)
        assert len(compiled) == len(plain)
        for a, b in zip(compiled, plain, strict=True):
            assert a == pytest.approx(float(b), rel=1e-12)


@given(
    data=st.lists(
        st.tuples(
            dec(-(10**6), 10**6, 2),  # pnl
            dec(-(10**4), 10**4, 3).filter(bool),  # size
            prices,  # entry
            dec(-(10**7), 10**7, 2),  # net value
        ),
        min_size=1,
        max_size=12,
    ),
    price=prices,
    side=st.sampled_from([1, -1]),
)
def test_dfloat_4_adl_ranking_orders_as_the_exact_scores(
    data: list[tuple[Decimal, Decimal, Decimal, Decimal]], price: Decimal, side: int
) -> None:
    """The exact ranking's order (score down, then account order) from the exact scores,
    against the float ranking, wherever no two scores are within the float band."""
    exact = [
        (i, xadl.adl_score(p, q, e, price, v))
        for i, (p, q, e, v) in enumerate(data)
        if (q > 0) == (side > 0) and p > 0 and v > 0
    ]
    scores = sorted(s for _, s in exact)
    assume(all(apart(a, b) for a, b in pairwise(scores)))
    exact.sort(key=lambda r: (-r[1], r[0]))
    cols = [np.array([float(r[k]) for r in data]) for k in range(4)]
    got = fd.adl_ranking(cols[0], cols[1], cols[2], float(price), cols[3], side)
    assert [int(i) for i in got] == [i for i, _ in exact]


def test_dfloat_4_dydx_vector_ranks_deep_then_wide() -> None:
    """tests/vectors/dydx_adl.toml: shorts deep (pnl 150, V 650) then wide; loser out."""
    # deep, wide, loser (a loss), twin (a long: the wrong side)
    pnl = np.array([150.0, 200.0, -100.0, 50.0])
    q = np.array([-1.5, -0.5, -1.0, 1.0])
    entry = np.array([2100.0, 2400.0, 1900.0, 1950.0])
    value = np.array([650.0, 1200.0, 900.0, 2000.0])
    assert list(fd.adl_ranking(pnl, q, entry, 2000.0, value, -1)) == [0, 1]
