"""Max, min and sum over the windows of one axis, one ufunc call per kernel offset.

A rectangular window's max (or sum) is the max of its rows' maxes, so 2-D pooling
is this pass along one spatial axis and then the other. Each call works on whole
strided views, so the cost is ``kernel`` vectorised passes over the output, with no
window copies. Taps are applied in kernel order, so every output is combined in the
same order whichever band of rows it is computed in: results do not depend on how
the work is split between threads.
"""

from __future__ import annotations

import math

import numpy as np

from .geometry import AxisWindows, Index

# Below this many trailing elements per position (pixel channels, say), ufuncs run
# one channel at a time: NumPy's inner loop then runs along the axis, not over the
# few channels, which is several times faster.
_FEW_LANES = 16


def reduce_axis(
    y: np.ndarray,
    axis: int,
    windows: AxisWindows,
    ufunc: np.ufunc,
    dtype: np.dtype,
    identity: object,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Reduce the windows of ``y`` along ``axis`` with ``ufunc`` (maximum, minimum, add).

    Parameters
    ----------
    y : ndarray
        Input; only views of it are read.
    windows : AxisWindows
        Where the windows fall along ``axis`` (``windows.length == y.shape[axis]``).
    dtype : dtype
        Dtype to combine in (wider than ``y``'s for exact integer sums).
    identity : scalar
        Starts outputs whose first taps read padding: ``-inf`` for max, ``0`` for sum.
    out : ndarray, optional
        Where to write, shaped like ``y`` with ``windows.out`` along ``axis``.

    Returns
    -------
    ndarray
        ``out``, or a new C-contiguous array of ``dtype``.
    """
    shape = y.shape[:axis] + (windows.out,) + y.shape[axis + 1 :]
    if out is not None and not _viewable(out, axis):
        np.copyto(out, reduce_axis(y, axis, windows, ufunc, dtype, identity), casting="unsafe")
        return out
    if out is None:
        out = np.empty(shape, dtype)
    if not _viewable(y, axis):
        y = np.ascontiguousarray(y)
    y3 = _three_d(y, axis)
    out3 = _three_d(out, axis)
    lanes = range(y3.shape[2]) if 1 < y3.shape[2] <= _FEW_LANES else (slice(None),)
    taps = windows.taps
    # The leading taps that reach every output start it; the rest update in place.
    leading = 0
    while leading < min(len(taps), 2) and windows.covers_all(taps[leading]):
        leading += 1
    for lane in lanes:
        target = out3[:, :, lane]
        if leading == 2:
            ufunc(_read(y3, taps[0].src, lane), _read(y3, taps[1].src, lane), out=target, dtype=dtype)
        elif leading == 1:
            np.copyto(target, _read(y3, taps[0].src, lane), casting="unsafe")
        else:
            target[...] = identity
        for tap in taps[leading:]:
            _update(ufunc, target, tap.dst, _read(y3, tap.src, lane), dtype)
    return out


def _viewable(a: np.ndarray, axis: int) -> bool:
    try:
        _three_d(a, axis)
    except ValueError:
        return False
    return True


def _three_d(a: np.ndarray, axis: int) -> np.ndarray:
    """``a`` viewed as (before, axis, after); never a copy, so writes reach ``a``."""
    shape = (math.prod(a.shape[:axis]), a.shape[axis], math.prod(a.shape[axis + 1 :]))
    return np.reshape(a, shape, copy=False)


def _read(y3: np.ndarray, index: Index, lane: int | slice) -> np.ndarray:
    if isinstance(index, slice):
        return y3[:, index, lane]
    return y3[:, :, lane][:, index]


def _update(ufunc: np.ufunc, target: np.ndarray, dst: Index, values: np.ndarray, dtype: np.dtype) -> None:
    if isinstance(dst, slice):
        region = target[:, dst]
        ufunc(region, values, out=region, dtype=dtype)
    else:
        target[:, dst] = ufunc(target[:, dst], values, dtype=dtype)
