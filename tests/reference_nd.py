"""The loop reference over any number of spatial axes (signals, volumes).

Python loops over every window of every axis, reusing :mod:`reference`'s per-axis
windows and per-window reductions (exact integers, ``math.fsum`` floats), so the
1-D and 3-D engines are checked against the same obviously-right arithmetic as 2-D.
With ``nodata``, each window's nodata values are left out first, as
:mod:`reference` does in 2-D (its ``_is_nodata`` and ``_stepped``).
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
from reference import (
    _is_nodata,
    _mode,
    _py,
    _reduce,
    _stepped,
    adaptive_windows,
    regular_windows,
)


def reference_pool_nd(
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
    axes=(0, 1, 2),
    channel_axis=None,
    nodata=None,
    min_valid=0.0,
):
    n = len(axes)
    k = _sizes(kernel, n)
    s = _sizes(stride if stride is not None else kernel, n)
    pad, d = _sizes(padding, n), _sizes(dilation, n)
    windows = [
        regular_windows(x.shape[a], k[i], s[i], pad[i], d[i], ceil_mode) for i, a in enumerate(axes)
    ]
    return _pool_windows(x, windows, mode, count_include_pad, divisor, p, axes, channel_axis,
                         nodata, min_valid)  # fmt: skip


def reference_adaptive_pool_nd(
    x, output_size, mode="avg", p=2.0, axes=(0, 1, 2), channel_axis=None, nodata=None,
    min_valid=0.0,
):  # fmt: skip
    n = len(axes)
    sizes = [
        x.shape[a] if o is None else o for a, o in zip(axes, _sizes(output_size, n), strict=True)
    ]
    windows = [adaptive_windows(x.shape[a], o) for a, o in zip(axes, sizes, strict=True)]
    return _pool_windows(x, windows, mode, True, None, p, axes, channel_axis, nodata, min_valid)


def _pool_windows(x, windows, mode, count_include_pad, divisor, p, axes, channel_axis,
                  nodata=None, min_valid=0.0):  # fmt: skip
    n = len(axes)
    front = tuple(range(n))
    y = np.moveaxis(x, axes, front)
    rest = y.shape[n:]
    out_dtype = x.dtype
    if mode == "sum" and x.dtype.kind != "f":
        out_dtype = np.dtype(np.uint64 if x.dtype.kind == "u" else np.int64)
    out = np.empty(tuple(len(w) for w in windows) + rest, out_dtype)
    pixel_axis = None
    if channel_axis is not None and mode == "mode":
        moved = [a for a in range(x.ndim) if a not in axes]
        pixel_axis = moved.index(channel_axis % x.ndim)
    for where in product(*(range(len(w)) for w in windows)):
        chosen = [w[i] for w, i in zip(windows, where, strict=True)]
        real = math.prod(len(r) for r, _ in chosen)
        padded = math.prod(c for _, c in chosen)
        div = divisor if divisor is not None else (padded if count_include_pad else real)
        positions = list(product(*(r for r, _ in chosen)))
        if pixel_axis is not None:
            others = rest[:pixel_axis] + rest[pixel_axis + 1 :]
            for index in np.ndindex(*others):
                full = index[:pixel_axis] + (slice(None),) + index[pixel_axis:]
                pixels = [tuple(_py(v) for v in y[pos + full]) for pos in positions]
                if nodata is not None:  # a voxel is nodata when all its samples are
                    pixels = [q for q in pixels if not all(_is_nodata(v, nodata) for v in q)]
                    if not pixels or len(pixels) < min_valid * real:
                        out[where + full] = nodata
                        continue
                out[where + full] = _mode(pixels)
            continue
        for index in np.ndindex(*rest):
            values = [_py(y[pos + index]) for pos in positions]
            if nodata is None:
                with np.errstate(over="ignore"):  # a float16 sum past 65504 is inf (IEEE)
                    out[where + index] = _reduce(values, mode, div, p, x.dtype)
                continue
            values = [v for v in values if not _is_nodata(v, nodata)]
            if not values or len(values) < min_valid * real:
                out[where + index] = nodata
                continue
            if divisor is None:  # nodata counts in no divisor; padding as asked
                div = len(values) + (padded - real if count_include_pad else 0)
            with np.errstate(over="ignore"):
                result = _reduce(values, mode, div, p, x.dtype)
                out[where + index] = _stepped(result, nodata, out_dtype)
    return np.moveaxis(out, front, axes)


def _sizes(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)
