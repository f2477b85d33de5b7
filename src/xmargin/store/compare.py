"""Every difference between two markets, located: what ``xmargin replay`` reports when the
journal, replayed, does not give the stored state.

Everything a market file holds is compared: parameters (the market's clock among them),
assets, categories, the market-wide totals and deficits, balances, perp positions, the
perps' funding indexes and open interest, the insurance fund, and the liquidation
designs' state (running auctions, the auction count, the storefront's reserves and
holdings, supply indexes).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from xmargin.mathlib import ZERO, fmt
from xmargin.model.account import Account
from xmargin.model.market import Market

__all__ = ["compare_markets"]


def _units(name: str, x: Mapping[str, Decimal], y: Mapping[str, Decimal]) -> list[str]:
    out = []
    for key in sorted(set(x) | set(y)):
        u, v = x.get(key, ZERO), y.get(key, ZERO)
        if u != v:
            out.append(f"{name}.{key}: journal gives {fmt(u)}, stored {fmt(v)}")
    return out


def _shown(value: Any) -> str:
    return "absent" if value is None else str(value)


def _assets(replayed: Market, stored: Market) -> list[str]:
    out = []
    for sym in sorted(set(replayed.assets) | set(stored.assets)):
        a, b = replayed.assets.get(sym), stored.assets.get(sym)
        if a is None or b is None:
            out.append(f"assets.{sym}: only in the {'stored state' if a is None else 'journal'}")
        elif a != b:
            fields = [f for f in type(a).model_fields if getattr(a, f) != getattr(b, f)]
            for f in fields:
                out.append(
                    f"assets.{sym}.{f}: journal gives {getattr(a, f)}, stored {getattr(b, f)}"
                )
    return out


def _perps(replayed: Market, stored: Market) -> list[str]:
    out = []
    for name in sorted(set(replayed.perps) | set(stored.perps)):
        a, b = replayed.perps.get(name), stored.perps.get(name)
        if a is None or b is None:
            out.append(f"perps.{name}: only in the {'stored state' if a is None else 'journal'}")
            continue
        for f in type(a).model_fields:
            if getattr(a, f) != getattr(b, f):
                out.append(
                    f"perps.{name}.{f}: journal gives {getattr(a, f)}, stored {getattr(b, f)}"
                )
    x, y = replayed.open_interest, stored.open_interest
    for name in sorted(set(x) | set(y)):
        u, v = x.get(name, (ZERO, ZERO)), y.get(name, (ZERO, ZERO))
        for side, i in (("long", 0), ("short", 1)):
            if u[i] != v[i]:
                out.append(
                    f"perps.{name}.open_interest_{side}: journal gives {fmt(u[i])}, "
                    f"stored {fmt(v[i])}"
                )
    return out


def _account(acc_id: str, a: Account, b: Account) -> list[str]:
    out = []
    if a.category != b.category:
        out.append(f"accounts.{acc_id}.category: journal gives {a.category}, stored {b.category}")
    out += _units(f"accounts.{acc_id}.supply", a.supply, b.supply)
    out += _units(f"accounts.{acc_id}.borrow", a.borrow, b.borrow)
    for name in sorted(set(a.perps) | set(b.perps)):
        p, q = a.perps.get(name), b.perps.get(name)
        if p != q:
            out.append(f"accounts.{acc_id}.perps.{name}: journal gives {p}, stored {q}")
    out += _units(f"accounts.{acc_id}.options", a.options, b.options)
    if a.margin != b.margin:
        out.append(f"accounts.{acc_id}.margin: journal gives {a.margin}, stored {b.margin}")
    return out


def _designs(replayed: Market, stored: Market) -> list[str]:
    out = []
    for i in sorted(set(replayed.auctions) | set(stored.auctions)):
        a, b = replayed.auctions.get(i), stored.auctions.get(i)
        if a != b:
            shown_a = _shown(None if a is None else a.to_dict())
            shown_b = _shown(None if b is None else b.to_dict())
            out.append(f"state.auctions.{i}: journal gives {shown_a}, stored {shown_b}")
    if replayed.auction_count != stored.auction_count:
        out.append(
            f"state.auction_count: journal gives {replayed.auction_count}, "
            f"stored {stored.auction_count}"
        )
    out += _units("market.insurance_fund", replayed.insurance_fund, stored.insurance_fund)
    out += _units("state.reserves", replayed.reserves, stored.reserves)
    out += _units(
        "state.protocol_collateral", replayed.protocol_collateral, stored.protocol_collateral
    )
    x, y = replayed.supply_index, stored.supply_index
    for sym in sorted(set(x) | set(y)):
        if x.get(sym) != y.get(sym):
            out.append(
                f"state.supply_index.{sym}: journal gives {_shown(x.get(sym))}, "
                f"stored {_shown(y.get(sym))}"
            )
    return out


def compare_markets(replayed: Market, stored: Market) -> list[str]:
    """Every difference between a replayed market and the stored one, located."""
    out: list[str] = []
    if replayed.params != stored.params:
        fields = [
            f
            for f in type(replayed.params).model_fields
            if getattr(replayed.params, f) != getattr(stored.params, f)
        ]
        out.append(f"market: parameters differ ({', '.join(fields)})")
    if replayed.categories != stored.categories:
        out.append("categories: differ")
    out += _assets(replayed, stored)
    for name, x, y in (
        ("total_supply", replayed.total_supply, stored.total_supply),
        ("total_borrow", replayed.total_borrow, stored.total_borrow),
        ("deficit", replayed.deficit, stored.deficit),
        ("isolation_debt", replayed.isolation_debt, stored.isolation_debt),
    ):
        out += _units(f"state.{name}", x, y)
    out += _perps(replayed, stored)
    out += _designs(replayed, stored)
    for acc_id in list(replayed.accounts) + [
        i for i in stored.accounts if i not in replayed.accounts
    ]:
        a_acc, b_acc = replayed.accounts.get(acc_id), stored.accounts.get(acc_id)
        if a_acc is None or b_acc is None:
            where = "stored state" if a_acc is None else "journal"
            out.append(f"accounts.{acc_id}: only in the {where}")
            continue
        out += _account(acc_id, a_acc, b_acc)
    return out
