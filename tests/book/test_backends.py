"""Rule: Numba is optional, by one policy for the whole package (xmargin.fast.backend).

Without it the book runs its NumPy kernels, with one warning; ``XMARGIN_BACKEND`` picks a
backend; asking for Numba where it is missing is a clear error, not a traceback."""

from __future__ import annotations

import warnings

import pytest

from tests.builders import make_market
from xmargin.book import RiskBook, Status
from xmargin.errors import InputError
from xmargin.fast import backend as backend_module
from xmargin.model import Market


def market() -> Market:
    return make_market(
        assets={
            "ETH": {
                "price": "2000",
                "collateral_factor": "0.8",
                "liquidation_threshold": "0.85",
                "liquidation_bonus": "0.05",
            },
        },
        accounts={"a": {"supply": {"ETH": "1"}, "borrow": {"ETH": "0.9"}}},
    )


def test_without_numba_the_book_warns_once_and_runs_numpy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(backend_module._state, "available", False)
    monkeypatch.setitem(backend_module._state, "warned", False)
    monkeypatch.delenv(backend_module.BACKEND_ENV, raising=False)
    with pytest.warns(RuntimeWarning, match="numba is not installed"):
        book = RiskBook.from_market(market())
    assert book.backend == "numpy"
    assert book.status("a") == Status.LIQUIDATABLE  # 1,700 / 1,800
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RiskBook.from_market(market())  # no second warning
    with pytest.raises(InputError, match="numba is not installed"):
        RiskBook.from_market(market(), backend="numba")


def test_the_environment_picks_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XMARGIN_BACKEND", "numpy")
    assert RiskBook.from_market(market()).backend == "numpy"
    with pytest.raises(InputError, match="XMARGIN_BACKEND=numpy"):
        RiskBook.from_market(market(), backend="numba")
    monkeypatch.setenv("XMARGIN_BACKEND", "fortran")
    with pytest.raises(InputError, match="XMARGIN_BACKEND"):
        RiskBook.from_market(market())
