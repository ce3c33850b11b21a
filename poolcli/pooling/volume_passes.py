"""Max, min and the sum-based modes over three spatial axes: one pass per axis, band by band.

A box window's max (or sum) is the max of its maxes along each axis, so a 3-D pool
is three :class:`~.separable.AxisPass` passes, the same planned passes the 2-D
engine runs. The work is split into bands of outputs along the outermost spatial
axis (in memory order), each band reading only the input slices its windows need,
run on threads; every output is combined in the same order in whichever band it
falls, so results do not depend on the thread count.

Sums are taken in the accumulator's dtype (integers exactly, floats in float64)
through all three passes, and turned into the mode's values once at the end: one
exact division rounded half up for integer means, one root for ``lp``/``rms``. The
divisor is the product of the per-axis counts (padding counted as
``count_include_pad`` says), as in 2-D.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..spec.modes import PoolMode
from . import numeric
from .geometry import AxisWindows
from .reduction import Reduction
from .separable import AxisPass
from .threads import share, thread_count

#: Bands touch about this much memory. Far more than the 2-D engine's 4 MB: each
#: band is a few dozen NumPy calls, and two threads taking small bands in turn wait
#: on each other (measured on 256^3 float32 means, 2 threads: 44 ms with 4 MB bands,
#: 27 with 8, 20 with 32; one thread 30-32 ms whatever the size).
_BAND_BYTES = 32 << 20
_THREAD_MIN_OUTPUT = 1 << 16


def run(
    x: np.ndarray,
    axes: tuple[int, ...],
    windows: tuple[AxisWindows, ...],
    reduction: Reduction,
    threads: int | None,
    plan: Callable[..., Any] | None = None,
) -> np.ndarray:
    """``reduction`` (a separable mode) of ``x`` (native, C order), ``windows`` along ``axes``.

    ``plan`` makes the band work from :class:`Work`'s arguments (default: :class:`Work`;
    :mod:`.volume_valid` passes its own for nodata).
    """
    out = empty_result(x, axes, windows, reduction)
    if out.size == 0:
        return out
    # Outermost axis first: its band is a contiguous slab, and every pass shrinks the
    # data before the next one reads it; the innermost (strided) pass reads the least.
    order = sorted(range(len(axes)), key=lambda i: axes[i])
    make = Work if plan is None else plan
    work = make(x, [axes[i] for i in order], [windows[i] for i in order], reduction, out.dtype)
    gb = work.windows[0]
    row_bytes = work.bytes_per_output(x)
    rows = max(1, _BAND_BYTES // row_bytes)
    workers = thread_count(threads, out.size, _THREAD_MIN_OUTPUT)
    if threads is None:
        workers = min(workers, max(1, row_bytes * gb.out // _BAND_BYTES))
    if workers > 1:
        rows = min(rows, -(-gb.out // workers))
    bands = gb.bands(rows)
    band_axis = work.axes[0]

    def band(item: tuple[int, int, AxisWindows, int]) -> None:
        start, stop, bw, first = item
        work(
            _slice(x, band_axis, first, first + bw.length), bw, _slice(out, band_axis, start, stop)
        )

    share(band, bands, workers, reduction.errstate)
    return out


class Work:
    """The passes of one call, planned once; :meth:`__call__` pools one band.

    ``accumulate``: the dtype sums are taken in (default: the accumulator of ``x``'s).
    ``skip_nan``: max and min pass NaN over (``fmax``/``fmin``; an all-NaN window is NaN).
    """

    def __init__(
        self,
        x: np.ndarray,
        axes: list[int],
        windows: list[AxisWindows],
        reduction: Reduction,
        out_dtype: np.dtype,
        accumulate: np.dtype | None = None,
        skip_nan: bool = False,
    ):
        self.axes, self.windows, self.reduction, self.out_dtype = (
            axes,
            windows,
            reduction,
            out_dtype,
        )
        self.ndim = x.ndim
        mode = reduction.mode
        self.source = x.dtype
        self.selects = mode in (PoolMode.MAX, PoolMode.MIN)
        self.ufunc: np.ufunc
        if self.selects:
            self.ufunc = np.maximum if mode is PoolMode.MAX else np.minimum
            self.dtype = x.dtype
            low = mode is PoolMode.MAX
            self.identity = numeric.lowest(x.dtype) if low else numeric.highest(x.dtype)
            if skip_nan:  # NaN is their identity, so an all-NaN window stays NaN
                self.ufunc, self.identity = (np.fmax if low else np.fmin), np.nan
        else:
            self.ufunc, self.identity = np.add, 0
            if mode in (PoolMode.LP, PoolMode.RMS):
                self.source = np.dtype(np.float64)
            headroom = self.largest_divisor() // 2 if mode is PoolMode.AVG else 0
            values = x if self.source == x.dtype else np.empty(0, self.source)
            taps = math.prod(w.max_taps for w in windows)
            self.dtype = (
                numeric.accumulator(values, taps, headroom) if accumulate is None else accumulate
            )
        # The later passes see a fixed trailing block (the band axis comes before
        # them), so they are planned once; the band's pass once per band windows.
        shape = list(x.shape)
        shape[axes[0]] = windows[0].out
        self.later: list[AxisPass] = []
        for axis, w in zip(axes[1:], windows[1:], strict=True):
            trailing = math.prod(shape[axis + 1 :])
            self.later.append(
                AxisPass.plan(
                    w,
                    trailing,
                    self.dtype,
                    self.ufunc,
                    self.dtype,
                    self.identity,
                    selects=self.selects,
                )  # fmt: skip
            )
            shape[axis] = w.out
        self.band_trailing = math.prod(x.shape[axes[0] + 1 :])
        self._plans: dict[int, tuple[AxisWindows, AxisPass, object]] = {}

    def bytes_per_output(self, x: np.ndarray) -> int:
        """Memory one output slice along the band axis touches: its inputs and temporaries."""
        gb = self.windows[0]
        elements = x.size // gb.length * max(1, -(-gb.length // gb.out))
        total = elements * x.dtype.itemsize
        if self.source != x.dtype:
            total += elements * self.source.itemsize
        if self.dtype != self.source:
            total += elements * self.dtype.itemsize
        return total + x.size // gb.length * self.dtype.itemsize * 2

    def largest_divisor(self) -> int:
        reduction = self.reduction
        if reduction.divisor is not None:
            return abs(reduction.divisor)
        return math.prod(int(c.max()) for c in self._counts(self.windows))

    def __call__(self, source: np.ndarray, bw: AxisWindows, target: np.ndarray) -> None:
        """Pool the band ``source`` (its windows ``bw`` along the band axis) into ``target``."""
        if self.selects:
            self.passes(source, bw, target)
            numeric.settle_zeros(target, self.ufunc)
            return
        sums, divisor = self.window_sums(source, bw, target.shape)
        np.copyto(target, self.finish(sums, divisor, bw), casting="unsafe")

    def window_sums(
        self, source: np.ndarray, bw: AxisWindows, shape: tuple[int, ...], powered: bool = False
    ) -> tuple[np.ndarray, Any]:
        """The band's window sums (of powers, for ``lp``/``rms``; ``powered``: ``source``
        holds them already) in the accumulator, shaped ``shape``, and their divisor."""
        mode = self.reduction.mode
        if not powered and mode in (PoolMode.LP, PoolMode.RMS):
            power = self.reduction.p if mode is PoolMode.LP else 2.0
            source = np.power(source.astype(np.float64), power)
        return self.passes(source, bw).reshape(shape), self._plan(bw)[1]

    def passes(
        self, source: np.ndarray, bw: AxisWindows, target: np.ndarray | None = None
    ) -> np.ndarray:
        """The three passes over the band ``source``: into ``target`` when given."""
        first = self._plan(bw)[0]
        shape = list(source.shape)
        shape[self.axes[0]] = bw.out
        y = first(source).reshape(shape)
        for axis, axis_pass in zip(self.axes[1:-1], self.later[:-1], strict=True):
            shape[axis] = axis_pass.out_length
            y = axis_pass(y).reshape(shape)
        if target is not None:
            self.later[-1](y, target)
            return target
        return self.later[-1](y)

    def _plan(self, bw: AxisWindows) -> tuple[AxisPass, object]:
        # Interior bands share one AxisWindows (see AxisWindows.bands): planned once.
        plan = self._plans.get(id(bw))
        if plan is None or plan[0] is not bw:
            first = AxisPass.plan(bw, self.band_trailing, self.source, self.ufunc, self.dtype,
                                  self.identity, selects=self.selects)  # fmt: skip
            divisor = None if self.selects else self._divisor([bw, *self.windows[1:]])
            plan = self._plans[id(bw)] = (bw, first, divisor)
        return plan[1], plan[2]

    def _counts(self, windows: list[AxisWindows]) -> list[np.ndarray]:
        if self.reduction.count_include_pad:
            return [w.padded for w in windows]
        return [w.real for w in windows]

    def _divisor(self, windows: list[AxisWindows]) -> int | np.ndarray:
        """The product of per-axis counts: one int when every window has the same."""
        if self.reduction.divisor is not None:
            return self.reduction.divisor
        counts = self._counts(windows)
        if all((c == c[0]).all() for c in counts):
            return math.prod(int(c[0]) for c in counts)
        result: int | np.ndarray = 1
        for axis, c in zip(self.axes, counts, strict=True):
            shape = [1] * self.ndim
            shape[axis] = len(c)
            result = result * c.astype(np.int64).reshape(shape)
        return result

    def finish(self, sums: np.ndarray, divisor, bw: AxisWindows) -> np.ndarray:
        """Window sums -> the mode's values, as the 2-D engine's finish does."""
        taps = bw.max_taps * math.prod(w.max_taps for w in self.windows[1:])
        return self.reduction.finish(
            sums, divisor, dtype=self.dtype, out_dtype=self.out_dtype, taps=taps
        )


def empty_result(
    x: np.ndarray, axes: Sequence[int], windows: Sequence[AxisWindows], reduction: Reduction
) -> np.ndarray:
    """The uninitialised result of pooling ``x`` over ``windows`` along ``axes``."""
    shape = list(x.shape)
    for axis, w in zip(axes, windows, strict=True):
        shape[axis] = w.out
    return np.empty(shape, reduction.out_dtype(x.dtype))


def _slice(a: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    index: list[slice] = [slice(None)] * a.ndim
    index[axis] = slice(start, stop)
    return a[tuple(index)]
