"""Minimal Decimal versions of the exact path's figures: the reference of benchmarks/core.py.

``minimal_health``: the figures of contract section 2 for one account (balances with
the category rule; no size factors, perps or options) with the same roundings as
:func:`xmargin.account_health`: products exact in a 200-digit context, sums of the
collateral side rounded down and of the debt side up to 18 places, the health factor
rounded down. Parameters are plain dicts of Decimals, read once: what a hand-written
script would hold. ``MINIMAL_SCRIPT`` is the same as a whole program: tomllib reads the
market file, pyarrow its positions, and every account's figures are written as JSON.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

CTX = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)
Q = Decimal("1e-18")
ZERO = Decimal(0)

#: Per asset: price, cf, lt, bw, mbw (Decimals).
Params = Mapping[str, tuple[Decimal, Decimal, Decimal, Decimal, Decimal]]


def minimal_health(
    supply: Mapping[str, Decimal],
    borrow: Mapping[str, Decimal],
    params: Params,
    members: frozenset[str] = frozenset(),
    cat_cf: Decimal = ZERO,
    cat_lt: Decimal = ZERO,
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal | None, Decimal, bool]:
    """(cv, dv, ic, id, mc, md, hf or None, available_to_borrow, liquidatable)."""
    with decimal.localcontext(CTX):
        cv = ic = mc = ZERO
        for a, s in supply.items():
            p, cf, lt, _, _ = params[a]
            if a in members:  # the category's weights replace the asset's
                cf, lt = cat_cf, cat_lt
            v = s * p
            cv += v
            ic += v * cf
            mc += v * lt
        dv = id_ = md = ZERO
        for a, b in borrow.items():
            p, _, _, bw, mbw = params[a]
            v = b * p
            dv += v
            id_ += v * bw
            md += v * mbw
        cv, ic, mc = (x.quantize(Q, ROUND_FLOOR) for x in (cv, ic, mc))
        dv, id_, md = (x.quantize(Q, ROUND_CEILING) for x in (dv, id_, md))
        hf = (mc / md).quantize(Q, ROUND_FLOOR) if md else None
        return cv, dv, ic, id_, mc, md, hf, max(ic - id_, ZERO), bool(md and mc < md)


#: ``python -c MINIMAL_SCRIPT MARKET_FILE``: the figures of every account as JSON, from
#: the market file (tomllib) and its Parquet positions (pyarrow), balances only.
MINIMAL_SCRIPT = r"""
import decimal, json, sys, tomllib
from decimal import Decimal, ROUND_FLOOR, ROUND_CEILING
from pathlib import Path
import pyarrow.parquet as pq
CTX = decimal.Context(prec=200, Emax=999_999, Emin=-999_999)
decimal.setcontext(CTX)
Q = Decimal("1e-18"); ZERO = Decimal(0)
market = Path(sys.argv[1])
doc = tomllib.loads(market.read_text())
A = doc["assets"]
D = lambda v: Decimal(str(v))  # a TOML number as the decimal it spells
P = {s: (D(a["price"]), D(a["collateral_factor"]), D(a["liquidation_threshold"]),
         D(a.get("borrow_weight", 1)), D(a.get("maintenance_borrow_weight", 1)))
     for s, a in A.items()}
C = {n: (frozenset(c["assets"]), D(c["collateral_factor"]), D(c["liquidation_threshold"]))
     for n, c in doc.get("categories", {}).items()}
F = lambda x: "0" if not x else format(x.normalize(), "f")
t = pq.read_table(market.parent / doc["market"]["accounts_file"]).to_pydict()
acc = {}
for a, s, sup, bor, cat in zip(t["account"], t["asset"], t["supply"], t["borrow"], t["category"]):
    row = acc.setdefault(a, [cat, 0, 0, 0, 0, 0, 0])
    p, cf, lt, bw, mbw = P[s]
    if cat and s in C[cat][0]:
        cf, lt = C[cat][1], C[cat][2]
    if sup:
        v = Decimal(repr(sup)) * p
        row[1] += v; row[3] += v * cf; row[5] += v * lt
    if bor:
        v = Decimal(repr(bor)) * p
        row[2] += v; row[4] += v * bw; row[6] += v * mbw
out = []
for a, (cat, cv, dv, ic, id_, mc, md) in acc.items():
    cv, ic, mc = (Decimal(x).quantize(Q, ROUND_FLOOR) for x in (cv, ic, mc))
    dv, id_, md = (Decimal(x).quantize(Q, ROUND_CEILING) for x in (dv, id_, md))
    hf = F((mc / md).quantize(Q, ROUND_FLOOR)) if md else None
    out.append({"account": a, "collateral_value": F(cv), "debt_value": F(dv),
                "initial_collateral": F(ic), "initial_debt": F(id_),
                "maintenance_collateral": F(mc), "maintenance_debt": F(md),
                "health_factor": hf, "available_to_borrow": F(max(ic - id_, ZERO)),
                "liquidatable": bool(md and mc < md)})
json.dump({"accounts": out}, sys.stdout)
"""
