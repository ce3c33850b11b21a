"""Dtype rules: which dtypes pool, how sums widen, how integer means round.

Integer means are exact: window sums are taken in an integer accumulator wide
enough that nothing can overflow, then divided once with rounding half up, then
clipped to the input dtype's range. Nothing wraps.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..spec.arrays import DTYPE_NAMES

SUPPORTED = tuple(np.dtype(name) for name in DTYPE_NAMES)

_SIGNED = (np.int16, np.int32, np.int64)
_UNSIGNED = (np.uint16, np.uint32, np.uint64)


def check_dtype(dtype: np.dtype) -> np.dtype:
    """The native-byte-order dtype to pool ``dtype`` in, or :class:`InputError`."""
    native = dtype.newbyteorder("=")
    if native not in SUPPORTED:
        names = ", ".join(str(d) for d in SUPPORTED)
        message = f"cannot pool arrays of dtype {dtype}; supported dtypes: {names}"
        raise InputError(message)
    return native


def value_range(dtype: np.dtype) -> tuple[float, float] | tuple[int, int]:
    """Smallest and largest value of ``dtype``."""
    if dtype.kind == "b":
        return 0, 1
    if dtype.kind == "f":
        info = np.finfo(dtype)
        return float(info.min), float(info.max)
    iinfo = np.iinfo(dtype)
    return int(iinfo.min), int(iinfo.max)


def lowest(dtype: np.dtype) -> object:
    """The value that never wins a max: ``-inf`` for floats, the minimum otherwise."""
    if dtype.kind == "f":
        return -np.inf
    return dtype.type(value_range(dtype)[0])


def highest(dtype: np.dtype) -> object:
    """The value that never wins a min."""
    if dtype.kind == "f":
        return np.inf
    return dtype.type(value_range(dtype)[1])


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """Result dtype of ``sum`` pooling: integers widen to 64 bits, floats are kept."""
    if dtype.kind == "f":
        return dtype
    return np.dtype(np.uint64 if dtype.kind == "u" else np.int64)


def accumulator(x: np.ndarray, taps: int, headroom: int = 0) -> np.dtype:
    """The narrowest dtype that holds any sum of ``taps`` values of ``x`` plus ``headroom``.

    Floats sum in float64, so float32 means are correctly rounded in practice
    (a float32 running sum drifts by up to one ulp per tap). Integers get the
    narrowest integer of their signedness that cannot overflow, decided from the
    dtype's range; 64-bit inputs look at the actual values, and fall back to
    Python integers (``object``) when even 64 bits could overflow.
    """
    dtype = x.dtype
    if dtype.kind == "f":
        return np.dtype(np.float64)
    lo, hi = value_range(dtype)
    if dtype.itemsize == 8 and x.size:
        lo, hi = int(x.min()), int(x.max())
    low, high = min(lo, 0) * taps, max(hi, 0) * taps + headroom
    candidates = _UNSIGNED if dtype.kind in "ub" else _SIGNED
    for candidate in candidates:
        info = np.iinfo(candidate)
        if info.min <= low and high <= info.max:
            return np.dtype(candidate)
    return np.dtype(object)


def round_half_up(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float ``values`` rounded half up (``floor(v + 0.5)``) and clipped into ``dtype``."""
    rounded = np.floor(values + 0.5)
    lo, hi = value_range(dtype)
    np.clip(rounded, lo, hi, out=rounded)
    # float(hi) of a 64-bit integer rounds up to 2**63 or 2**64, which no cast survives
    top = rounded >= float(hi)
    rounded[top] = 0
    result = rounded.astype(dtype)
    result[top] = hi
    return result


def divide_half_up(sums: np.ndarray, divisor: int | np.ndarray) -> np.ndarray:
    """``round_half_up(sums / divisor)`` for integer ``sums``, exactly, in place.

    ``sums`` must have room for ``divisor // 2`` more (see :func:`accumulator`).
    Floor division of ``sums + divisor // 2`` rounds half up for either sign, since
    the divisor is positive.
    """
    if isinstance(divisor, np.ndarray):
        # match the accumulator so in-place arithmetic neither fails nor overflows
        divisor = divisor.astype(sums.dtype)
    elif sums.dtype == object:
        divisor = int(divisor)
    half = divisor // 2
    sums += half
    np.floor_divide(sums, divisor, out=sums)
    return sums


def divide_float(sums: np.ndarray, divisor: int | np.ndarray) -> np.ndarray:
    """``sums / divisor`` for float ``sums``, in place.

    A power-of-two divisor multiplies by its reciprocal instead: ``1/2**k`` is
    exact, so the product is the same correctly rounded value as the quotient
    (subnormals included), and a multiply is several times cheaper (measured).
    """
    if isinstance(divisor, int) and divisor & (divisor - 1) == 0:
        return np.multiply(sums, 1.0 / divisor, out=sums)
    return np.divide(sums, divisor, out=sums)


def clip_into(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` clipped to the range of integer ``dtype`` (no-op when it already fits)."""
    if dtype.kind == "f" or values.dtype == dtype:
        return values
    lo, hi = value_range(dtype)
    if values.dtype != object:
        vlo, vhi = value_range(values.dtype)
        if lo <= vlo and vhi <= hi:
            return values
    return np.clip(values, lo, hi)


def mean_of_two(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a + b) / 2`` without overflow; integers rounded half up, as ``median`` needs."""
    if a.dtype.kind == "f":
        wide = np.float64 if a.dtype.itemsize <= 8 else a.dtype
        return ((a.astype(wide) + b) / 2).astype(a.dtype)
    if a.dtype.kind == "b":
        return a | b
    # floor(a/2) + floor(b/2) + the carry of the two low bits and the half-up 1
    return (a >> 1) + (b >> 1) + (((a & 1) + (b & 1) + 1) >> 1)


def settle_zeros(selected: np.ndarray, ufunc: np.ufunc) -> None:
    """After a pass of ``fmax``/``fmin``, every zero of ``selected`` made +0.0, in place:
    they settle a tie of -0.0 and +0.0 either way, depending on where the pair falls
    in their vector loop (measured), and results must not depend on the band split.
    Other ufuncs leave ``selected`` as it is."""
    if ufunc is np.fmax or ufunc is np.fmin:
        np.add(selected, 0.0, out=selected)
