"""The float twins of the perp liquidation rule (contract 5.4, ``xmargin.fast.perps``)
equal their exact twins (``xmargin.risk.perp_liquidation``, ``xmargin.risk.settlement``).

PLFLOAT-1  ``max_closable``: the same branch (all of |q|, or the close factor's share),
           and the share within one unit of the underlying's decimals (both round down).
PLFLOAT-2  ``liquidation_fees`` and ``realized_pnl`` equal the exact ones.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.properties.test_float_twins import _tol, close
from xmargin.fast import perps as fp
from xmargin.model.params import MarketParams
from xmargin.model.perps import PerpParams
from xmargin.risk import perp_liquidation as xl
from xmargin.risk import settlement as xs

sizes = st.integers(-(10**12), 10**12).filter(bool).map(lambda i: Decimal(i).scaleb(-6))
prices = st.integers(1, 10**10).map(lambda i: Decimal(i).scaleb(-4))
fractions = st.integers(1, 1000).map(lambda i: Decimal(i).scaleb(-3))
fees = st.integers(1, 500).map(lambda i: Decimal(i).scaleb(-4))
healths = st.integers(0, 2000).map(lambda i: Decimal(i).scaleb(-3))
smalls = st.integers(0, 10**7).map(lambda i: Decimal(i).scaleb(-2))


@given(hf=healths, q=sizes, p=prices, full=fractions, small=smalls, cf=fractions,
       decimals=st.integers(0, 8))  # fmt: skip
def test_plfloat_1_max_closable_equals_its_exact_twin(
    hf: Decimal, q: Decimal, p: Decimal, full: Decimal, small: Decimal, cf: Decimal, decimals: int
) -> None:
    n = abs(q) * p
    assume(abs(float(n) - float(small)) > _tol(float(n)))  # a tie is decided by rounding
    params = MarketParams(
        quote="USD", close_factor=cf, full_liquidation_health=full, small_position_value=small
    )
    exact = xl.max_closable(params, hf, q, p, decimals)
    got = fp.max_closable(
        float(hf), float(q), float(p), float(full), float(small), float(cf), 10.0**decimals
    )
    unit = 10.0**-decimals
    assert abs(got - float(exact)) <= unit + _tol(float(abs(q)))
    if exact == abs(q):
        assert close(got, exact)


@given(c=sizes.map(abs), p=prices, e=prices, q=sizes, lf=fees, inf=fees)
def test_plfloat_2_fees_and_realized_pnl_equal_their_exact_twins(
    c: Decimal, p: Decimal, e: Decimal, q: Decimal, lf: Decimal, inf: Decimal
) -> None:
    perp = PerpParams(
        name="X", underlying="A", settlement_asset="B", initial_margin=Decimal("0.5"),
        maintenance_margin=2 * (lf + inf), liquidation_fee=lf, insurance_fee=inf,
    )  # fmt: skip
    exact_l, exact_i = xl.liquidation_fees(perp, c, p)
    got_l, got_i = fp.liquidation_fees(float(c), float(p), float(lf), float(inf))
    assert close(got_l, exact_l) and close(got_i, exact_i)
    exact = xs.realized_pnl(c, p, e, q)
    got = fp.realized_pnl(float(c), float(p), float(e), float(q))
    assert abs(got - float(exact)) <= 8 * _tol(float(c * (p + e)))
