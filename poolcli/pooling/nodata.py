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
    if dtype.kind == "f" and not math.isnan(value):
        with np.errstate(over="ignore", under="ignore"):
            nearest = float(dtype.type(value))
        # the nearest value of the dtype stands for it (GDAL writes float32's lowest as
        # -3.40282346638529e+38), unless it overflows or underflows to another number
        if math.isinf(nearest) != math.isinf(value) or (nearest == 0) != (value == 0):
            info = np.finfo(dtype)
            message = (
                f"`nodata` {nodata!r} is not a value of {dtype} "
                f"(finite values from {float(info.min):g} to {float(info.max):g}, "
                f"the smallest above 0 {float(info.smallest_subnormal):g})"
            )
            raise ParameterError(message, parameter="nodata", value=nodata)
    if isinstance(min_valid, bool) or not isinstance(min_valid, (int, float)):
        min_valid = -1
    if not 0 <= float(min_valid) <= 1:
        message = f"`min_valid` must be a fraction from 0 to 1, got {min_valid!r}"
        raise ParameterError(message, parameter="min_valid", value=min_valid)
    with np.errstate(under="ignore"):
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
    """``reduction`` of the windows ``gh`` x ``gw`` of ``x`` over its valid pixels only.

    The band workers do it (:mod:`.valid_separable`, :mod:`.valid_ranked`), each band's
    mask and counts made while the band is in cache.
    """
    valid_only = replace(reduction, nodata=nodata, min_valid=min_valid)
    return run(x, axes, channel_axis, gh, gw, valid_only, threads)
