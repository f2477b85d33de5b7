"""The columnar risk book: every account's figures at once, NumPy/Numba kernels.

:class:`RiskBook` loads a market (and its ``accounts_file``) into columns, screens every
account in float64 and decides accounts near a level with the exact engine; price ticks
re-price only the accounts that hold the changed assets and return risk events.

Names load on first use (PEP 562), so that importing a light submodule such as
:mod:`xmargin.book.routing` does not import NumPy and pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xmargin.book.events import (
        BookFigures,
        BookSummary,
        PriceUpdate,
        QueueEntry,
        RejectedPrice,
        RiskEvent,
        Status,
    )
    from xmargin.book.riskbook import DEFAULT_WARNING_LEVEL, RiskBook

__all__ = [
    "DEFAULT_WARNING_LEVEL",
    "BookFigures",
    "BookSummary",
    "PriceUpdate",
    "QueueEntry",
    "RejectedPrice",
    "RiskBook",
    "RiskEvent",
    "Status",
]

_HOME = {
    "DEFAULT_WARNING_LEVEL": "riskbook",
    "RiskBook": "riskbook",
    "BookFigures": "events",
    "BookSummary": "events",
    "PriceUpdate": "events",
    "QueueEntry": "events",
    "RejectedPrice": "events",
    "RiskEvent": "events",
    "Status": "events",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'xmargin.book' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"xmargin.book.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
