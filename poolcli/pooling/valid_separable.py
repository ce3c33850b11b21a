"""Max, min and the sum-based modes over the valid pixels of each band (nodata).

:class:`ValidSeparableWork` runs on every band of output rows, as
:class:`~.separable_work.SeparableWork` does, and keeps the plain path's speed by
doing as little as the band needs (each measured; see benchmarks/nodata.py):

- a band without nodata runs the plain work unchanged (then only a mean that
  lands on the nodata value is stepped away);
- max and min of NaN nodata run ``fmax``/``fmin``, which pass NaN over, with no
  mask at all; with a nodata value, max runs on the band as it is whenever no
  valid pixel lies below nodata (the band's minimum says so): nodata then wins
  only windows without a valid pixel, which must give nodata anyway. Min shifts
  integer bands (wrapping) so that nodata becomes the largest value, in one pass;
- integer sums and means sum the band as it is, nodata included: a window's sum
  of its valid pixels is then exactly that sum minus ``nodata`` times its count
  of nodata pixels (a second, byte-wide separable sum of the band's mask). Only
  windows with some nodata and some valid pixels are corrected and divided by
  their own counts, one by one: there are few (the edges of holes), and integer
  division by an array is slow (6 ns a value, measured), by one number fast;
- float sums fill the band's nodata with zeros in the float64 copy the plain
  path makes anyway, and divide by each window's count.

Every window is computed by the same operations in whichever band it falls, so
results do not depend on the band split or the number of threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..spec.modes import PoolMode
from . import numeric
from .geometry import AxisWindows
from .reduction import Reduction
from .separable import AxisPass, pair_sums
from .separable_work import SeparableWork, thread_scratch

#: Pixels per window, padding left out.
_REAL = Reduction(PoolMode.AVG, False, None, 2.0)


@dataclass(frozen=True)
class _BandPlan:
    """What a band's windows need beyond the plain work's plan."""

    windows: AxisWindows
    #: real pixels per window (an int when all windows have the same)
    real: int | np.ndarray
    #: nodata pixels a window may hold and still give a value
    allowed: int | np.ndarray
    #: avg: a window of nodata only gives nodata by itself (its divisor is its count)
    automatic: bool


class ValidSeparableWork:
    """Max, min, sum, avg, lp and rms of the valid pixels, band by band."""

    def __init__(
        self,
        reduction: Reduction,
        x: np.ndarray,
        axes: tuple[int, int],
        gh: AxisWindows,
        gw: AxisWindows,
        out_dtype: np.dtype,
    ):
        self.nodata = reduction.nodata
        self.nan = bool(np.isnan(self.nodata)) if x.dtype.kind == "f" else False
        self.min_valid = reduction.min_valid
        self.mode = reduction.mode
        self.axes, self.gw, self.ndim = axes, gw, x.ndim
        self.dtype, self.out_dtype = x.dtype, out_dtype
        self.selects = self.mode in (PoolMode.MAX, PoolMode.MIN)
        self.given = reduction.divisor is not None
        plain = replace(reduction, nodata=None, min_valid=0.0)
        self.values = SeparableWork(
            plain, x, axes, gh, gw, out_dtype, slot="values", skip_nan=self.nan and self.selects
        )
        self.counter = MaskCounts(x.shape, axes, gh, gw)
        #: integer sums and means: the band's sums, corrected window by window
        self.exact = self.mode in (PoolMode.SUM, PoolMode.AVG) and x.dtype.kind in "iub"
        self.filled: SeparableWork | None = None
        if not self.selects and not self.exact:
            # floats (and lp, rms): the float64 values (or powers) with nodata as 0
            wide = np.broadcast_to(np.zeros((), np.float64), x.shape)
            self.filled = SeparableWork(plain, wide, axes, gh, gw, out_dtype, slot="filled")
        self._plans: dict[int, _BandPlan] = {}
        if self.exact:
            like = self.values.dtype
            self.factor = int(self.nodata) if like.kind == "O" else like.type(self.nodata)

    def bytes_per_row(self, x: np.ndarray, gh: AxisWindows, row_elements: int) -> int:
        """Memory a band touches per output row: the plain work's, the mask and counts."""
        input_elements = x.size // gh.length * max(1, -(-gh.length // gh.out))
        total = self.values.bytes_per_row(x, gh, row_elements) + input_elements
        total += row_elements * 8  # counts and the windows' flags
        if self.filled is not None:
            total += input_elements * 8
        return total

    def __call__(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """The mode of the valid pixels of band ``source`` (windows ``windows``) into ``target``."""
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            if self.selects:
                self._select(source, windows, target)
            else:
                self._sums(source, windows, target)

    def _select(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """Max or min: the band as it is wherever nodata cannot win a window with valid pixels."""
        v, maximum = self.nodata, self.mode is PoolMode.MAX
        as_is = self.nan  # fmax/fmin: NaN never wins
        if not as_is and not (self.dtype.kind == "f" and v == 0):  # -0.0 would stand for 0.0
            if maximum:
                as_is = bool(np.fmin.reduce(source, axis=None) >= v)
            else:
                as_is = bool(np.fmax.reduce(source, axis=None) <= v)
        if as_is:
            self.values.select(source, windows, target)
            if self.min_valid > 0:
                self._too_few(source, windows, target)
            return
        if not maximum and self.dtype.kind in "iu" and source.min() >= v:
            # nodata -> the top value, values above it keep their order (nothing lies
            # below it): min as usual, then shifted back; an empty window gives nodata
            low = numeric.value_range(self.dtype)[0]
            wrapped = (low - int(v) - 1) % (1 << (8 * self.dtype.itemsize))
            shift = np.array(wrapped, f"u{self.dtype.itemsize}").view(self.dtype)[()]
            shifted = thread_scratch("nodata")("shifted", source.shape, self.dtype)
            np.add(source, shift, out=shifted)
            self.values.select(shifted, windows, target)
            np.subtract(target, shift, out=target)
            if self.min_valid > 0:
                self._too_few(source, windows, target)
            return
        missing = self._missing(source)
        fill = numeric.lowest(self.dtype) if maximum else numeric.highest(self.dtype)
        filled = thread_scratch("nodata")("filled", source.shape, self.dtype)
        np.copyto(filled, source)
        np.copyto(filled, fill, where=missing)
        self.values.select(filled, windows, target)
        self._too_few(source, windows, target, missing)

    def _too_few(self, source, windows, target, missing=None) -> None:
        """Windows with fewer valid pixels than asked (or none) -> nodata."""
        if missing is None:
            missing = self._missing(source)
        if not missing.any():
            return
        counts = self.counter(missing, windows, target.shape)
        np.copyto(target, self.nodata, where=counts > self._plan(windows).allowed)

    def _sums(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """Sum, avg, lp, rms of the valid pixels, each window divided by its own count."""
        missing = self._missing(source)
        if not missing.any():
            self.values(source, windows, target)
            self._step_away(target)
            return
        plan = self._plan(windows)
        counts = self.counter(missing, windows, target.shape)
        if self.mode is PoolMode.SUM and self.exact:
            sums, divisor = self.values.window_sums(source, windows, target.shape)
            sums -= counts * self.factor  # exact: nodata's share of the band's sums
            np.copyto(target, self.values.finish(sums, divisor, windows), casting="unsafe")
            self._step_away(target)
            np.copyto(target, self.nodata, where=counts > plan.allowed)
            return
        if self.exact:
            self._means(source, windows, target, counts, plan)
            return
        assert self.filled is not None
        power = self.mode in (PoolMode.LP, PoolMode.RMS)
        values = thread_scratch("nodata")("values", source.shape, np.dtype(np.float64))
        if power:
            p = self.values.reduction.p if self.mode is PoolMode.LP else 2.0
            np.power(source, p, out=values, dtype=np.float64)
        else:
            np.copyto(values, source)
        np.copyto(values, 0.0, where=missing)
        sums, divisor = self.filled.window_sums(values, windows, target.shape, powered=True)
        if not self.given and self.mode is not PoolMode.SUM:
            own = np.subtract(divisor, counts, dtype=np.int64)
            divisor = np.maximum(own, 1, out=own)  # an empty window's is replaced below
        np.copyto(target, self.filled.finish(sums, divisor, windows), casting="unsafe")
        self._step_away(target)
        np.copyto(target, self.nodata, where=counts > plan.allowed)

    def _means(self, source, windows, target, counts, plan: _BandPlan) -> None:
        """Integer means: the plain means, and windows with some nodata (few: the edges
        of holes) corrected one by one, their sums less ``nodata`` times their counts."""
        sums, divisor = self.values.window_sums(source, windows, target.shape)
        fix = np.flatnonzero(counts - counts.dtype.type(1) < plan.allowed)  # 0 wraps to the top
        some = sums.reshape(-1)[fix]
        nodata = counts.reshape(-1)[fix]
        np.copyto(target, self.values.finish(sums, divisor, windows), casting="unsafe")
        if not plan.automatic:
            np.copyto(target, self.nodata, where=counts > plan.allowed)
        if plan.automatic and source.min() >= self.nodata:
            pass  # means of values above nodata, over their own counts, stay above it
        else:
            landed = target == self.nodata
            landed &= counts == 0
            self._step_away(target, landed)
        if not fix.size:
            return
        some -= nodata.astype(sums.dtype) * self.factor
        own = divisor
        if not self.given:
            own = np.broadcast_to(divisor, target.shape).reshape(-1)[fix] - nodata
        corrected = self.values.finish(some, own, windows)
        self._step_away(corrected)
        if target.flags.c_contiguous:
            target.reshape(-1)[fix] = corrected
        else:
            target[np.unravel_index(fix, target.shape)] = corrected

    def _missing(self, source: np.ndarray) -> np.ndarray:
        """The band's nodata pixels, in this thread's scratch."""
        missing = thread_scratch("nodata")("missing", source.shape, np.dtype(bool))
        if self.nan:
            np.isnan(source, out=missing)
        else:
            np.equal(source, self.nodata, out=missing)
        return missing

    def _plan(self, windows: AxisWindows) -> _BandPlan:
        """What the band's windows need, planned once (interior bands share one)."""
        plan = self._plans.get(id(windows))
        if plan is None or plan.windows is not windows:
            real = _REAL.window_divisor(windows, self.gw, self.ndim, self.axes)
            need = np.maximum(1, np.ceil(self.min_valid * np.asarray(real))).astype(np.int64)
            allowed = real - need
            divisor = self.values.reduction.window_divisor(windows, self.gw, self.ndim, self.axes)
            # a window of nodata only averages to nodata by itself: its sum is
            # nodata times its divisor
            automatic = (
                self.min_valid == 0
                and not self.given
                and np.array_equal(np.broadcast_to(divisor, np.shape(real)), real)
            )
            allowed = int(allowed) if np.ndim(allowed) == 0 else allowed
            plan = self._plans[id(windows)] = _BandPlan(windows, real, allowed, automatic)
        return plan

    def _step_away(self, target: np.ndarray, landed: np.ndarray | None = None) -> None:
        step_away(target, self.out_dtype.type(self.nodata), self.nan, landed)


def step_away(
    target: np.ndarray, nodata: object, nan: bool, landed: np.ndarray | None = None
) -> None:
    """Values of valid windows equal to ``nodata`` move to the next value (down at the
    top of the range), in place. ``landed``: which may move (default: all equal to it)."""
    if nan:
        return  # NaN equals nothing
    if landed is None:
        landed = target == nodata
    if not landed.any():
        return
    dtype = target.dtype
    if dtype.kind == "f":
        target[landed] = np.nextafter(dtype.type(nodata), dtype.type(np.inf))
        return
    high = numeric.value_range(dtype)[1]
    step = -1 if int(nodata) >= high else 1  # type: ignore[call-overload]
    target[landed] = dtype.type(int(nodata) + step)  # type: ignore[call-overload]


class MaskCounts:
    """Pixels set in a band's boolean mask, per window: a separable sum of bytes.

    Counts of up to 255 sum in bytes (64 to a SIMD register); 2-wide windows along a
    last axis are then summed as pairs of bytes seen as 16-bit words (see
    :func:`~.separable.pair_sums`): rows first, then pairs, measured 15x faster than
    pairs first and 2x faster than two byte passes.
    """

    def __init__(
        self, shape: tuple[int, ...], axes: tuple[int, int], gh: AxisWindows, gw: AxisWindows
    ):
        taps = gh.max_taps * gw.max_taps
        if taps <= 255:
            self.dtype = np.dtype(np.uint8)
        else:
            like = np.broadcast_to(np.zeros((), np.uint8), shape)  # shape and dtype only
            self.dtype = numeric.accumulator(like, taps)
        self.axes, self.gw = axes, gw
        self.trailing = math.prod(shape[axes[0] + 1 :])
        self.pairs = (
            self.dtype.itemsize == 1
            and axes[0] < axes[1]
            and math.prod(shape[axes[1] + 1 :]) == 1
            and gw.adjacent_pairs
        )
        self._rows: dict[int, tuple[AxisWindows, AxisPass]] = {}
        self._columns: dict[int, AxisPass] = {}

    def __call__(
        self, mask: np.ndarray, windows: AxisWindows, shape: tuple[int, ...]
    ) -> np.ndarray:
        """Set pixels per window of ``mask`` (a band, windows ``windows``), shaped ``shape``."""
        plan = self._rows.get(id(windows))
        if plan is None or plan[0] is not windows:
            rows_pass = AxisPass.plan(
                windows, self.trailing, np.dtype(np.uint8), np.add, self.dtype, 0
            )
            plan = self._rows[id(windows)] = (windows, rows_pass)
        scratch = thread_scratch("counts")
        rows = plan[1](mask.view(np.uint8), scratch=scratch)
        rows_shape = list(mask.shape)
        rows_shape[self.axes[0]] = windows.out
        rows = rows.reshape(rows_shape)
        if self.pairs:
            return pair_sums(rows.reshape(rows_shape[: self.axes[1] + 1]), self.gw.out).reshape(
                shape
            )
        trailing = math.prod(rows_shape[self.axes[1] + 1 :])
        columns = self._columns.get(trailing)
        if columns is None:
            columns = self._columns[trailing] = AxisPass.plan(
                self.gw, trailing, self.dtype, np.add, self.dtype, 0
            )
        return columns(rows, scratch=thread_scratch("counts-columns")).reshape(shape)
