"""Nodata: pixels that count in no window (GeoTIFF nodata, NaN holes, masked labels).

:func:`pool_valid` runs the engine's own reductions on the valid pixels only: a
nodata pixel adds nothing to a sum, a mean, an Lp or RMS power sum, nor to their
divisors (``count_include_pad`` still counts padding, as PyTorch does), never wins
a max or min, and is left out of median and mode windows. A window without a valid
pixel (or with fewer than ``min_valid`` of its real pixels valid) gives nodata; a
valid window that lands on the nodata value moves one step away (the next value
up, or down at the top of the range), as GDAL does, so that nodata only ever means
"no data". Integer means stay exact: window sums of the valid pixels, divided by
their own counts, rounded half up once.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..spec.modes import PoolMode
from . import numeric
from .bands import run
from .geometry import AxisWindows
from .reduction import Reduction

_SUM = Reduction(PoolMode.SUM, True, None, 2.0)


def check_nodata(nodata: object, min_valid: object, dtype: np.dtype) -> tuple[object, float]:
    """``nodata`` as a value of ``dtype`` (NaN for floats only) and ``min_valid`` in [0, 1]."""
    number = isinstance(nodata, (int, float, np.number, np.bool_))
    if not number or (isinstance(nodata, bool) and dtype.kind != "b"):
        message = f"`nodata` must be a number (or NaN for float arrays), got {nodata!r}"
        raise ParameterError(message, parameter="nodata", value=nodata)
    value = float(nodata)  # type: ignore[arg-type]  # a number: checked above
    if math.isnan(value) and dtype.kind != "f":
        message = f"`nodata` NaN needs a float array; this one is {dtype}"
        raise ParameterError(message, parameter="nodata", value=nodata)
    if dtype.kind in "iub" and not math.isnan(value):
        low, high = numeric.value_range(dtype)
        whole = isinstance(nodata, (int, np.integer, np.bool_)) or value == int(value)
        exact = int(nodata) if whole else None  # type: ignore[call-overload]  # as ints: 64 bits
        if exact is None or not low <= exact <= high:
            message = f"`nodata` {nodata!r} is not a value of {dtype} ({low} to {high})"
            raise ParameterError(message, parameter="nodata", value=nodata)
    if isinstance(min_valid, bool) or not isinstance(min_valid, (int, float)):
        min_valid = -1
    if not 0 <= float(min_valid) <= 1:
        message = f"`min_valid` must be a fraction from 0 to 1, got {min_valid!r}"
        raise ParameterError(message, parameter="min_valid", value=min_valid)
    return dtype.type(nodata), float(min_valid)


def pool_valid(
    x: np.ndarray,
    axes: tuple[int, int],
    channel_axis: int | None,
    gh: AxisWindows,
    gw: AxisWindows,
    reduction: Reduction,
    threads: int | None,
    nodata: object,
    min_valid: float = 0.0,
) -> np.ndarray:
    """``reduction`` of the windows ``gh`` x ``gw`` of ``x`` over its valid pixels only."""
    missing = np.isnan(x) if _is_nan(nodata) else x == nodata
    mode = reduction.mode
    if mode is PoolMode.MODE and channel_axis is not None:
        # a pixel is nodata when all its channels are (as mode's whole pixels vote)
        missing = np.broadcast_to(missing.all(axis=channel_axis, keepdims=True), x.shape)
    valid = ~missing
    counts = run(valid.view(np.uint8), axes, None, gh, gw, _SUM, threads)
    out_dtype = reduction.out_dtype(x.dtype)
    if mode in (PoolMode.MEDIAN, PoolMode.MODE):
        ignore: Any = nodata
        if _is_nan(nodata):
            ignore = numeric.highest(x.dtype)  # NaN equals nothing: a sentinel in its place
            x = np.where(valid, x, ignore)
        result = run(x, axes, channel_axis, gh, gw, replace(reduction, ignore=ignore), threads)
    elif mode in (PoolMode.MAX, PoolMode.MIN):
        fill: Any = numeric.lowest(x.dtype) if mode is PoolMode.MAX else numeric.highest(x.dtype)
        result = run(np.where(valid, x, fill), axes, None, gh, gw, reduction, threads)
    elif mode is PoolMode.SUM:
        result = run(np.where(valid, x, 0), axes, None, gh, gw, reduction, threads)
    else:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # IEEE results
            result = _mean_like(x, valid, counts, axes, gh, gw, reduction, threads, out_dtype)
    empty = counts == 0
    if min_valid > 0:
        empty |= counts < min_valid * _grid(gh.real, gw.real, counts.ndim, axes)
    result = np.asarray(result, dtype=out_dtype)
    result[empty] = nodata
    _step_away(result, ~empty, out_dtype.type(nodata))
    return result


def _mean_like(x, valid, counts, axes, gh, gw, reduction, threads, out_dtype) -> np.ndarray:
    """avg, rms and lp of the valid pixels, divided by their own counts."""
    mode = reduction.mode
    divisor: np.ndarray | int
    if reduction.divisor is not None:
        divisor = reduction.divisor
    else:
        divisor = counts.astype(np.int64)
        if reduction.count_include_pad:  # padding counts, as PyTorch's; nodata never does
            divisor = (
                divisor
                + _grid(gh.padded, gw.padded, counts.ndim, axes)
                - _grid(gh.real, gw.real, counts.ndim, axes)
            )
        divisor = np.maximum(divisor, 1)  # an empty window: replaced by nodata anyway
    if mode is PoolMode.AVG:
        sums = _valid_sums(x, valid, axes, gh, gw, threads)
        if x.dtype.kind == "f":
            return numeric.divide_float(sums, divisor)
        if isinstance(divisor, int) and divisor < 0:  # divisor_override's sign flip
            if sums.dtype.kind == "u":
                return np.zeros_like(sums)
            return numeric.clip_into(numeric.divide_half_up(-sums, -divisor), out_dtype)
        return numeric.clip_into(numeric.divide_half_up(sums, divisor), out_dtype)
    power = reduction.p if mode is PoolMode.LP else 2.0
    powered = np.where(valid, np.power(x.astype(np.float64), power), 0.0)
    sums = run(powered, axes, None, gh, gw, _SUM, threads)
    return reduction.power_mean(sums, divisor, out_dtype)


def _is_nan(value: object) -> bool:
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def _valid_sums(x, valid, axes, gh, gw, threads) -> np.ndarray:
    """Window sums of the valid pixels in the plain mean's own precision: floats in
    float64; 64-bit integers, whose sums could pass 64 bits, as high and low 32-bit
    halves joined as Python ints (exact)."""
    if x.dtype.kind == "f":
        filled = np.where(valid, x.astype(np.float64), 0.0)
        return run(filled, axes, None, gh, gw, _SUM, threads)
    if x.dtype.kind not in "iu" or x.dtype.itemsize < 8:
        return run(np.where(valid, x, 0), axes, None, gh, gw, _SUM, threads)
    high = run(np.where(valid, x >> 32, 0), axes, None, gh, gw, _SUM, threads)
    low = run(np.where(valid, x & 0xFFFFFFFF, 0), axes, None, gh, gw, _SUM, threads)
    return high.astype(object) * (1 << 32) + low.astype(object)


def _grid(rows: np.ndarray, cols: np.ndarray, ndim: int, axes: tuple[int, int]) -> np.ndarray:
    """Per-window products of per-axis counts, shaped to broadcast against results."""
    shape_h, shape_w = [1] * ndim, [1] * ndim
    shape_h[axes[0]], shape_w[axes[1]] = len(rows), len(cols)
    return rows.reshape(shape_h).astype(np.int64) * cols.reshape(shape_w).astype(np.int64)


def _step_away(result: np.ndarray, valid: np.ndarray, nodata: object) -> None:
    """A valid window's value equal to nodata moves to the next value (down at the top)."""
    landed = valid & (result == nodata)
    if not landed.any():
        return
    dtype = result.dtype
    if dtype.kind == "f":
        result[landed] = np.nextafter(dtype.type(nodata), dtype.type(np.inf))
        return
    high = numeric.value_range(dtype)[1]
    step = -1 if int(nodata) >= high else 1  # type: ignore[call-overload]
    result[landed] = dtype.type(int(nodata) + step)  # type: ignore[call-overload]
