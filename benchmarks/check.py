"""Benchmark of ``xmargin check`` on a large book: the exact loader against the columnar
loader (issue 9, item 8), in the same run.

Run (it touches > 100k accounts, so through the shared lock on the development machine)::

    flock /tmp/xmargin-heavy.lock .venv/bin/python benchmarks/check.py --accounts 1000000

A book is written by ``xmargin generate-book`` into a temporary folder (or ``--book DIR``
reuses one); then ``xmargin check`` runs as a new process, alternately with
``XMARGIN_ENGINE=exact`` (every account read as Decimal objects, as before) and with the
default routing (the columnar loader for an ``accounts_file`` of 50,000 rows or more).
Prints each run's wall time and the ratio of the best times; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

XMARGIN = str(Path(sys.executable).with_name("xmargin"))


def _timed(market: Path, engine: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "XMARGIN_ENGINE"}
    if engine:
        env["XMARGIN_ENGINE"] = engine
    start = time.perf_counter()
    done = subprocess.run(
        [XMARGIN, "check", str(market)], env=env, capture_output=True, text=True, check=False
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"check failed ({engine or 'columnar'}): {done.stderr.strip()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--assets", type=int, default=20)
    ap.add_argument("--runs", type=int, default=2, help="runs of each loader, interleaved")
    ap.add_argument("--book", type=Path, default=None, help="reuse a generated book folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.book or Path(tmp) / "book"
        market = folder / "market.toml"
        if not market.exists():
            subprocess.run(
                [XMARGIN, "generate-book", "--accounts", str(args.accounts), "--assets",
                 str(args.assets), "--seed", "1", "--out", str(folder)],
                check=True, capture_output=True,
            )  # fmt: skip
        times: dict[str, list[float]] = {"exact": [], "columnar": []}
        for _ in range(args.runs):
            times["exact"].append(_timed(market, "exact"))
            times["columnar"].append(_timed(market, None))
        print(f"xmargin check, {args.accounts:,} accounts x {args.assets} assets, new process")
        for name, ts in times.items():
            print(
                f"  {name:9} " + ", ".join(f"{t:.2f} s" for t in ts) + f"  (best {min(ts):.2f} s)"
            )
        ratio = min(times["exact"]) / min(times["columnar"])
        print(f"  columnar is {ratio:.1f}x faster than exact (best of each)")


if __name__ == "__main__":
    main()
