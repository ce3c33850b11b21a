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
- sums and means run the plain work on the band as it is: right for every
  window without nodata, and (means of NaN, or of a nodata value over their own
  counts) for windows of nodata only. Only windows with some nodata and some
  valid pixels are redone, one by one: there are few (the edges of holes), and
  integer division by an array is slow (6 ns a value, measured), by one number
  fast. An integer window's sum of valid pixels is exactly its sum less
  ``nodata`` times its count of nodata pixels (a byte-wide separable sum of the
  band's mask, :class:`~.valid_windows.MaskCounts`); a float window's is summed
  again from its pixels with the plain passes' very additions, so that it equals
  the band filled with zeros and pooled, which is what a band of many such
  windows does instead.

Every window is computed by the same operations in whichever band it falls, so
results do not depend on the band split or the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..spec.modes import PoolMode
from . import numeric
from .geometry import AxisWindows
from .reduction import Reduction
from .separable import first_tap
from .separable_work import SeparableWork, thread_scratch
from .valid_windows import MaskCounts, needed, positions, step_away, window_sums_at

#: Pixels per window, padding left out.
_REAL = Reduction(PoolMode.AVG, False, None, 2.0)
#: Redo windows one by one while they read at most this share of the band's pixels
#: (one by one costs about 10 ns per window and tap, refilling a band 1-2 ns a pixel).
_SPARSE_SHARE = 1 / 8


@dataclass(frozen=True)
class _BandPlan:
    """What a band's windows need beyond the plain work's plan."""

    windows: AxisWindows
    #: real pixels per window (an int when all windows have the same)
    real: int | np.ndarray
    #: nodata pixels a window may hold and still give a value
    allowed: int | np.ndarray
    #: the plain work's divisor
    divisor: object
    #: a window of nodata only gives nodata by itself (NaN sums; means of a nodata
    #: value over their own counts): no need to say which windows those are
    automatic: bool
    #: floats: whether the row pass starts from +0.0 (see
    #: :func:`~.valid_windows.window_sums_at`)
    zero_rows: bool


@dataclass(frozen=True)
class _Redo:
    """A band's windows with some nodata and some valid pixels, to redo at the end."""

    #: the band's first output row
    start: int
    #: the band's output shape, which ``flat`` indexes
    shape: tuple[int, ...]
    flat: np.ndarray
    #: their nodata counts; ``packed``: as pairs of byte counts (see MaskCounts)
    words: np.ndarray
    packed: bool
    #: integers: their sums, nodata included
    sums: np.ndarray | None
    #: floats: whether the band's row pass starts from +0.0
    zero_rows: bool


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
        self.nodata: Any = reduction.nodata  # a scalar of the input's dtype
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
        #: integer sums and means: exact corrections of the band's sums
        self.exact = self.mode in (PoolMode.SUM, PoolMode.AVG) and x.dtype.kind in "iub"
        self.power: float | None = None
        if self.mode in (PoolMode.LP, PoolMode.RMS):
            self.power = reduction.p if self.mode is PoolMode.LP else 2.0
        self.filled: SeparableWork | None = None
        if not self.selects and not self.exact:
            # many windows to redo: the float64 values (or powers), nodata as 0, pooled
            wide = np.broadcast_to(np.zeros((), np.float64), x.shape)
            self.filled = SeparableWork(plain, wide, axes, gh, gw, out_dtype, slot="filled")
            self.columns = positions(gw)
            self.zero_columns = first_tap(gw) is None
        self._plans: dict[int, _BandPlan] = {}
        self.gh = gh
        self._redo: list[_Redo] = []  # appended by every band thread, read after them
        #: 2x2 sums: each nodata count word's share of a window's sum, by sum dtype
        self._shares: dict[np.dtype, np.ndarray] = {}
        if self.exact:
            like = self.values.dtype
            self.factor = int(self.nodata) if like.kind == "O" else like.type(self.nodata)

    def bytes_per_row(self, x: np.ndarray, gh: AxisWindows, row_elements: int) -> int:
        """Memory a band touches per output row: the plain work's, the mask and counts."""
        input_elements = x.size // gh.length * max(1, -(-gh.length // gh.out))
        total = self.values.bytes_per_row(x, gh, row_elements) + input_elements
        return total + row_elements * 4  # counts and the windows' flags

    def __call__(
        self, source: np.ndarray, windows: AxisWindows, target: np.ndarray, start: int = 0
    ) -> None:
        """The mode of the valid pixels of band ``source`` (windows ``windows``) into
        ``target``, the output rows from ``start``; :meth:`finalize` once all are done."""
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            if self.selects:
                self._select(source, windows, target)
            else:
                self._sums(source, windows, target, start)

    def _select(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """Max or min: the band as it is wherever nodata cannot win a window with valid pixels."""
        v, maximum = self.nodata, self.mode is PoolMode.MAX
        as_is, shifts = self.nan, False  # fmax/fmin: NaN never wins
        if not as_is and self.dtype.kind in "iu":
            # maximum/minimum reduce integers 2x faster than fmax/fmin (measured)
            lowest = source.min()
            shifts = not maximum and lowest >= v
            as_is = bool(lowest >= v) if maximum else (not shifts and source.max() <= v)
        elif not as_is and not (self.dtype.kind == "f" and v == 0):  # -0.0 stands for 0.0
            if maximum:
                as_is = bool(np.fmin.reduce(source, axis=None) >= v)
            else:
                as_is = bool(np.fmax.reduce(source, axis=None) <= v)
        if as_is:
            self.values.select(source, windows, target)
            if self.min_valid > 0:
                self._too_few(source, windows, target)
            return
        if shifts:
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
        fill: Any = numeric.lowest(self.dtype) if maximum else numeric.highest(self.dtype)
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

    def _sums(
        self, source: np.ndarray, windows: AxisWindows, target: np.ndarray, start: int
    ) -> None:
        """Sum, avg, lp, rms of the valid pixels, each window divided by its own count."""
        missing = self._missing(source)
        if not missing.any():
            self.values(source, windows, target)
            self._step_away(target)
            return
        plan = self._plan(windows)
        shape = target.shape
        if self.exact and self.mode is PoolMode.SUM:
            if self._lean_sums(source, missing, windows, target, plan):
                return
            nodata = self.counter(missing, windows, shape)
            totals, divisor = self.values.window_sums(source, windows, shape)
            share = nodata.astype(object) if totals.dtype.kind == "O" else nodata
            totals -= share * self.factor  # exact: nodata's share of the band's sums
            np.copyto(target, self.values.finish(totals, divisor, windows), casting="unsafe")
            self._step_away(target)
            np.copyto(target, self.nodata, where=nodata > plan.allowed)
            return
        # means of values that all lie above nodata, over their own counts, stay above it
        above = self.mode is PoolMode.AVG and plan.automatic and not self.nan
        above = above and bool(np.fmin.reduce(source, axis=None) >= self.nodata)
        counts: np.ndarray | None = None
        flat: np.ndarray | None = None
        words: np.ndarray | None = None
        if plan.automatic and (above or self.nan):
            flat, words = self.counter.mixed_pairs(missing, windows, shape, plan.real, plan.allowed)
        if flat is None or words is None:
            counts = self.counter(missing, windows, shape)
            flat = np.flatnonzero(counts - counts.dtype.type(1) < plan.allowed)  # 0 wraps
            words = counts.reshape(-1)[flat]
        sums: np.ndarray | None = None
        if self.exact:
            window_sums, divisor = self.values.window_sums(source, windows, shape)
            sums = window_sums.reshape(-1)[flat]
            np.copyto(target, self.values.finish(window_sums, divisor, windows), casting="unsafe")
        else:
            taps = len(windows.taps) * len(self.gw.taps)
            if flat.size * taps > source.size * _SPARSE_SHARE:
                self._refill(source, missing, windows, target, plan)
                return
            self.values(source, windows, target)
        if counts is not None and not plan.automatic:
            np.copyto(target, self.nodata, where=counts > plan.allowed)
        if not (above or self.nan):
            assert counts is not None
            landed = target == self.nodata
            landed &= counts == 0
            self._step_away(target, landed)
        if flat.size:  # redone after the last band, all at once (see finalize)
            self._redo.append(
                _Redo(start, shape, flat, words, counts is None, sums, plan.zero_rows)
            )

    def _lean_sums(self, source, missing, windows, target, plan: _BandPlan) -> bool:
        """2x2 integer sums of the valid pixels in the fewest passes (False: not here).

        The row sums of the band's ``missing`` mask, seen as 16-bit words, hold each
        window's two column counts of nodata, so one table lookup gives every window's
        share of nodata in its sum: ``count * nodata``, or for a window of nodata only
        ``3 * nodata``, which leaves nodata itself as its sum. Measured 1.62x the plain
        path (int16 DEM, one thread, busy host), where the counts, the correction and
        the nodata windows' assignment took 1.72x.
        """
        two_by_two = isinstance(plan.real, int) and plan.real == 4 and plan.allowed == 3
        if not two_by_two or self.values.dtype.kind == "O":
            return False
        words = self.counter.words(missing, windows, target.shape)
        if words is None:  # not pairs along a last axis
            return False
        totals, divisor = self.values.window_sums(source, windows, target.shape)
        shares = self._shares.get(totals.dtype)
        if shares is None:
            counts = (np.arange(0x0203) & 0xFF) + (np.arange(0x0203) >> 8)  # a word's count
            by_count = np.where(counts < 4, counts, 3) * int(self.nodata)
            shares = self._shares[totals.dtype] = by_count.astype(totals.dtype)
        totals -= np.take(shares, words)
        landed = totals == totals.dtype.type(self.nodata)
        np.copyto(target, self.values.finish(totals, divisor, windows), casting="unsafe")
        if landed.any():  # valid sums on the nodata value move; nodata-only windows stay
            landed &= words != 0x0202
            self._step_away(target, landed)
        return True

    def finalize(self, x: np.ndarray, out: np.ndarray) -> None:
        """Redo the windows with some nodata and some valid pixels that the bands left:
        their sums of valid pixels, divided by their own counts."""
        if self._redo:
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                self._finalize(x, out)

    def _finalize(self, x: np.ndarray, out: np.ndarray) -> None:
        redo, self._redo = self._redo, []
        flats, counts = [], []
        for entry in redo:
            flat = entry.flat
            if self.axes[0] == 0:
                flat = flat + entry.start * (out.size // out.shape[0])
            elif entry.shape != out.shape:
                index = list(np.unravel_index(flat, entry.shape))
                index[self.axes[0]] = index[self.axes[0]] + entry.start
                flat = np.ravel_multi_index(tuple(index), out.shape)
            flats.append(flat)
            counts.append(
                ((entry.words & 0xFF) + (entry.words >> 8)) if entry.packed else entry.words
            )
        flat = np.concatenate(flats)
        count = np.concatenate(counts).astype(np.int64)
        if self.exact:
            sums = np.concatenate([entry.sums for entry in redo])
            factor = count.astype(object) if sums.dtype.kind == "O" else count.astype(sums.dtype)
            sums -= factor * self.factor  # exact: nodata's share of the sums
        else:
            sums = np.empty(flat.shape)
            rows = positions(self.gh)
            starts = {e.zero_rows for e in redo}
            zero = None
            if len(starts) > 1:
                zero = np.concatenate([np.full(e.flat.shape, e.zero_rows) for e in redo])
            for zero_rows in starts:
                part = slice(None) if zero is None else np.flatnonzero(zero == zero_rows)
                if flat[part].size:
                    sums[part] = window_sums_at(
                        x, flat[part], out.shape, self.axes, (rows, self.columns),
                        (zero_rows, self.zero_columns), self._missing_of, self.power,
                    )  # fmt: skip
        own = self.values.reduction.window_divisor(self.gh, self.gw, self.ndim, self.axes)
        if not self.given and self.mode is not PoolMode.SUM:
            if np.ndim(own):
                own = np.broadcast_to(own, out.shape)[np.unravel_index(flat, out.shape)]
            own = own - count
        corrected = self.values.finish(sums, own, self.gh).astype(self.out_dtype)
        self._step_away(corrected)
        out.reshape(-1)[flat] = corrected

    def _refill(self, source, missing, windows, target, plan: _BandPlan) -> None:
        """Floats with many windows to redo: the band's values (or powers) with nodata
        as 0, pooled, each window divided by its own count."""
        assert self.filled is not None
        values = thread_scratch("nodata")("values", source.shape, np.dtype(np.float64))
        if self.power is not None:
            np.power(source, self.power, out=values, dtype=np.float64)
        else:
            np.copyto(values, source)
        np.copyto(values, 0.0, where=missing)
        counts = self.counter(missing, windows, target.shape)
        sums, divisor = self.filled.window_sums(values, windows, target.shape, powered=True)
        if not self.given and self.mode is not PoolMode.SUM:
            own = np.subtract(divisor, counts, dtype=np.int64)  # type: ignore[call-overload]
            divisor = np.maximum(own, 1, out=own)  # an empty window's is replaced below
        np.copyto(target, self.filled.finish(sums, divisor, windows), casting="unsafe")
        self._step_away(target)
        np.copyto(target, self.nodata, where=counts > plan.allowed)

    def _missing(self, source: np.ndarray) -> np.ndarray:
        """The band's nodata pixels, in this thread's scratch."""
        missing = thread_scratch("nodata")("missing", source.shape, np.dtype(bool))
        if self.nan:
            np.isnan(source, out=missing)
        else:
            np.equal(source, self.nodata, out=missing)
        return missing

    def _missing_of(self, values: np.ndarray) -> np.ndarray:
        return np.isnan(values) if self.nan else values == self.nodata

    def _plan(self, windows: AxisWindows) -> _BandPlan:
        """What the band's windows need, planned once (interior bands share one)."""
        plan = self._plans.get(id(windows))
        if plan is None or plan.windows is not windows:
            real = _REAL.window_divisor(windows, self.gw, self.ndim, self.axes)
            allowed = real - needed(real, self.min_valid)
            divisor = self.values.reduction.window_divisor(windows, self.gw, self.ndim, self.axes)
            automatic = self.min_valid == 0 and (
                (self.nan and self.dtype.kind == "f")
                or (
                    self.mode is PoolMode.AVG
                    and not self.given
                    # a window of nodata only averages to nodata: its sum is nodata
                    # times its divisor, which is its count
                    and bool(np.all(np.asarray(divisor) == np.asarray(real)))  # either may vary
                )
            )
            if np.ndim(allowed) == 0:
                allowed = int(allowed)
            elif allowed.min() >= 0:  # as the counts: bytes against int64 cast them (slower)
                allowed = allowed.astype(self.counter.dtype)
            zero_rows = self.filled is not None and first_tap(windows) is None
            plan = _BandPlan(windows, real, allowed, divisor, automatic, zero_rows)
            self._plans[id(windows)] = plan
        return plan

    def _step_away(self, target: np.ndarray, landed: np.ndarray | None = None) -> None:
        step_away(target, self.out_dtype.type(self.nodata), self.nan, landed)
