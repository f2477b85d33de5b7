"""Entities and cross-claims: Eisenberg–Noe clearing, and an issuer's shortfall as a de-peg.

An entities file (TOML; contract 7.3 and its extensions)::

    [entities.exchange]
    kind = "exchange"                 # optional label: exchange, protocol, vault, issuer...
    external_assets = 5               # quote, outside the network
    liabilities = { fund = 10, issuer = 10 }   # quote owed to other entities
    external_liabilities = 0          # extension: quote owed outside the network
    holdings = { WETH = 100 }         # extension: units of market assets, valued at the
                                      # (shocked) prices and added to external assets
    issues = "USDC"                   # extension: this entity backs the market's USDC

Clearing: ``p̄`` total liabilities, ``Π`` relative liabilities (the row of ``i``, over
its creditors and the outside), ``e`` external assets. The greatest clearing vector
``p* = min(p̄, e + Πᵀ p*)`` is found by Eisenberg and Noe's fictitious default
algorithm: start from ``p = p̄``; the entities whose assets ``e + Πᵀp`` fall short of
``p̄`` default and pay what they have, solving ``(I − Π_DDᵀ) p_D = e_D + Π_NDᵀ p̄_N``; repeat
until the set of defaulters stops growing (at most ``n`` rounds; it only grows).

De-peg: an issuer pays its creditors ``p*/p̄`` on the unit, so its token trades at
``price × min(1, p*/p̄)``. That price enters the book and the holdings of every entity,
and clearing runs again until no price moves (prices only fall, so it ends): the de-peg
scenario is endogenous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xmargin.analytics.analysis_inputs import number
from xmargin.errors import InputError
from xmargin.io.documents import DocumentError, DuplicateKeys, read_document
from xmargin.mathlib import fmt
from xmargin.model.numbers import NumberError, parse_number

__all__ = ["ClearingResult", "Entity", "clear", "clearing_vector", "load_entities"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str
    external_assets: float
    liabilities: dict[str, float]
    external_liabilities: float
    holdings: dict[str, float]
    issues: str | None


def _amount(value: Any, where: str) -> float:
    """A quote amount >= 0 in the contract's number syntax and window, as a float."""
    try:
        d = parse_number(value)
    except NumberError as exc:
        raise InputError(f"{where}: {exc}") from None
    if d < 0:
        raise InputError(f"{where}: must be >= 0, was {fmt(d)}")
    return float(d)


def parse_entities(doc: Mapping[str, Any], source: str, assets: Sequence[str]) -> list[Entity]:
    """Validate an entities document; every problem is named with its location."""
    table = doc.get("entities")
    if not isinstance(table, dict) or not table:
        raise InputError(f"{source}: expected [entities.NAME] tables")
    unknown_top = set(doc) - {"entities"}
    if unknown_top:
        raise InputError(f"{source}: unknown section(s) {', '.join(sorted(unknown_top))}")
    names = list(table)
    out: list[Entity] = []
    allowed = {
        "kind",
        "external_assets",
        "liabilities",
        "external_liabilities",
        "holdings",
        "issues",
    }
    issued: dict[str, str] = {}
    for name, t in table.items():
        where = f"{source}: entities.{name}"
        if not isinstance(t, dict):
            raise InputError(f"{where}: must be a table")
        extra = set(t) - allowed
        if extra:
            raise InputError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        liab = t.get("liabilities", {})
        if not isinstance(liab, dict):
            raise InputError(f"{where}.liabilities: must be a table {{NAME = amount}}")
        for other in liab:
            if other not in names:
                raise InputError(f"{where}.liabilities.{other}: no entity {other!r}")
            if other == name:
                raise InputError(f"{where}.liabilities.{other}: an entity owes nothing to itself")
        hold = t.get("holdings", {})
        if not isinstance(hold, dict):
            raise InputError(f"{where}.holdings: must be a table {{ASSET = units}}")
        for a in hold:
            if a not in assets:
                raise InputError(f"{where}.holdings.{a}: the market has no asset {a!r}")
        issues = t.get("issues")
        if issues is not None:
            if not isinstance(issues, str) or issues not in assets:
                raise InputError(f"{where}.issues: the market has no asset {issues!r}")
            if issues in issued:
                raise InputError(f"{where}.issues: {issues} is issued by {issued[issues]} already")
            issued[issues] = name
        kind = t.get("kind", "entity")
        if not isinstance(kind, str):
            raise InputError(f"{where}.kind: must be text")
        out.append(
            Entity(
                name,
                kind,
                _amount(t.get("external_assets", 0), f"{where}.external_assets"),
                {o: _amount(v, f"{where}.liabilities.{o}") for o, v in liab.items()},
                _amount(t.get("external_liabilities", 0), f"{where}.external_liabilities"),
                {a: _amount(v, f"{where}.holdings.{a}") for a, v in hold.items()},
                issues,
            )
        )
    return out


def load_entities(path: str | Path, assets: Sequence[str]) -> list[Entity]:
    """Read and validate an entities file (TOML)."""
    p = Path(path)
    try:
        doc = read_document(p)
    except DuplicateKeys as exc:
        where = "; ".join(f"{e.location}: {e.message}" for e in exc.errors)
        raise InputError(f"--entities {p}: {where}") from None
    except DocumentError as exc:
        at = f"{exc.location}: " if exc.location else ""
        raise InputError(f"--entities {p}: {at}{exc.message}") from None
    if not isinstance(doc, dict):
        raise InputError(f"--entities {p}: the top level must be a table")
    return parse_entities(doc, str(p), assets)


def clearing_vector(
    liabilities: FloatArray, external: FloatArray, outside: FloatArray | None = None
) -> tuple[FloatArray, int]:
    """The greatest clearing vector (fictitious default algorithm); ``(p*, rounds)``.

    ``liabilities[i, j]``: owed by ``i`` to ``j``; ``outside[i]``: owed outside.

    >>> L = np.array([[0, 10, 10], [5, 0, 5], [0, 0, 0]], float)
    >>> clearing_vector(L, np.array([5.0, 8, 3]))[0].tolist()
    [10.0, 10.0, 0.0]
    """
    n = len(external)
    out_l = np.zeros(n) if outside is None else outside
    pbar = liabilities.sum(axis=1) + out_l
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(pbar[:, None] > 0, liabilities / pbar[:, None], 0.0)
    p = pbar.copy()
    defaulted = np.zeros(n, np.bool_)
    for rounds in range(1, n + 2):
        value = external + pi.T @ p
        now = value < pbar * (1 - 1e-12) - 1e-12
        if rounds > 1 and (now == defaulted).all():
            return p, rounds - 1
        defaulted = now | defaulted
        d = np.flatnonzero(defaulted)
        nd = np.flatnonzero(~defaulted)
        a = np.eye(len(d)) - pi[np.ix_(d, d)].T
        b = external[d] + pi[np.ix_(nd, d)].T @ pbar[nd]
        try:
            sol = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            sol = _picard(pi, external, pbar)[d]
        p = pbar.copy()
        p[d] = np.clip(sol, 0.0, pbar[d])
    return p, n + 1


def _picard(pi: FloatArray, e: FloatArray, pbar: FloatArray) -> FloatArray:
    """``p ← min(p̄, e + Πᵀp)`` from ``p̄``: decreasing to the greatest fixed point."""
    p = pbar.copy()
    for _ in range(100_000):
        nxt = np.minimum(pbar, e + pi.T @ p)
        if np.allclose(nxt, p, rtol=0, atol=1e-12):
            return nxt
        p = nxt
    return p


@dataclass
class ClearingResult:
    entities: list[Entity]
    payments: FloatArray
    totals: FloatArray
    creditor_losses: FloatArray
    equity: FloatArray
    prices: FloatArray
    depegs: dict[str, dict[str, Any]]
    rounds: int

    def to_doc(self) -> dict[str, Any]:
        names = [e.name for e in self.entities]
        tol = 1e-9
        return {
            "payments": {n: number(v) for n, v in zip(names, self.payments, strict=True)},
            "defaulted": [
                n
                for n, p, t in zip(names, self.payments, self.totals, strict=True)
                if p < t - tol * max(1.0, t)
            ],
            "shortfall": {
                n: number(t - p) for n, p, t in zip(names, self.payments, self.totals, strict=True)
            },
            "total_liabilities": {n: number(v) for n, v in zip(names, self.totals, strict=True)},
            "creditor_losses": {
                n: number(v) for n, v in zip(names, self.creditor_losses, strict=True)
            },
            "equity": {n: number(v) for n, v in zip(names, self.equity, strict=True)},
            "depegs": self.depegs,
            "rounds": self.rounds,
        }


def clear(
    entities: Sequence[Entity], assets: Sequence[str], prices: FloatArray, max_rounds: int = 100
) -> ClearingResult:
    """Clear at ``prices``, feeding issuers' recoveries back as de-pegs until stable."""
    names = [e.name for e in entities]
    idx = {n: i for i, n in enumerate(names)}
    n = len(entities)
    liab = np.zeros((n, n))
    for e in entities:
        for o, v in e.liabilities.items():
            liab[idx[e.name], idx[o]] = v
    outside = np.array([e.external_liabilities for e in entities])
    aidx = {a: j for j, a in enumerate(assets)}
    px = np.asarray(prices, np.float64).copy()
    start = px.copy()
    rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - reported
        ext = np.array(
            [
                e.external_assets + sum(u * px[aidx[a]] for a, u in e.holdings.items())
                for e in entities
            ]
        )
        p, _ = clearing_vector(liab, ext, outside)
        pbar = liab.sum(axis=1) + outside
        moved = False
        for e in entities:
            if e.issues is None:
                continue
            i = idx[e.name]
            rec = p[i] / pbar[i] if pbar[i] > 0 else 1.0
            new = start[aidx[e.issues]] * min(1.0, rec)
            if new < px[aidx[e.issues]] * (1 - 1e-12):
                px[aidx[e.issues]] = new
                moved = True
        if not moved:
            break
    pbar = liab.sum(axis=1) + outside
    with np.errstate(divide="ignore", invalid="ignore"):
        pi = np.where(pbar[:, None] > 0, liab / pbar[:, None], 0.0)
    losses = pi.T @ (pbar - p)
    equity = ext + pi.T @ p - p
    depegs: dict[str, dict[str, Any]] = {}
    for e in entities:
        if e.issues is not None:
            j = aidx[e.issues]
            depegs[e.issues] = {
                "issuer": e.name,
                "recovery": number(
                    p[idx[e.name]] / pbar[idx[e.name]] if pbar[idx[e.name]] > 0 else 1.0
                ),
                "price_before": number(start[j]),
                "price_after": number(px[j]),
                "change": number(px[j] / start[j] - 1.0),
            }
    return ClearingResult(list(entities), p, pbar, losses, equity, px, depegs, rounds)
