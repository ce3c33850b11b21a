"""A slow, obviously-right pooling reference: Python loops over every window.

Integer arithmetic is done on Python ints (exact, no overflow) and float means with
``math.fsum``. The engine under test must match it exactly on integers and within a
tight tolerance on floats. Nothing here is clever on purpose.
"""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import numpy as np


def out_len(n, k, s, p, d, ceil_mode):
    """Output length by PyTorch's rule, written out independently."""
    numerator = n + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = math.ceil(numerator / s) + 1
        if (out - 1) * s >= n + p:
            out -= 1
    else:
        out = math.floor(numerator / s) + 1
    return out


def regular_windows(n, k, s, p, d, ceil_mode):
    """For each output: (real positions, count including padding)."""
    windows = []
    for i in range(out_len(n, k, s, p, d, ceil_mode)):
        taps = [i * s - p + t * d for t in range(k)]
        real = [q for q in taps if 0 <= q < n]
        padded = sum(1 for q in taps if -p <= q < n + p)
        windows.append((real, padded))
    return windows


def adaptive_windows(n, out):
    windows = []
    for i in range(out):
        start = math.floor(i * n / out)
        end = math.ceil((i + 1) * n / out)
        windows.append((list(range(start, end)), end - start))
    return windows


def reference_pool(
    x,
    kernel,
    stride=None,
    padding=0,
    dilation=1,
    mode="max",
    ceil_mode=False,
    count_include_pad=True,
    divisor=None,
    p=2.0,
    axes=(0, 1),
    channel_axis=None,
    nodata=None,
    min_valid=0.0,
):
    kh, kw = _pair(kernel)
    sh, sw = _pair(stride if stride is not None else kernel)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    rows = regular_windows(x.shape[axes[0]], kh, sh, ph, dh, ceil_mode)
    cols = regular_windows(x.shape[axes[1]], kw, sw, pw, dw, ceil_mode)
    return _pool_windows(x, rows, cols, mode, count_include_pad, divisor, p, axes, channel_axis,
                         nodata, min_valid)  # fmt: skip


def reference_adaptive_pool(x, output_size, mode="avg", p=2.0, axes=(0, 1), channel_axis=None):
    oh, ow = _pair(output_size)
    rows = adaptive_windows(x.shape[axes[0]], oh)
    cols = adaptive_windows(x.shape[axes[1]], ow)
    return _pool_windows(x, rows, cols, mode, True, None, p, axes, channel_axis)


def _is_nodata(value, nodata):
    if isinstance(nodata, float) and math.isnan(nodata):
        return isinstance(value, float) and math.isnan(value)
    return value == nodata


def _stepped(value, nodata, dtype):
    """A valid window's value never equals nodata: the next value (down at the top)."""
    if not _is_nodata(value, nodata):
        return value
    if dtype.kind == "f":
        return float(np.nextafter(dtype.type(nodata), dtype.type(np.inf)))
    return value - 1 if value >= _limits(dtype)[1] else value + 1


def _pool_windows(x, rows, cols, mode, count_include_pad, divisor, p, axes, channel_axis,
                  nodata=None, min_valid=0.0):  # fmt: skip
    y = np.moveaxis(x, axes, (0, 1))
    rest = y.shape[2:]
    out_dtype = x.dtype
    if mode == "sum" and x.dtype.kind != "f":
        out_dtype = np.dtype(np.uint64 if x.dtype.kind == "u" else np.int64)
    out = np.empty((len(rows), len(cols), *rest), out_dtype)
    pixel_axis = None
    if channel_axis is not None and mode == "mode":
        moved = [a for a in range(x.ndim) if a not in axes]
        pixel_axis = 2 + moved.index(channel_axis % x.ndim)
    for i, (real_r, padded_r) in enumerate(rows):
        for j, (real_c, padded_c) in enumerate(cols):
            real = len(real_r) * len(real_c)
            count = padded_r * padded_c if count_include_pad else real
            div = divisor if divisor is not None else count
            if pixel_axis is not None:
                window = [y[r, c] for r in real_r for c in real_c]
                for index in np.ndindex(*rest[: pixel_axis - 2], *rest[pixel_axis - 1 :]):
                    full = index[: pixel_axis - 2] + (slice(None),) + index[pixel_axis - 2 :]
                    pixels = [tuple(_py(v) for v in w[full]) for w in window]
                    if nodata is not None:
                        pixels = [q for q in pixels if not all(_is_nodata(v, nodata) for v in q)]
                        if not pixels or len(pixels) < min_valid * real:
                            out[(i, j, *full)] = nodata
                            continue
                    out[(i, j, *full)] = _mode(pixels)
                continue
            for index in np.ndindex(*rest):
                values = [_py(y[(r, c, *index)]) for r in real_r for c in real_c]
                if nodata is None:
                    with np.errstate(over="ignore"):  # a float16 sum past 65504 is inf (IEEE)
                        out[(i, j, *index)] = _reduce(values, mode, div, p, x.dtype)
                    continue
                values = [v for v in values if not _is_nodata(v, nodata)]
                if not values or len(values) < min_valid * real:
                    out[(i, j, *index)] = nodata
                    continue
                if divisor is None:  # nodata counts in no divisor; padding as asked
                    div = len(values) + (padded_r * padded_c - real if count_include_pad else 0)
                result = _reduce(values, mode, div, p, x.dtype)
                with np.errstate(over="ignore"):
                    out[(i, j, *index)] = _stepped(result, nodata, out_dtype)
    return np.moveaxis(out, (0, 1), axes)


def _reduce(values, mode, div, p, dtype):
    is_float = dtype.kind == "f"
    has_nan = is_float and any(math.isnan(v) for v in values)
    if mode in ("max", "min"):
        if has_nan:
            return math.nan
        return max(values) if mode == "max" else min(values)
    if mode == "sum":
        if is_float:
            return math.fsum(values) if not has_nan else math.nan
        lo, hi = _limits(np.dtype(np.uint64 if dtype.kind == "u" else np.int64))
        return min(max(sum(values), lo), hi)
    if mode == "avg":
        if is_float:
            return math.fsum(values) / div if not has_nan else math.nan
        return _clip(_round_half_up(Fraction(sum(values), div)), dtype)
    if mode == "rms":
        if is_float:
            return math.sqrt(math.fsum(v * v for v in values) / div) if not has_nan else math.nan
        four_s = 4 * sum(v * v for v in values)
        return _clip((math.isqrt(four_s // div) + 1) // 2, dtype)
    if mode == "lp":
        result = _real_power(math.fsum(_real_power(float(v), p) for v in values), 1.0 / p)
        if is_float:
            return result
        if math.isnan(result):
            raise NoRealResult
        return _clip(math.floor(result + 0.5), dtype)
    if mode == "median":
        if has_nan:
            return math.nan
        ordered = sorted(values)
        a, b = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
        if is_float:
            return (a + b) / 2
        return (a + b + 1) // 2
    if mode == "mode":
        return _mode(values)
    raise AssertionError(mode)


class NoRealResult(ArithmeticError):
    """An integer lp window whose result is not a real number (the engine refuses)."""


def _real_power(base: float, exponent: float) -> float:
    """``base ** exponent`` as IEEE pow: NaN for a negative base and a fractional exponent."""
    if math.isnan(base):
        return math.nan
    if base < 0 and exponent != int(exponent):
        return math.nan
    return base**exponent


def _mode(values):
    """Most frequent value; ties go to the smallest (NaNs count as one value)."""
    keyed = ["nan" if isinstance(v, float) and math.isnan(v) else v for v in values]
    counts = Counter(keyed)
    best = max(counts.values())
    numbers = [v for v, c in counts.items() if c == best and v != "nan"]
    if numbers:
        return min(numbers)
    return math.nan


def _round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def _limits(dtype):
    if dtype.kind == "b":
        return 0, 1
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _clip(value, dtype):
    lo, hi = _limits(dtype)
    return min(max(value, lo), hi)


def _py(value):
    if isinstance(value, (np.bool_, bool)):
        return int(value)
    if isinstance(value, np.integer):
        return int(value)
    return float(value)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)
