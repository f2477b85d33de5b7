"""Hypothesis strategies for random books: markets with categories and size haircuts,
accounts of every kind, and accounts placed exactly on (or a hair from) a level.

Numbers are drawn as exact decimal strings, some with more significant digits than a
float64 holds, so the book's exact re-check must use the exact balances.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.builders import make_market
from xmargin.model import Market

ASSETS = ("AAA", "BBB", "CCC", "DDD", "EEE")


def _dec(mantissa: int, exp: int) -> str:
    return str(Decimal(mantissa).scaleb(exp))


@st.composite
def prices(draw: st.DrawFn) -> str:
    return _dec(draw(st.integers(1, 99_999_999)), draw(st.integers(-10, 2)))


@st.composite
def weights(draw: st.DrawFn) -> tuple[str, str]:
    """(collateral_factor, liquidation_threshold), cf <= lt <= 1, sometimes zero."""
    lt = draw(st.sampled_from([0, 1, 2, 3, 4])) and draw(st.integers(1, 10_000))
    cf = draw(st.integers(0, lt)) if lt else 0
    return _dec(cf, -4), _dec(lt, -4)


@st.composite
def amounts(draw: st.DrawFn, decimals: int) -> str:
    """Token units held to ``decimals`` places; up to 24 significant digits."""
    digits = draw(st.sampled_from([1, 3, 6, 9, 12, 18, 24]))
    mantissa = draw(st.integers(1, 10**digits - 1))
    places = draw(st.integers(0, decimals))
    return _dec(mantissa, -places)


def _bonus_within(bonus: str, lt: object) -> str:
    """``bonus``, lowered where needed so that lt x (1 + bonus) <= 1 (a larger bonus makes
    liquidation lower health, and the loader refuses it)."""
    lt_d = Decimal(str(lt))
    if not lt_d:
        return bonus
    most = (1 / lt_d - 1).quantize(Decimal("1e-6"), rounding="ROUND_FLOOR")
    return str(min(Decimal(bonus), most))


@st.composite
def markets(draw: st.DrawFn, max_accounts: int = 12) -> Market:
    """A valid market of 1 to 5 assets, 0 to 2 categories and up to ``max_accounts``."""
    n_assets = draw(st.integers(1, len(ASSETS)))
    names = ASSETS[:n_assets]
    assets: dict[str, dict[str, Any]] = {}
    decimals: dict[str, int] = {}
    for a in names:
        cf, lt = draw(weights())
        mbw = 100 + (draw(st.integers(0, 50)) if draw(st.booleans()) else 0)  # percent
        bw = mbw + draw(st.integers(0, 30))
        dec = draw(st.sampled_from([0, 2, 6, 8, 18]))
        decimals[a] = dec
        table: dict[str, Any] = {
            "price": draw(prices()),
            "collateral_factor": cf,
            "liquidation_threshold": lt,
            "liquidation_bonus": _bonus_within("0.05", lt),
            "borrow_weight": _dec(bw, -2),
            "maintenance_borrow_weight": _dec(mbw, -2),
            "decimals": dec,
        }
        if draw(st.integers(0, 3)) == 0:
            table["size_factor"] = _dec(draw(st.integers(1, 5000)), -draw(st.integers(2, 6)))
        assets[a] = table
    categories: dict[str, dict[str, Any]] = {}
    for c in range(draw(st.integers(0, 2))):
        members = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        cf, lt = draw(weights())
        categories[f"cat{c}"] = {
            "collateral_factor": cf,
            "liquidation_threshold": lt,
            "liquidation_bonus": _bonus_within("0.02", lt),
            "assets": members,
        }
    accounts: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, max_accounts))):
        held: list[str] = draw(st.lists(st.sampled_from(names), unique=True, max_size=n_assets))
        supply = {a: draw(amounts(decimals[a])) for a in held if draw(st.booleans())}
        borrow = {a: draw(amounts(decimals[a])) for a in held if draw(st.booleans())}
        entry: dict[str, Any] = {"supply": supply, "borrow": borrow}
        if len(categories) > 0 and draw(st.booleans()):
            entry["category"] = draw(st.sampled_from(sorted(categories)))
        accounts[f"acc{i:03d}"] = entry
    return make_market(assets=assets, accounts=accounts, categories=categories)


@st.composite
def boundary_markets(draw: st.DrawFn) -> Market:
    """Accounts whose health factor is exactly 1 or the warning level 1.1, or one unit of
    the last decimal place away: only the exact engine can tell which side they are on."""
    # prices from 1e-8 to 1e6 and debts below 1e9 keep every supply below 1e24 units
    price_a = _dec(draw(st.integers(1, 99_999_999)), draw(st.integers(-8, -2)))
    price_b = _dec(draw(st.integers(1, 99_999_999)), draw(st.integers(-8, -2)))
    lt = _dec(draw(st.integers(1, 10_000)), -4)
    assets = {
        "COLL": {"price": price_a, "collateral_factor": "0", "liquidation_threshold": lt,
                 "liquidation_bonus": _bonus_within("0.05", lt), "decimals": 36},
        "DEBT": {"price": price_b, "collateral_factor": "0", "liquidation_threshold": "0",
                 "liquidation_bonus": "0.05", "decimals": 36},
    }  # fmt: skip
    accounts: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, 8))):
        level = draw(st.sampled_from(["1", "1.1"]))
        debt = Decimal(draw(st.integers(1, 10**9 - 1))).scaleb(-draw(st.integers(0, 12)))
        # mc = s p_a lt = level x b p_b  =>  s = level b p_b / (p_a lt), held to 36 places
        s = (Decimal(level) * debt * Decimal(price_b) / (Decimal(price_a) * Decimal(lt))).quantize(
            Decimal("1e-36")
        )
        nudge = draw(st.sampled_from([-1, 0, 0, 1]))
        s += Decimal(nudge).scaleb(-36)
        if s <= 0:
            s = Decimal("1e-36")
        accounts[f"edge{i}"] = {"supply": {"COLL": str(s)}, "borrow": {"DEBT": str(debt)}}
    return make_market(assets=assets, accounts=accounts)
