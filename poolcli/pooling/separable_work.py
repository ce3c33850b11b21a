"""The band work of max, min and the sum-based modes: rows first, then columns.

:class:`SeparableWork` is planned once per call and then run on every band of
output rows: a row pass (:class:`~.separable.AxisPass` along the first spatial
axis), a column pass, and the mode's finish (division, powers, clipping). Its
temporaries come from per-thread buffers reused from band to band and call to call.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..spec.modes import PoolMode
from . import numeric
from .geometry import AxisWindows
from .reduction import Reduction
from .separable import AxisPass, Scratch, pair_sums

#: Temporaries up to this size are kept per thread for the next band and call.
_KEEP_BYTES = 8 << 20
_SCRATCH = threading.local()


class SeparableWork:
    """Max, min and the sum-based modes, band by band: rows first, then columns.

    Everything that does not depend on the band (dtypes, the column pass, the
    divisor of interior bands) is decided once here: per-band Python work is what
    made small bands and threads slow.
    """

    def __init__(
        self,
        reduction: Reduction,
        x: np.ndarray,
        axes: tuple[int, int],
        gh: AxisWindows,
        gw: AxisWindows,
        out_dtype: np.dtype,
        *,
        slot: str = "",
        skip_nan: bool = False,
    ):
        self.reduction = reduction
        #: prefixes this work's scratch buffers, so that two works run on one band
        #: (values and nodata counts) never share a temporary
        self.slot = slot
        self.axes = axes
        self.gw = gw
        self.ndim = x.ndim
        mode = reduction.mode
        self.source = x.dtype
        self.selects = mode in (PoolMode.MAX, PoolMode.MIN)
        self.ufunc: np.ufunc
        if self.selects:
            self.dtype = x.dtype
            lowest = mode is PoolMode.MAX
            self.identity = numeric.lowest(x.dtype) if lowest else numeric.highest(x.dtype)
            if skip_nan:
                # nodata NaN: fmax/fmin pass NaN over (as fast as maximum/minimum,
                # measured), and NaN is their identity, so an all-NaN window stays NaN
                self.ufunc = np.fmax if lowest else np.fmin
                self.identity = np.nan
            else:
                self.ufunc = np.maximum if lowest else np.minimum
        else:
            self.ufunc, self.identity = np.add, 0
            if mode in (PoolMode.LP, PoolMode.RMS):
                self.source = np.dtype(np.float64)
            headroom = 0
            if mode is PoolMode.AVG:
                headroom = reduction.largest_divisor(gh, gw) // 2
            values = x if self.source == x.dtype else np.empty(0, self.source)
            self.dtype = numeric.accumulator(values, gh.max_taps * gw.max_taps, headroom)
        self.out_dtype = out_dtype
        # Integer sums are exact in any order: 2-wide windows along the last axis
        # can then go first, as widened pair sums (see pair_sums), and the row pass
        # runs on those in the accumulator's dtype.
        self.pairs = (
            self.ufunc is np.add
            and self.source == x.dtype
            and x.dtype.kind in "iu"
            and self.dtype.kind == x.dtype.kind
            and self.dtype.itemsize == 2 * x.dtype.itemsize
            and axes[0] < axes[1]
            and math.prod(x.shape[axes[1] + 1 :]) == 1
            and gw.adjacent_pairs
        )
        shape = list(x.shape)
        if self.pairs:
            shape[axes[1]] = gw.out
        self.trailing = math.prod(shape[axes[0] + 1 :])
        self._rows: dict[int, tuple[AxisWindows, AxisPass, object]] = {}
        self._columns: dict[int, AxisPass] = {}

    def __call__(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """Pool the band ``source`` (its windows ``windows`` x the columns') into ``target``."""
        if self.selects:
            self.select(source, windows, target)
            return
        sums, divisor = self.window_sums(source, windows, target.shape)
        np.copyto(target, self.finish(sums, divisor, windows), casting="unsafe")

    def select(self, source: np.ndarray, windows: AxisWindows, target: np.ndarray) -> None:
        """Max or min of the band ``source`` into ``target``."""
        rows_pass, _ = self._band_plan(windows)
        rows = rows_pass(source, scratch=self.scratch("rows"))
        self._columns_pass(self._rows_shape(source, windows))(rows, target)
        numeric.settle_zeros(target, self.ufunc)

    def window_sums(
        self,
        source: np.ndarray,
        windows: AxisWindows,
        shape: tuple[int, ...],
        *,
        powered: bool = False,
    ) -> tuple[np.ndarray, object]:
        """The band's window sums (of powers, for lp/rms) in the accumulator's dtype,
        shaped ``shape``, and the divisor the mode divides them by.

        ``powered``: lp/rms ``source`` already holds the float64 powers. The sums
        live in this thread's scratch: use them before the next band.
        """
        rows_pass, divisor = self._band_plan(windows)
        mode = self.reduction.mode
        if mode in (PoolMode.LP, PoolMode.RMS) and not powered:
            source = np.power(
                source.astype(np.float64), self.reduction.p if mode is PoolMode.LP else 2.0
            )
        if self.pairs:
            values = source.reshape(source.shape[: self.axes[1] + 1])  # drop trailing 1s
            return rows_pass(pair_sums(values, self.gw.out)).reshape(shape), divisor
        rows = rows_pass(source, scratch=self.scratch("rows"))
        columns = self._columns_pass(self._rows_shape(source, windows))
        return columns(rows, scratch=self.scratch("sums")).reshape(shape), divisor

    def _rows_shape(self, source: np.ndarray, windows: AxisWindows) -> list[int]:
        shape = list(source.shape)
        shape[self.axes[0]] = windows.out
        return shape

    def bytes_per_row(self, x: np.ndarray, gh: AxisWindows, row_elements: int) -> int:
        """Memory a band touches per output row: its input rows and every temporary."""
        input_elements = x.size // gh.length * max(1, -(-gh.length // gh.out))
        total = input_elements * x.dtype.itemsize
        if self.source != x.dtype:  # lp, rms: x**p in float64
            total += input_elements * self.source.itemsize
        if self.dtype != self.source:  # the input widened to the accumulator
            total += input_elements * self.dtype.itemsize
        total += x.size // gh.length * self.dtype.itemsize  # the row pass's result
        if not self.selects:
            total += row_elements * self.dtype.itemsize  # window sums
        return total

    def scratch(self, slot: str) -> Scratch:
        """Temporaries of this thread for ``slot``, reused from band to band and call to call.

        A new array per band (or per call, for images of a few bands) costs an
        allocation and, whenever glibc hands the memory back to the system, page
        faults on first touch: 1.6x the time of a 512x512 RGB average (measured).
        A thread runs one band at a time and no band's temporaries outlive it, so
        one set per thread is safe. Buffers past ``_KEEP_BYTES`` are not kept, so a
        thread holds a few buffers of at most that size (one band's worth) between
        calls.
        """
        return thread_scratch(self.slot + slot)

    def finish(self, sums: np.ndarray, divisor, windows: AxisWindows) -> np.ndarray:
        """Window sums -> the mode's values (still in the accumulator's dtype).

        ``sums`` and ``divisor`` may also be any matching arrays of some windows of
        the band (nodata's windows with their own divisors). Integer sums are
        divided in place.
        """
        taps = windows.max_taps * self.gw.max_taps
        return self.reduction.finish(
            sums, divisor, dtype=self.dtype, out_dtype=self.out_dtype, taps=taps
        )

    def _band_plan(self, windows: AxisWindows) -> tuple[AxisPass, object]:
        """The row pass and divisor of a band's windows; interior bands share one.

        Two threads may plan the same windows at once; both plans are equal, so
        whichever lands in the cache is right.
        """
        plan = self._rows.get(id(windows))
        if plan is None or plan[0] is not windows:
            source = self.dtype if self.pairs else self.source
            rows_pass = AxisPass.plan(
                windows, self.trailing, source, self.ufunc, self.dtype, self.identity,
                selects=self.selects,
            )  # fmt: skip
            divisor = None
            if not self.selects:
                divisor = self.reduction.window_divisor(windows, self.gw, self.ndim, self.axes)
            plan = self._rows[id(windows)] = (windows, rows_pass, divisor)
        return plan[1], plan[2]

    def _columns_pass(self, shape: list[int]) -> AxisPass:
        # The trailing block only changes with the band when the column axis comes first.
        trailing = math.prod(shape[self.axes[1] + 1 :])
        columns = self._columns.get(trailing)
        if columns is None:
            columns = AxisPass.plan(
                self.gw, trailing, self.dtype, self.ufunc, self.dtype, self.identity,
                selects=self.selects,
            )  # fmt: skip
            self._columns[trailing] = columns
        return columns


def thread_scratch(slot: str) -> Scratch:
    """This thread's temporaries for ``slot`` (see :meth:`SeparableWork.scratch`)."""
    buffers: dict[tuple[str, str], np.ndarray] | None = getattr(_SCRATCH, "arrays", None)
    if buffers is None:
        buffers = _SCRATCH.arrays = {}

    def scratch(role: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if np.dtype(dtype).kind == "O" or nbytes > _KEEP_BYTES:
            return np.empty(shape, dtype)  # Python ints have no raw buffer
        buffer = buffers.get((slot, role))
        if buffer is None or buffer.nbytes < nbytes:
            buffer = buffers[slot, role] = np.empty(nbytes, np.uint8)
        return buffer[:nbytes].view(dtype).reshape(shape)

    return scratch
