"""Invariants of options (contract 6), each with an ID and a one-sentence statement.

- OPT-1 premium conservation: a trade moves exactly size·price of quote through the
  settlement asset, to one unit of it (the flow's rounding, against the account).
- OPT-2 settlement is value-neutral: at zero volatility (F = S, rate 0) an account's net
  value just before expiry equals its net value after settlement, to one unit of the
  settlement asset.
- OPT-3 a risk-reducing trade (|q| lower, no flip) is never refused, at any price.
- OPT-4 a refused trade changes nothing.
- OPT-5 greeks equal finite differences of the mark value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.option_builders import option_doc
from xmargin import account_greeks, execute_trade_option
from xmargin.errors import RuleViolation
from xmargin.io import parse_market
from xmargin.model import Market
from xmargin.risk.health import account_health
from xmargin.risk.options import option_mtm

UNIT = Decimal("1e-6")  # USDC's smallest unit (6 decimals), at price 1


def dec(lo: int, hi: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(lo, hi).map(lambda i: Decimal(i).scaleb(-places))


@st.composite
def option_books(draw: st.DrawFn, volatility: bool = True) -> dict[str, Any]:
    """A market document: ETH near 1,500, two options on it, the account "a" holding
    USDC (maybe ETH, maybe a USDC borrow) and positions in both."""
    spot = draw(dec(100_000, 300_000, 2))
    vol = draw(dec(0, 150, 2)) if volatility else Decimal(0)
    strikes = [draw(dec(80_000, 320_000, 2)) for _ in range(2)]
    expiry = draw(
        st.sampled_from(["2024-06-02T08:00:00Z", "2024-06-28T08:00:00Z", "2024-12-27T08:00:00Z"])
    )
    options = {
        "C": {"kind": "call", "strike": strikes[0], "expiry": expiry},
        "P": {"kind": "put", "strike": strikes[1], "expiry": expiry},
    }
    held = {n: draw(dec(-500, 500, 2)) for n in options}
    supply: dict[str, Any] = {"USDC": draw(dec(0, 10_000_000, 2))}
    if draw(st.booleans()):
        supply["ETH"] = draw(dec(0, 500, 2))
    borrow = {"USDC": draw(dec(0, 200_000, 2))} if draw(st.booleans()) else {}
    margin = (
        draw(st.sampled_from(["standard", "standard", "portfolio"])) if volatility else "standard"
    )
    return option_doc(
        options,
        {"a": held},
        spot=spot,
        volatility=vol,
        accounts={"a": {"supply": supply, "borrow": borrow, "margin": margin}},
    )


def net_value(m: Market) -> Decimal:
    h = account_health(m.accounts["a"], m)
    return h.collateral_value - h.debt_value


@settings(max_examples=40, deadline=None)
@given(
    doc=option_books(),
    option=st.sampled_from(["C", "P"]),
    size=dec(-300, 300, 2),
    price=dec(0, 50_000, 2),
)
def test_OPT_1_a_trade_moves_exactly_its_premium(
    doc: dict[str, Any], option: str, size: Decimal, price: Decimal
) -> None:
    m = parse_market(doc)
    if not size:
        return
    acc = m.accounts["a"]
    before = acc.supplied("USDC") - acc.borrowed("USDC")
    try:
        q = execute_trade_option(m, "a", option, size, price)
    except RuleViolation:
        return
    after = m.accounts["a"].supplied("USDC") - m.accounts["a"].borrowed("USDC")
    moved = after - before  # USDC at price 1: units = quote
    assert moved == q.settlement_units
    assert -q.premium - UNIT < moved <= -q.premium  # a debit rounds up, a credit down


@settings(max_examples=40, deadline=None)
@given(doc=option_books(volatility=False))
def test_OPT_2_settlement_at_expiry_is_value_neutral_at_zero_volatility(
    doc: dict[str, Any],
) -> None:
    expiry = doc["options"]["C"]["expiry"]
    # one second before expiry, σ = 0 and F = S: each option is worth its payoff
    doc["market"]["time"] = _minus_one_second(expiry)
    before = net_value(parse_market(doc))
    doc["market"]["time"] = expiry  # settled at load
    settled = parse_market(doc)
    assert settled.accounts["a"].options == {}
    after = net_value(settled)
    assert before - 2 * UNIT <= after <= before  # two flows, each rounding against the account


def _minus_one_second(text: str) -> str:
    from datetime import timedelta

    from xmargin.model.liquidation_params import format_time, parse_time

    return format_time(parse_time(text) - timedelta(seconds=1))


@settings(max_examples=40, deadline=None)
@given(
    doc=option_books(),
    option=st.sampled_from(["C", "P"]),
    share=dec(1, 100, 2),
    price=dec(0, 100_000, 2),
)
def test_OPT_3_a_risk_reducing_trade_is_never_refused(
    doc: dict[str, Any], option: str, share: Decimal, price: Decimal
) -> None:
    m = parse_market(doc)
    q = m.accounts["a"].option_size(option)
    delta = (-q * share).quantize(Decimal("0.01"))
    if not delta:
        return
    execute_trade_option(m, "a", option, delta, price)  # never raises
    assert abs(m.accounts["a"].option_size(option)) < abs(q)


@settings(max_examples=40, deadline=None)
@given(doc=option_books(), option=st.sampled_from(["C", "P"]), size=dec(-100_000, 100_000, 2))
def test_OPT_4_a_refused_trade_changes_nothing(
    doc: dict[str, Any], option: str, size: Decimal
) -> None:
    m = parse_market(doc)
    if not size:
        return
    before = m.copy()
    try:
        execute_trade_option(m, "a", option, size)
    except RuleViolation:
        assert m.state_equals(before)


@settings(max_examples=30, deadline=None)
@given(doc=option_books())
def test_OPT_5_greeks_equal_finite_differences_of_the_mark_value(doc: dict[str, Any]) -> None:
    m = parse_market(doc)
    acc = m.accounts["a"]
    greeks = account_greeks(m, "a")
    if not greeks:
        return
    (g,) = greeks
    s = m.assets["ETH"].price
    # At zero volatility the value has a kink at the money: no derivative to compare.
    assume(all(m.options[n].volatility or m.options[n].strike != s for n in acc.options))

    def value(view: Market) -> Decimal:
        a = view.accounts["a"]
        return (
            option_mtm(a, view) + (a.supplied("ETH") - a.borrowed("ETH")) * view.assets["ETH"].price
        )

    e = s * Decimal("1e-25")
    up, down = m.with_prices({"ETH": s + e}), m.with_prices({"ETH": s - e})
    delta = (value(up) - value(down)) / (2 * e)
    assert abs(g.delta - delta) <= abs(delta) * Decimal("1e-12") + Decimal("1e-17")
    h = Decimal("1e-25")
    vega = Decimal(0)
    for name in acc.options:
        sigma = m.options[name].volatility
        if not sigma:
            continue  # vega of an option at zero volatility: 0 by definition (intrinsic)
        bumped = [m.with_prices({}), m.with_prices({})]
        for view, sign in zip(bumped, (1, -1), strict=True):
            view.options = {
                **m.options,
                name: m.options[name].model_copy(update={"volatility": sigma + sign * h}),
            }
        vega += (value(bumped[0]) - value(bumped[1])) / (2 * h)
    assert abs(g.vega - vega) <= abs(vega) * Decimal("1e-12") + Decimal("1e-17")
