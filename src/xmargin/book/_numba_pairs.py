"""A row's two sums as one pair of doubles: ``tab[2c]`` and ``tab[2c + 1]`` in one load.

The book's sums are x = Σ u tab[2c] and y = Σ u tab[2c + 1] (:mod:`xmargin.book.kernels`).
Written as two scalar chains they cost two loads, two multiplications and two additions
an entry, and LLVM does not pair them; these intrinsics do the pair as one <2 x double>
load, one multiplication by the broadcast ``u`` and one addition. Each lane is the same
IEEE operation as the scalar code (no fused multiply-add, no reassociation), so the sums
are bit for bit those of :func:`xmargin.book._numba_kernels._fast_xy` given the same order
of additions (tests/book check the kernels equal). Only the Numba kernels import this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.extending import intrinsic

__all__ = ["madd2", "mul2"]

_V2 = ir.VectorType(ir.DoubleType(), 2)
_I32 = ir.IntType(32)
_PAIR = types.UniTuple(types.float64, 2)  # type: ignore[no-untyped-call]


def _splat(builder: Any, u: Any) -> Any:
    v = builder.insert_element(ir.Constant(_V2, ir.Undefined), u, ir.Constant(_I32, 0))
    mask = ir.Constant(ir.VectorType(_I32, 2), [0, 0])
    return builder.shuffle_vector(v, ir.Constant(_V2, ir.Undefined), mask)


def _pair_at(context: Any, builder: Any, aty: Any, tab: Any, i: Any) -> Any:
    """``(tab[i], tab[i + 1])`` as one vector load (``tab``: contiguous float64)."""
    arr = context.make_array(aty)(context, builder, tab)
    ptr = builder.bitcast(builder.gep(arr.data, [i]), _V2.as_pointer())
    return builder.load(ptr, align=8)


def _as_tuple(context: Any, builder: Any, sig: Any, v: Any) -> Any:
    lanes = [builder.extract_element(v, ir.Constant(_I32, k)) for k in (0, 1)]
    return context.make_tuple(builder, sig.return_type, lanes)


def _checked(tab: Any, i: Any) -> bool:
    ok_tab = isinstance(tab, types.Array) and tab.ndim == 1 and tab.layout == "C"
    return bool(ok_tab and tab.dtype == types.float64 and isinstance(i, types.Integer))


def _mul2(typingctx: Any, u: Any, tab: Any, i: Any) -> Any:
    """``(u * tab[i], u * tab[i + 1])``."""
    if not _checked(tab, i):
        return None
    sig = _PAIR(types.float64, tab, i)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        u, tab, i = args
        prod = builder.fmul(
            _splat(builder, u), _pair_at(context, builder, signature.args[1], tab, i)
        )
        return _as_tuple(context, builder, signature, prod)

    return sig, codegen


def _madd2(typingctx: Any, x: Any, y: Any, u: Any, tab: Any, i: Any) -> Any:
    """``(x + u * tab[i], y + u * tab[i + 1])`` (multiply, then add: two roundings)."""
    if not _checked(tab, i):
        return None
    sig = _PAIR(types.float64, types.float64, types.float64, tab, i)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        x, y, u, tab, i = args
        acc = builder.insert_element(ir.Constant(_V2, ir.Undefined), x, ir.Constant(_I32, 0))
        acc = builder.insert_element(acc, y, ir.Constant(_I32, 1))
        pair = _pair_at(context, builder, signature.args[3], tab, i)
        return _as_tuple(
            context, builder, signature, builder.fadd(acc, builder.fmul(_splat(builder, u), pair))
        )

    return sig, codegen


#: ``(u * tab[i], u * tab[i + 1])``
mul2 = cast("Callable[[float, Any, Any], tuple[float, float]]", intrinsic(_mul2))
#: ``(x + u * tab[i], y + u * tab[i + 1])`` (multiply, then add: two roundings)
madd2 = cast("Callable[[float, float, float, Any, Any], tuple[float, float]]", intrinsic(_madd2))
