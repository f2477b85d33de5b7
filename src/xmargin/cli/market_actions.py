"""What every command that acts on a market file does around its one ledger call.

Load the market, act, write it to ``--out`` (in the input's format), then print the JSON
document or the table. The spot, perp and design commands (``liquidate``, ``trade``,
``auction take`` ...) all run through :func:`run_action`, so ``--out`` and ``--json``
behave alike everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from xmargin.cli import render
from xmargin.errors import InputError
from xmargin.io.market_file import dump_market, load_market
from xmargin.model.market import Market

__all__ = ["amount_or_max", "check_out", "run_action"]

R = TypeVar("R")


def check_out(market_file: Path, out: Path | None) -> None:
    """Refuse an ``--out`` file in another format than the input (told by its suffix)."""
    if out is not None and out.suffix.lower() != market_file.suffix.lower():
        raise InputError(f"--out {out}: must end in {market_file.suffix}, the input's format")


def amount_or_max(amount: str | None, max_: bool, command: str, option: str = "--amount") -> str:
    """The amount an action takes: ``amount``, or ``"max"`` with ``--max``; exactly one."""
    if (amount is None) == (not max_):
        raise InputError(f"{command}: give exactly one of {option} X or --max")
    return "max" if max_ else str(amount)


def run_action(
    market_file: Path,
    out: Path | None,
    as_json: bool,
    act: Callable[[Market], R],
    doc: Callable[[R, Market], dict[str, Any]],
    show: Callable[[R, Market], None],
) -> None:
    """Load ``market_file``, ``act`` on it, write ``out``, print ``doc`` (``--json``) or
    ``show`` the result. Nothing is written when the action is refused."""
    check_out(market_file, out)
    market = load_market(market_file)
    result = act(market)
    if out is not None:
        dump_market(market, out)  # same suffix as the input, so the input's format
    if as_json:
        render.print_json(doc(result, market))
    else:
        show(result, market)
