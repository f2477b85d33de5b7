"""Rule: the exact sums do not depend on the caller's decimal context.

``weighted_sums`` runs its operators inside ``localcontext(mathlib.CTX)``; a caller with
a coarse context of its own, or another thread, gets the very same Decimals.
"""

from __future__ import annotations

import decimal
import threading

import xmargin
from xmargin.data import data_path
from xmargin.model import Market


def _sums(market: Market) -> list[tuple[str, ...]]:
    return [(a.id, *map(str, xmargin.weighted_sums(a, market))) for a in market.accounts.values()]


def _health(market: Market) -> list[tuple[str, ...]]:
    return [(a.id, *map(str, xmargin.account_health(a, market))) for a in market.accounts.values()]


def test_a_caller_context_of_five_digits_changes_no_weighted_sum() -> None:
    market = xmargin.load_market(data_path("demo.toml"))
    expected = _sums(market)
    with decimal.localcontext(prec=5, rounding=decimal.ROUND_UP):
        got = _sums(market)
    assert got == expected


def test_another_thread_gets_the_same_health_figures() -> None:
    market = xmargin.load_market(data_path("demo.toml"))
    expected = _health(market)
    got: list[list[tuple[str, ...]]] = []
    thread = threading.Thread(target=lambda: got.append(_health(market)))
    thread.start()
    thread.join()
    assert got == [expected]
