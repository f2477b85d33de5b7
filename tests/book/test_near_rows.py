"""Rule: a one-asset tick re-prices, from its index of holders near a level
(:mod:`xmargin.book.near_rows`), exactly the rows a screened scan of every holder would,
with the same events, through balance changes, new holders, new accounts and resets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from xmargin.book import RiskBook
from xmargin.book.events import RiskEvent
from xmargin.book.kernels import Reference
from xmargin.book.near_rows import NearRows


class _ScanEveryHolder(NearRows):
    """The index switched off: the book scans every holder of the moved assets."""

    def candidates(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        return None


def _check_candidates(book: RiskBook) -> None:
    """For every asset and several drifts: the index's candidates are sorted holders and
    include every holder a screened scan would recompute (``not drift < margin``)."""
    runs, ref = book.asset_runs(), book._ref
    drift = ref.drift
    for a in range(len(book.assets)):
        s, e = runs.starts[a], runs.ends[a]
        rows = np.concatenate(
            [np.arange(x, y) for x, y in zip(s.tolist(), e.tolist(), strict=True)] or [s]
        )
        for d in (drift, 0.0005, 0.004, 0.02):
            ref.drift = d
            must = rows[~(d < ref.margin[rows])]
            got = book._near.candidates([a], runs, ref, s, e)
            assert np.all(np.diff(got) > 0)
            assert np.isin(must, got).all() and np.isin(got, rows).all()
    ref.drift = drift


def _walk(book: RiskBook, seed: int) -> list[tuple[int, list[RiskEvent]]]:
    rng = np.random.default_rng(seed)
    assets = list(book.assets)
    ids = book.account_ids()
    out: list[tuple[int, list[RiskEvent]]] = []
    for step in range(120):
        if step % 10 == 9 and not isinstance(book._near, _ScanEveryHolder):
            _check_candidates(book)
        kind = rng.integers(0, 10)
        if kind == 0:
            acc, asset = ids[int(rng.integers(len(ids)))], assets[int(rng.integers(len(assets)))]
            units = str(Decimal(int(rng.integers(1, 10**6))) / 1000)
            side = "supply" if rng.integers(2) else "borrow"
            out.append((step, book.set_balance(acc, asset, **{side: units})))
        elif kind == 1 and step % 30 == 1:
            new = f"zz-new-{step}"
            book.add_account(new)
            ids.append(new)
            out.append((step, book.set_balance(new, assets[0], supply="5")))
        else:
            picked = rng.choice(len(assets), size=1 + int(rng.integers(0, 2)) * int(kind == 9))
            moved = {
                assets[int(a)]: book.prices[assets[int(a)]]
                * (1 + Decimal(int(rng.integers(-40, 41))) / 10_000)
                for a in picked
            }
            update = book.apply_prices(moved, guard=False)
            assert update.ok
            out.append((step, update.events))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ticks_from_the_index_equal_a_scan_of_every_holder(
    generated_book: dict[str, Path], seed: int
) -> None:
    indexed = RiskBook.load(generated_book["parquet"])
    scanning = RiskBook.load(generated_book["parquet"])
    scanning._near = _ScanEveryHolder(0.02)
    assert _walk(indexed, seed) == _walk(scanning, seed)
    assert np.array_equal(indexed.statuses(), scanning.statuses())
    assert indexed.stats == scanning.stats
    assert indexed.memory_bytes()["tick_index"] > 0


def test_a_reset_row_is_a_candidate_until_the_next_reference_pass() -> None:
    ref = Reference(np.full(6, 0.5, dtype=np.float32), 0.001)
    ref.reset(np.array([4, 1], dtype=np.int64))
    assert ref.margin[1] == -1.0 and ref.margin[4] == -1.0
    assert sorted(ref.reset_rows().tolist()) == [1, 4]
    ref.new_reference()
    assert ref.reset_rows().size == 0 and ref.drift == 0.0
