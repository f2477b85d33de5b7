"""Rule: a platform without Numba runs every command on the NumPy kernels (issue 9, 24).

Regression: ``pip install xmargin`` without Numba once ran the simulation kernels as
plain Python, and ``simulate montecarlo ... --model gbm`` ended in ``internal error:
IndexError``. Now the package has one policy (``xmargin.fast.backend``): without Numba
it runs the NumPy kernels, with one warning, and gives the same figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.cli.conftest import Run
from xmargin.data import data_path
from xmargin.fast.backend import numba_available

DEMO = data_path("demo.toml")
MONTECARLO = [
    "simulate", "montecarlo", str(DEMO), "--model", "gbm", "--vol", "WETH=0.8",
    "--vol", "WBTC=0.7", "--vol", "wstETH=0.8", "--vol", "STG=1.2", "--static", "USDC",
    "--static", "USDT", "--paths", "500", "--json",
]  # fmt: skip

#: Runs the CLI in a fresh interpreter in which ``import numba`` fails, as on a platform
#: without it, and reports whether anything imported Numba after all.
_NO_NUMBA = """
import importlib.abc, json, sys

class NoNumba(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("No module named 'numba' (blocked by the test)")
        return None

sys.meta_path.insert(0, NoNumba())
from xmargin.cli.app import _register, app
from xmargin.cli.errors import run_guarded

_register()
code = run_guarded(app, json.loads(sys.argv[1]))
sys.stderr.write("numba imported: %s\\n" % ("numba" in sys.modules))
sys.exit(code)
"""


def _without_numba(args: list[str]) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "XMARGIN_BACKEND"}  # missing, not chosen
    done = subprocess.run(
        [sys.executable, "-c", _NO_NUMBA, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def test_montecarlo_gbm_runs_without_numba_with_one_warning() -> None:
    run = _without_numba(MONTECARLO)
    run.assert_clean()
    assert run.code == 0, run.err
    doc = run.json()
    assert doc["paths"] == 500 and doc["engine"] == "one-step"
    assert float(doc["figures"]["var_99"]["value"]) >= 0
    assert run.err.count("numba is not installed") == 1
    assert "numba imported: False" in run.err


@pytest.mark.skipif(not numba_available(), reason="numba is not installed")
def test_without_numba_the_montecarlo_gives_the_numba_figures(xm: Callable[..., Run]) -> None:
    with_numba = xm(*MONTECARLO)
    assert with_numba.code == 0, with_numba.err
    without = _without_numba(MONTECARLO).json()
    for name, fig in with_numba.json()["figures"].items():
        a, b = fig["value"], without["figures"][name]["value"]
        assert (a is None and b is None) or float(a) == pytest.approx(float(b), rel=1e-9), name


def test_the_environment_forces_numpy_and_numba_is_never_imported() -> None:
    code = (
        "import os, sys; os.environ['XMARGIN_BACKEND'] = 'numpy'\n"
        "from xmargin.cli.app import _register, app\n"
        "from xmargin.cli.errors import run_guarded\n"
        "_register()\n"
        f"status = run_guarded(app, {MONTECARLO!r})\n"
        "sys.stderr.write('numba imported: %s' % ('numba' in sys.modules))\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "numba imported: False" in done.stderr
    assert "numba is not installed" not in done.stderr  # chosen, not missing: no warning
