"""Median and mode: order statistics over window stacks.

These are not separable, so a band of windows is gathered into a stack of shape
``(taps, *band_output_shape)``: one slice per kernel offset, each a strided copy of
the input, with padding positions holding a sentinel that sorts last. The stack is
sorted along its first axis by a sorting network of element-wise ``minimum`` /
``maximum`` calls (fast for small kernels) or ``np.sort`` (large kernels). The
band scheduler keeps bands small enough that a stack never dwarfs the input;
:func:`band` is the work it runs on each.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ..spec.modes import PoolMode
from .geometry import AxisWindows, Index
from .numeric import highest, mean_of_two

# Sorting networks beyond this many inputs cost more calls than np.sort saves.
_NETWORK_LIMIT = 32


def band(
    x: np.ndarray,
    gh: AxisWindows,
    out: np.ndarray,
    *,
    statistic: PoolMode,
    axes: tuple[int, int],
    channel_axis: int | None,
    gw: AxisWindows,
) -> None:
    """``statistic`` (median or mode) of the band ``x`` (windows ``gh`` x ``gw`` over
    ``axes``) into ``out``. With a ``channel_axis``, whole pixels vote in mode."""
    order, front = spatial_first(x.ndim, axes, channel_axis)
    y = np.moveaxis(x, order, front)
    if statistic is PoolMode.MEDIAN:
        result = median(y, gh, gw)
    else:
        result = mode(y, gh, gw, pixels=channel_axis is not None)
    np.copyto(np.moveaxis(out, order, front), result)


def spatial_first(
    ndim: int, axes: tuple[int, int], channel_axis: int | None
) -> tuple[list[int], list[int]]:
    """``np.moveaxis`` arguments that bring the spatial axes first (and the channel axis last)."""
    order = list(axes) + ([channel_axis] if channel_axis is not None else [])
    front = list(range(len(order)))
    if channel_axis is not None:
        front[-1] = ndim - 1
    return order, front


def median(y: np.ndarray, gh: AxisWindows, gw: AxisWindows) -> np.ndarray:
    """Median of the real pixels of each window of ``y`` (spatial axes first).

    Even counts give the mean of the two middle values; integers round half up.
    Any NaN in a window gives NaN, as ``np.median`` does.
    """
    work = y.view(np.uint8) if y.dtype == bool else y
    stack = window_stack(work, gh, gw, highest(work.dtype))
    has_nan = nan_last(stack)
    sort_stack(stack)
    result = middle(stack, real_counts(gh, gw, stack.ndim - 1))
    if has_nan is not None and has_nan.any():
        np.copyto(result, np.nan, where=has_nan)
    return result.view(bool) if y.dtype == bool else result


def nan_last(stack: np.ndarray) -> np.ndarray | None:
    """Float stacks: NaN replaced by inf, which sorts last; returns where windows held NaN."""
    if stack.dtype.kind != "f":
        return None
    nan = np.isnan(stack)
    has_nan = nan.any(axis=0)
    if has_nan.any():
        np.copyto(stack, np.inf, where=nan)
    return has_nan


def middle(stack: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The median of the first ``counts`` values of each window of a sorted stack."""
    low = _select(stack, np.maximum(counts - 1, 0) // 2)
    high = _select(stack, np.minimum(counts // 2, stack.shape[0] - 1))
    return mean_of_two(low, high)


def mode(y: np.ndarray, gh: AxisWindows, gw: AxisWindows, *, pixels: bool = False) -> np.ndarray:
    """Most frequent value among the real pixels of each window; ties go to the smallest.

    With ``pixels=True`` the last axis of ``y`` holds a pixel's channels and whole
    pixels vote (ties go to the lexicographically smallest), so the result only
    holds colours that occur in the window.
    """
    labels, decode = labels_of(y, pixels)
    stack = window_stack(labels, gh, gw, highest(labels.dtype))
    sort_stack(stack)
    return decode(vote(stack, real_counts(gh, gw, stack.ndim - 1)))


def vote(stack: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The value of the longest run among the first ``counts`` values of each window of
    a sorted stack (the first such run on ties: the smallest value)."""
    uniform = bool((counts == stack.shape[0]).all())
    if uniform and stack.shape[0] == 4:
        return _vote_of_four(stack)
    best = stack[0].copy()
    best_run = np.ones(best.shape, np.int32)
    run = np.ones(best.shape, np.int32)
    for j in range(1, stack.shape[0]):
        run *= stack[j] == stack[j - 1]  # a new value restarts the run at 1
        run += 1
        better = run > best_run
        if not uniform:
            better &= j < counts
        np.copyto(best_run, run, where=better)
        np.copyto(best, stack[j], where=better)
    return best


def _vote_of_four(stack: np.ndarray) -> np.ndarray:
    """:func:`vote` of full 2x2 windows, sorted (s0 <= s1 <= s2 <= s3): s2 when s1 or s2
    starts a run of two or more that s0 is not in (s1 = s2 then, if s1 starts it),
    otherwise s0 (a run of s0, two pairs, or four distinct values: the smallest).
    Measured 4x faster than the loop."""
    s0, s1, s2, s3 = stack
    later = np.equal(s1, s2)
    later |= s2 == s3
    later &= s0 != s1
    return np.where(later, s2, s0)


def window_stack(y: np.ndarray, gh: AxisWindows, gw: AxisWindows, fill: object) -> np.ndarray:
    """Every window's taps of ``y`` (spatial axes first) along a new first axis."""
    shape = (len(gh.taps) * len(gw.taps), gh.out, gw.out) + y.shape[2:]
    stack = np.empty(shape, y.dtype)
    j = 0
    for th in gh.taps:
        for tw in gw.taps:
            plane = stack[j]
            if not (gh.covers_all(th) and gw.covers_all(tw)):
                plane[...] = fill
            _assign(plane, th.dst, tw.dst, _gather(y, th.src, tw.src))
            j += 1
    return stack


def real_counts(gh: AxisWindows, gw: AxisWindows, ndim: int) -> np.ndarray:
    """Real pixels per window, shaped to broadcast against an output of ``ndim`` dims."""
    counts = gh.real[:, None] * gw.real[None, :]
    return counts.reshape(counts.shape + (1,) * (ndim - 2))


def sort_stack(stack: np.ndarray) -> None:
    """Sort ``stack`` along its first axis, in place."""
    n = stack.shape[0]
    if n > _NETWORK_LIMIT:
        stack[...] = np.sort(stack, axis=0)
        return
    scratch = np.empty_like(stack[0])
    for i, j in _network(n):
        np.minimum(stack[i], stack[j], out=scratch)
        np.maximum(stack[i], stack[j], out=stack[j])
        stack[i] = scratch


@cache
def _network(n: int) -> tuple[tuple[int, int], ...]:
    """Batcher's odd-even merge sort comparators for ``n`` inputs (i < j: min to i).

    Built for the next power of two and pruned to ``n``: the missing inputs act as
    +inf at the end, which no comparator would move.
    """
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    a, b = i + j, i + j + k
                    if a // (2 * p) == b // (2 * p) and b < n:
                        pairs.append((a, b))
            k //= 2
        p *= 2
    return tuple(pairs)


def _select(stack: np.ndarray, index: np.ndarray) -> np.ndarray:
    if (index == index.flat[0]).all():
        return stack[int(index.flat[0])]
    return np.take_along_axis(stack, index[None], axis=0)[0]


def _gather(y: np.ndarray, rows: Index, cols: Index) -> np.ndarray:
    if isinstance(rows, slice) and isinstance(cols, slice):
        return y[rows, cols]
    return y[_as_array(rows)[:, None], _as_array(cols)[None, :]]


def _assign(plane: np.ndarray, rows: Index, cols: Index, values: np.ndarray) -> None:
    if isinstance(rows, slice) and isinstance(cols, slice):
        plane[rows, cols] = values
    else:
        plane[_as_array(rows)[:, None], _as_array(cols)[None, :]] = values


def _as_array(index: Index) -> np.ndarray:
    if isinstance(index, slice):
        return np.arange(index.start, index.stop, index.step)
    return index


def labels_of(y: np.ndarray, pixels: bool):
    """Integer labels whose order is the values' order, and the map back to values."""
    if not pixels:
        if y.dtype.kind in "iu":
            return y, lambda best: best
        if y.dtype == bool:
            return y.view(np.uint8), lambda best: best.view(bool)
        if y.dtype.kind == "f" and y.dtype.itemsize in (2, 4, 8):
            return _float_keys(y)
        values, inverse = np.unique(y, return_inverse=True)
        return inverse.reshape(y.shape), lambda best: values[best]
    channels = y.shape[-1]
    work = y.view(np.uint8) if y.dtype == bool else y
    bits = work.dtype.itemsize * 8
    if work.dtype.kind in "iu" and channels * bits <= 63:
        return _pixel_codes(work, y.dtype)
    flat = y.reshape(-1, channels)
    values, inverse = np.unique(flat, axis=0, return_inverse=True)
    return inverse.reshape(y.shape[:-1]), lambda best: values[best]


def _pixel_codes(work: np.ndarray, dtype: np.dtype):
    """Each pixel of integer ``work`` (channels last, at most 63 bits in all) as one
    integer whose order is the pixels' lexicographic order, and the map back to
    pixels of ``dtype``: each channel's value less its dtype's minimum (its bits with
    the sign flipped), first channel highest. Codes of fewer than 32 bits are uint32,
    so that the dtype's top value is never a pixel's (it marks padding); a channel at
    a time, 10x faster than shifting a stack of channels and summing it (measured)."""
    channels = work.shape[-1]
    bits = work.dtype.itemsize * 8
    wide = np.dtype(np.uint32) if channels * bits < 32 else np.dtype(np.int64)
    unsigned = np.dtype(f"u{work.dtype.itemsize}")
    flip = unsigned.type(1 << (bits - 1)) if work.dtype.kind == "i" else None
    raw = work.view(unsigned)
    code = np.zeros(work.shape[:-1], wide)
    part = np.empty(work.shape[:-1], wide)
    step, mask = wide.type(bits), wide.type((1 << bits) - 1)
    for c in range(channels):
        np.copyto(part, raw[..., c] if flip is None else raw[..., c] ^ flip)
        if c:
            np.left_shift(code, step, out=code)
        np.bitwise_or(code, part, out=code)

    def unpack(best: np.ndarray) -> np.ndarray:
        pixels = np.empty((*best.shape, channels), unsigned)
        for c in range(channels):
            shifted = np.right_shift(best, wide.type((channels - 1 - c) * bits))
            np.bitwise_and(shifted, mask, out=shifted)
            np.copyto(pixels[..., c], shifted, casting="unsafe")
        if flip is not None:
            np.bitwise_xor(pixels, flip, out=pixels)
        return pixels.astype(bool) if dtype == np.dtype(bool) else pixels.view(dtype)

    return code, unpack


def _float_keys(y: np.ndarray):
    """Unsigned integers in the order of the float values ``y`` (NaN last), and the map
    back: a value's bits with the sign bit set for positive values, all bits flipped
    for negative ones. -0.0 is +0.0 and every NaN one NaN first, so that equal values
    are equal keys, as ``np.unique`` sees them (measured: 6x faster than its sort)."""
    dtype = y.dtype
    unsigned = np.dtype(f"u{dtype.itemsize}")
    sign = unsigned.type(1 << (8 * dtype.itemsize - 1))
    canonical = np.add(y, dtype.type(0))  # -0.0 + 0.0 is +0.0
    nan = np.isnan(canonical)
    if nan.any():
        canonical[nan] = np.nan
    bits = canonical.view(unsigned)
    keys = np.bitwise_or(bits, sign)
    negative = bits >= sign
    np.invert(bits, out=keys, where=negative)

    def decode(best: np.ndarray) -> np.ndarray:
        raw = np.bitwise_xor(best, sign)
        np.invert(best, out=raw, where=best < sign)
        return raw.view(dtype)

    return keys, decode
