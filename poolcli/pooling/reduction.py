"""Mode semantics: what one mode and its options mean for the values of a window.

:class:`Reduction` is a mode with its options (``count_include_pad``, ``divisor``,
``p``), checked by :func:`poolcli.spec.parameters.check_mode_options`. The band work
asks it what depends on the mode rather than on the windows' placement: the output
dtype, the divisor of each window, how sums of powers become ``lp``/``rms`` values,
and the floating-point error state its threads run in.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError
from ..spec.modes import PoolMode
from ..spec.parameters import Pair, check_mode_options
from . import numeric
from .geometry import AxisWindows


@dataclass(frozen=True)
class Reduction:
    """How the windows of one call are reduced: a mode and its checked options."""

    mode: PoolMode
    count_include_pad: bool
    divisor: int | None
    p: float
    #: median and mode: values equal to this count in no window (a window of only
    #: them gives it). The image layer's way to leave invisible pixels out.
    ignore: object = None
    #: pixels of this value (NaN: NaN pixels), a scalar of the input's dtype, count
    #: in no window and no divisor (see :mod:`.nodata`); None: every pixel counts
    nodata: Any = None
    #: with ``nodata``: the fraction of a window's real pixels that must be valid
    min_valid: float = 0.0

    @classmethod
    def make(
        cls,
        mode: PoolMode,
        count_include_pad: object,
        divisor: object,
        p: object,
        padding: Pair,
        ignore: object = None,
    ) -> Reduction:
        """The reduction for ``mode``; :class:`ParameterError` for options it cannot take."""
        divisor, p = check_mode_options(
            mode, divisor=divisor, p=p, padding=padding, count_include_pad=count_include_pad
        )
        if ignore is not None and mode.separable:
            message = "values to ignore are left out of median and mode windows only"
            raise ParameterError(message)
        return cls(mode, bool(count_include_pad), divisor, p, ignore)

    def out_dtype(self, dtype: np.dtype) -> np.dtype:
        """The result's dtype for an input of ``dtype``: kept, except ``sum`` widens."""
        return numeric.sum_dtype(dtype) if self.mode is PoolMode.SUM else dtype

    def temporary_bytes(self, itemsize: int, taps: int) -> int:
        """Rough bytes of a window stack per output element (median, mode), for sizing bands."""
        return 3 * taps * max(itemsize, 8 if self.mode is PoolMode.MODE else 1)

    def errstate(self) -> contextlib.AbstractContextManager:
        """Floating-point error handling for a thread running bands.

        IEEE results are the contract (x**p of a negative is NaN, a float16 sum past
        65504 is inf), so sums and powers must not warn. errstate is per thread.
        """
        if self.mode.separable:
            return np.errstate(invalid="ignore", over="ignore")
        return contextlib.nullcontext()

    def window_divisor(
        self, gh: AxisWindows, gw: AxisWindows, ndim: int, axes: tuple[int, int]
    ) -> int | np.ndarray:
        """What the sums of windows ``gh`` x ``gw`` are divided by (``avg``, ``rms``).

        One int when every window has the same, else an array that broadcasts
        against the window sums of an ``ndim``-d array pooled over ``axes``.
        """
        if self.divisor is not None:
            return self.divisor
        counts_h, counts_w = self._counts(gh, gw)
        if (counts_h == counts_h[0]).all() and (counts_w == counts_w[0]).all():
            return int(counts_h[0] * counts_w[0])
        shape_h = [1] * ndim
        shape_h[axes[0]] = len(counts_h)
        shape_w = [1] * ndim
        shape_w[axes[1]] = len(counts_w)
        return counts_h.reshape(shape_h) * counts_w.reshape(shape_w)

    def largest_divisor(self, gh: AxisWindows, gw: AxisWindows) -> int:
        """The largest divisor any window of ``gh`` x ``gw`` gets (rounding headroom of means)."""
        if self.divisor is not None:
            return abs(self.divisor)
        counts_h, counts_w = self._counts(gh, gw)
        return int(counts_h.max()) * int(counts_w.max())

    def finish(
        self,
        sums: np.ndarray,
        divisor: int | np.ndarray,
        *,
        dtype: np.dtype,
        out_dtype: np.dtype,
        taps: int,
    ) -> np.ndarray:
        """Window sums (of ``dtype`` inputs, in the accumulator's dtype) -> the mode's
        values, with ``taps`` pixels in the largest window. Integer sums are divided in
        place."""
        if self.mode is PoolMode.SUM:
            return numeric.clip_into(sums, out_dtype)
        if self.mode is PoolMode.AVG and dtype.kind != "f":
            if self.divisor is not None and self.divisor < 0:
                # PyTorch's negative divisor_override: round_half_up(s/d) = that of
                # (-s)/(-d); non-negative sums give at most 0, which clips to 0
                if sums.dtype.kind == "u":
                    return np.zeros_like(sums)
                negated = numeric.divide_half_up(np.negative(sums), -self.divisor)
                return numeric.clip_into(negated, out_dtype)
            result = numeric.divide_half_up(sums, divisor)
            # A mean lies between its window's extremes unless the divisor is below
            # the window's pixel count (only a given ``divisor`` can be): then clip.
            if self.divisor is not None and self.divisor < taps:
                result = numeric.clip_into(result, out_dtype)
            return result
        if self.mode is PoolMode.AVG:
            return numeric.divide_float(sums, divisor)
        return self.power_mean(sums, divisor, out_dtype)

    def power_mean(
        self, sums: np.ndarray, divisor: int | np.ndarray, dtype: np.dtype
    ) -> np.ndarray:
        """``lp`` or ``rms`` values of float64 window sums of powers, in ``dtype``.

        Integer results are rounded half up and clipped; an integer ``lp`` with a
        negative sum has no real result, which is an :class:`InputError`.
        """
        if self.mode is PoolMode.RMS:
            values = np.sqrt(sums / divisor)
        else:
            values = np.power(sums, 1.0 / self.p)
        if dtype.kind == "f":
            return values
        if np.isnan(values).any():
            message = (
                f"lp pooling with p={self.p:g} has no real result for windows whose sum of "
                "x**p is negative; use an even p or pool a float array"
            )
            raise InputError(message)
        return numeric.round_half_up(values, dtype)

    def _counts(self, gh: AxisWindows, gw: AxisWindows) -> tuple[np.ndarray, np.ndarray]:
        """Pixels per window along each axis: padding included or not, as asked."""
        if self.count_include_pad:
            return gh.padded, gw.padded
        return gh.real, gw.real
