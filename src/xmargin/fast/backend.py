"""The one optional-Numba policy of the package: Numba kernels, else NumPy, never Python loops.

Every float rule (:mod:`xmargin.fast.weights`, :mod:`~xmargin.fast.health`,
:mod:`~xmargin.fast.liquidation`) is written once, as an :func:`elementwise` function:
arithmetic, comparisons, ``&``/``|``, ``np.minimum``/``np.maximum``/``np.sqrt`` and
:func:`select`; an ``if`` only on a parameter that is one number for every element (the
market's bonus policy, one liquidity model), never on a value. Such a function takes
scalars or NumPy arrays alike:

- with Numba, the kernels (scalar loops, ``@jit``) call it on scalars and Numba compiles
  it into them (``numba.extending.register_jitable``; :func:`select` becomes a branch);
- without Numba, the NumPy kernels call the very same function on whole columns
  (:func:`select` is ``np.where``).

Which one runs is decided here, once per process:

- ``XMARGIN_BACKEND`` unset or ``auto``: Numba if it can be imported, else NumPy with one
  :class:`RuntimeWarning`;
- ``XMARGIN_BACKEND=numpy``: NumPy everywhere, Numba never imported (what a platform
  without Numba runs; the test target runs the CLI tests once this way);
- ``XMARGIN_BACKEND=numba``: Numba, or a clear :class:`~xmargin.errors.InputError`.

A caller may still ask for ``backend="numpy"`` for one object (a risk book priced once,
where NumPy finishes before Numba would have started); the rules are the same.

Numba's on-disk cache (``cache=True``) is keyed on each kernel's own file: after editing
a rule in another file, drop the compiled kernels (``make clean-kernels``).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, Protocol, TypeVar, cast

import numpy as np

from xmargin.errors import InputError

__all__ = [
    "BACKEND_ENV",
    "Backend",
    "elementwise",
    "erfc",
    "jit",
    "load_numba",
    "numba_available",
    "per_backend",
    "process_backend",
    "resolve",
    "select",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Backend = Literal["auto", "numba", "numpy"]
Resolved = Literal["numba", "numpy"]

#: The environment variable that picks the backend for the whole process.
BACKEND_ENV = "XMARGIN_BACKEND"

_state: dict[str, Any] = {"numba": None, "available": None, "warned": False}
_PENDING: list[Callable[..., Any]] = []


def _env_choice() -> str:
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    if choice not in ("auto", "numba", "numpy"):
        raise InputError(f"{BACKEND_ENV}: must be 'auto', 'numba' or 'numpy', was {choice!r}")
    return choice


def numba_available() -> bool:
    """Whether Numba can be imported and the environment does not switch it off."""
    if _env_choice() == "numpy":
        return False
    if _state["available"] is None:
        try:
            import numba  # noqa: F401
        except ImportError:
            _state["available"] = False
        else:
            _state["available"] = True
    return bool(_state["available"])


def resolve(backend: Backend = "auto") -> Resolved:
    """The backend a caller gets for ``backend`` (see the module docstring).

    Raises
    ------
    InputError
        ``numba`` asked for (by the caller or ``XMARGIN_BACKEND``) where it is missing or
        switched off; an unknown ``XMARGIN_BACKEND``.
    """
    env = _env_choice()
    choice = env if backend == "auto" else backend
    if choice == "numpy":
        return "numpy"
    if choice == "numba":
        if not numba_available():
            why = f"{BACKEND_ENV}=numpy" if env == "numpy" else "numba is not installed"
            raise InputError(f"backend 'numba': {why} (pip install numba)")
        return "numba"
    if numba_available():
        return "numba"
    if not _state["warned"]:
        _state["warned"] = True
        warnings.warn(
            "numba is not installed: xmargin runs its NumPy kernels, several times slower "
            "(pip install numba)",
            RuntimeWarning,
            stacklevel=3,
        )
    return "numpy"


class PerBackend(Protocol[T_co]):
    """What :func:`per_backend` returns: ``get(backend="auto")``."""

    def __call__(self, backend: Backend = "auto") -> T_co: ...


def per_backend(make: Callable[[Resolved], T]) -> PerBackend[T]:
    """``get(backend)``: one ``make(resolved)`` per backend, made at its first use (each
    family of kernels is one such object: ``kernels_for = per_backend(Kernels)``)."""
    made: dict[str, T] = {}

    def get(backend: Backend = "auto") -> T:
        choice = resolve(backend)
        if choice not in made:
            made[choice] = make(choice)
        return made[choice]

    return get


def process_backend() -> Resolved:
    """The backend of the process (``resolve("auto")``)."""
    return resolve("auto")


def select(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` else ``b``: ``np.where`` on arrays, a branch inside Numba."""
    return np.where(cond, a, b)


def erfc(x: Any) -> Any:
    """The complementary error function: SciPy's ufunc on arrays, ``math.erfc`` inside
    Numba (the float twin of :func:`xmargin.risk.black76.erfc`, for the option rules)."""
    from scipy.special import erfc as ufunc  # type: ignore[import-untyped]

    return ufunc(x)


def _register(fn: Callable[..., Any]) -> None:
    from numba.extending import register_jitable

    # NumPy's error model: a division by zero gives inf or NaN, as in the NumPy backend
    # (a branch :func:`select` does not take is computed too, and must not raise).
    register_jitable(error_model="numpy")(fn)


def load_numba() -> ModuleType:
    """Import Numba and make every :func:`elementwise` rule callable from its kernels.

    Called by the kernel modules (through :func:`jit`) when they are imported, which only
    happens once the backend resolved to ``numba``.
    """
    if _state["numba"] is None:
        if not numba_available():
            raise InputError("the Numba kernels were asked for, but numba is not available")
        import numba
        from numba.extending import overload

        @overload(select)
        def _select(cond: Any, a: Any, b: Any) -> Any:
            def impl(cond: Any, a: Any, b: Any) -> Any:  # pragma: no cover - compiled
                return a if cond else b

            return impl

        @overload(erfc)
        def _erfc(x: Any) -> Any:
            def impl(x: Any) -> Any:  # pragma: no cover - compiled
                return math.erfc(x)

            return impl

        for fn in _PENDING:
            _register(fn)
        _PENDING.clear()
        _state["numba"] = numba
    return cast("ModuleType", _state["numba"])


def elementwise(fn: F) -> F:
    """Mark ``fn`` as a rule for scalars and arrays alike (see the module docstring).

    The function itself is returned unchanged: Python callers (the NumPy kernels, the
    tests) call it on scalars or arrays; Numba kernels compile it in.
    """
    if _state["numba"] is not None:
        _register(fn)
    else:
        _PENDING.append(fn)
    return fn


def jit(*, parallel: bool = False, inline: bool = False) -> Callable[[F], F]:
    """``numba.njit(cache=True, nogil=True, error_model="numpy")`` for a kernel; only
    kernel modules use it (they are imported once the backend resolved to ``numba``).

    ``inline``: inline at Numba IR level into callers. Helpers that take arrays and run
    once per account need it: a real call costs a reference-count increment and
    decrement per array argument, which is most of the cost of the call.
    """
    numba = load_numba()

    def wrap(fn: F) -> F:
        compiled = numba.njit(
            cache=True,
            parallel=parallel,
            nogil=True,
            error_model="numpy",
            inline="always" if inline else "never",
        )(fn)
        return cast("F", compiled)

    return wrap
