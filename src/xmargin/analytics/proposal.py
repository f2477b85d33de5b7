"""A parameter proposal: its candidate moves, its constraints, and the market file it writes.

A move of ``δ`` for an asset shifts its ``collateral_factor`` and its
``liquidation_threshold`` together (the gap between them, the borrowers' buffer, is
kept), as risk managers move them. Each parameter then satisfies contract 7.2's rules:

- every change at most ``max_step`` in absolute value;
- ``0 <= cf <= lt`` and ``lt·(1 + bonus) < 1`` (lt is lowered to the largest 4-decimal
  value that holds it, cf follows);
- values are 4-decimal Decimals, so the file written holds exactly the floats simulated.

The written file is the input file with only the changed keys rewritten (comments and
layout kept; checked by re-reading it), or, when a key cannot be edited in place, the
whole document written again.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from xmargin.analytics.analysis_inputs import MarketInputs
from xmargin.errors import InputError
from xmargin.mathlib import fmt

__all__ = ["Change", "Move", "candidate_moves", "move_params", "render_proposal", "write_proposal"]

PLACES = Decimal("0.0001")
ONE = Decimal(1)


@dataclass(frozen=True)
class Move:
    """Asset parameters after a move ``delta`` (Decimals, 4 places)."""

    asset: str
    delta: Decimal
    cf: Decimal
    lt: Decimal


@dataclass(frozen=True)
class Change:
    """One changed key of the market file, as contract 7.2's ``changes`` lists it."""

    asset: str
    parameter: str
    old: Decimal | None
    new: Decimal

    def to_doc(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "parameter": self.parameter,
            "from": None if self.old is None else fmt(self.old),
            "to": fmt(self.new),
        }


def candidate_moves(max_step: Decimal, n: int) -> list[Decimal]:
    """``n`` moves spread over ``[-max_step, max_step]`` (0 excluded), 4 decimals.

    >>> [str(x) for x in candidate_moves(Decimal("0.03"), 4)]
    ['-0.0300', '-0.0150', '0.0150', '0.0300']
    """
    if n < 1:
        raise InputError(f"--candidates: must be >= 1, was {n}")
    up, down = (n + 1) // 2, n // 2
    ups = [(max_step * i / up).quantize(PLACES, ROUND_DOWN) for i in range(1, up + 1)]
    downs = [-(max_step * i / down).quantize(PLACES, ROUND_DOWN) for i in range(1, down + 1)]
    return sorted({x for x in (*ups, *downs) if x != 0})


def max_threshold(bonus: Decimal) -> Decimal:
    """The largest 4-decimal lt with ``lt·(1 + bonus) < 1``.

    >>> max_threshold(Decimal("0.05"))
    Decimal('0.9523')
    """
    top = (ONE / (ONE + bonus)).quantize(PLACES, ROUND_CEILING)
    while top * (ONE + bonus) >= ONE:
        top -= PLACES
    return min(top, ONE)


def move_params(
    cf: Decimal, lt: Decimal, bonus: Decimal, delta: Decimal, asset: str, max_step: Decimal
) -> Move | None:
    """Shift cf and lt by ``delta`` within the rules of the module docstring.

    ``None`` when no such move exists: the bonus rule would need lt lowered by more than
    ``max_step``.

    >>> move_params(Decimal("0.8"), Decimal("0.83"), Decimal("0.05"), Decimal("0.03"), "A",
    ...             Decimal("0.03"))
    Move(asset='A', delta=Decimal('0.03'), cf=Decimal('0.8300'), lt=Decimal('0.8600'))
    """
    lt_new = min(max(lt + delta, Decimal(0)), max_threshold(bonus))
    cf_new = min(max(cf + delta, Decimal(0)), lt_new)
    if abs(lt_new - lt) > max_step or abs(cf_new - cf) > max_step:
        return None
    return Move(asset, delta, cf_new.quantize(PLACES), lt_new.quantize(PLACES))


# -- writing ------------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _table_name(line: str) -> tuple[str, ...] | None:
    m = _HEADER.match(line)
    if m is None or line.lstrip().startswith("[["):
        return None
    parts = [p.strip().strip('"').strip("'") for p in m.group(1).split(".")]
    return tuple(parts)


def _edit_toml(text: str, edits: Mapping[tuple[str, ...], Mapping[str, str]]) -> str:
    """Rewrite ``key = value`` lines in the tables named by ``edits``.

    A key the table lacks is added after the table's last key line.
    """
    out: list[str] = []
    pending: dict[str, str] = {}
    last = 0  # where a missing key of the current table goes

    def flush() -> None:
        out[last:last] = [f"{k} = {v}\n" for k, v in pending.items()]
        pending.clear()

    for line in text.splitlines(keepends=True):
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        name = _table_name(line)
        if name is not None:
            flush()
            pending.update(edits.get(name, {}))
            out.append(line)
            last = len(out)
            continue
        stripped = line.strip()
        key = line.split("=", 1)[0].strip() if "=" in line else None
        if key is not None and key in pending and not stripped.startswith("#"):
            comment = ""
            m = re.search(r"\s#.*$", line.rstrip("\n"))
            if m is not None and '"' not in m.group(0):
                comment = "  " + m.group(0).strip()
            out.append(f"{key} = {pending.pop(key)}{comment}\n")
        else:
            out.append(line)
        if stripped and not stripped.startswith("#"):
            last = len(out)
    flush()
    return "".join(out)


def _set(doc: dict[str, Any], path: tuple[str, ...], key: str, value: Any) -> None:
    node = doc
    for p in path:
        node = node.setdefault(p, {})
    node[key] = value


def render_proposal(inputs: MarketInputs, changes: Sequence[Change], out: Path) -> tuple[str, str]:
    """``(new text, unified diff)`` of the market file with ``changes`` applied."""
    src = inputs.path
    text = src.read_text(encoding="utf-8")
    doc = json.loads(json.dumps(inputs.raw, default=str))  # a deep copy, numbers as text
    edits: dict[tuple[str, ...], dict[str, str]] = {}
    for c in changes:
        _set(doc, ("assets", c.asset), c.parameter, fmt(c.new))
        edits.setdefault(("assets", c.asset), {})[c.parameter] = str(fmt(c.new))
    mk = inputs.raw.get("market", {})
    if isinstance(mk, dict) and mk.get("accounts_file"):
        target = (src.parent / str(mk["accounts_file"])).resolve()
        rel = os.path.relpath(target, out.resolve().parent)
        if rel != str(mk["accounts_file"]):
            _set(doc, ("market",), "accounts_file", rel)
            edits.setdefault(("market",), {})["accounts_file"] = json.dumps(rel)
    want_json = out.suffix.lower() == ".json"
    new_text = None
    if not want_json and inputs.format == "toml":
        edited = _edit_toml(text, edits)
        if _same(tomllib.loads(edited, parse_float=Decimal), doc):
            new_text = edited
    if new_text is None:
        if want_json:
            new_text = json.dumps(doc, indent=2) + "\n"
        else:
            import tomli_w

            new_text = tomli_w.dumps(doc)
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True) if inputs.format != "json" or want_json else [],
            new_text.splitlines(keepends=True),
            fromfile=str(src),
            tofile=str(out),
            n=1,
        )
    )
    return new_text, diff


def _same(a: Any, b: Any) -> bool:
    """Documents equal as the loader reads them (numbers compared as Decimals)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return str(a) == str(b)


def write_proposal(inputs: MarketInputs, changes: Sequence[Change], out: Path) -> str:
    """Write the proposed market to ``out``; returns the unified diff."""
    if out.suffix.lower() not in (".toml", ".json"):
        raise InputError(f"--out {out}: a market file must end in .toml or .json")
    text, diff = render_proposal(inputs, changes, out)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    return diff
