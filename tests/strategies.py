"""Hypothesis strategies that generate markets and accounts of a known class.

Every market is a contract document validated by :func:`xmargin.io.parse_market`, so a
generated market is one a market file could hold. The universe is five assets with
realistic decimals (WETH 18, WBTC 8, USDC 6, DAI 18 and GOV 18, GOV being isolated
collateral with a debt ceiling), random prices and risk parameters, two categories, and
market rules drawn from the contract's ranges (close factor, small positions, minimum
leftover, all three bonus policies).

- ``markets()``: a market whose account ``"subject"`` is of any class, beside 0-2 others;
- ``healthy_accounts()``: ``(market, "subject")`` with the subject not liquidatable;
- ``liquidatable_accounts()``: ``(market, "subject")`` with the subject liquidatable;
- ``indebted_accounts()``: ``(market, "subject")`` with some debt, of either class;
- ``one_pair_accounts()``: one collateral C, one debt D, no size haircut, liquidatable
  and at or above the boundary health (1 + beta) x lt_C / mbw_D of property LIQ-4;
- ``actions(market)``: a ledger action with an amount that may be valid or not.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from tests.builders import market_doc
from xmargin.io import parse_market
from xmargin.mathlib import quantize_down, quantize_up
from xmargin.model import Market
from xmargin.risk.health import account_health

__all__ = [
    "DECIMALS",
    "KINDS",
    "SUBJECT",
    "Action",
    "actions",
    "healthy_accounts",
    "indebted_accounts",
    "liquidatable_accounts",
    "markets",
    "one_pair_accounts",
]

#: The generated universe: asset symbol -> token decimals.
DECIMALS = {"WETH": 18, "WBTC": 8, "USDC": 6, "DAI": 18, "GOV": 18}
ISOLATED = "GOV"
SUBJECT = "subject"

#: (kind, account id, asset or (debt, collateral), amount as a string or "max")
Action = tuple[str, str, Any, str]


def _dec(draw: st.DrawFn, lo: int, hi: int, places: int) -> Decimal:
    """A decimal in [lo, hi] x 10^-places, drawn as an integer: exact, never a float."""
    return Decimal(draw(st.integers(lo, hi))).scaleb(-places)


def _price(draw: st.DrawFn) -> Decimal:
    # 1e-8 .. 99,999.9 quote per unit, up to 6 significant digits
    return Decimal(draw(st.integers(1, 999_999))).scaleb(draw(st.integers(-8, -1)))


class _Digits:
    """Decodes many small choices from one drawn integer (mixed radix).

    Generation dominates the cost of every property, and Hypothesis charges per draw, so
    the secondary parameters of a table come from one integer. It shrinks toward 0, and
    every ``take`` is written so that 0 is the plainest choice (off, none, default).
    """

    def __init__(self, code: int) -> None:
        self.code = code

    def take(self, n: int) -> int:
        self.code, r = divmod(self.code, n)
        return r

    def dec(self, n: int, places: int) -> Decimal:
        return Decimal(self.take(n + 1)).scaleb(-places)


def _digits(draw: st.DrawFn) -> _Digits:
    return _Digits(draw(st.integers(0, 2**160 - 1)))


@st.composite
def _asset_table(draw: st.DrawFn, symbol: str) -> dict[str, Any]:
    lt_milli = draw(st.integers(250, 950))  # below 300: not collateral (about 1 in 14)
    lt = Decimal(0) if lt_milli < 300 else Decimal(lt_milli).scaleb(-3)
    cf = quantize_down(lt * _dec(draw, 0, 1000, 3), 3)
    x = _digits(draw)
    mbw = 1 + x.dec(300, 3) if x.take(4) == 3 else Decimal(1)  # 1 .. 1.3
    table: dict[str, Any] = {
        "price": _price(draw),
        "decimals": DECIMALS[symbol],
        "collateral_factor": cf,
        "liquidation_threshold": lt,
        # 0 .. 0.2, with lt x (1 + bonus) <= 1 (a bonus above that is refused at load)
        "liquidation_bonus": _bonus_within(x.dec(200, 3), lt),
        "protocol_fee": x.dec(500, 3) if x.take(2) else Decimal(0),  # 0 .. 0.5
        "borrow_weight": mbw + (x.dec(200, 3) if x.take(2) else Decimal(0)),
        "maintenance_borrow_weight": mbw,
        "borrowable": x.take(8) != 7,  # 1 in 8 not borrowable
    }
    if x.take(4) == 3:
        table["size_factor"] = Decimal(1 + x.take(100)).scaleb(-4)  # 0.0001 .. 0.01
    if x.take(5) == 4:
        table["supply_cap"] = Decimal(x.take(10**6)).scaleb(x.take(7))
    if x.take(5) == 4:
        table["borrow_cap"] = Decimal(x.take(10**6)).scaleb(x.take(7))
    if symbol == ISOLATED:
        table["debt_ceiling"] = Decimal(x.take(10**4)).scaleb(x.take(5))
    if symbol in ("USDC", "DAI"):
        table["borrowable_in_isolation"] = bool(x.take(2))
    return table


@st.composite
def _market_table(draw: st.DrawFn) -> dict[str, Any]:
    x = _digits(draw)
    return {
        "close_factor": _close_factor(x),
        "full_liquidation_health": [Decimal("0.95"), Decimal(0), x.dec(100, 2)][x.take(3)],
        "small_position_value": [Decimal(0), Decimal(2000), x.dec(10**8, 2)][x.take(3)],
        "min_leftover_value": [Decimal(0), Decimal(0), Decimal(1000)][x.take(3)],
        "bonus_policy": ["fixed", "threshold", "health"][x.take(3)],
        "max_bonus": x.dec(300, 3),
    }


def _bonus_within(bonus: Decimal, lt: Decimal) -> Decimal:
    """``bonus``, lowered where needed so that lt x (1 + bonus) <= 1 (contract extension:
    a larger bonus makes liquidation lower health, and the loader refuses it)."""
    return min(bonus, quantize_down(1 / lt - 1, 3)) if lt else bonus


def _close_factor(x: _Digits) -> Decimal:
    return [Decimal("0.5"), Decimal(1), Decimal(1 + x.take(100)).scaleb(-2)][x.take(3)]


@st.composite
def _category_tables(draw: st.DrawFn) -> dict[str, Any]:
    x = _digits(draw)
    out: dict[str, Any] = {}
    for name, members in (("eth", ["WETH", "WBTC"]), ("usd", ["USDC", "DAI"])):
        lt = Decimal(980 - x.take(181)).scaleb(-3)  # 0.8 .. 0.98
        out[name] = {
            "collateral_factor": quantize_down(lt * Decimal(1000 - x.take(201)).scaleb(-3), 3),
            "liquidation_threshold": lt,
            "liquidation_bonus": _bonus_within(x.dec(50, 3), lt),
            "assets": members,
        }
        if x.take(2):
            out[name]["borrowable"] = members[:1]
    return out


def _units(value: Decimal, price: Decimal, decimals: int) -> Decimal:
    """Token units worth about ``value`` quote, at least one smallest unit."""
    return max(quantize_up(value / price, decimals), Decimal(1).scaleb(-decimals))


def _lt_for(doc: dict[str, Any], category: str | None, asset: str) -> Decimal:
    if category is not None and asset in doc["categories"][category]["assets"]:
        lt: Decimal = doc["categories"][category]["liquidation_threshold"]
        return lt
    lt = doc["assets"][asset]["liquidation_threshold"]
    return lt


def _subset(x: _Digits, universe: list[str], most: int) -> list[str]:
    """A non-empty subset of ``universe`` with at most ``most`` members."""
    mask = 1 + x.take(2 ** len(universe) - 1)
    return [a for i, a in enumerate(universe) if mask >> i & 1][:most]


@st.composite
def _account_table(draw: st.DrawFn, doc: dict[str, Any], klass: str) -> dict[str, Any]:
    """An account for ``doc``; ``klass`` aims its health: healthy, liquidatable or any."""
    assets = doc["assets"]
    x = _digits(draw)
    category = [None, "eth", "usd", None][x.take(4)]
    supplied = _subset(x, sorted(assets), 3)
    if ISOLATED in supplied:  # contract 1.3: isolated collateral stands alone
        others = [a for a in supplied if a != ISOLATED]
        in_isolation = [a for a in assets if assets[a].get("borrowable_in_isolation")]
        if (not in_isolation and klass != "any") or (others and x.take(2)):
            supplied = others or ["WETH"]
        else:
            supplied = [ISOLATED]
    supply = {
        a: _units(_dec(draw, 100, 10**8, 2), assets[a]["price"], DECIMALS[a]) for a in supplied
    }
    table: dict[str, Any] = {"supply": supply}
    if category is not None:
        table["category"] = category
    borrowable = sorted(
        a for a in assets if ISOLATED not in supply or assets[a].get("borrowable_in_isolation")
    )
    if not borrowable or (klass == "any" and x.take(3) == 0):
        return table
    borrowed = _subset(x, borrowable, 2)
    mc = sum(
        (s * assets[a]["price"] * _lt_for(doc, category, a) for a, s in supply.items()),
        Decimal(0),
    )
    lo, hi = {"healthy": (0, 980), "liquidatable": (1020, 3000), "any": (0, 2000)}[klass]
    ratio = _dec(draw, lo, hi, 3)  # debt over approximate maintenance collateral
    debt_value = mc * ratio if mc else Decimal(100 + x.take(10**5))
    shares = [1 + x.take(10) for _ in borrowed]
    table["borrow"] = {
        a: _units(
            debt_value * share / sum(shares) / assets[a]["maintenance_borrow_weight"],
            assets[a]["price"],
            DECIMALS[a],
        )
        for a, share in zip(borrowed, shares, strict=True)
    }
    return table


@st.composite
def markets(draw: st.DrawFn, subject: str = "any") -> Market:
    """A valid market whose account ``"subject"`` is of class ``subject``, plus others."""
    doc = market_doc(
        assets={a: draw(_asset_table(a)) for a in DECIMALS},
        market=draw(_market_table()),
        categories=draw(_category_tables()),
    )
    doc["accounts"][SUBJECT] = draw(_account_table(doc, subject))
    for i in range(draw(st.integers(0, 2))):
        doc["accounts"][f"other{i}"] = draw(_account_table(doc, "any"))
    return parse_market(doc, source="strategies")


@st.composite
def healthy_accounts(draw: st.DrawFn) -> tuple[Market, str]:
    """``(market, "subject")``: the subject is not liquidatable (health >= 1 or no debt)."""
    m = draw(markets("healthy"))
    assume(not account_health(m.accounts[SUBJECT], m).liquidatable)
    return m, SUBJECT


@st.composite
def liquidatable_accounts(draw: st.DrawFn) -> tuple[Market, str]:
    """``(market, "subject")``: the subject has debt and health below 1."""
    m = draw(markets("liquidatable"))
    assume(account_health(m.accounts[SUBJECT], m).liquidatable)
    return m, SUBJECT


@st.composite
def indebted_accounts(draw: st.DrawFn) -> tuple[Market, str]:
    """``(market, "subject")``: the subject owes something; healthy or not."""
    m = draw(markets(draw(st.sampled_from(["healthy", "liquidatable"]))))
    assume(m.accounts[SUBJECT].borrow)
    return m, SUBJECT


@st.composite
def one_pair_accounts(draw: st.DrawFn) -> tuple[Market, str]:
    """One collateral C and one debt D, no size haircut, health in [boundary, 1), where
    boundary = (1 + beta) x lt_C / mbw_D (property LIQ-4); ``(market, "a")``."""
    policy = draw(st.sampled_from(["fixed", "threshold", "health"]))
    max_bonus = _dec(draw, 0, 300, 3)
    lt = _dec(draw, 300, 900, 3)
    mbw = Decimal(1) if draw(st.booleans()) else _dec(draw, 1000, 1200, 3)
    if policy == "fixed":
        # (1 + beta) x lt / mbw < 1 leaves room for a liquidatable account above the bound;
        # (1 + beta) x lt <= 1 besides, as the loader requires (a larger bonus is refused)
        top = int((min(mbw, Decimal(1)) / lt - 1) * 1000) - 1
        assume(top >= 0)
        bonus = _dec(draw, 0, min(top, 200), 3)
        lower = (1 + bonus) * lt / mbw
    elif policy == "threshold":
        bonus = Decimal(0)
        beta = min(max_bonus, 1 / (Decimal("0.3") * lt + Decimal("0.7")) - 1)
        lower = (1 + beta) * lt / mbw
    else:  # health: hf x max(hf, 1 - max_bonus) >= lt / mbw
        bonus = Decimal(0)
        lower = max((lt / mbw).sqrt(), lt / (mbw * (1 - max_bonus)))
    assume(lower < Decimal("0.999"))
    hf = lower + (1 - lower) * _dec(draw, 0, 999, 3)
    p_c, p_d = _price(draw), _price(draw)
    dec_c, dec_d = draw(st.sampled_from([6, 8, 18])), draw(st.sampled_from([6, 8, 18]))
    debt_value = _dec(draw, 100, 10**8, 2)
    coll_value = hf * debt_value * mbw / lt
    doc = market_doc(
        market={
            "bonus_policy": policy,
            "max_bonus": max_bonus,
            "close_factor": draw(st.sampled_from([Decimal("0.5"), Decimal(1)])),
            "full_liquidation_health": draw(st.sampled_from([Decimal("0.95"), Decimal(0)])),
        },
        assets={
            "C": {
                "price": p_c,
                "decimals": dec_c,
                "collateral_factor": lt,
                "liquidation_threshold": lt,
                "liquidation_bonus": bonus,
                "protocol_fee": _dec(draw, 0, 500, 3),
            },
            "D": {
                "price": p_d,
                "decimals": dec_d,
                "collateral_factor": Decimal(0),
                "liquidation_threshold": Decimal(0),
                "liquidation_bonus": Decimal(0),
                "maintenance_borrow_weight": mbw,
                "borrow_weight": mbw,
            },
        },
        accounts={
            "a": {
                "supply": {"C": _units(coll_value, p_c, dec_c)},
                "borrow": {"D": quantize_down(debt_value / p_d, dec_d)},
            }
        },
    )
    assume(doc["accounts"]["a"]["borrow"]["D"] > 0)
    m = parse_market(doc, source="one_pair_accounts")
    assume(account_health(m.accounts["a"], m).liquidatable)
    return m, "a"


def _amount(draw: st.DrawFn, x: _Digits, market: Market, asset: str, held: Decimal) -> str:
    """An amount of ``asset``: part of a balance, a value, one unit, too much, or invalid."""
    decimals = market.assets[asset].decimals
    unit = Decimal(1).scaleb(-decimals)
    kind = ["part", "all", "value", "unit", "part", "value", "more", "invalid"][x.take(8)]
    if kind == "invalid":
        return ["0", "-1", "abc", "NaN", str(unit / 10), "1e30"][x.take(6)]
    if kind == "part" and held:
        amount = quantize_down(held * _dec(draw, 1, 1000, 3), decimals)
    elif kind == "all" and held:
        amount = held
    elif kind == "unit":
        amount = unit * (1 + x.take(1000))
    elif kind == "more":
        amount = held + unit * (1 + x.take(10**6))
    else:
        amount = _units(_dec(draw, 1, 10**8, 2), market.assets[asset].price, decimals)
    return str(amount if amount > 0 else unit)


KINDS = ("deposit", "withdraw", "borrow", "repay", "liquidate")


@st.composite
def actions(draw: st.DrawFn, market: Market, kinds: tuple[str, ...] = KINDS) -> Action:
    """A ledger action of one of ``kinds`` on ``market``; many are refused by a rule."""
    x = _digits(draw)
    kind = kinds[x.take(len(kinds))]
    ids = sorted(market.accounts)
    # a deposit may open an account; any other action on an unknown one is refused
    choices = [*ids * 3, "newcomer"] if kind == "deposit" else [*ids * 8, "ghost"]
    account = choices[x.take(len(choices))]
    acc = market.accounts.get(account)
    symbols = sorted(market.assets)

    def pick(held: dict[str, Decimal]) -> str:
        # mostly an asset the account holds on the side that matters, else any asset
        options = sorted(held) if held and x.take(4) else symbols
        return options[x.take(len(options))]

    if kind == "liquidate":
        debt = pick(acc.borrow if acc else {})
        coll = pick(acc.supply if acc else {})
        held = acc.borrowed(debt) if acc else Decimal(0)
        amount = "max" if x.take(2) else _amount(draw, x, market, debt, held)
        return kind, account, (debt, coll), amount
    side = {} if acc is None else acc.borrow if kind in ("borrow", "repay") else acc.supply
    asset = pick(side)
    return kind, account, asset, _amount(draw, x, market, asset, side.get(asset, Decimal(0)))
