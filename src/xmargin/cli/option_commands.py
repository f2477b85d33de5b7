"""Commands of contract 6.4 (options): ``trade --option`` (through the ``trade`` command),
``liquidate --options`` (through ``liquidate``), and the refusal of options on the risk
book.

Each command parses its options, calls one ledger function and renders the result
(:mod:`xmargin.cli.option_render`). Errors are raised as they come; the one boundary in
:mod:`xmargin.cli.errors` turns them into exit statuses and ``error:`` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from xmargin.cli import option_render, render
from xmargin.errors import InputError
from xmargin.io.market_file import dump_market, load_market, read_market_document
from xmargin.ledger.options import execute_liquidate_options, execute_trade_option

__all__ = ["liquidate_options", "refuse_options_on_book", "trade_option"]


def _check_out(market_file: Path, out: Path | None) -> None:
    if out is not None and out.suffix.lower() != market_file.suffix.lower():
        raise InputError(f"--out {out}: must end in {market_file.suffix}, the input's format")


def trade_option(
    market_file: Path,
    account: str,
    option: str,
    size: str,
    price: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """``trade --option NAME --size ±X [--price X]`` (contract 6.4): the premium moves
    through the settlement asset; refused as a perp trade is (5.3)."""
    _check_out(market_file, out)
    market = load_market(market_file)
    quote = execute_trade_option(market, account, option, size, price)
    if out is not None:
        dump_market(market, out)
    if as_json:
        render.print_json(option_render.option_trade_doc(quote))
    else:
        option_render.print_option_trade(quote, market)


def liquidate_options(
    market_file: Path,
    account: str,
    out: Path | None,
    as_json: bool,
    others: Mapping[str, str | None],
) -> None:
    """``liquidate --options`` (docs/contract.md 6.5); ``others`` holds the options of the
    other liquidations, which may not be given with it."""
    given = [name for name, value in others.items() if value is not None]
    if given:
        raise InputError(f"liquidate: --options cannot be combined with {', '.join(given)}")
    _check_out(market_file, out)
    market = load_market(market_file)
    quote = execute_liquidate_options(market, account)
    if out is not None:
        dump_market(market, out)
    if as_json:
        render.print_json(option_render.option_liquidation_doc(quote))
    else:
        option_render.print_option_liquidation(quote, market)


def refuse_options_on_book(market_file: Path, vol_shocks: bool = False) -> None:
    """Refuse a market with options (or a ``--vol-shock``) on the risk book, which does
    not hold option positions yet: exit 2, naming the way round, the exact engine."""
    raw, _ = read_market_document(market_file)
    table = raw.get("market")
    has_file = isinstance(table, dict) and table.get("options_file") is not None
    if raw.get("options") or has_file or vol_shocks:
        raise InputError(
            f"{market_file}: the risk book (large accounts_file) does not hold option "
            "positions yet; run with XMARGIN_ENGINE=exact to use the exact engine"
        )
