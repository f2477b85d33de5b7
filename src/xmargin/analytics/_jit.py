"""Optional Numba: ``njit`` compiles when Numba is installed and is the identity otherwise.

The simulation kernels are written as plain scalar Python loops that Numba compiles (with
``cache=True``, so a second run loads them from disk). Without Numba they still run, as
plain Python, which is correct but about a hundred times slower: :func:`warn_if_slow`
says so once (install the ``fast`` extra).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["HAVE_NUMBA", "njit", "prange", "warn_if_slow"]

F = TypeVar("F", bound=Callable[..., Any])

_numba: Any
try:  # pragma: no cover - which branch runs depends on the environment
    import numba as _numba

    HAVE_NUMBA = True
    prange: Callable[..., Any] = _numba.prange
except ImportError:  # pragma: no cover
    _numba = None
    HAVE_NUMBA = False
    prange = range

_warned: list[bool] = []


def njit(parallel: bool = False, inline: bool = False) -> Callable[[F], F]:
    """``numba.njit(cache=True, parallel=...)`` when Numba is there, else the identity.

    ``inline``: inline the function into its callers at Numba IR level. Helpers that
    take arrays and run once per account need it: a real call costs a reference-count
    increment and decrement per array argument, which is most of the cost of the call.
    """

    def wrap(fn: F) -> F:
        if _numba is None:  # pragma: no cover
            return fn
        compiled: F = cast(
            "F",
            _numba.njit(
                cache=True, parallel=parallel, nogil=True, inline="always" if inline else "never"
            )(fn),
        )
        return compiled

    return wrap


def warn_if_slow() -> None:
    """Warn once that the kernels run as plain Python (Numba is not installed)."""
    if not HAVE_NUMBA and not _warned:  # pragma: no cover
        _warned.append(True)
        warnings.warn(
            "numba is not installed: the simulation kernels run as plain Python, about "
            "100x slower; install xmargin[fast]",
            RuntimeWarning,
            stacklevel=3,
        )
