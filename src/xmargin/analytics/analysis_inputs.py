"""What calibrate, optimise and network read: the book, the parameters, the liquidity.

Only the public faces of the simulation layer (:mod:`xmargin.simulate`) and of the file
readers (:mod:`xmargin.io`) are used, so these analyses follow the engines as they change.
The Monte Carlo that ``optimize`` runs is built from the options of ``simulate
montecarlo`` by :class:`xmargin.analytics.montecarlo_options.MonteCarloOptions`, as that
command builds its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xmargin import simulate as sim
from xmargin.io.market_file import MarketFormat, read_market_document
from xmargin.mathlib import finite_text
from xmargin.model import Market

__all__ = ["MarketInputs", "load_inputs", "number"]


#: A float as the contract writes numbers: a decimal string, ``null`` if not finite.
number = finite_text


@dataclass(frozen=True, eq=False)
class MarketInputs:
    """A market file read for analysis.

    ``market`` holds every parameter; its accounts are those written inline (a market
    whose accounts live in an ``accounts_file`` is read into ``book`` by columns, and
    ``market.accounts`` is then empty). ``raw`` is the parsed document, kept so that a
    proposal can be written back as the same file with only its changed keys.
    """

    path: Path
    book: sim.SimBook
    market: Market
    liquidity: sim.Liquidity
    raw: dict[str, Any]
    format: MarketFormat


def load_inputs(path: str | Path) -> MarketInputs:
    """Read ``path`` (validated as every command does) with its liquidity models."""
    p = Path(path)
    book, market = sim.load_simbook(p)
    raw, fmt_ = read_market_document(p)
    return MarketInputs(p, book, market, sim.Liquidity.from_params(market.assets), raw, fmt_)
