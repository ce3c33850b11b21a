"""Median and mode over the valid pixels of each band (nodata, and the image layer's
invisible pixels).

:class:`ValidRankedWork` runs on every band as :func:`~.ranked.band` does, and costs
little more (measured; see benchmarks/nodata.py):

- a band without nodata runs the plain work;
- nodata pixels take the value that sorts last: NaN already becomes inf for the
  sort; an integer band without values below nodata is shifted (wrapping, one
  pass) so that nodata becomes the dtype's top value, the padding's; others are
  filled. Sorted, each window's valid values then come first;
- each window's count of valid pixels comes from a byte-wide separable sum of the
  band's mask (:class:`~.valid_separable.MaskCounts`), not from the stack;
- every window is first reduced as the plain work does; only the few windows that
  need more are redone one by one: medians of windows with some nodata (their own
  middle), and modes whose winner is the nodata value (a vote among the valid
  values only).

A median that lands on nodata steps away from it (as :mod:`.nodata` says); a mode
is always a valid window's value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..spec.modes import PoolMode
from . import numeric, ranked
from .geometry import AxisWindows
from .reduction import Reduction
from .separable_work import thread_scratch
from .valid_separable import MaskCounts, step_away
from .valid_windows import needed


class ValidRankedWork:
    """Median or mode of the valid pixels, band by band."""

    def __init__(
        self,
        reduction: Reduction,
        x: np.ndarray,
        axes: tuple[int, int],
        channel_axis: int | None,
        gh: AxisWindows,
        gw: AxisWindows,
    ):
        self.median = reduction.mode is PoolMode.MEDIAN
        #: the image layer's ignored values count nowhere but never step away
        self.step = reduction.nodata is not None
        nodata = reduction.nodata if self.step else reduction.ignore
        self.dtype = x.dtype
        self.work_dtype = np.dtype(np.uint8) if x.dtype == bool else x.dtype
        self.nodata: Any = self.work_dtype.type(nodata)  # type: ignore[arg-type]
        self.nan = x.dtype.kind == "f" and bool(np.isnan(self.nodata))
        self.min_valid = reduction.min_valid
        self.gw = gw
        self.pixels = channel_axis is not None and not self.median
        self.order, self.front = ranked.spatial_first(x.ndim, axes, channel_axis)
        shape = np.moveaxis(np.empty(x.shape, np.bool_), self.order, self.front).shape
        self.counter = MaskCounts(shape[:-1] if self.pixels else shape, (0, 1), gh, gw)

    def __call__(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """The statistic of the valid pixels of band ``source`` into ``target``."""
        y = np.moveaxis(source, self.order, self.front)
        out = np.moveaxis(target, self.order, self.front)
        work = y.view(np.uint8) if y.dtype == bool else y
        missing = thread_scratch("ranked")("missing", work.shape, np.dtype(bool))
        if self.nan:
            np.isnan(work, out=missing)
        else:
            np.equal(work, self.nodata, out=missing)
        if self.pixels:  # nodata in every channel, a channel at a time (all(axis=-1)
            # over a few channels was 10x slower, measured)
            every = missing[..., 0].copy()
            for channel in range(1, missing.shape[-1]):
                every &= missing[..., channel]
            missing = every
        if not missing.any():
            result = ranked.median(y, windows, self.gw) if self.median else None
            if result is None:
                result = ranked.mode(y, windows, self.gw, pixels=self.pixels)
            elif self.step:
                step_away(result, self.nodata, self.nan)
            np.copyto(out, result)
            return
        real = ranked.real_counts(windows, self.gw, missing.ndim)
        valid = _Valid(self, missing, windows, real)
        statistic = self._median if self.median else self._mode
        result = statistic(work, missing, windows, real, valid)
        np.copyto(out, result.view(bool) if y.dtype == bool else result)

    def _median(self, work, missing, windows, real, valid) -> np.ndarray:
        top: Any = numeric.highest(self.work_dtype)
        shift = self._shift(work)
        if shift is not None:
            values = thread_scratch("ranked")("shifted", work.shape, self.work_dtype)
            np.add(work, shift, out=values)
        elif self.nan:
            values = work  # NaN sorts last once it is inf, as in the plain median
        else:
            values = thread_scratch("ranked")("filled", work.shape, self.work_dtype)
            np.copyto(values, work)
            np.copyto(values, top, where=missing)
        stack = ranked.window_stack(values, windows, self.gw, top)
        has_nan = ranked.nan_last(stack)
        if self.nan:
            has_nan = None  # NaN is nodata here, not a value that wins
        ranked.sort_stack(stack)
        result = ranked.middle(stack, real)
        # windows with some nodata and some valid pixels: their own middle
        some = valid.mixed()
        if some.size:
            count = valid.at(some)
            flat = stack.reshape(stack.shape[0], -1)
            low = flat[(count - 1) // 2, some]
            high = flat[count // 2, some]
            result.reshape(-1)[some] = numeric.mean_of_two(low, high)
        if has_nan is not None and has_nan.any():
            np.copyto(result, np.nan, where=has_nan)
        if shift is not None:
            # nothing lies below nodata: medians of valid values stay above it
            np.subtract(result, shift, out=result)
        elif self.step:
            step_away(result, self.nodata, self.nan)
        if not (shift is not None and valid.words is not None):
            # (shifted 2x2 windows of nodata only are all top: their median is nodata)
            np.copyto(result, self.nodata, where=valid.too_few())
        return result

    def _mode(self, work, missing, windows, real, valid) -> np.ndarray:
        shift = None if self.pixels else self._shift(work)
        if shift is not None:
            labels = thread_scratch("ranked")("shifted", work.shape, self.work_dtype)
            np.add(work, shift, out=labels)

            def decode(best: np.ndarray) -> np.ndarray:
                return np.subtract(best, shift, out=best)

        else:
            labels, decode = ranked.labels_of(work, self.pixels)
            if np.shares_memory(labels, work):
                labels = labels.copy()
        top: Any = numeric.highest(labels.dtype)
        if shift is None:
            np.copyto(labels, top, where=missing)
        stack = ranked.window_stack(labels, windows, self.gw, top)
        ranked.sort_stack(stack)
        best = ranked.vote(stack, real)
        # windows won by nodata (sorted last, with the padding): a vote among their
        # valid values only; windows without any give nodata
        flat_best = best.reshape(-1)
        beaten = np.flatnonzero(flat_best == top)
        count = valid.at(beaten)
        redo = beaten[count > 0]
        if redo.size:
            flat = stack.reshape(stack.shape[0], -1)
            flat_best[redo] = ranked.vote(flat[:, redo], count[count > 0])
        if self.min_valid > 0:
            empty = np.flatnonzero(valid.too_few())
        else:
            empty = beaten[count == 0]
        flat_best[empty] = 0  # a label that decodes (the top may not); replaced below
        result = decode(best)
        rows = result.reshape(-1, result.shape[-1]) if self.pixels else result.reshape(-1)
        rows[empty] = self.nodata
        return result

    def _shift(self, work: np.ndarray) -> Any:
        """The wrapping shift that takes nodata to the dtype's top value and keeps the
        order of values above it, when an integer band has none below it."""
        if self.work_dtype.kind not in "iu" or work.min() < self.nodata:
            return None
        low = numeric.value_range(self.work_dtype)[0]
        wrapped = (low - int(self.nodata) - 1) % (1 << (8 * self.work_dtype.itemsize))
        return np.array(wrapped, f"u{self.work_dtype.itemsize}").view(self.work_dtype)[()]


class _Valid:
    """A band's valid pixels per window, counted only as far as they are asked for.

    2x2 windows without ``min_valid`` keep the row sums of the nodata mask as words
    of two byte counts (see :meth:`~.valid_windows.MaskCounts.words`): which windows
    hold some nodata, or nothing else, is one comparison of them, and counts are
    unpacked only for the few windows redone.
    """

    def __init__(self, work: ValidRankedWork, missing, windows: AxisWindows, real):
        self.min_valid, self.real = work.min_valid, real
        shape = real.shape[:2] + missing.shape[2:]
        self.words = None
        if work.min_valid == 0 and (windows.real == 2).all() and (work.gw.real == 2).all():
            self.words = work.counter.words(missing, windows, shape)
        if self.words is None:
            self.valid = real - work.counter(missing, windows, shape)  # int64

    def at(self, flat: np.ndarray) -> np.ndarray:
        """Valid pixels of the windows ``flat``."""
        if self.words is None:
            return self.valid.reshape(-1)[flat]
        words = self.words.reshape(-1)[flat]
        return 4 - ((words & 0xFF) + (words >> 8)).astype(np.int64)

    def mixed(self) -> np.ndarray:
        """Windows with some nodata and some valid pixels."""
        if self.words is None:
            return np.flatnonzero((self.valid > 0) & (self.valid < self.real))
        flags = np.subtract(self.words, np.uint16(1))  # none wraps to the top
        return np.flatnonzero(flags < 0x0201)

    def too_few(self) -> np.ndarray:
        """Windows without a valid pixel, or with fewer than ``min_valid`` asks."""
        if self.words is not None:
            return self.words == 0x0202
        if self.min_valid > 0:
            return self.valid < needed(self.real, self.min_valid)
        return self.valid == 0
