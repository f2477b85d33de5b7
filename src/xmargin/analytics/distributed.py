"""Run Monte Carlo chunks on Dask: a ``LocalCluster`` of N workers, or a cluster by address.

The chunks are the same as in a single-process run (:func:`~xmargin.analytics.montecarlo.
chunk_layout`), each seeded from ``(seed, chunk index)``; the book and the model are
scattered once to every worker, the chunks submitted, and the results gathered back in
chunk order. So the numbers equal the single-process run's, whatever the number of
workers (a test holds them to it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from xmargin.analytics.liquidity import Liquidity
from xmargin.analytics.montecarlo import ChunkResult, MonteCarloConfig, simulate_chunk
from xmargin.analytics.return_models import ReturnModel
from xmargin.analytics.simbook import SimBook
from xmargin.errors import InputError
from xmargin.fast.backend import load_numba, process_backend

__all__ = ["dask_client", "dask_runner", "runner_on"]


def _task(
    book: SimBook,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    chunk: int,
    first: int,
    n: int,
    liquidity: Liquidity | None,
    threads: int,
) -> ChunkResult:
    """One chunk on a worker, with as many kernel threads as the worker has slots."""
    if process_backend() == "numba":
        numba = load_numba()
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    return simulate_chunk(book, model, cfg, chunk, first, n, liquidity)


@contextlib.contextmanager
def dask_client(
    workers: int | None = None, scheduler: str | None = None, processes: bool = True
) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` (an address), or on a new ``LocalCluster``.

    ``workers``: processes of one thread each (``processes=False``: threads in this
    process, for tests). Closed on exit.
    """
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover
        raise InputError("Dask is not installed: pip install 'dask[distributed]'") from exc
    # distributed is untyped: its constructors are used through Any.
    client_cls: Any = distributed.Client
    cluster_cls: Any = distributed.LocalCluster
    if scheduler is not None:
        try:
            client = client_cls(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect: {exc}") from exc
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or 1
    if n < 1:
        raise InputError(f"--workers: must be >= 1, was {n}")
    cluster = cluster_cls(
        n_workers=n,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
    )
    client = client_cls(cluster, timeout="60s")
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def dask_runner(
    client: Any,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    liquidity: Liquidity | None = None,
    on_chunk: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> Callable[[SimBook, list[tuple[int, int, int]]], list[ChunkResult]]:
    """A ``runner`` for :func:`~xmargin.analytics.montecarlo.monte_carlo` on ``client``."""
    import distributed

    as_completed: Any = distributed.as_completed

    def run(run_book: SimBook, chunks: list[tuple[int, int, int]]) -> list[ChunkResult]:
        info = client.scheduler_info()
        threads = max(
            1, min((w.get("nthreads", 1) for w in info.get("workers", {}).values()), default=1)
        )
        fb = client.scatter(run_book, broadcast=True)
        fm = client.scatter(model, broadcast=True)
        futures = [
            client.submit(
                _task, fb, fm, cfg, c, first, n, liquidity, threads, pure=False, key=f"chunk-{c}"
            )
            for c, first, n in chunks
        ]
        sizes = {f.key: n for f, (_, _, n) in zip(futures, chunks, strict=True)}
        for fut in as_completed(futures, timeout=timeout):
            if fut.status == "error":
                fut.result()
            if on_chunk is not None:
                on_chunk(sizes[fut.key])
        out: list[ChunkResult] = client.gather(futures)
        return out

    return run


@contextlib.contextmanager
def runner_on(
    workers: int | None,
    scheduler: str | None,
    model: ReturnModel,
    cfg: MonteCarloConfig,
    liquidity: Liquidity | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[Callable[[SimBook, list[tuple[int, int, int]]], list[ChunkResult]] | None]:
    """Where a Monte Carlo's chunks run: ``None`` (here, one after another) when neither
    ``workers`` nor ``scheduler`` is given, else a :func:`dask_runner` on a new
    ``LocalCluster`` of ``workers`` or on the cluster at ``scheduler``, closed on exit."""
    if workers is None and scheduler is None:
        yield None
        return
    with dask_client(workers, scheduler) as client:
        yield dask_runner(client, model, cfg, liquidity, on_chunk=on_chunk)
