"""Nodata over three spatial axes: max, min and the sum-based modes of valid voxels.

The semantics are :mod:`.nodata`'s, the way is the simplest that is plainly right:
each band of depth slices runs the three passes of :mod:`.volume_passes` twice,

- once over its values with nodata replaced: by 0 for sums (after the powers, for
  ``lp``/``rms``; integers summed exactly in the accumulator, floats in float64),
  by the dtype's lowest (highest) value for max (min), which never wins a window
  with a valid voxel. NaN nodata is not replaced for max and min: ``fmax``/``fmin``
  pass it over, and a window of NaN only is NaN (without ``min_valid``, that is all);
- once over its mask of nodata voxels as bytes (sums of up to 255 taps in one
  byte), which gives each window's count of nodata voxels.

Each window's sum is then divided by its own count (its divisor less its nodata
voxels; a given ``divisor`` is kept; rounded half up once for integers), a valid
window that lands on the nodata value steps away from it, and a window with no
valid voxel (or fewer than ``min_valid`` of its real voxels) gives nodata. A band
without nodata runs the plain passes. Every window is computed by the same
operations in whichever band it falls, so results do not depend on the band split
or the number of threads.

Median and mode of valid voxels are :class:`~.valid_ranked.ValidRankedWork`'s,
run by :mod:`.volume_ranked` on its stacked 2-D windows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..spec.modes import PoolMode
from . import numeric
from .geometry import AxisWindows
from .reduction import Reduction
from .separable_work import thread_scratch
from .valid_windows import needed, step_away, zero_where
from .volume_passes import Work

#: The counting passes' reduction: their divisor is each window's count of real voxels.
_REAL = Reduction(PoolMode.AVG, False, None, 2.0)


class ValidVolumeWork:
    """Max, min, sum, avg, lp and rms of the valid voxels of each band (see the module)."""

    def __init__(
        self,
        x: np.ndarray,
        axes: list[int],
        windows: list[AxisWindows],
        reduction: Reduction,
        out_dtype: np.dtype,
    ):
        self.nodata: Any = reduction.nodata  # a scalar of the input's dtype
        self.nan = x.dtype.kind == "f" and bool(np.isnan(self.nodata))
        self.min_valid = reduction.min_valid
        self.mode = reduction.mode
        self.selects = self.mode in (PoolMode.MAX, PoolMode.MIN)
        self.own = reduction.divisor is None and self.mode in (PoolMode.AVG, PoolMode.RMS)
        self.power: float | None = None
        if self.mode in (PoolMode.LP, PoolMode.RMS):
            self.power = reduction.p if self.mode is PoolMode.LP else 2.0
        self.dtype, self.out_dtype = x.dtype, out_dtype
        self.axes, self.windows = axes, windows
        plain = Reduction(reduction.mode, reduction.count_include_pad, reduction.divisor,
                          reduction.p)  # fmt: skip
        #: max and min of NaN nodata: fmax/fmin pass it over, no mask needed
        self.skip_nan = self.nan and self.selects
        self.values = Work(x, axes, windows, plain, out_dtype, skip_nan=self.skip_nan)
        taps = math.prod(w.max_taps for w in windows)
        mask = np.broadcast_to(np.zeros((), np.uint8), x.shape)  # shape and dtype only
        counts = np.dtype(np.uint8) if taps <= 255 else numeric.accumulator(mask, taps)
        self.counter = Work(mask, axes, windows, _REAL, counts, accumulate=counts)
        self.fill: Any = 0
        if self.mode is PoolMode.MAX:
            self.fill = numeric.lowest(x.dtype)
        elif self.mode is PoolMode.MIN:
            self.fill = numeric.highest(x.dtype)

    def bytes_per_output(self, x: np.ndarray) -> int:
        """Memory one output slice touches: the plain passes', the mask, the filled values
        and the bits that fill them, and the counts."""
        gb = self.windows[0]
        elements = x.size // gb.length * max(1, -(-gb.length // gb.out))
        filled = 8 if self.power is not None else x.dtype.itemsize
        extra = elements * (1 + 2 * filled) + x.size // gb.length * 4
        return self.values.bytes_per_output(x) + extra

    def __call__(self, source: np.ndarray, bw: AxisWindows, target: np.ndarray) -> None:
        """The mode of the valid voxels of the band ``source`` (windows ``bw`` along the
        band axis) into ``target``."""
        if self.skip_nan and self.min_valid == 0:
            self.values(source, bw, target)
            return
        scratch = thread_scratch("volume-nodata")
        missing = scratch("missing", source.shape, np.dtype(bool))
        if self.nan:
            np.isnan(source, out=missing)
        else:
            np.equal(source, self.nodata, out=missing)
        if not missing.any():
            self.values(source, bw, target)
            if not self.selects:
                self._step_away(target)
            return
        gone, real = self.counter.window_sums(missing.view(np.uint8), bw, target.shape)
        if self.skip_nan:
            self.values(source, bw, target)
        elif self.selects:
            self.values(self._filled(source, missing, scratch), bw, target)
        else:
            filled = self._filled(source, missing, scratch)
            sums, divisor = self.values.window_sums(
                filled, bw, target.shape, powered=self.power is not None
            )
            if self.own:
                own = np.subtract(divisor, gone, dtype=np.int64)
                divisor = np.maximum(own, 1, out=own)  # an empty window's: replaced below
            np.copyto(target, self.values.finish(sums, divisor, bw), casting="unsafe")
            self._step_away(target)
        too_few = np.subtract(real, gone, dtype=np.int64) < needed(real, self.min_valid)
        np.copyto(target, self.nodata, where=too_few, casting="unsafe")

    def _filled(self, source: np.ndarray, missing: np.ndarray, scratch: Any) -> np.ndarray:
        """The band's values (``lp``/``rms``: their float64 powers) with nodata replaced."""
        if self.selects:
            filled = scratch("filled", source.shape, self.dtype)
            np.copyto(filled, source)
            np.copyto(filled, self.fill, where=missing, casting="unsafe")
            return filled
        if self.power is not None:
            filled = scratch("filled", source.shape, np.dtype(np.float64))
            values = np.power(source, self.power, out=filled, dtype=np.float64)
        else:
            filled, values = scratch("filled", source.shape, self.dtype), source
        keep = scratch("keep", source.shape, np.dtype(f"u{filled.dtype.itemsize}"))
        return zero_where(values, missing, out=filled, keep=keep)

    def _step_away(self, target: np.ndarray) -> None:
        """Valid windows never give nodata (windows without valid voxels are set after)."""
        step_away(target, self.out_dtype.type(self.nodata), self.nan)
