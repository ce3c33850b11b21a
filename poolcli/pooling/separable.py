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

from .geometry import AxisWindows, Index, Tap

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
    taps = windows.taps
    first, together = _opening(windows)
    if y3.shape[2] > 1 and all(_unit_step(tap.src) for tap in taps):
        # Stride 1: a window's taps are whole runs of (position, trailing) blocks, so
        # the trailing axis folds into this one and every call reads contiguous
        # memory instead of one strided lane per channel.
        merged = _merge_trailing(y3), _merge_trailing(out3)
        if merged[0] is not None and merged[1] is not None:
            block = y3.shape[2]
            y3, out3 = merged
            taps = tuple(_scale(tap, block) for tap in taps)
    if y3.dtype != dtype and sum(_length(tap.dst) for tap in taps) > y3.shape[1]:
        # Overlapping windows read each input more than once: widen it once, not
        # in every (buffered, slower) mixed-dtype call.
        y3 = y3.astype(dtype)
    lanes = range(y3.shape[2]) if 1 < y3.shape[2] <= _FEW_LANES else (slice(None),)
    for lane in lanes:
        target = out3[:, :, lane]
        if first is None:
            target[...] = identity
        elif together:
            ufunc(_read(y3, taps[0].src, lane), _read(y3, taps[1].src, lane), out=target, dtype=dtype)
        else:
            np.copyto(target, _read(y3, taps[first].src, lane), casting="unsafe")
        for tap in _remaining(taps, first, together):
            _update(ufunc, target, tap.dst, _read(y3, tap.src, lane), dtype)
    return out


def _opening(windows: AxisWindows) -> tuple[int | None, bool]:
    """Which tap starts every output, and whether taps 0 and 1 combine in one call.

    An output is its taps combined in kernel order. A tap that reaches every
    output can start them all (no identity fill); tap 1 may start in place of
    tap 0, since ``max``/``min``/``add`` of two values commute, so the values are
    the same as combining in order.
    """
    taps = windows.taps
    covers = [windows.covers_all(tap) for tap in taps[:2]]
    if covers and covers[0]:
        return 0, len(covers) == 2 and covers[1]
    if len(covers) == 2 and covers[1]:
        return 1, False
    return None, False


def _remaining(taps: tuple[Tap, ...], first: int | None, together: bool) -> tuple[Tap, ...]:
    """The taps left to combine, in kernel order, after the opening."""
    if first is None:
        return taps
    if first == 1:
        return (taps[0], *taps[2:])
    return taps[2:] if together else taps[1:]


def _unit_step(index: Index) -> bool:
    return isinstance(index, slice) and index.step in (None, 1)


def _length(index: Index) -> int:
    if isinstance(index, slice):
        return len(range(index.start, index.stop, index.step or 1))
    return len(index)


def _scale(tap: Tap, block: int) -> Tap:
    """``tap`` on an axis whose positions each became ``block`` consecutive ones."""
    assert isinstance(tap.src, slice) and isinstance(tap.dst, slice)
    return Tap(
        slice(tap.dst.start * block, tap.dst.stop * block),
        slice(tap.src.start * block, tap.src.stop * block),
    )


def _merge_trailing(a3: np.ndarray) -> np.ndarray | None:
    """(before, axis, after) viewed as (before, axis * after, 1), or None if no view can."""
    try:
        return np.reshape(a3, (a3.shape[0], a3.shape[1] * a3.shape[2], 1), copy=False)
    except ValueError:
        return None


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
